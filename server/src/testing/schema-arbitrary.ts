/**
 * fast-check arbitraries from the JSON Schemas of the platform's OpenAPI document: values that pass a route's own
 * validation, so that a fuzzer reaches the service behind it instead of stopping at the 400. The keywords are the ones
 * our zod schemas produce (type, enum, const, anyOf/oneOf, properties/required/additionalProperties, items with
 * min/maxItems, string length/pattern/format, numeric bounds).
 */
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export interface SchemaArbitraryOptions {
  /** ids worth sending where a uuid goes (existing rows), besides random ones */
  ids?: string[];
  /** longest string or array generated where the schema allows more (keeps runs fast) */
  maxLength?: number;
}

/** Any instant of years 0000–9999 (what ISO 8601's four-digit years can say), both ends, and around today. */
const instant = fc.oneof(
  fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
  fc.constantFrom(new Date('0000-01-01T00:00:00Z'), new Date('9999-12-31T23:59:59Z')),
  fc.date({ min: new Date(Date.now() - 4e10), max: new Date(Date.now() + 4e10), noInvalidDate: true }),
);

/** Text that tends to break things: CJK, emoji, quotes, SQL and HTML fragments, whitespace. */
const TRICKY = ['张伟', '𠀀😀', "O'Brien", '"; drop table x; --', '<script>', ' ', '%s%n', '\\', '０１２'];

export function arbitraryOf(schema: JsonSchema, opts: SchemaArbitraryOptions = {}): fc.Arbitrary<unknown> {
  const cap = opts.maxLength ?? 40;
  const of = (s: JsonSchema) => arbitraryOf(s, opts);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map(of));
  if (schema.allOf?.length === 1) return of(schema.allOf[0]!);
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => of({ ...schema, type })));
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
    case 'number':
      return numberOf(schema);
    case 'string':
      return stringOf(schema, opts, cap);
    case 'array':
      return fc.array(of(schema.items ?? {}), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 4, 4)),
      });
    case 'object':
      return objectOf(schema, opts);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function numberOf(s: JsonSchema): fc.Arbitrary<number> {
  const integer = s.type === 'integer';
  const step = integer ? 1 : Number.EPSILON;
  const min = s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + step : (s.minimum ?? -(2 ** 31));
  const max = s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - step : (s.maximum ?? 2 ** 31);
  const inRange = integer
    ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  // the bounds themselves are where off-by-one and overflow live
  return fc.oneof(inRange, fc.constantFrom(integer ? Math.ceil(min) : min, integer ? Math.floor(max) : max));
}

function stringOf(s: JsonSchema, opts: SchemaArbitraryOptions, cap: number): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0;
  const maxLength = s.maxLength ?? Number.MAX_SAFE_INTEGER;
  const fits = (v: string) => [...v].length >= minLength && [...v].length <= maxLength;
  switch (s.format) {
    case 'uuid':
      return opts.ids?.length ? fc.oneof(fc.uuid(), fc.constantFrom(...opts.ids)) : fc.uuid();
    case 'date-time':
      return instant.map((d) => d.toISOString());
    case 'date':
      return instant.map((d) => d.toISOString().slice(0, 10));
    case 'uri':
      return fc.webUrl().filter(fits);
    case 'email':
      return fc.emailAddress().filter(fits);
  }
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter(fits);
  const tricky = TRICKY.filter(fits);
  const text = fc.string({ minLength, maxLength: Math.min(maxLength, Math.max(minLength, cap)), unit: 'grapheme' });
  return tricky.length ? fc.oneof(text, fc.constantFrom(...tricky)) : text;
}

function objectOf(s: JsonSchema, opts: SchemaArbitraryOptions): fc.Arbitrary<Record<string, unknown>> {
  const properties = s.properties ?? {};
  const names = Object.keys(properties);
  if (names.length === 0 && s.additionalProperties && typeof s.additionalProperties === 'object') {
    return fc.dictionary(
      s.propertyNames ? (arbitraryOf(s.propertyNames, opts) as fc.Arbitrary<string>) : fc.string({ maxLength: 12 }),
      arbitraryOf(s.additionalProperties, opts),
      { maxKeys: 3 },
    );
  }
  const model = Object.fromEntries(names.map((n) => [n, arbitraryOf(properties[n]!, opts)]));
  return fc.record(model, { requiredKeys: (s.required ?? []).filter((n) => n in model) }) as fc.Arbitrary<
    Record<string, unknown>
  >;
}
