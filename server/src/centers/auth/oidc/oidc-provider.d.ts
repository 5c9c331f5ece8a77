/** Minimal typings for oidc-provider v9 (the package ships none); only what the auth center uses. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, any> & {
    grantId?: string;
    userCode?: string;
    uid?: string;
    consumed?: unknown;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  /** A signing key whose private half stays outside the provider (features.externalSigningSupport). */
  export class ExternalSigningKey {
    get kid(): string | undefined;
    set kid(value: string | undefined);
    get alg(): string | undefined;
    set alg(value: string | undefined);
    /** The public key (the provider publishes it at the JWKS endpoint). */
    keyObject(): import('node:crypto').KeyObject;
    /** The JWS signature over the signing input (for ES256: r ‖ s, 64 bytes). */
    sign(data: Buffer): Promise<Buffer>;
  }

  export interface KoaContextWithOIDC {
    oidc: any;
    req: IncomingMessage;
    res: ServerResponse;
    ip: string;
    get(header: string): string;
    type: string;
    body: any;
    status: number;
    [key: string]: any;
  }

  export interface InteractionResults {
    login?: { accountId: string; acr?: string; amr?: string[]; remember?: boolean; ts?: number };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export interface Interaction {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, any> };
    params: Record<string, any>;
    session?: { accountId: string; uid: string; cookie: string; acr?: string; amr?: string[] };
    grantId?: string;
    lastSubmission?: InteractionResults;
    result?: InteractionResults;
    returnTo: string;
    exp: number;
    save(ttl: number): Promise<string>;
  }

  export class Grant {
    constructor(init: { accountId: string; clientId: string });
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(ttl?: number): Promise<string>;
    static find(id: string): Promise<Grant | undefined>;
    jti: string;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, any>);
    proxy: boolean;
    issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: string, listener: (...args: any[]) => void): this;
    Grant: typeof Grant;
    Session: any;
    AccessToken: any;
    RefreshToken: any;
    ClientCredentials: any;
    Client: any;
    Interaction: any;
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void;
  }

  export const errors: Record<string, any>;
  export const interactionPolicy: {
    base(): any;
    Prompt: any;
    Check: new (
      reason: string,
      description: string,
      error: string | ((ctx: KoaContextWithOIDC) => boolean | Promise<boolean>),
      check?: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>,
      details?: (ctx: KoaContextWithOIDC) => Record<string, unknown>,
    ) => any;
  };
  export default Provider;
}
