/**
 * Two processes on one PostgreSQL (as behind a load balancer, one public URL): log in through this process, then
 * use, refresh and sign out the session through a second server process (server/src/main.ts), and back.
 * Nothing of the session lives only in one process's memory, and a sign-out in one process is honoured at once in the
 * other (a notice on commit clears its cache).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { buildPlatform, type Platform } from '../../app.ts';
import { loadConfig } from '../../platform/config.ts';
import { service } from '../../platform/context.ts';
import { createTestDatabase, type TestDatabase } from '../../platform/db/testing.ts';
import { createTestPerson } from '../user/testing.ts';
import { authorize, Browser, freePort, passwordLogin } from './testing.ts';

process.env.USER_ARGON2_PROFILE ??= 'test';

describe('auth: two processes share every session [postgres]', { skip: !process.env.TEST_DATABASE_URL }, () => {
  let db: TestDatabase;
  let a: Platform;
  let b: ChildProcess;
  let publicUrl: string;
  let aUrl: string;
  let bUrl: string;

  before(async () => {
    db = await createTestDatabase('postgres');
    const [portA, portB] = [await freePort(), await freePort()];
    aUrl = `http://127.0.0.1:${portA}`;
    bUrl = `http://127.0.0.1:${portB}`;
    publicUrl = aUrl; // the issuer both processes announce (the load balancer's address in production)
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      JOB_WORKERS: 'false',
      PUBLIC_URL: publicUrl,
      HOST: '127.0.0.1',
    };
    a = await buildPlatform(loadConfig({ ...env, PORT: String(portA), DEMO_SEED: 'true' }), { db });
    await a.start({ seed: true });
    await a.listen();
    b = spawn(process.execPath, [new URL('../../main.ts', import.meta.url).pathname], {
      env: {
        ...process.env,
        ...env,
        PORT: String(portB),
        DATABASE_URL: db.url!,
        DEMO_SEED: 'false',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 200; i++) {
      const ok = await fetch(`${bUrl}/readyz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    b?.kill('SIGTERM');
    await new Promise((r) => (b?.exitCode === null ? b.once('exit', r) : r(null)));
    await a?.close();
  });

  it('login on A; use, refresh and sign out on B; A sees it', async () => {
    const person = await createTestPerson({ ctx: a.ctx });
    const { config, verifier, url } = await authorize(publicUrl, 'portal-personal', {
      state: 'two',
      scope: 'openid profile offline_access',
    });
    const r = await passwordLogin(
      new Browser(),
      url.toString(),
      `${publicUrl}/login/callback`,
      person.mobile,
      person.password,
    );
    assert.ok(r.callback, r.html ?? 'no callback');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(r.callback!), {
      pkceCodeVerifier: verifier,
      expectedState: 'two',
    });
    const sid = (await a.ctx.tokens.verify(tokens.access_token)).sid!;

    // B accepts A's token and lists the session A created.
    const onB = await fetch(`${bUrl}/api/auth/me/sessions`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(onB.status, 200);
    assert.ok(((await onB.json()) as Array<{ sid: string }>).some((s) => s.sid === sid));

    // Refresh through B (rotation): the new access token works on A; the old refresh token is dead on A.
    const refreshed = await fetch(`${bUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token!,
        client_id: 'portal-personal',
      }),
    });
    assert.equal(refreshed.status, 200, await refreshed.clone().text());
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    assert.notEqual(next.refresh_token, tokens.refresh_token);
    const onA = await fetch(`${aUrl}/api/auth/me/sessions`, {
      headers: { authorization: `Bearer ${next.access_token}` },
    });
    assert.equal(onA.status, 200);

    // Sign the session out through B. A has just cached the session as active (for 3 s); B's notice, sent when its
    // revocation commits, makes A forget that: A refuses the token well before its cache would have expired.
    const del = await fetch(`${bUrl}/api/auth/me/sessions/${sid}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${next.access_token}` },
    });
    assert.equal(del.status, 204);
    const signedOut = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - signedOut < 1_500) {
      status = (
        await fetch(`${aUrl}/api/auth/me/sessions`, { headers: { authorization: `Bearer ${next.access_token}` } })
      ).status;
    }
    assert.equal(status, 401, `A still accepted the token ${Date.now() - signedOut} ms after the sign-out on B`);
    const deadRefresh = await fetch(`${aUrl}/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: next.refresh_token,
        client_id: 'portal-personal',
      }),
    });
    assert.equal(deadRefresh.status, 400);
    assert.equal(service(a.ctx, 'auth').constructor.name, 'AuthService');
  });
});
