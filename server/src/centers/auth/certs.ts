/**
 * Digital-certificate login: an X.509 certificate issued by a configured CA (signature, validity, CRL checked) and
 * proof of possession — the holder signs a one-time server challenge with the certificate's key.
 * Keys: RSA (SHA-256, PKCS#1 v1.5), ECDSA (SHA-256) and SM2 (SM3withSM2, GM/T 0003, default user id).
 * Node's crypto verifies RSA/ECDSA; SM2 signatures (on certificates, CRLs and challenges) go through our SM2.
 */
import { createPublicKey, verify as cryptoVerify, randomBytes, X509Certificate } from 'node:crypto';
import type { Context } from '../../platform/context.ts';
import { sm2Verify } from '../../platform/crypto/index.ts';
import { sql } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';

// ---- a minimal DER reader (enough for Certificate and CertificateList) ----
interface Node {
  tag: number;
  start: number; // header start
  body: number; // content start
  end: number;
}

function readNode(buf: Buffer, at: number): Node {
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
    body = at + 2 + n;
  }
  const end = body + len;
  if (end > buf.length) throw new Error('truncated DER');
  return { tag, start: at, body, end };
}

function children(buf: Buffer, node: Node): Node[] {
  const out: Node[] = [];
  for (let at = node.body; at < node.end; ) {
    const child = readNode(buf, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

function oid(buf: Buffer, node: Node): string {
  const bytes = buf.subarray(node.body, node.end);
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let v = 0;
  for (const b of bytes.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** The signed part, the algorithm OID and the signature of a Certificate or CertificateList. */
function signedParts(der: Buffer): { tbs: Buffer; alg: string; signature: Buffer; tbsNode: Node } {
  const top = readNode(der, 0);
  const [tbsNode, algNode, sigNode] = children(der, top);
  if (!tbsNode || !algNode || !sigNode) throw new Error('not a signed structure');
  const alg = oid(der, children(der, algNode)[0]!);
  return {
    tbs: der.subarray(tbsNode.start, tbsNode.end),
    alg,
    signature: der.subarray(sigNode.body + 1, sigNode.end),
    tbsNode,
  };
}

const OID = {
  rsaSha256: '1.2.840.113549.1.1.11',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  sm2Sm3: '1.2.156.10197.1.501',
};

/** "04" || x || y of an SM2 / EC public key (the last 65 bytes of its SubjectPublicKeyInfo). */
function ecPointHex(cert: X509Certificate): string {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return spki.subarray(spki.length - 65).toString('hex');
}

function isSm2Key(cert: X509Certificate): boolean {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' }).toString('hex');
  return spki.includes('2a811ccf5501822d'); // OID 1.2.156.10197.1.301 (SM2 curve)
}

/** Verifies a signature over `data` by the holder of `signer`'s key, for the algorithm named by `alg`. */
function verifyBy(signer: X509Certificate, alg: string, data: Buffer, signature: Buffer): boolean {
  try {
    if (alg === OID.sm2Sm3 || isSm2Key(signer)) return sm2Verify(data, signature, ecPointHex(signer));
    if (alg === OID.rsaSha256) return cryptoVerify('sha256', data, signer.publicKey, signature);
    if (alg === OID.ecdsaSha256)
      return cryptoVerify('sha256', data, { key: signer.publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
  return false;
}

/** Revoked serial numbers (upper-case hex, no leading zeros) of a CRL verified against the CA. */
export function revokedSerials(crlPem: string, ca: X509Certificate): { serials: Set<string>; nextUpdate?: Date } {
  const der = pemToDer(crlPem, 'X509 CRL');
  const { tbs, alg, signature, tbsNode } = signedParts(der);
  if (!verifyBy(ca, alg, tbs, signature)) throw new Error('CRL signature does not verify under the CA');
  const fields = children(der, tbsNode);
  let i = fields[0]?.tag === 0x02 ? 1 : 0; // version
  i += 2; // signature algorithm, issuer
  i += 1; // thisUpdate
  let nextUpdate: Date | undefined;
  if (fields[i] && (fields[i]!.tag === 0x17 || fields[i]!.tag === 0x18)) {
    nextUpdate = parseTime(der, fields[i]!);
    i++;
  }
  const serials = new Set<string>();
  const list = fields[i];
  if (list && list.tag === 0x30) {
    for (const entry of children(der, list)) {
      const serial = children(der, entry)[0]!;
      serials.add(normSerial(der.subarray(serial.body, serial.end).toString('hex')));
    }
  }
  return { serials, nextUpdate };
}

function parseTime(buf: Buffer, node: Node): Date {
  const s = buf.subarray(node.body, node.end).toString('latin1');
  const full = node.tag === 0x17 ? `${Number(s.slice(0, 2)) < 50 ? '20' : '19'}${s}` : s;
  return new Date(
    `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}T${full.slice(8, 10)}:${full.slice(10, 12)}:${full.slice(12, 14)}Z`,
  );
}

const normSerial = (hex: string) => hex.toUpperCase().replace(/^0+(?=.)/, '');

function pemToDer(pem: string, label: string): Buffer {
  const m = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`).exec(pem);
  if (!m) throw new Error(`no ${label} PEM block`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

export type CertCheck =
  | { ok: true; cert: X509Certificate; residentId?: string; subject: string; serial: string }
  | { ok: false; reason: 'malformed' | 'untrusted' | 'expired' | 'revoked' | 'crl_unavailable' | 'signature' };

/** The resident ID a personal certificate names (subject serialNumber, or an 18-character ID in the CN). */
function residentIdOf(cert: X509Certificate): string | undefined {
  const subject = cert.subject;
  const m = /(?:^|\n)serialNumber=([0-9]{17}[0-9Xx])/.exec(subject) ?? /\b([0-9]{17}[0-9Xx])\b/.exec(subject);
  return m?.[1]?.toUpperCase();
}

interface CaRow {
  id: string;
  name: string;
  cert_pem: string;
  crl_pem: string | null;
}

export class CertificateLogin {
  private readonly ctx: Context;

  constructor(ctx: Context) {
    this.ctx = ctx;
  }

  /** Trusts a CA for certificate login in a region (staff action / deployment config). */
  async addCa(regionCode: string, name: string, certPem: string): Promise<string> {
    let ca: X509Certificate;
    try {
      ca = new X509Certificate(certPem);
    } catch {
      throw new AppError(400, 'AUTH_CA_INVALID', 'CA 证书格式无效');
    }
    if (!ca.ca) throw new AppError(400, 'AUTH_CA_INVALID', '该证书不是 CA 证书');
    const id = ca.fingerprint256.replaceAll(':', '').slice(0, 32);
    await this.ctx.db.q(sql`insert into auth_trusted_ca(region_code, id, name, cert_pem) values (${regionCode}, ${id}, ${name}, ${certPem})
      on conflict (region_code, id) do update set name = excluded.name, cert_pem = excluded.cert_pem`);
    return id;
  }

  /** Installs the CA's current CRL (verified against the CA before it is stored). */
  async setCrl(regionCode: string, caId: string, crlPem: string): Promise<void> {
    const row = await this.ctx.db.one<CaRow>(
      sql`select * from auth_trusted_ca where region_code = ${regionCode} and id = ${caId}`,
    );
    if (!row) throw new AppError(404, 'AUTH_CA_NOT_FOUND', 'CA 不存在');
    try {
      revokedSerials(crlPem, new X509Certificate(row.cert_pem));
    } catch {
      throw new AppError(400, 'AUTH_CRL_INVALID', '证书吊销列表无效或签名不符');
    }
    await this.ctx.db.q(sql`update auth_trusted_ca set crl_pem = ${crlPem}, crl_updated_at = now()
      where region_code = ${regionCode} and id = ${caId}`);
  }

  /** A one-time challenge for the login page (stored with the interaction). */
  async challenge(regionCode: string, key: string): Promise<string> {
    const challenge = `yibao-cert-login:${randomBytes(24).toString('base64url')}`;
    await this.ctx.db.q(sql`insert into auth_webauthn_challenge(region_code, id, challenge, expires_at)
      values (${regionCode}, ${`cert:${key}`}, ${challenge}, now() + interval '5 minutes')
      on conflict (region_code, id) do update set challenge = excluded.challenge, expires_at = excluded.expires_at`);
    return challenge;
  }

  async currentChallenge(regionCode: string, key: string): Promise<string | undefined> {
    const row = await this.ctx.db.one<{ challenge: string }>(sql`select challenge from auth_webauthn_challenge
      where region_code = ${regionCode} and id = ${`cert:${key}`} and expires_at > now()`);
    return row?.challenge;
  }

  /** Checks chain, validity, CRL and the proof of possession over the (single-use) challenge. */
  async verify(
    regionCode: string,
    key: string,
    certPem: string,
    signatureB64: string,
    now = new Date(),
  ): Promise<CertCheck> {
    const taken = await this.ctx.db.one<{ challenge: string }>(sql`delete from auth_webauthn_challenge
      where region_code = ${regionCode} and id = ${`cert:${key}`} and expires_at > now() returning challenge`);
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (!taken) return { ok: false, reason: 'signature' };
    const cas = await this.ctx.db.q<CaRow>(sql`select * from auth_trusted_ca where region_code = ${regionCode}`);
    let issuer: { ca: X509Certificate; row: CaRow } | undefined;
    for (const row of cas) {
      const ca = new X509Certificate(row.cert_pem);
      if (!cert.checkIssued(ca)) continue;
      const der = cert.raw;
      const { tbs, alg, signature } = signedParts(der);
      if (verifyBy(ca, alg, tbs, signature)) {
        issuer = { ca, row };
        break;
      }
    }
    if (!issuer) return { ok: false, reason: 'untrusted' };
    if (now < new Date(cert.validFrom) || now > new Date(cert.validTo)) return { ok: false, reason: 'expired' };
    if (!issuer.row.crl_pem) return { ok: false, reason: 'crl_unavailable' };
    let crl: ReturnType<typeof revokedSerials>;
    try {
      crl = revokedSerials(issuer.row.crl_pem, issuer.ca);
    } catch {
      return { ok: false, reason: 'crl_unavailable' };
    }
    if (crl.nextUpdate && crl.nextUpdate < now) return { ok: false, reason: 'crl_unavailable' };
    if (crl.serials.has(normSerial(cert.serialNumber))) return { ok: false, reason: 'revoked' };
    let signature: Buffer;
    try {
      signature = Buffer.from(signatureB64, 'base64');
    } catch {
      return { ok: false, reason: 'signature' };
    }
    const alg = isSm2Key(cert)
      ? OID.sm2Sm3
      : createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' })).asymmetricKeyType === 'rsa'
        ? OID.rsaSha256
        : OID.ecdsaSha256;
    if (!verifyBy(cert, alg, Buffer.from(taken.challenge), signature)) return { ok: false, reason: 'signature' };
    return {
      ok: true,
      cert,
      residentId: residentIdOf(cert),
      subject: cert.subject,
      serial: normSerial(cert.serialNumber),
    };
  }
}
