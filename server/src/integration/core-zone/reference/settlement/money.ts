/**
 * Integer money arithmetic. All amounts are integer fen; all ratios are integer basis points (1 bp = 0.01 %).
 *
 * Safe-integer bound: every amount is at most MAX_FEN = floor((MAX_SAFE_INTEGER − 5000) / 10000) = 900 719 925 473 fen
 * (≈ 90 亿 yuan), so `amount * bp + 5000` (bp ≤ 10000) never exceeds Number.MAX_SAFE_INTEGER: every intermediate
 * value is an exactly represented integer. Sums of amounts are checked against MAX_FEN as they grow.
 *
 * Division: quotients are taken as `(n - n % d) / d`. `%` is exact on safe integers and the remaining division is of an
 * exact multiple, so the result is exact by construction, without having to argue about how `n / d` rounds in floating
 * point. No Math.floor/Math.round on inexact values.
 */

import { InvalidAmountError, InvalidRatioError } from './errors.ts';

export const BP_SCALE = 10_000;
/** floor((2^53 − 1 − 5000) / 10000); money.test.ts proves the bound with BigInt. */
export const MAX_FEN = 900_719_925_473;

/** floor(n / d) for safe integers n ≥ 0, d > 0, computed exactly. */
export function floorDiv(n: number, d: number): number {
  return (n - (n % d)) / d;
}

/** floor(amount × bp / 10000): truncation in the payer's favour (used for the fund share). */
export function mulBpFloor(amount: number, bp: number): number {
  return floorDiv(amount * bp, BP_SCALE);
}

/** round-half-up(amount × bp / 10000) = floor((amount × bp + 5000) / 10000) (used for the B-class self share). */
export function mulBpRoundHalfUp(amount: number, bp: number): number {
  return floorDiv(amount * bp + BP_SCALE / 2, BP_SCALE);
}

export function isFen(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_FEN;
}

export function isBasisPoints(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= BP_SCALE;
}

export function assertFen(value: unknown, what: string): number {
  if (!isFen(value)) {
    throw new InvalidAmountError(`${what} must be an integer number of fen in 0..${MAX_FEN}, got ${String(value)}`);
  }
  return value;
}

export function assertBasisPoints(value: unknown, what: string): number {
  if (!isBasisPoints(value)) {
    throw new InvalidRatioError(`${what} must be integer basis points in 0..${BP_SCALE}, got ${String(value)}`);
  }
  return value;
}
