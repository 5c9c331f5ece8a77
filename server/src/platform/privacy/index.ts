import type { Database } from '../db/index.ts';
import { sql } from '../db/index.ts';
import { createBlindIndex, createFieldCipher, type FieldCipher, parseKeyring } from './cipher.ts';

export * from './cipher.ts';
export * from './maskers.ts';
export * from './validators.ts';

/** An encrypted column the key-rotation job knows how to walk. */
export interface EncryptedColumn {
  table: string;
  column: string;
  /** Primary-key columns, region_code first. */
  key: string[];
}

export interface Privacy {
  cipher: FieldCipher;
  /** HMAC-SM3 blind index of a normalised value in a domain (e.g. 'resident_id'). */
  blindIndex(value: string, domain: string): string;
  registerEncryptedColumn(column: EncryptedColumn): void;
  readonly encryptedColumns: EncryptedColumn[];
}

export function createPrivacy(dataKeys: string, blindIndexKey: string): Privacy {
  const encryptedColumns: EncryptedColumn[] = [];
  return {
    cipher: createFieldCipher(parseKeyring(dataKeys)),
    blindIndex: createBlindIndex(blindIndexKey),
    registerEncryptedColumn: (c) => {
      if (!encryptedColumns.some((x) => x.table === c.table && x.column === c.column)) encryptedColumns.push(c);
    },
    encryptedColumns,
  };
}

const ident = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad identifier ${name}`);
  return sql.raw(`"${name}"`);
};

/**
 * Re-encrypts one batch of values still under an old key, in every registered column.
 * Returns how many values it rewrote; the rotation job runs it until it returns 0.
 */
export async function reencryptBatch(db: Database, privacy: Privacy, batch = 500): Promise<number> {
  const prefix = `v1.${privacy.cipher.currentKeyId}.%`;
  let total = 0;
  for (const c of privacy.encryptedColumns) {
    const keyCols = sql.join(c.key.map(ident), sql`, `);
    const rows = await db.q<Record<string, string>>(sql`select ${keyCols}, ${ident(c.column)} as value
      from ${ident(c.table)} where ${ident(c.column)} is not null and ${ident(c.column)} not like ${prefix}
      limit ${batch}`);
    for (const row of rows) {
      const next = privacy.cipher.rotate(row.value);
      if (!next) continue;
      const where = sql.join(
        c.key.map((k) => sql`${ident(k)} = ${row[k]}`),
        sql` and `,
      );
      await db.q(sql`update ${ident(c.table)} set ${ident(c.column)} = ${next}
        where ${where} and ${ident(c.column)} = ${row.value}`);
      total++;
    }
  }
  return total;
}

export interface ColumnKeyStatus {
  table: string;
  column: string;
  total: number;
  underOldKeys: number;
}

/** How many values of each registered column still use an old key (progress of a rotation). */
export async function keyRotationStatus(db: Database, privacy: Privacy): Promise<ColumnKeyStatus[]> {
  const prefix = `v1.${privacy.cipher.currentKeyId}.%`;
  const out: ColumnKeyStatus[] = [];
  for (const c of privacy.encryptedColumns) {
    const [row] = await db.q<{ total: number; old: number }>(sql`select count(${ident(c.column)})::int as total,
      count(*) filter (where ${ident(c.column)} not like ${prefix})::int as old from ${ident(c.table)}`);
    out.push({ table: c.table, column: c.column, total: row.total, underOldKeys: row.old });
  }
  return out;
}
