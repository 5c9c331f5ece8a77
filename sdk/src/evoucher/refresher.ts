/**
 * H5 helper for channels that show the e-voucher code: fetches a fresh code before the current one expires and
 * ticks a countdown. Framework-free; render `state.token` with any QR library (the web hall uses `qrcode`).
 */
export interface EvoucherCode {
  token: string;
  /** ISO time. */
  expiresAt: string;
  ttlSeconds: number;
}

export interface RefresherState {
  code?: EvoucherCode;
  /** Whole seconds left on the current code. */
  secondsLeft: number;
  error?: unknown;
}

export interface EvoucherRefresher {
  /** Fetch a new code now (e.g. after the person tapped 刷新). */
  refresh(): Promise<void>;
  stop(): void;
}

/** `fetchCode` calls the center (POST /api/evoucher/me/codes with the person's token, or the channel's backend). */
export function startEvoucherRefresher(opts: {
  fetchCode: () => Promise<EvoucherCode>;
  onChange: (state: RefresherState) => void;
  /** Fetch this many seconds before expiry (default 5). */
  leadSeconds?: number;
  now?: () => number;
}): EvoucherRefresher {
  const now = opts.now ?? Date.now;
  const lead = opts.leadSeconds ?? 5;
  let code: EvoucherCode | undefined;
  let stopped = false;
  let inflight: Promise<void> | undefined;
  const secondsLeft = () => (code ? Math.max(0, Math.floor((Date.parse(code.expiresAt) - now()) / 1000)) : 0);
  const refresh = () => {
    inflight ??= opts
      .fetchCode()
      .then((c) => {
        code = c;
        if (!stopped) opts.onChange({ code, secondsLeft: secondsLeft() });
      })
      .catch((error) => {
        if (!stopped) opts.onChange({ code, secondsLeft: secondsLeft(), error });
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
  const timer = setInterval(() => {
    if (stopped) return;
    const left = secondsLeft();
    if (!inflight && (!code || left <= lead)) void refresh();
    opts.onChange({ code, secondsLeft: left });
  }, 1000);
  void refresh();
  return {
    refresh,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}
