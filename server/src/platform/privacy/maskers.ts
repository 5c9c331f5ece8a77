const stars = (n: number) => '*'.repeat(Math.max(0, n));

/** 110101********1234: region code and last four kept. */
export function maskResidentId(id: string): string {
  if (id.length <= 10) return stars(id.length);
  return id.slice(0, 6) + stars(id.length - 10) + id.slice(-4);
}

/** 138****5678 */
export function maskMobile(mobile: string): string {
  if (mobile.length < 8) return stars(mobile.length);
  return mobile.slice(0, 3) + stars(mobile.length - 7) + mobile.slice(-4);
}

/** 张*, 欧阳** → 欧**: the first character kept. */
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length === 0) return '';
  return chars[0] + stars(Math.max(1, chars.length - 1));
}

/** 622202******1234 */
export function maskBankCard(card: string): string {
  const digits = card.replace(/\s/g, '');
  if (digits.length <= 10) return stars(digits.length);
  return digits.slice(0, 6) + stars(digits.length - 10) + digits.slice(-4);
}

export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  if (at < 1) return stars(email.length);
  return email[0] + stars(Math.max(1, at - 1)) + email.slice(at);
}

/**
 * A URL with every resident ID and mobile number in it masked (a staff look-up's query string): what request logs
 * keep of a request's address.
 */
export function maskUrl(url: string): string {
  return url
    .replace(/(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])/g, maskResidentId)
    .replace(/(?<!\d)1[3-9]\d{9}(?!\d)/g, maskMobile);
}
