import { createHash } from 'node:crypto';
import { type Database, type Executor, prepared, type SQL, sql } from './db/index.ts';

export interface AuditEntry {
  regionCode: string;
  actorKind: 'person' | 'staff' | 'channel' | 'system' | 'anonymous';
  actorId: string;
  actorRole?: string;
  action: string;
  targetType?: string;
  targetId?: string;
  purpose?: string;
  ip?: string;
  userAgent?: string;
  result: 'success' | 'failure' | 'denied';
  detail?: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);

interface StoredEvent {
  region_code: string;
  seq: number;
  at: Date | string;
  actor_kind: string;
  actor_id: string;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  purpose: string | null;
  ip: string | null;
  user_agent: string | null;
  result: string;
  detail: unknown;
  prev_hash: string;
  hash: string;
}

/** SM3 over the previous hash and a canonical rendering of the entry's fields. */
export function auditHash(prevHash: string, e: Omit<StoredEvent, 'hash' | 'prev_hash'>): string {
  const at = e.at instanceof Date ? e.at.toISOString() : new Date(e.at).toISOString();
  const fields = [
    e.region_code,
    e.seq,
    at,
    e.actor_kind,
    e.actor_id,
    e.actor_role,
    e.action,
    e.target_type,
    e.target_id,
    e.purpose,
    e.ip,
    e.user_agent,
    e.result,
    canonicalJson(e.detail ?? {}),
  ];
  return createHash('sm3').update(prevHash).update(JSON.stringify(fields)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * Appends to the region's chain; pass the caller's transaction so the audit entry commits with the action.
 * Two round trips: the region's head is locked and read (created on first use), then the entry and the new head are
 * written in one statement — together with `alongside`, data-modifying statements of the caller that belong to the
 * same action (e.g. a login's history row), so they cost no round trip of their own.
 */
export async function appendAudit(ex: Executor, entry: AuditEntry, opts: { alongside?: SQL[] } = {}): Promise<void> {
  const lockHead = () =>
    ex.one<{ seq: number; hash: string }>(
      prepared(sql`select seq, hash from audit_head where region_code = ${entry.regionCode} for update`),
    );
  let head = await lockHead();
  if (!head) {
    await ex.q(sql`insert into audit_head(region_code, seq, hash) values (${entry.regionCode}, 0, ${GENESIS_HASH})
      on conflict (region_code) do nothing`);
    head = await lockHead();
    if (!head) throw new Error(`audit head of region ${entry.regionCode} missing`);
  }
  const at = new Date(Math.floor(Date.now()));
  const row = {
    region_code: entry.regionCode,
    seq: Number(head.seq) + 1,
    at,
    actor_kind: entry.actorKind,
    actor_id: entry.actorId,
    actor_role: entry.actorRole ?? null,
    action: entry.action,
    target_type: entry.targetType ?? null,
    target_id: entry.targetId ?? null,
    purpose: entry.purpose ?? null,
    ip: entry.ip ?? null,
    user_agent: entry.userAgent ?? null,
    result: entry.result,
    detail: entry.detail ?? {},
  };
  const hash = auditHash(head.hash, row);
  const alongside = (opts.alongside ?? []).map((statement, i) => sql`, ${sql.raw(`alongside${i}`)} as (${statement})`);
  await ex.q(
    prepared(sql`with appended as (insert into audit_event(region_code, seq, at, actor_kind, actor_id, actor_role,
        action, target_type, target_id, purpose, ip, user_agent, result, detail, prev_hash, hash)
      values (${row.region_code}, ${row.seq}, ${at.toISOString()}, ${row.actor_kind}, ${row.actor_id},
        ${row.actor_role}, ${row.action}, ${row.target_type}, ${row.target_id}, ${row.purpose}, ${row.ip},
        ${row.user_agent}, ${row.result}, ${JSON.stringify(row.detail)}::jsonb, ${head.hash}, ${hash}))${sql.join(alongside, sql``)}
    update audit_head set seq = ${row.seq}, hash = ${hash} where region_code = ${entry.regionCode}`),
  );
}

/** Standalone append in its own transaction. */
export function audit(db: Database, entry: AuditEntry): Promise<void> {
  return db.tx((tx) => appendAudit(tx, entry));
}

export interface ChainReport {
  regionCode: string;
  checked: number;
  brokenAt?: { seq: number; reason: string };
}

/** Walks each region's chain in order; names the first broken link. */
export async function verifyAuditChain(db: Executor, regionCode?: string): Promise<ChainReport[]> {
  const regions = regionCode
    ? [regionCode]
    : (await db.q<{ region_code: string }>(sql`select region_code from audit_head order by region_code`)).map(
        (r) => r.region_code,
      );
  const reports: ChainReport[] = [];
  for (const region of regions) reports.push(await verifyRegion(db, region));
  return reports;
}

async function verifyRegion(db: Executor, region: string): Promise<ChainReport> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  const pageSize = 1000;
  for (;;) {
    const rows = await db.q<StoredEvent>(sql`select * from audit_event where region_code = ${region}
      and seq >= ${expectedSeq} order by seq limit ${pageSize}`);
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq)
        return { regionCode: region, checked, brokenAt: { seq: expectedSeq, reason: '缺失记录' } };
      if (row.prev_hash !== prev) return { regionCode: region, checked, brokenAt: { seq, reason: '前序哈希不符' } };
      const { hash, prev_hash: _, ...rest } = row;
      if (auditHash(prev, { ...rest, seq }) !== hash) {
        return { regionCode: region, checked, brokenAt: { seq, reason: '记录内容被篡改' } };
      }
      prev = hash;
      expectedSeq++;
      checked++;
    }
    if (rows.length < pageSize) break;
  }
  const [head] = await db.q<{ seq: number; hash: string }>(
    sql`select seq, hash from audit_head where region_code = ${region}`,
  );
  if (head && (Number(head.seq) !== checked || head.hash !== prev)) {
    return { regionCode: region, checked, brokenAt: { seq: checked + 1, reason: '链尾记录被删除' } };
  }
  return { regionCode: region, checked };
}
