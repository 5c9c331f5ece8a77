/** China time (UTC+8, no daylight saving): the calendar that business days, statements and clinic hours follow. */
export const CHINA_OFFSET_MS = 8 * 3_600_000;

/** Business date (yyyy-mm-dd) in China time of an instant. */
export function businessDate(at: Date | string | number): string {
  return new Date(new Date(at).getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** An instant as a database driver hands it over (a Date, or text from PGlite), in ISO 8601 UTC. */
export const isoInstant = (v: Date | string): string => new Date(v).toISOString();
