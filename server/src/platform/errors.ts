export interface FieldError {
  field: string;
  message: string;
}

/** A failure the caller can act on: rendered as problem+json (RFC 9457) with a stable code. */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly errors?: FieldError[];
  readonly extra?: Record<string, unknown>;

  constructor(
    status: number,
    code: string,
    title: string,
    detail?: string,
    options: { errors?: FieldError[]; extra?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(`${code}: ${detail ?? title}`, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.title = title;
    this.detail = detail;
    this.errors = options.errors;
    this.extra = options.extra;
  }
}

export const notFound = (code: string, title = '资源不存在', detail?: string) => new AppError(404, code, title, detail);
export const badRequest = (code: string, title: string, detail?: string) => new AppError(400, code, title, detail);
export const conflict = (code: string, title: string, detail?: string) => new AppError(409, code, title, detail);
export const forbidden = (code = 'FORBIDDEN', title = '无权执行此操作', detail?: string) =>
  new AppError(403, code, title, detail);
export const unauthorized = (code = 'UNAUTHENTICATED', title = '请先登录', detail?: string) =>
  new AppError(401, code, title, detail);

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [key: string]: unknown;
}

export function toProblem(err: AppError, instance?: string): Problem {
  return {
    type: `https://yibao.dev/problems/${err.code.toLowerCase().replaceAll('_', '-')}`,
    title: err.title,
    status: err.status,
    code: err.code,
    ...(err.detail ? { detail: err.detail } : {}),
    ...(instance ? { instance } : {}),
    ...(err.errors ? { errors: err.errors } : {}),
    ...err.extra,
  };
}
