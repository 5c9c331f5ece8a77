/**
 * Tabs of one browser that hold the same sign-in hand each other rotated tokens. A duplicated tab (or one restored
 * after the browser discarded it) starts with a copy of sessionStorage, so two tabs hold one refresh token; the
 * server rotates refresh tokens and treats a second use of one as theft, revoking the sign-in in every tab.
 *
 * So refreshes run one at a time under a browser-wide Web Lock, and a tab that spends a refresh token marks it spent
 * with a lock of its own (held while the tab lives; held locks are listed by the same browser lock manager that
 * hands out the refresh lock, so the next tab sees the mark). A tab about to refresh with a marked token asks the
 * others for the session they moved on to, and never sends that token again. Rotations are also broadcast, so tabs
 * holding the old token take the new one at once.
 */
import type { Session } from '../lib/session';

type Message =
  | { type: 'ask'; refreshToken: string; id: string }
  | { type: 'successor'; id: string; session: Session }
  | { type: 'rotated'; of: string; session: Session };

/** How long a tab holding a spent refresh token waits for another tab to hand over the current session. */
const ASK_MS = 3000;
const SPENT_LOCK = 'yibao.spent.';

const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('yibao.session') : undefined;
const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
/** Refresh tokens this tab spent or saw spent (where the browser has no Web Locks, the only record). */
const spent = new Set<string>();
const waiting = new Map<string, (session: Session) => void>();

export interface TabPeers {
  current(): Session | undefined;
  adopt(session: Session): void;
}

let peers: TabPeers | undefined;

async function lockName(refreshToken: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(refreshToken));
  return SPENT_LOCK + [...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function markSpent(refreshToken: string): Promise<void> {
  if (spent.has(refreshToken)) return;
  spent.add(refreshToken);
  if (locks) void locks.request(await lockName(refreshToken), { mode: 'shared' }, () => new Promise<never>(() => {}));
}

async function isSpent(refreshToken: string): Promise<boolean> {
  if (spent.has(refreshToken)) return true;
  if (!locks) return false;
  const name = await lockName(refreshToken);
  const { held = [], pending = [] } = await locks.query();
  return [...held, ...pending].some((l) => l.name === name);
}

/** Starts answering the other tabs (once per page). */
export function joinTabs(p: TabPeers): void {
  peers = p;
  if (!channel) return;
  channel.onmessage = ({ data }: MessageEvent<Message>) => {
    const mine = peers?.current();
    if (
      data.type === 'ask' &&
      mine?.refreshToken &&
      mine.refreshToken !== data.refreshToken &&
      spent.has(data.refreshToken)
    ) {
      channel.postMessage({ type: 'successor', id: data.id, session: mine } satisfies Message);
    } else if (data.type === 'successor') {
      waiting.get(data.id)?.(data.session);
    } else if (data.type === 'rotated' && mine?.refreshToken === data.of) {
      void markSpent(data.of);
      peers?.adopt(data.session);
    }
  };
}

/** The session another tab moved on to from this refresh token, if one answers within ASK_MS. */
async function successorOf(refreshToken: string): Promise<Session | undefined> {
  if (!channel) return undefined;
  const id = crypto.randomUUID();
  try {
    return await new Promise<Session | undefined>((resolve) => {
      waiting.set(id, resolve);
      channel.postMessage({ type: 'ask', refreshToken, id } satisfies Message);
      setTimeout(() => resolve(undefined), ASK_MS);
    });
  } finally {
    waiting.delete(id);
  }
}

/**
 * Refreshes the session once across tabs. Under the refresh lock: a session that moved on while this tab waited
 * (another tab's rotation arrived) is kept as it is; a token another tab already spent is exchanged for that tab's
 * current session (undefined when no tab answers: this tab's sign-in is over); otherwise `rotate` spends it, and
 * the other tabs are told the new session.
 */
export function refreshAcrossTabs(rotate: (session: Session) => Promise<Session>): Promise<Session | undefined> {
  const seen = peers?.current()?.refreshToken;
  const run = async () => {
    const session = peers?.current();
    if (!session?.refreshToken) return undefined;
    if (session.refreshToken !== seen) return session;
    const old = session.refreshToken;
    if (await isSpent(old)) {
      const successor = await successorOf(old);
      if (successor) {
        await markSpent(old);
        peers?.adopt(successor);
      }
      return successor;
    }
    const next = await rotate(session);
    await markSpent(old);
    peers?.adopt(next);
    channel?.postMessage({ type: 'rotated', of: old, session: next } satisfies Message);
    return next;
  };
  return locks ? locks.request('yibao.refresh', run) : run();
}
