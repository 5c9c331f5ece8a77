/**
 * Channel envelope (DOMAIN §4): sign string, SM3withSM2 signature, optional SM4 body.
 * The one implementation lives in @yibao/sdk (see sdk/src/crypto/envelope.ts and sign-string.ts for
 * the exact rules). On the server, verification failures are `AppError`s (rendered as problem+json)
 * with the stable codes SIGNATURE_INVALID (401), TIMESTAMP_OUT_OF_WINDOW (401),
 * ENVELOPE_MALFORMED (400) and DECRYPT_FAILED (400); the SDK's `EnvelopeError` is kept as `cause`.
 * Nonce replay is the caller's job (database), using `verifyEnvelopeDetailed(...).nonce`.
 */
import {
  EnvelopeError,
  verifyEnvelopeDetailed as sdkVerifyEnvelopeDetailed,
  type VerifiedEnvelope,
  type VerifyEnvelopeOptions,
} from '@yibao/sdk/crypto';
import { AppError } from '../errors.ts';

function toAppError(error: unknown): unknown {
  if (!(error instanceof EnvelopeError)) return error;
  const detail = error.message === error.title ? undefined : error.message;
  return new AppError(error.status, error.code, error.title, detail, { cause: error });
}

/** Shape, timestamp window, signature, then decryption; throws AppError with the codes above. */
export function verifyEnvelopeDetailed<T = unknown>(
  envelope: unknown,
  options: VerifyEnvelopeOptions,
): VerifiedEnvelope<T> {
  try {
    return sdkVerifyEnvelopeDetailed<T>(envelope, options);
  } catch (error) {
    throw toAppError(error);
  }
}

/** Returns the (decrypted) business data; see verifyEnvelopeDetailed for the nonce. */
export function verifyEnvelope<T = unknown>(envelope: unknown, options: VerifyEnvelopeOptions): T {
  return verifyEnvelopeDetailed<T>(envelope, options).data;
}
