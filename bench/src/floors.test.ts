import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOpensslVerifyRate } from './floors.ts';

test('the verify/s column of the SM2 row of openssl speed', () => {
  const output = [
    'CPUINFO: OPENSSL_ia32cap=0xfffa3203078bffff:0x405fc6f1bf07ab',
    '                              sign    verify    sign/s verify/s',
    ' 256 bits SM2 (CurveSM2)   0.0003s   0.0003s   2985.7   3504.4',
  ].join('\n');
  assert.equal(parseOpensslVerifyRate(output), 3504.4);
  assert.ok(Number.isNaN(parseOpensslVerifyRate('Error: unknown algorithm sm2')));
  assert.ok(
    Number.isNaN(parseOpensslVerifyRate('                sign    verify    sign/s verify/s\n 256 bits ecdsa 0.1s')),
  );
});
