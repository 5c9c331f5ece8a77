import { z } from 'zod';
import { type Database, sql } from './db/index.ts';
import { AppError } from './errors.ts';

export interface Region {
  code: string;
  name: string;
  parentCode: string | null;
  level: number;
  demo: boolean;
}

export interface RegionConfig {
  regionCode: string;
  displayName: string;
  brandColor: string;
  logoUrl: string | null;
  enabledServices: string[];
  settings: Record<string, unknown>;
  version: number;
}

export const isRegionCode = (v: string) => /^\d{6}$/.test(v);

/** Regions and their configuration, cached in memory with a short TTL so several processes converge quickly. */
export class RegionService {
  private regions?: Map<string, Region>;
  private readonly configs = new Map<string, { at: number; value: RegionConfig }>();
  private readonly db: Database;
  private readonly ttlMs: number;
  private readonly sections = new Map<string, z.ZodObject>();

  constructor(db: Database, ttlMs = 30_000) {
    this.db = db;
    this.ttlMs = ttlMs;
  }

  /**
   * A center's per-region settings (`settings.<section>`), declared in its init: the console edits them, and a
   * change is checked against them (a value the center would ignore is refused, not silently replaced).
   */
  declareSettings(section: string, schema: z.ZodObject): void {
    this.sections.set(section, schema);
  }

  /** What `settings` may hold: the declared sections, each field optional, nothing else. */
  settingsSchema() {
    return z.strictObject(
      Object.fromEntries([...this.sections].map(([name, schema]) => [name, schema.partial().optional()])),
    );
  }

  async all(): Promise<Region[]> {
    if (!this.regions) {
      const rows = await this.db.q<{
        code: string;
        name: string;
        parent_code: string | null;
        level: number;
        demo: boolean;
      }>(sql`select code, name, parent_code, level, demo from region order by code`);
      this.regions = new Map(
        rows.map((r) => [
          r.code,
          { code: r.code, name: r.name, parentCode: r.parent_code, level: r.level, demo: r.demo },
        ]),
      );
    }
    return [...this.regions.values()];
  }

  async get(code: string): Promise<Region | undefined> {
    await this.all();
    return this.regions!.get(code);
  }

  /** The region, or a 400 problem naming the bad code. */
  async require(code: string | undefined, field = 'regionCode'): Promise<Region> {
    const region = code && isRegionCode(code) ? await this.get(code) : undefined;
    if (!region) {
      throw new AppError(400, 'REGION_UNKNOWN', '统筹区代码无效', `未知的统筹区代码: ${code ?? '(空)'}`, {
        errors: [{ field, message: '应为已登记的 6 位统筹区代码' }],
      });
    }
    return region;
  }

  async config(code: string): Promise<RegionConfig> {
    const hit = this.configs.get(code);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    const region = await this.require(code);
    const row = await this.db.one<{
      display_name: string;
      brand_color: string;
      logo_url: string | null;
      enabled_services: string[];
      settings: Record<string, unknown>;
      version: number;
    }>(sql`select * from region_config where region_code = ${code}`);
    const value: RegionConfig = row
      ? {
          regionCode: code,
          displayName: row.display_name,
          brandColor: row.brand_color,
          logoUrl: row.logo_url,
          enabledServices: row.enabled_services,
          settings: row.settings,
          version: row.version,
        }
      : {
          regionCode: code,
          displayName: `${region.name}医疗保障局`,
          brandColor: '#1677ff',
          logoUrl: null,
          enabledServices: [],
          settings: {},
          version: 0,
        };
    this.configs.set(code, { at: Date.now(), value });
    return value;
  }

  async updateConfig(
    code: string,
    patch: Partial<Omit<RegionConfig, 'regionCode' | 'version'>>,
  ): Promise<RegionConfig> {
    const current = await this.config(code);
    const next = { ...current, ...patch };
    await this.db.q(sql`insert into region_config(region_code, display_name, brand_color, logo_url, enabled_services, settings)
      values (${code}, ${next.displayName}, ${next.brandColor}, ${next.logoUrl}, ${JSON.stringify(next.enabledServices)}::jsonb,
        ${JSON.stringify(next.settings)}::jsonb)
      on conflict (region_code) do update set display_name = excluded.display_name, brand_color = excluded.brand_color,
        logo_url = excluded.logo_url, enabled_services = excluded.enabled_services, settings = excluded.settings,
        version = region_config.version + 1, updated_at = now()`);
    this.configs.delete(code);
    return this.config(code);
  }
}
