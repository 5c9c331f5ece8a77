/**
 * Variable-time fixed-window tables for SM2 signature verification (public data only).
 *
 * A table for point P stores, for every window w, the affine multiples j·2^(wW)·P for j = 1..2^(W-1).
 * A scalar is recoded into signed W-bit digits, so k·P is one mixed (Jacobian + affine) addition per
 * window and no doublings. Verification sums s·G and t·P into one accumulator and compares the
 * x coordinate without inverting Z. This is several times cheaper than generic projective adds
 * (SM2's a = -3 and affine table entries give 8M+3S per addition). Never use it with secret scalars.
 */
import { invert } from '@noble/curves/abstract/modular.js';
import { SM2_CURVE } from './sm2-curve.ts';

const P = SM2_CURVE.p;
const SCALAR_BITS = 256;

/** Mutable Jacobian point (x = X/Z², y = Y/Z³); `inf` marks the identity. */
interface Jacobian {
  X: bigint;
  Y: bigint;
  Z: bigint;
  inf: boolean;
}

export interface WindowTable {
  readonly window: number;
  readonly windows: number;
  readonly xs: bigint[];
  readonly ys: bigint[];
}

const modP = (v: bigint): bigint => {
  const m = v % P;
  return m < 0n ? m + P : m;
};

function double(a: Jacobian): void {
  if (a.inf) return;
  if (a.Y === 0n) {
    a.inf = true;
    return;
  }
  const delta = (a.Z * a.Z) % P;
  const gamma = (a.Y * a.Y) % P;
  const beta = (a.X * gamma) % P;
  const alpha = modP(3n * ((a.X - delta) * (a.X + delta)));
  const X3 = modP(alpha * alpha - 8n * beta);
  const Z3 = modP((a.Y + a.Z) ** 2n - gamma - delta);
  a.Y = modP(alpha * (4n * beta - X3) - 8n * ((gamma * gamma) % P));
  a.X = X3;
  a.Z = Z3;
}

/** a += (x2, y2) where (x2, y2) is an affine point. */
function addAffine(a: Jacobian, x2: bigint, y2: bigint): void {
  if (a.inf) {
    a.X = x2;
    a.Y = y2;
    a.Z = 1n;
    a.inf = false;
    return;
  }
  const zz = (a.Z * a.Z) % P;
  const H = modP(x2 * zz - a.X);
  const R = modP(((y2 * a.Z) % P) * zz - a.Y);
  if (H === 0n) {
    if (R === 0n) double(a);
    else a.inf = true;
    return;
  }
  const HH = (H * H) % P;
  const HHH = (H * HH) % P;
  const V = (a.X * HH) % P;
  const X3 = modP(R * R - HHH - 2n * V);
  a.Y = modP(R * (V - X3) - a.Y * HHH);
  a.X = X3;
  a.Z = (a.Z * H) % P;
}

/** Converts Jacobian points (none at infinity) to affine with one inversion (Montgomery's trick). */
function toAffineBatch(points: Jacobian[]): { xs: bigint[]; ys: bigint[] } {
  const prefix: bigint[] = new Array(points.length);
  let acc = 1n;
  for (let i = 0; i < points.length; i++) {
    prefix[i] = acc;
    acc = (acc * points[i].Z) % P;
  }
  const xs: bigint[] = new Array(points.length);
  const ys: bigint[] = new Array(points.length);
  let inv = invert(acc, P);
  for (let i = points.length - 1; i >= 0; i--) {
    const zInv = (inv * prefix[i]) % P;
    inv = (inv * points[i].Z) % P;
    const zInv2 = (zInv * zInv) % P;
    xs[i] = (points[i].X * zInv2) % P;
    ys[i] = (((points[i].Y * zInv2) % P) * zInv) % P;
  }
  return { xs, ys };
}

/** The window's entries 1·B .. 2^(W-1)·B for an affine base B. */
function windowEntries(bx: bigint, by: bigint, half: number): Jacobian[] {
  const entries: Jacobian[] = [{ X: bx, Y: by, Z: 1n, inf: false }];
  for (let j = 1; j < half; j++) {
    const next = { ...entries[j - 1] };
    addAffine(next, bx, by);
    entries.push(next);
  }
  return entries;
}

export function buildWindowTable(x: bigint, y: bigint, window: number): WindowTable {
  if (!Number.isInteger(window) || window < 2 || window > 16) throw new RangeError('window must be 2..16');
  const half = 2 ** (window - 1);
  const windows = Math.ceil(SCALAR_BITS / window) + 1;
  const xs: bigint[] = [];
  const ys: bigint[] = [];
  let base: Jacobian = { X: x, Y: y, Z: 1n, inf: false };
  for (let w = 0; w < windows; w++) {
    const entries = toAffineBatch(windowEntries(base.X, base.Y, half));
    xs.push(...entries.xs);
    ys.push(...entries.ys);
    const next: Jacobian = { X: entries.xs[half - 1], Y: entries.ys[half - 1], Z: 1n, inf: false };
    double(next);
    const affine = toAffineBatch([next]);
    base = { X: affine.xs[0], Y: affine.ys[0], Z: 1n, inf: false };
  }
  return { window, windows, xs, ys };
}

/** a += k·P using P's table (k in [0, 2^256)). */
function accumulate(a: Jacobian, table: WindowTable, k: bigint): void {
  const W = BigInt(table.window);
  const size = 2 ** table.window;
  const half = size / 2;
  const mask = BigInt(size - 1);
  let rest = k;
  for (let w = 0; w < table.windows; w++) {
    let digit = Number(rest & mask);
    rest >>= W;
    if (digit > half) {
      digit -= size;
      rest += 1n;
    }
    if (digit === 0) continue;
    const i = w * half + Math.abs(digit) - 1;
    addAffine(a, table.xs[i], digit > 0 ? table.ys[i] : P - table.ys[i]);
  }
  if (rest !== 0n) throw new RangeError('scalar too large for table');
}

/** Affine x of k1·A + k2·B, or undefined at infinity. */
export function mulAddX(tableA: WindowTable, k1: bigint, tableB: WindowTable, k2: bigint): bigint | undefined {
  const acc: Jacobian = { X: 0n, Y: 1n, Z: 0n, inf: true };
  accumulate(acc, tableA, k1);
  accumulate(acc, tableB, k2);
  if (acc.inf) return undefined;
  const zInv = invert(acc.Z, P);
  return (acc.X * ((zInv * zInv) % P)) % P;
}

/**
 * Whether x(k1·A + k2·B) ≡ target (mod n), for target in [0, n): x is in [0, p) and p < 2n,
 * so the candidates are target and target + n. Avoids the field inversion.
 */
export function mulAddXEqualsModN(
  tableA: WindowTable,
  k1: bigint,
  tableB: WindowTable,
  k2: bigint,
  target: bigint,
  n: bigint,
): boolean {
  const acc: Jacobian = { X: 0n, Y: 1n, Z: 0n, inf: true };
  accumulate(acc, tableA, k1);
  accumulate(acc, tableB, k2);
  if (acc.inf) return false;
  const zz = (acc.Z * acc.Z) % P;
  if ((target * zz) % P === acc.X) return true;
  const other = target + n;
  return other < P && (other * zz) % P === acc.X;
}

/**
 * Fixed-base table for SECRET scalars (signing nonces, key generation): per window w the odd multiples
 * (2j+1)·2^(Ww)·B, j = 0..2^(W-1)-1. With regular signed-digit recoding (every digit odd, never zero) a
 * multiplication is the same sequence of field operations for every scalar: one table entry and one
 * mixed addition per window, no doublings, no skipped windows.
 */
export interface OddTable {
  readonly window: number;
  readonly windows: number;
  readonly xs: bigint[];
  /** [y, p - y] of each entry: the digit's sign picks one by index, as its magnitude picks the entry */
  readonly ys: [bigint[], bigint[]];
}

const affineOf = (a: Jacobian): [bigint, bigint] => {
  const { xs, ys } = toAffineBatch([a]);
  return [xs[0], ys[0]];
};

export function buildOddTable(x: bigint, y: bigint, window: number): OddTable {
  if (!Number.isInteger(window) || window < 2 || window > 12) throw new RangeError('window must be 2..12');
  const half = 2 ** (window - 1);
  // an odd scalar below 2n < 2^257 leaves, after m-1 digits, a remainder below 2^W when W(m-1) >= 258 - W
  const windows = Math.ceil((SCALAR_BITS + 2) / window);
  const xs: bigint[] = [];
  const ys: bigint[] = [];
  let [bx, by] = [x, y];
  for (let w = 0; w < windows; w++) {
    const twice: Jacobian = { X: bx, Y: by, Z: 1n, inf: false };
    double(twice);
    const [dx, dy] = affineOf(twice);
    const entries: Jacobian[] = [{ X: bx, Y: by, Z: 1n, inf: false }];
    for (let j = 1; j < half; j++) {
      const next = { ...entries[j - 1] };
      addAffine(next, dx, dy);
      entries.push(next);
    }
    const nextBase = { ...entries[half - 1] };
    addAffine(nextBase, bx, by); // (2^W - 1)·B_w + B_w = B_(w+1)
    const affine = toAffineBatch([...entries, nextBase]);
    xs.push(...affine.xs.slice(0, half));
    ys.push(...affine.ys.slice(0, half));
    [bx, by] = [affine.xs[half], affine.ys[half]];
  }
  return { window, windows, xs, ys: [ys, ys.map((v) => P - v)] };
}

/**
 * k·B for a secret k in [1, n), n the (odd) group order, with B's odd table, as a Jacobian point. An even k is
 * replaced by k + n (same point, odd), so the recoding always yields `windows` odd digits; an entry and its sign
 * are chosen by index, not by branch.
 */
function mulSecret(table: OddTable, k: bigint, n: bigint): Jacobian {
  const W = BigInt(table.window);
  const size = 2 ** table.window;
  const half = size / 2;
  const mask = BigInt(2 * size - 1);
  let rest = k + n * (1n - (k & 1n));
  const acc: Jacobian = { X: 0n, Y: 0n, Z: 1n, inf: false };
  // addAffine's doubling and infinity branches need a partial sum equal to ± the next entry: below the top window
  // |partial| < 2^(Ww) <= |entry| as integers, so only the top window could, with negligible probability.
  for (let w = 0; w < table.windows; w++) {
    const last = w === table.windows - 1;
    const digit = last ? Number(rest) : Number(rest & mask) - size;
    rest = last ? 0n : (rest - BigInt(digit)) >> W;
    const neg = digit >>> 31;
    const i = w * half + (((digit ^ -neg) + neg - 1) >> 1);
    const y = table.ys[neg][i];
    if (w === 0) {
      acc.X = table.xs[i];
      acc.Y = y;
    } else addAffine(acc, table.xs[i], y);
    if (last && (digit < 1 || digit >= size)) throw new RangeError('scalar too large for table');
  }
  return acc;
}

/** Affine k·B for a secret k in [1, n); the inversion is blinded by `blind`, a random non-zero field element. */
export function mulSecretAffine(table: OddTable, k: bigint, n: bigint, blind: bigint): { x: bigint; y: bigint } {
  const acc = mulSecret(table, k, n);
  const zInv = (invert((acc.Z * blind) % P, P) * blind) % P;
  const zInv2 = (zInv * zInv) % P;
  return { x: (acc.X * zInv2) % P, y: (((acc.Y * zInv2) % P) * zInv) % P };
}

/** Whether x(k·B) ≡ target (mod n) for a secret k in [1, n), target in [0, n): no inversion (see mulAddXEqualsModN). */
export function mulSecretXEqualsModN(table: OddTable, k: bigint, n: bigint, target: bigint): boolean {
  const acc = mulSecret(table, k, n);
  const zz = (acc.Z * acc.Z) % P;
  const other = target + n;
  const hit = (target * zz) % P === acc.X;
  return hit || (other < P && (other * zz) % P === acc.X);
}
