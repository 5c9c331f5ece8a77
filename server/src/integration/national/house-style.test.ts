/**
 * House style (docs/CONVENTIONS.md): national field names (`psn_no`, `payOrdId`, `feedetlSn`, …) appear only under
 * `server/src/integration/`; the centers use the English names of DOMAIN.md's glossary. Scans the server's source
 * (tests excluded: they speak the national shapes as a channel would; comments excluded).
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const SRC = join(import.meta.dirname, '..', '..');

/** DOMAIN.md §1 and §4: settlement, mobile-payment (6201–6401) and e-voucher field names. */
const NATIONAL_NAMES = [
  // settlement (1101, 2201–2208) and the glossary
  'psn_no',
  'certno',
  'psn_name',
  'insutype',
  'insuplc_admdvs',
  'mdtrtarea_admvs',
  'fixmedins_code',
  'mdtrt_cert_type',
  'mdtrt_cert_no',
  'med_type',
  'chrgitm_lv',
  'act_pay_dedc',
  'hifp_pay',
  'fund_pay_sumamt',
  'acct_pay',
  'acct_mulaid_pay',
  'psn_cash_pay',
  'fulamt_ownpay_amt',
  'overlmt_selfpay',
  'preselfpay_amt',
  'inscp_scp_amt',
  'mdtrt_id',
  'setl_id',
  'feedetl_sn',
  'infno',
  'opter_type',
  // mobile payment (6201–6401)
  'payOrdId',
  'orgBizSer',
  'orgCodg',
  'mdtrtCertType',
  'mdtrtCertNo',
  'feedetlSn',
  'medListCodg',
  'chrgitmLv',
  'ordStas',
  'feeSumamt',
  'fundPay',
  'psnAcctPay',
  'ownPayAmt',
  'acctMulaidPay',
  'setlId',
  'appRefdSn',
  'refdType',
  'cashRefdAmt',
  'totlRefdAmt',
  'fundRefdAmt',
  'psnAcctRefdAmt',
  'expContent',
  // e-voucher (ec.query)
  'ecToken',
  'insuOrg',
];

/**
 * Known places outside integration/ that still carry national names, each with its reason. Anything else found is a
 * failure; an entry that no longer matches anything is a failure too (so the list only shrinks).
 */
const ALLOWED: Record<string, { names: string[]; why: string }> = {
  'centers/evoucher/service.ts': {
    names: ['ecToken', 'insuOrg'],
    why: 'the e-voucher center issues the ecToken of the national ec.query answer (DOMAIN §4): its boundary name',
  },
  'centers/evoucher/testing.ts': {
    names: ['ecToken'],
    why: 'test helper of the e-voucher center: resolves an ecToken like an institution would',
  },
  'centers/payment/service.ts': {
    names: ['ecToken'],
    why: 'hands a credential of type 01 to the core-zone port, whose person key is named ecToken',
  },
  'centers/institution/service.ts': {
    names: [
      'ecToken',
      'insuOrg',
      'payOrdId',
      'orgBizSer',
      'orgCodg',
      'mdtrtCertType',
      'mdtrtCertNo',
      'feedetlSn',
      'medListCodg',
      'ordStas',
      'feeSumamt',
      'fundPay',
      'psnAcctPay',
      'ownPayAmt',
      'setlId',
      'appRefdSn',
      'refdType',
      'expContent',
    ],
    why: 'the workstation relay is a 6201–6401 channel client (not yet moved to the sdk’s typed payment client)',
  },
  'centers/institution/routes.ts': {
    names: ['ecToken'],
    why: 'names the credential of type 01 in its request description',
  },
};

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.includes('.test-helper.'))
      out.push(path);
  }
  return out;
}

/** Code without comments (block comments and whole-line or trailing `//` comments after whitespace). */
const withoutComments = (s: string) => s.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');

test('national field names appear only under server/src/integration/', async () => {
  const pattern = new RegExp(`\\b(${NATIONAL_NAMES.join('|')})\\b`, 'g');
  const found = new Map<string, Set<string>>();
  for (const file of await sourceFiles(SRC)) {
    const rel = relative(SRC, file).replaceAll('\\', '/');
    if (rel.startsWith('integration/')) continue;
    const names = new Set([...withoutComments(await readFile(file, 'utf8')).matchAll(pattern)].map((m) => m[1]));
    if (names.size > 0) found.set(rel, names);
  }
  const offending = [...found]
    .map(([file, names]) => [file, [...names].filter((n) => !ALLOWED[file]?.names.includes(n))] as const)
    .filter(([, names]) => names.length > 0)
    .map(([file, names]) => `${file}: ${names.join(', ')}`);
  assert.deepEqual(offending, [], 'move these to server/src/integration/ and translate to the glossary names');
  const stale = Object.keys(ALLOWED).filter((file) => !found.has(file));
  assert.deepEqual(stale, [], 'allow-list entries that no longer match: remove them');
});

test('the scan sees a national name (it can fail)', () => {
  const pattern = new RegExp(`\\b(${NATIONAL_NAMES.join('|')})\\b`);
  assert.ok(pattern.test(withoutComments('const x = { payOrdId: o.id };')));
  assert.ok(!pattern.test(withoutComments('// payOrdId in a comment\nconst orderId = 1;')));
});
