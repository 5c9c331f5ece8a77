/**
 * Channel sign string (DOMAIN §4). Exactly:
 * 1. Take the top-level fields except `signData`; drop those whose value is undefined, null or "".
 *    (Empty objects/arrays, 0 and false are values and stay.)
 * 2. Sort the keys ascending by UTF-16 code units (JS default sort = Java String.compareTo; ASCII order).
 * 3. Render each as `key=value`: strings as-is (no quoting, no URL-encoding), numbers/booleans via
 *    String(), objects and arrays as compact JSON with object keys sorted the same way at every depth
 *    (array order kept; inside JSON, null stays and undefined members are dropped like JSON.stringify).
 * 4. Join with `&`, then append `&key=<appSecret>`.
 * The string is signed as its UTF-8 bytes.
 */

function jsonValue(value: unknown): unknown {
  const v = value as { toJSON?: () => unknown } | null;
  return v !== null && typeof v === 'object' && typeof v.toJSON === 'function' ? v.toJSON() : value;
}

/** Compact JSON with object keys sorted recursively. Throws on bigint, functions and symbols at the top. */
export function canonicalJson(value: unknown): string {
  const v = jsonValue(value);
  if (v === null || typeof v !== 'object') {
    const text = JSON.stringify(v);
    if (text === undefined) throw new TypeError(`cannot serialise ${typeof v} to JSON`);
    return text;
  }
  if (Array.isArray(v))
    return `[${v.map((item) => (isSkippedInArray(item) ? 'null' : canonicalJson(item))).join(',')}]`;
  const members = Object.keys(v)
    .filter((key) => !isSkippedInObject((v as Record<string, unknown>)[key]))
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((v as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
}

function isSkippedInObject(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

const isSkippedInArray = isSkippedInObject;

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return canonicalJson(value);
}

export function buildSignString(fields: Readonly<Record<string, unknown>>, appSecret: string): string {
  const pairs = Object.keys(fields)
    .filter((key) => key !== 'signData' && !isEmpty(fields[key]))
    .sort()
    .map((key) => `${key}=${renderValue(fields[key])}`);
  pairs.push(`key=${appSecret}`);
  return pairs.join('&');
}
