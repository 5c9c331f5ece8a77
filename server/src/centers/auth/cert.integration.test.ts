/**
 * Certificate login with a test CA made here with the openssl CLI (`openssl ca`, its index and CRL):
 * valid (RSA, ECDSA and SM2 keys), expired, revoked, issued by another CA, wrong proof-of-possession signature.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { service } from '../../platform/context.ts';
import { sm2Sign } from '../../platform/crypto/index.ts';
import { sql } from '../../platform/db/index.ts';
import { databaseKinds } from '../../platform/db/testing.ts';
import { residentIdCheckChar } from '../../platform/privacy/index.ts';
import type { TestPlatform } from '../../testing/platform.ts';
import { Browser, formValue, listeningAuthCenter, loginPageUrl, MemoryDirectory } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'yibao-ca-'));
const ossl = (...args: string[]) =>
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const file = (name: string) => readFileSync(join(dir, name), 'utf8');
const rid = (first17: string) => first17 + residentIdCheckChar(first17);

interface Holder {
  cert: string;
  key: string;
  kind: 'rsa' | 'ec' | 'sm2';
}

function makeCa(name: string, sm2 = false): void {
  if (sm2) sm2Cas.add(name);
  mkdirSync(join(dir, name, 'newcerts'), { recursive: true });
  writeFileSync(join(dir, name, 'index.txt'), '');
  writeFileSync(join(dir, name, 'serial'), '1000\n');
  writeFileSync(join(dir, name, 'crlnumber'), '01\n');
  writeFileSync(
    join(dir, name, 'ca.cnf'),
    `[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndir = ${join(dir, name)}\ndatabase = $dir/index.txt\n` +
      'new_certs_dir = $dir/newcerts\nserial = $dir/serial\ncrlnumber = $dir/crlnumber\ndefault_md = sha256\n' +
      'policy = policy_any\ndefault_crl_days = 7\nunique_subject = no\ncopy_extensions = none\n' +
      '[ policy_any ]\ncommonName = supplied\nserialNumber = optional\n',
  );
  if (sm2) ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', `${name}/ca.key`);
  else ossl('ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', `${name}/ca.key`);
  ossl(
    'req',
    '-x509',
    '-new',
    '-key',
    `${name}/ca.key`,
    '-subj',
    `/CN=${name} Test CA`,
    '-days',
    '30',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    `${name}/ca.pem`,
    ...SM2_SIGN(sm2),
  );
}

/** openssl options for signing with an SM2 key (SM3, default user id). */
const SM2_SIGN = (sm2: boolean) => (sm2 ? ['-sm3', '-sigopt', 'distid:1234567812345678'] : []);
const sm2Cas = new Set<string>();

function issue(
  ca: string,
  id: string,
  kind: Holder['kind'],
  residentId: string,
  dates = ['20250101000000Z', '20350101000000Z'],
): Holder {
  if (kind === 'rsa') ossl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', `${id}.key`);
  else if (kind === 'ec')
    ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${id}.key`);
  else ossl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', `${id}.key`);
  const csrArgs = [
    'req',
    '-new',
    '-key',
    `${id}.key`,
    '-subj',
    `/CN=证书用户/serialNumber=${residentId}`,
    '-utf8',
    '-out',
    `${id}.csr`,
  ];
  ossl(...(kind === 'sm2' ? [...csrArgs, '-sm3', '-sigopt', 'distid:1234567812345678'] : csrArgs));
  ossl(
    'ca',
    '-batch',
    '-config',
    `${ca}/ca.cnf`,
    '-cert',
    `${ca}/ca.pem`,
    '-keyfile',
    `${ca}/ca.key`,
    '-in',
    `${id}.csr`,
    '-out',
    `${id}.pem`,
    '-startdate',
    dates[0]!,
    '-enddate',
    dates[1]!,
    '-notext',
    ...(kind === 'sm2' ? ['-vfyopt', 'distid:1234567812345678'] : []),
    ...(sm2Cas.has(ca) ? ['-md', 'sm3', '-sigopt', 'distid:1234567812345678'] : []),
  );
  return { cert: file(`${id}.pem`), key: file(`${id}.key`), kind };
}

function signChallenge(h: Holder, challenge: string): string {
  if (h.kind === 'sm2') {
    const dump = execFileSync('openssl', ['pkey', '-noout', '-text'], { input: h.key }).toString();
    const priv = /priv:\s*([\s\S]*?)pub:/.exec(dump)![1]!.replace(/[\s:]/g, '').slice(-64);
    return Buffer.from(sm2Sign(challenge, priv, { format: 'der' })).toString('base64');
  }
  return sign('sha256', Buffer.from(challenge), createPrivateKey(h.key)).toString('base64');
}

for (const kind of databaseKinds()) {
  describe(`auth: digital-certificate login [${kind}]`, () => {
    let platform: TestPlatform;
    let base: string;
    let config: oidc.Configuration;
    const directory = new MemoryDirectory();
    const ids = {
      rsa: rid('11010519800101001'),
      ec: rid('11010519800101002'),
      sm2: rid('11010519800101003'),
      gm: rid('11010519800101004'),
    };
    const holders: Record<string, Holder> = {};

    before(async () => {
      makeCa('good');
      makeCa('other');
      holders.rsa = issue('good', 'rsa', 'rsa', ids.rsa);
      holders.ec = issue('good', 'ec', 'ec', ids.ec);
      holders.sm2 = issue('good', 'sm2', 'sm2', ids.sm2);
      holders.expired = issue('good', 'expired', 'ec', ids.ec, ['20200101000000Z', '20210101000000Z']);
      holders.revoked = issue('good', 'revoked', 'ec', ids.ec);
      holders.foreign = issue('other', 'foreign', 'ec', ids.ec);
      ossl('ca', '-config', 'good/ca.cnf', '-cert', 'good/ca.pem', '-keyfile', 'good/ca.key', '-revoke', 'revoked.pem');
      ossl(
        'ca',
        '-config',
        'good/ca.cnf',
        '-cert',
        'good/ca.pem',
        '-keyfile',
        'good/ca.key',
        '-gencrl',
        '-out',
        'good/crl.pem',
      );
      // A national-crypto CA: SM2 key, certificates and CRL signed SM3withSM2.
      makeCa('gm', true);
      holders.gm = issue('gm', 'gm', 'sm2', ids.gm);
      ossl(
        'ca',
        '-config',
        'gm/ca.cnf',
        '-cert',
        'gm/ca.pem',
        '-keyfile',
        'gm/ca.key',
        '-gencrl',
        '-out',
        'gm/crl.pem',
        '-md',
        'sm3',
        '-sigopt',
        'distid:1234567812345678',
      );

      ({ platform, base, config } = await listeningAuthCenter(kind, directory));
      const auth = service(platform.ctx, 'auth');
      for (const [k, residentId] of Object.entries(ids)) {
        await directory.add({
          name: `证书${k}`,
          residentId,
          mobile: `1390000100${Object.keys(ids).indexOf(k)}`,
          password: 'Unused#Pass1',
        });
      }
      const caId = await auth.certs.addCa('990100', '测试 CA', file('good/ca.pem'));
      await auth.certs.setCrl('990100', caId, file('good/crl.pem'));
      const gmId = await auth.certs.addCa('990100', '国密测试 CA', file('gm/ca.pem'));
      await auth.certs.setCrl('990100', gmId, file('gm/crl.pem'));
    });
    after(async () => {
      await platform?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    async function certLogin(h: Holder, tamper = false) {
      const browser = new Browser();
      const url = await loginPageUrl(config, base, 'c');
      const start = await browser.follow(url);
      const page = await browser.get(`${start.url}?m=cert`);
      const html = await page.text();
      const challenge = /data-challenge="([^"]+)"/.exec(html)![1]!;
      const signature = signChallenge(h, tamper ? `${challenge}x` : challenge);
      const res = await browser.post(`${start.url}/cert`, {
        csrf: formValue(html, 'csrf'),
        certificate: h.cert,
        signature,
      });
      return { status: res.status, error: /<p class="error" role="alert">([^<]*)</.exec(await res.text())?.[1] ?? '' };
    }

    for (const k of ['rsa', 'ec', 'sm2'] as const) {
      it(`a valid ${k.toUpperCase()} certificate with a correct signature logs its holder in`, async () => {
        const r = await certLogin(holders[k]!);
        assert.equal(r.status, 303, r.error);
      });
    }

    it('an SM2 certificate issued by an SM2 CA (SM3withSM2 certificate and CRL) logs its holder in', async () => {
      const r = await certLogin(holders.gm!);
      assert.equal(r.status, 303, r.error);
    });

    it('expired, revoked, foreign-CA and wrong-signature attempts are refused with the reason', async () => {
      assert.match((await certLogin(holders.expired!)).error, /有效期/);
      assert.match((await certLogin(holders.revoked!)).error, /吊销/);
      const foreign = await certLogin(holders.foreign!);
      assert.equal(foreign.status, 401);
      assert.match(foreign.error, /受信任/);
      assert.match((await certLogin(holders.ec!, true)).error, /签名验证失败/);
    });

    it('a CRL not signed by the CA is rejected when installed', async () => {
      const auth = service(platform.ctx, 'auth');
      makeCa('rogue');
      ossl(
        'ca',
        '-config',
        'rogue/ca.cnf',
        '-cert',
        'rogue/ca.pem',
        '-keyfile',
        'rogue/ca.key',
        '-gencrl',
        '-out',
        'rogue/crl.pem',
      );
      const caId = (await platform.ctx.db.one<{ id: string }>(
        sql`select id from auth_trusted_ca where name = '测试 CA'`,
      ))!.id;
      await assert.rejects(auth.certs.setCrl('990100', caId, file('rogue/crl.pem')), /AUTH_CRL_INVALID/);
    });
  });
}
