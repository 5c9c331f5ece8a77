import type { CoreZone } from './port.ts';

const KEEP_MS = 600_000;

/** How an institution is named to people: its registry name, else its code under a generic title. */
export const institutionLabel = (name: string | null | undefined, code: string) => name ?? `定点医药机构 ${code}`;
const MAX_ENTRIES = 10_000;

/**
 * Names of designated institutions from the core zone's registry, for pages people read (a patient knows 东湖市第一人民医院,
 * not H99010000002). Kept 10 minutes: names change rarely, and a bill list must not ask the registry once per row. A
 * registry that cannot answer gives null (the caller shows the code), and is asked again next time.
 */
export class InstitutionNames {
  private readonly core: () => Pick<CoreZone, 'getInstitution'>;
  private readonly warn: (err: unknown, code: string) => void;
  private readonly known = new Map<string, { name: string; at: number }>();

  constructor(core: () => Pick<CoreZone, 'getInstitution'>, warn: (err: unknown, code: string) => void = () => {}) {
    this.core = core;
    this.warn = warn;
  }

  async name(regionCode: string, code: string): Promise<string | null> {
    const key = `${regionCode}:${code}`;
    const hit = this.known.get(key);
    if (hit && Date.now() - hit.at < KEEP_MS) return hit.name;
    try {
      const { name } = await this.core().getInstitution(regionCode, code);
      if (this.known.size >= MAX_ENTRIES) this.known.clear();
      this.known.set(key, { name, at: Date.now() });
      return name;
    } catch (err) {
      this.warn(err, code);
      return null;
    }
  }

  /** code → name (or null) for each distinct code, asked at once */
  async names(regionCode: string, codes: Iterable<string>): Promise<Map<string, string | null>> {
    const distinct = [...new Set(codes)];
    const found = await Promise.all(distinct.map((c) => this.name(regionCode, c)));
    return new Map(distinct.map((c, i) => [c, found[i] ?? null]));
  }
}
