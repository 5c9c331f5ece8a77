import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendAudit, audit, verifyAuditChain } from './audit.ts';
import { sql } from './db/index.ts';
import { forEachDatabase } from './db/testing.ts';

const entry = (i: number, regionCode = '990100') => ({
  regionCode,
  actorKind: 'staff' as const,
  actorId: `s${i}`,
  action: 'user.unmask',
  targetType: 'person',
  targetId: `p${i}`,
  purpose: '核实参保信息',
  ip: '127.0.0.1',
  result: 'success' as const,
  detail: { field: 'residentId', n: i },
});

forEachDatabase('audit chain', (getDb) => {
  test('appends a per-region chain that verifies', async () => {
    const db = getDb();
    for (let i = 0; i < 5; i++) await audit(db, entry(i));
    await audit(db, entry(9, '980100'));
    const reports = await verifyAuditChain(db);
    assert.deepEqual(
      reports.map((r) => [r.regionCode, r.checked, r.brokenAt]),
      [
        ['980100', 1, undefined],
        ['990100', 5, undefined],
      ],
    );
  });

  test('concurrent appends keep one unbroken chain', async () => {
    const db = getDb();
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.tx((tx) => appendAudit(tx, entry(100 + i, '990200')))));
    const [report] = await verifyAuditChain(db, '990200');
    assert.equal(report.checked, 20);
    assert.equal(report.brokenAt, undefined);
  });

  test('the table refuses updates and deletes', async () => {
    const db = getDb();
    await assert.rejects(db.q(sql`update audit_event set purpose = 'x'`), /append-only/);
    await assert.rejects(db.q(sql`delete from audit_event`), /append-only/);
  });

  test('tampering is found and the first broken link is named', async () => {
    const db = getDb();
    // An attacker with table-owner rights bypasses the trigger; the hash chain still tells.
    await db.exec('alter table audit_event disable trigger audit_event_no_update');
    await db.q(sql`update audit_event set purpose = '随便看看' where region_code = '990100' and seq = 3`);
    await db.exec('alter table audit_event enable trigger audit_event_no_update');
    const [report] = await verifyAuditChain(db, '990100');
    assert.equal(report.brokenAt?.seq, 3);
    assert.equal(report.checked, 2);
  });

  test('a deleted tail is found', async () => {
    const db = getDb();
    await db.exec('alter table audit_event disable trigger audit_event_no_update');
    await db.q(sql`delete from audit_event where region_code = '980100'`);
    await db.exec('alter table audit_event enable trigger audit_event_no_update');
    const [report] = await verifyAuditChain(db, '980100');
    assert.equal(report.brokenAt?.reason, '链尾记录被删除');
  });
});
