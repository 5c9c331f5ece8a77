/**
 * The SANDBOX real-person verification provider (沙箱实人认证). It runs the provider's real protocol against a local
 * counterpart: the browser captures frames (camera via getUserMedia, or an uploaded photo) and posts them to the
 * sandbox endpoint, which checks that they are real images of sensible size and — in camera mode — that the frames
 * differ (a movement proxy for liveness), then signs its verdict with its own SM2 key. It does NOT recognise faces:
 * it is a stand-in for a licensed provider and says so everywhere.
 */
import { fromBase64, sm2Sign, sm2Verify, sm3Hex, toBase64 } from '@yibao/sdk';
import type { Logger } from 'pino';
import { AppError } from '../../../platform/errors.ts';
import type { KeyRing } from '../keys.ts';
import { fromDataUrl, imageInfo } from './images.ts';
import type { LivenessEvidence, LivenessResult, RealPersonVerifier } from './port.ts';

export const SANDBOX_PROVIDER = 'sandbox';
const MIN_SIDE = 64;

export interface SandboxAssessInput {
  sessionId: string;
  challenge: string;
  mode: 'camera' | 'photo';
  /** data:image/jpeg|png;base64 URLs */
  frames: string[];
  /** Failure on demand (for demos and tests). */
  simulate?: 'fail';
}

/** The sandbox's result envelope: the canonical JSON of the result, signed with the sandbox's SM2 key. */
interface SignedResult {
  result: LivenessResult;
  kid: number;
}

export class SandboxVerifier implements RealPersonVerifier {
  readonly name = SANDBOX_PROVIDER;
  readonly sandbox = true;
  private readonly keys: KeyRing;
  private readonly log: Logger;

  constructor(keys: KeyRing, log: Logger) {
    this.keys = keys;
    this.log = log;
  }

  captureUrl(): string {
    return '/api/evoucher/sandbox/liveness';
  }

  /** The counterpart (what the provider's server would do): assess the frames and sign the verdict. */
  async assess(regionCode: string, input: SandboxAssessInput): Promise<LivenessEvidence> {
    const images = input.frames.map((f) => fromDataUrl(f));
    let passed = true;
    let reason: string | undefined;
    let score = 0;
    const infos = images.map((b) => (b ? imageInfo(b) : undefined));
    if (images.some((b) => !b) || infos.some((i) => !i)) {
      passed = false;
      reason = '图像无法识别（需 JPEG 或 PNG）';
    } else if (infos.some((i) => i!.width < MIN_SIDE || i!.height < MIN_SIDE)) {
      passed = false;
      reason = `图像过小（至少 ${MIN_SIDE}×${MIN_SIDE} 像素）`;
    } else if (input.mode === 'camera' && images.length < 2) {
      passed = false;
      reason = '活体检测需要至少两帧画面';
    } else if (input.mode === 'camera' && new Set(images.map((b) => sm3Hex(b!))).size < images.length) {
      passed = false;
      reason = '未检测到动作（画面完全相同）';
    } else if (input.simulate === 'fail') {
      passed = false;
      reason = '沙箱模拟：人脸比对未通过';
    } else {
      score = input.mode === 'camera' ? 0.93 : 0.81;
    }
    const digest = sm3Hex(images.map((b) => (b ? sm3Hex(b) : '-')).join(','));
    const result: LivenessResult = {
      sessionId: input.sessionId,
      challenge: input.challenge,
      passed,
      score,
      mode: input.mode,
      imageDigest: digest,
      ...(reason ? { reason } : {}),
      at: new Date().toISOString(),
      provider: SANDBOX_PROVIDER,
      sandbox: true,
    };
    const key = await this.keys.signing(regionCode, 'sandbox_liveness');
    const body = JSON.stringify({ result, kid: key.keyId } satisfies SignedResult);
    this.log.info({ sandbox: true, sessionId: input.sessionId, passed }, '【沙箱】实人认证：已给出签名结果');
    return {
      result: Buffer.from(body).toString('base64'),
      signature: toBase64(sm2Sign(body, key.privateKey, { publicKey: key.publicKey })),
    };
  }

  async checkEvidence(regionCode: string, evidence: LivenessEvidence): Promise<LivenessResult> {
    const invalid = () =>
      new AppError(400, 'EVOUCHER_LIVENESS_SIGNATURE_INVALID', '实人认证结果签名无效', '请重新进行实人认证');
    let body: string;
    let parsed: SignedResult;
    let signature: Uint8Array;
    try {
      body = Buffer.from(fromBase64(evidence.result)).toString('utf8');
      parsed = JSON.parse(body) as SignedResult;
      signature = fromBase64(evidence.signature);
    } catch {
      throw invalid();
    }
    const key =
      typeof parsed?.kid === 'number'
        ? await this.keys.verifying(regionCode, parsed.kid, 'sandbox_liveness')
        : undefined;
    if (!key || !sm2Verify(body, signature, key.publicKey)) throw invalid();
    return parsed.result;
  }
}
