import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { AppError } from '../../platform/errors.ts';
import type { BillView } from './service.ts';

/**
 * Where a CJK font may be: EBILL_FONT, a font vendored in server/assets/fonts, the npm package @embedpdf/fonts-sc
 * (Noto Sans Hans, OFL — so `npm start` works on a fresh machine), then Debian's Noto CJK.
 */
const ASSET_FONTS = new URL('../../../assets/fonts/', import.meta.url).pathname;
const SYSTEM_FONTS: Array<{ path: string; name?: string }> = [
  { path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', name: 'NotoSansCJKsc-Regular' },
  { path: '/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', name: 'NotoSerifCJKsc-Regular' },
  { path: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', name: 'WenQuanYiMicroHei' },
  { path: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', name: 'WenQuanYiZenHei' },
];

/** fontkit (pdfkit's own font engine): the font is parsed once and shared by every document. */
const fontkit = createRequire(import.meta.url)('fontkit') as { create(data: Buffer, postscriptName?: string): unknown };

export interface CjkFont {
  path: string;
  name?: string;
  /** The parsed fontkit font (pdfkit accepts it in place of a file), shared across documents. */
  font: unknown;
}

let cached: CjkFont | undefined;

function npmCjkFont(): { path: string } | undefined {
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('@embedpdf/fonts-sc');
    const { fonts } = require('@embedpdf/fonts-sc') as { fonts: Array<{ file: string; weight: number }> };
    const regular = fonts.find((f) => f.weight === 400) ?? fonts[0];
    return regular ? { path: join(dirname(main), '..', 'fonts', regular.file) } : undefined;
  } catch {
    return undefined;
  }
}

/** Finds and loads (once) a font with CJK glyphs; PDFs embed a subset of it. */
export function loadCjkFont(): CjkFont {
  if (cached) return cached;
  const candidates: Array<{ path: string; name?: string }> = [];
  if (process.env.EBILL_FONT) {
    const [path, name] = process.env.EBILL_FONT.split('#');
    candidates.push({ path, name });
  }
  if (existsSync(ASSET_FONTS)) {
    for (const f of readdirSync(ASSET_FONTS).sort()) {
      if (/\.(ttf|otf)$/i.test(f)) candidates.push({ path: join(ASSET_FONTS, f) });
    }
  }
  const npmFont = npmCjkFont();
  if (npmFont) candidates.push(npmFont);
  candidates.push(...SYSTEM_FONTS);
  for (const c of candidates) {
    if (existsSync(c.path)) {
      const font = fontkit.create(readFileSync(c.path), c.name);
      if (!font || typeof (font as { layout?: unknown }).layout !== 'function') continue;
      cached = { ...c, font };
      return cached;
    }
  }
  throw new AppError(
    503,
    'EBILL_FONT_MISSING',
    '票据版式文件生成失败：缺少中文字体',
    '请安装 fonts-noto-cjk，或把 TTF/OTF 字体放入 server/assets/fonts，或设置 EBILL_FONT',
  );
}

const DIGITS = '零壹贰叁肆伍陆柒捌玖';
const UNITS = ['', '拾', '佰', '仟'];
const GROUPS = ['', '万', '亿', '万亿'];

/** An amount in fen written in Chinese capital numerals (大写金额), e.g. 12345 → 壹佰贰拾叁元肆角伍分. */
export function amountInWords(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError('amount must be an integer number of fen');
  if (fen < 0) return `负${amountInWords(-fen)}`;
  const yuan = Math.floor(fen / 100);
  const jiao = Math.floor(fen / 10) % 10;
  const cents = fen % 10;
  let integer = '';
  if (yuan === 0) integer = '';
  else {
    const groups: number[] = [];
    for (let v = yuan; v > 0; v = Math.floor(v / 10000)) groups.push(v % 10000);
    let zeroPending = false;
    for (let g = groups.length - 1; g >= 0; g--) {
      const value = groups[g];
      if (value === 0) {
        zeroPending = integer !== '';
        continue;
      }
      if (zeroPending || (integer !== '' && value < 1000)) integer += '零';
      zeroPending = false;
      let part = '';
      let innerZero = false;
      for (let i = 3; i >= 0; i--) {
        const d = Math.floor(value / 10 ** i) % 10;
        if (d === 0) {
          innerZero = part !== '';
        } else {
          if (innerZero) part += '零';
          innerZero = false;
          part += DIGITS[d] + UNITS[i];
        }
      }
      integer += part + GROUPS[g];
    }
    integer += '元';
  }
  if (jiao === 0 && cents === 0) return yuan === 0 ? '零元整' : `${integer}整`;
  let frac = '';
  if (jiao > 0) frac += `${DIGITS[jiao]}角`;
  else if (yuan > 0) frac += '零';
  if (cents > 0) frac += `${DIGITS[cents]}分`;
  return integer + frac;
}

export const yuan = (fen: number) => {
  const sign = fen < 0 ? '-' : '';
  const a = Math.abs(fen);
  return `${sign}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
};

const CLASS_NAMES: Record<string, string> = { A: '甲类', B: '乙类', C: '丙类' };

/** Beijing time (the bill's legal time zone) as yyyy-MM-dd HH:mm:ss. */
export function beijingTime(isoTime: string): string {
  const d = new Date(Date.parse(isoTime) + 8 * 3600_000);
  return d.toISOString().replace('T', ' ').slice(0, 19);
}

/**
 * Renders a bill as a one-or-more-page PDF laid out like a medical-charge e-bill (241 × 140 mm): title, QR code,
 * header fields, item table, totals in figures and words, the payment split, and the issuer's seal.
 */
export async function renderBillPdf(bill: BillView, qrText: string, regionName: string): Promise<Buffer> {
  const font = loadCjkFont();
  const qrPng = await QRCode.toBuffer(qrText, { errorCorrectionLevel: 'M', margin: 0, width: 180 });
  const W = 683;
  const H = 397;
  const doc = new PDFDocument({
    size: [W, H],
    margin: 0,
    info: {
      Title: `医疗收费电子票据 ${bill.billCode}-${bill.billNumber}`,
      Author: bill.issuer.name,
      Subject: bill.kind === 'red' ? '红字冲销票据' : '医疗收费电子票据',
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  doc.registerFont('cjk', font.font as Buffer); // pdfkit also accepts a parsed fontkit font
  doc.font('cjk');

  const red = '#b71c1c';
  const ink = '#1f1f1f';
  const left = 28;
  const right = W - 28;

  const header = (page: number) => {
    doc.lineWidth(1).strokeColor(red);
    doc.fillColor(red).fontSize(18).text(`${regionName}医疗收费电子票据`, 0, 22, { width: W, align: 'center' });
    doc
      .moveTo(W / 2 - 130, 46)
      .lineTo(W / 2 + 130, 46)
      .moveTo(W / 2 - 130, 49)
      .lineTo(W / 2 + 130, 49)
      .stroke();
    if (bill.kind === 'red') {
      doc.fontSize(11).fillColor(red).text('（红字冲销）', 0, 53, { width: W, align: 'center' });
    }
    if (bill.issuer.sandbox) {
      doc
        .fontSize(8)
        .fillColor('#999')
        .text('沙箱环境 · 非真实票据', 0, 8, { width: W - 10, align: 'right' });
    }
    doc.image(qrPng, left, 16, { width: 62 });
    doc.fillColor(ink).fontSize(8.5);
    const rx = W - 200;
    doc.text(`票据代码：${bill.billCode}`, rx, 16);
    doc.text(`票据号码：${bill.billNumber}`, rx, 28);
    doc.text(`校 验 码：${bill.checkCode}`, rx, 40);
    doc.text(`开票日期：${beijingTime(bill.issuedAt)}`, rx, 52);
    if (page > 1) doc.text(`第 ${page} 页（续）`, rx, 64);
    doc.fontSize(9);
    doc.text(`交款人：${bill.payerName}`, left, 84);
    doc.text(`业务流水号：${bill.orderId}`, left + 200, 84);
    doc.text(`结算时间：${beijingTime(bill.settledAt)}`, left + 440, 84);
  };

  // Item table.
  const cols = [
    { title: '项目名称', w: 200 },
    { title: '医保编码', w: 170 },
    { title: '类别', w: 50 },
    { title: '数量', w: 60 },
    { title: '金额（元）', w: right - left - 480 },
  ];
  const rowH = 15;
  const tableTop = 100;
  const tableBottom = 262;
  const drawTableHead = () => {
    doc
      .lineWidth(0.6)
      .strokeColor(red)
      .rect(left, tableTop, right - left, rowH)
      .stroke();
    let x = left;
    doc.fillColor(red).fontSize(8.5);
    for (const c of cols) {
      doc.text(c.title, x, tableTop + 4, { width: c.w, align: 'center' });
      x += c.w;
    }
  };

  let page = 1;
  header(page);
  drawTableHead();
  let y = tableTop + rowH;
  doc.fillColor(ink).fontSize(8);
  for (const item of bill.items) {
    if (y + rowH > tableBottom) {
      doc
        .lineWidth(0.6)
        .strokeColor(red)
        .rect(left, tableTop, right - left, y - tableTop)
        .stroke();
      doc
        .fontSize(8)
        .fillColor('#666')
        .text('（续下页）', left, y + 3, { width: right - left, align: 'right' });
      doc.addPage({ size: [W, H], margin: 0 });
      page++;
      header(page);
      drawTableHead();
      y = tableTop + rowH;
      doc.fillColor(ink).fontSize(8);
    }
    const cells = [
      item.name,
      item.code,
      CLASS_NAMES[item.itemClass] ?? item.itemClass,
      String(item.quantity),
      yuan(item.amount),
    ];
    let x = left;
    cells.forEach((text, i) => {
      doc.text(text, x + 4, y + 4, {
        width: cols[i].w - 8,
        height: rowH - 2,
        ellipsis: true,
        lineBreak: false,
        align: i >= 3 ? 'right' : i === 2 ? 'center' : 'left',
      });
      x += cols[i].w;
    });
    y += rowH;
  }
  doc
    .lineWidth(0.6)
    .strokeColor(red)
    .rect(left, tableTop, right - left, Math.max(y, tableBottom) - tableTop)
    .stroke();

  // Totals and split.
  const ty = Math.max(y, tableBottom);
  doc.rect(left, ty, right - left, 20).stroke();
  doc.fillColor(ink).fontSize(9);
  const signedTotal = bill.kind === 'red' ? -bill.total : bill.total;
  doc.text(`金额合计（大写）：${amountInWords(signedTotal)}`, left + 6, ty + 6);
  doc.text(`（小写）¥${yuan(signedTotal)}`, right - 200, ty + 6, {
    width: 194,
    align: 'right',
  });
  doc.rect(left, ty + 20, right - left, 20).stroke();
  doc.fontSize(8.5);
  doc.text(
    `医保统筹基金支付：${yuan(bill.fundPayment)}    个人账户支付：${yuan(bill.accountPayment)}    个人现金支付：${yuan(
      bill.cashPayment,
    )}`,
    left + 6,
    ty + 26,
  );
  doc.rect(left, ty + 40, right - left, 20).stroke();
  const note =
    bill.kind === 'red'
      ? `备注：冲销原票据；退款 ${yuan(bill.total)} 元`
      : '备注：本票据由医保移动支付结算生成，可扫码或凭代码、号码、校验码查验';
  doc.text(note, left + 6, ty + 46, { width: right - left - 12, lineBreak: false, ellipsis: true });

  // Payee and issuer seal.
  const by = ty + 68;
  doc.fontSize(9).fillColor(ink);
  doc.text(`收款单位（章）：${bill.payeeName}（${bill.institutionCode}）`, left, by, {
    width: 320,
    lineBreak: false,
    ellipsis: true,
  });
  doc.text('复核人：系统', left + 330, by);
  doc.text('收款人：医保移动支付', left + 430, by);
  const sx = right - 56;
  const sy = by + 10;
  doc.save().lineWidth(1.6).strokeColor(red).ellipse(sx, sy, 52, 30).stroke().restore();
  doc.fillColor(red).fontSize(7);
  doc.text(bill.issuer.name, sx - 48, sy - 14, { width: 96, align: 'center' });
  doc.fontSize(9).text('票据监制章', sx - 48, sy - 3, { width: 96, align: 'center' });
  doc.fontSize(5.5).text(`SM2 ${bill.signature.slice(0, 16)}`, sx - 48, sy + 11, { width: 96, align: 'center' });

  doc.end();
  await done;
  return Buffer.concat(chunks);
}
