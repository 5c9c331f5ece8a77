import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { amountInWords, beijingTime, loadCjkFont, yuan } from './pdf.ts';

/** Reads 大写金额 back into fen (an independent reader, to check the writer by round trip). */
function parseWords(words: string): number {
  const DIG = '零壹贰叁肆伍陆柒捌玖';
  let s = words;
  let sign = 1;
  if (s.startsWith('负')) {
    sign = -1;
    s = s.slice(1);
  }
  let total = 0;
  let section = 0;
  let digit = 0;
  let yuanPart = 0;
  let fen = 0;
  const units: Record<string, number> = { 拾: 10, 佰: 100, 仟: 1000 };
  for (const ch of s) {
    const d = DIG.indexOf(ch);
    if (d >= 0) {
      digit = d;
      continue;
    }
    if (ch in units) {
      section += (digit || (ch === '拾' ? 1 : 0)) * units[ch];
    } else if (ch === '万') {
      total += (section + digit) * 10_000;
      section = 0;
    } else if (ch === '亿') {
      total = (total + section + digit) * 100_000_000;
      section = 0;
    } else if (ch === '元') {
      yuanPart = total + section + digit;
      total = 0;
      section = 0;
    } else if (ch === '角') {
      fen += digit * 10;
    } else if (ch === '分') {
      fen += digit;
    } else if (ch !== '整') {
      throw new Error(`unexpected ${ch} in ${words}`);
    }
    digit = 0;
  }
  return sign * (yuanPart * 100 + fen);
}

test('amounts in Chinese capital numerals: known cases', () => {
  assert.equal(amountInWords(0), '零元整');
  assert.equal(amountInWords(12345), '壹佰贰拾叁元肆角伍分');
  assert.equal(amountInWords(100), '壹元整');
  assert.equal(amountInWords(5), '伍分');
  assert.equal(amountInWords(1005), '壹拾元零伍分');
  assert.equal(amountInWords(100_000_100), '壹佰万零壹元整');
  assert.equal(amountInWords(1_000_100), '壹万零壹元整');
  assert.equal(amountInWords(-500), '负伍元整');
});

test('amounts in words read back to the same fen (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 99_999_999_999 }), (fen) => {
      const words = amountInWords(fen);
      assert.equal(parseWords(words), fen, words);
      if (fen >= 100) assert.doesNotMatch(words, /零零|零元|零万|零亿/);
    }),
    { numRuns: 2000 },
  );
});

test('yuan formatting and Beijing time', () => {
  assert.equal(yuan(5000), '50.00');
  assert.equal(yuan(-1307), '-13.07');
  assert.equal(beijingTime('2026-01-01T16:30:00.000Z'), '2026-01-02 00:30:00');
});

test('the CJK font comes from the npm package (fresh machines need no apt) and covers bill text', () => {
  const font = loadCjkFont();
  if (!process.env.EBILL_FONT) assert.match(font.path, /@embedpdf\/fonts-sc\/fonts\/NotoSansHans-Regular\.otf$/);
  const f = font.font as { hasGlyphForCodePoint(cp: number): boolean };
  const text =
    '医疗收费电子票据票据代码号码校验码开票日期交款人收款单位章金额合计大写小写医保统筹基金个人账户现金支付璟昇¥（）：';
  for (const ch of text) assert.ok(f.hasGlyphForCodePoint(ch.codePointAt(0)!), `no glyph for ${ch}`);
});
