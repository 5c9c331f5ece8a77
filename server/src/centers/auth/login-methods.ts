/**
 * Login-method slot: centers contribute extra ways to log in on the interaction pages (e.g. the e-voucher
 * QR login). A method renders a panel on the login page and, when the user completes it, resolves the account.
 */
export interface LoginMethodResult {
  /** person or staff account id */
  accountId: string;
  kind: 'person' | 'staff';
  regionCode: string;
}

export interface LoginMethod {
  /** RFC 8176 style method reference recorded in the session's amr, e.g. 'qr'. */
  amr: string;
  /** Chinese label on the login page tab. */
  label: string;
  /** Assurance the method gives: 'pwd' (one factor) or 'mfa' (possession + inherence/knowledge). */
  acr: 'pwd' | 'mfa';
  /** HTML for the tab (inside the login page); it posts to `/oidc/interaction/<uid>/method/<amr>`. */
  renderPanel(input: { uid: string; csrf: string; regionCode: string }): string;
  /** Completes the login with the submitted form; return null to refuse (the page shows a generic error). */
  complete(input: { regionCode: string; form: Record<string, string>; ip: string }): Promise<LoginMethodResult | null>;
}

export class LoginMethods {
  private readonly methods = new Map<string, LoginMethod>();

  register(method: LoginMethod): void {
    if (!/^[a-z][a-z0-9_]{1,31}$/.test(method.amr)) throw new Error(`invalid login method amr "${method.amr}"`);
    if (['pwd', 'sms', 'otp', 'passkey', 'hwk', 'cert', 'swk', 'mfa'].includes(method.amr)) {
      throw new Error(`login method "${method.amr}" is built in`);
    }
    this.methods.set(method.amr, method);
  }

  get(amr: string): LoginMethod | undefined {
    return this.methods.get(amr);
  }

  all(): LoginMethod[] {
    return [...this.methods.values()];
  }
}
