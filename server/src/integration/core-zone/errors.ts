import { AppError } from '../../platform/errors.ts';
import { CORE_ERRORS, type CoreErrorCode } from './port.ts';

/** An AppError with the port's status and Chinese title for `code`. */
export function coreError(code: CoreErrorCode, detail?: string, extra?: Record<string, unknown>): AppError {
  const [status, title] = CORE_ERRORS[code];
  return new AppError(status, code, title, detail, extra ? { extra } : {});
}
