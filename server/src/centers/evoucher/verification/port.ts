/**
 * Real-person verification port (实人认证): face liveness + match done by an outside provider. The center starts a
 * session (challenge), the provider's client captures the face in the browser and returns a result signed by the
 * provider; the center checks the signature and that the result answers its own session and challenge.
 */
export interface LivenessResult {
  /** the center's session id the provider answered */
  sessionId: string;
  challenge: string;
  passed: boolean;
  /** 0..1 */
  score: number;
  mode: 'camera' | 'photo';
  /** SM3 of the captured images (the provider keeps the images, the center never stores them) */
  imageDigest: string;
  /** Chinese reason when not passed */
  reason?: string;
  /** ISO instant */
  at: string;
  provider: string;
  sandbox: boolean;
}

/** What the browser hands back to the center: the provider's result and its signature (both base64). */
export interface LivenessEvidence {
  result: string;
  signature: string;
}

export interface RealPersonVerifier {
  readonly name: string;
  /** A sandbox provider is labelled 沙箱 in the UI and logs; it is never called real. */
  readonly sandbox: boolean;
  /** Where the browser sends the captured frames (the provider's endpoint). */
  captureUrl(regionCode: string): string;
  /** Checks the provider's signature; throws EVOUCHER_LIVENESS_SIGNATURE_INVALID when it does not verify. */
  checkEvidence(regionCode: string, evidence: LivenessEvidence): Promise<LivenessResult>;
}
