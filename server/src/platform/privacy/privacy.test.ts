import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  createBlindIndex,
  createFieldCipher,
  isValidMobile,
  isValidResidentId,
  isValidUscc,
  maskBankCard,
  maskMobile,
  maskName,
  maskResidentId,
  parseKeyring,
  residentIdCheckChar,
  residentIdFacts,
  usccCheckChar,
} from './index.ts';

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(''));
const birthDate = fc
  .date({ min: new Date('1930-01-01T00:00:00Z'), max: new Date('2020-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10).replaceAll('-', ''));
const residentId = fc
  .tuple(digits(6), birthDate, digits(3))
  .map(([area, birth, seq]) => `${area}${birth}${seq}`)
  .map((first17) => first17 + residentIdCheckChar(first17));

test('GB 11643: known valid and invalid numbers', () => {
  assert.equal(isValidResidentId('11010519491231002X'), true);
  assert.equal(isValidResidentId('110105194912310021'), false); // wrong check char
  assert.equal(isValidResidentId('11010519491331002X'), false); // month 13
  assert.equal(isValidResidentId('1101051949123100'), false);
  assert.deepEqual(residentIdFacts('11010519491231002X'), { birthDate: '1949-12-31', sex: '2' });
});

test('GB 11643: every generated number validates, every single-digit change is caught', () => {
  fc.assert(
    fc.property(residentId, fc.integer({ min: 0, max: 16 }), fc.integer({ min: 1, max: 9 }), (id, pos, delta) => {
      assert.equal(isValidResidentId(id), true);
      const changed = id.slice(0, pos) + ((Number(id[pos]) + delta) % 10) + id.slice(pos + 1);
      // MOD 11-2 detects every single-digit substitution (the date may also become invalid).
      assert.equal(isValidResidentId(changed), false);
    }),
  );
});

test('GB 32100: known code and mutations', () => {
  assert.equal(isValidUscc('91350100M000100Y43'), true);
  assert.equal(isValidUscc('91350100M000100Y44'), false);
  assert.equal(isValidUscc('91350100M000100Y4O'), false); // O is not in the alphabet
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9A-HJ-NPQRTUWXY]{17}$/), (first17) => {
      const check = usccCheckChar(first17)!;
      assert.equal(isValidUscc(first17 + check), true);
    }),
  );
});

test('mobile numbers', () => {
  assert.equal(isValidMobile('13800138000'), true);
  assert.equal(isValidMobile('12800138000'), false);
  assert.equal(isValidMobile('1380013800'), false);
});

test('maskers keep the length and hide the middle', () => {
  assert.equal(maskResidentId('11010519491231002X'), '110105********002X');
  assert.equal(maskMobile('13812345678'), '138****5678');
  assert.equal(maskName('张三'), '张*');
  assert.equal(maskName('欧阳娜娜'), '欧***');
  assert.equal(maskBankCard('6222021234567890123'), '622202*********0123');
  fc.assert(
    fc.property(residentId, (id) => {
      const m = maskResidentId(id);
      assert.equal(m.length, id.length);
      assert.equal(m.slice(6, 14), '********'); // the birth date never shows
    }),
  );
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (s) => {
      for (const mask of [maskResidentId, maskMobile, maskBankCard, maskName]) {
        const m = mask(s);
        assert.equal(typeof m, 'string');
        if (s.replace(/\s/g, '').length > 1)
          assert.ok(m.includes('*'), `${mask.name}(${JSON.stringify(s)}) hides nothing`);
      }
    }),
  );
});

test('field cipher: round trip, tamper detection, context binding, rotation', () => {
  const oldRing = parseKeyring(`k1:${'01'.repeat(32)}`);
  const newRing = parseKeyring(`k1:${'01'.repeat(32)},k2:${'02'.repeat(32)}`);
  const oldCipher = createFieldCipher(oldRing);
  const cipher = createFieldCipher(newRing);
  fc.assert(
    fc.property(fc.string(), (s) => {
      const c = cipher.encrypt(s);
      assert.equal(cipher.decrypt(c), s);
      assert.equal(cipher.keyIdOf(c), 'k2');
    }),
  );
  const c = cipher.encrypt('11010519491231002X');
  const raw = c.split('.');
  const body = Buffer.from(raw[2], 'base64url');
  body[body.length - 1] ^= 1;
  assert.throws(() => cipher.decrypt(`${raw[0]}.${raw[1]}.${body.toString('base64url')}`), /authentication/);
  assert.throws(() => cipher.decrypt(cipher.encrypt('x', 'a'), 'b'), /authentication/);
  const legacy = oldCipher.encrypt('13800138000');
  const rotated = cipher.rotate(legacy)!;
  assert.equal(cipher.keyIdOf(rotated), 'k2');
  assert.equal(cipher.decrypt(rotated), '13800138000');
  assert.equal(cipher.rotate(rotated), undefined);
  assert.throws(() => parseKeyring('bad'), /DATA_KEYS/);
});

test('blind index: deterministic, normalised, domain-separated', () => {
  const index = createBlindIndex('ab'.repeat(32));
  assert.equal(index('11010519491231002x', 'rid'), index(' 11010519491231002X', 'rid'));
  assert.notEqual(index('13800138000', 'mobile'), index('13800138000', 'rid'));
  assert.match(index('x', 'd'), /^[0-9a-f]{64}$/);
});
