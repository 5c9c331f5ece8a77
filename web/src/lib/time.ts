/**
 * Times as the province keeps them: China time (Asia/Shanghai) on every device. Receipts, business days,
 * reconciliation and the servers' day charts all use it, so a phone set to another zone (a traveller, a browser
 * left on UTC) shows the same 14:05 as the hospital's paper receipt.
 */
const ZONE = 'Asia/Shanghai';

/** "2026/11/27 14:05:09"; "—" for a time not set */
export const dateTime = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString('zh-CN', { hour12: false, timeZone: ZONE }) : '—';

/** "2026/11/27 14:05"; "—" for a time not set */
export const dateMinute = (iso: string | null | undefined): string =>
  iso
    ? new Date(iso).toLocaleString('zh-CN', {
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
        timeZone: ZONE,
      })
    : '—';

/** "14:05:09" */
export const clockTime = (iso: string | Date): string =>
  new Date(iso).toLocaleTimeString('zh-CN', { hour12: false, timeZone: ZONE });

/** "14:05" */
export const hourMinute = (at: Date): string =>
  at.toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: ZONE });

/** the calendar day in China time, YYYY-MM-DD */
export const chinaDay = (at: Date | number): string => new Date(at).toLocaleDateString('sv-SE', { timeZone: ZONE });

/** Calendar days (China time) from today to `at`'s day: 0 today, 1 tomorrow, negative once past. */
export const chinaDaysUntil = (at: Date | number | string): number =>
  (Date.parse(chinaDay(new Date(at))) - Date.parse(chinaDay(Date.now()))) / 86_400_000;
