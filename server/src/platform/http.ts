import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { AppError, type FieldError, toProblem } from './errors.ts';
import type { Metrics } from './metrics.ts';
import { maskUrl } from './privacy/maskers.ts';

export type App = FastifyInstance<any, any, any, any, ZodTypeProvider>;

export const PROBLEM_JSON = 'application/problem+json';

/** `\u0000` as a JSON escape (an even run of backslashes before it), not the text "\\u0000". */
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/;
export const nulCharacter = () =>
  new AppError(400, 'NUL_CHARACTER', '请求中含有空字符 (U+0000)，请删除后重试', 'U+0000 cannot be stored');

export interface HttpOptions {
  bodyLimit: number;
  logLevel: string;
  /** where the request log goes (default stdout) */
  logStream?: { write(line: string): void };
  publicUrl: string;
  metrics: Metrics;
  tags: Array<{ name: string; description: string }>;
}

export async function createHttp(opts: HttpOptions): Promise<App> {
  const app = Fastify({
    logger: {
      level: opts.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      // a staff look-up by resident ID or mobile carries it in the query string: the log keeps the mask
      serializers: {
        req: (req: FastifyRequest) => ({
          method: req.method,
          url: maskUrl(req.url),
          host: req.host,
          remoteAddress: req.ip,
          remotePort: req.socket?.remotePort,
        }),
      },
      ...(opts.logStream ? { stream: opts.logStream } : {}),
    },
    bodyLimit: opts.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
    },
    trustProxy: true,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false } },
    // an undecodable path (`/api/%ZZ`) is refused before routing: it still gets a problem, not Fastify's own body
    frameworkErrors: (error, req, reply) => {
      const bad = new AppError(400, 'BAD_URL', '请求地址无效', '地址中含有无法解码的字符（% 后应为两位十六进制数）');
      sendProblem(reply, error.code === 'FST_ERR_BAD_URL' ? bad : toAppError(error), req.url);
    },
  }).withTypeProvider<ZodTypeProvider>();

  // JSON only, unless a route registers its own parser (e.g. form posts of the OIDC interaction pages).
  app.removeContentTypeParser('text/plain');
  // PostgreSQL text cannot hold U+0000: refuse it at the door with its own code instead of failing a statement later.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (ESCAPED_NUL.test(body as string)) done(nulCharacter(), undefined);
    else parseJson(req, body as string, (err, value) => done(err ? malformedJson(body as string) : null, value));
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    sendProblem(reply, new AppError(404, 'NOT_FOUND', '请求的地址不存在', `${req.method} ${req.url}`), req.url);
  });
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done(req.url.includes('%00') ? nulCharacter() : undefined);
  });
  app.addHook('onResponse', (req, reply, done) => {
    opts.metrics.observeRequest(
      req.method,
      req.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Yibao 医保公共服务平台 API',
        version: '0.1.0',
        description: '医保公共服务区中台接口。错误均为 application/problem+json (RFC 9457)，含稳定的 code。',
      },
      servers: [{ url: opts.publicUrl }],
      tags: opts.tags,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          channelSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'X-App-Id',
            description: '渠道签名信封 (SM2/SM3, 可选 SM4 加密)，见 DOMAIN §4',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'none', deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}

export function sendProblem(reply: FastifyReply, err: AppError, instance?: string): FastifyReply {
  return reply.status(err.status).type(PROBLEM_JSON).send(toProblem(err, instance));
}

function errorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const appError = toAppError(error);
  if (appError.status >= 500) req.log.error({ err: error }, 'unhandled error');
  else req.log.info({ code: appError.code, status: appError.status }, appError.title);
  sendProblem(reply, appError, req.url);
}

/** Maps framework and validation errors to stable codes; anything unknown is a 500 without internals. */
export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  const e = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(e)) {
    const errors: FieldError[] = e.validation.map((v) => ({
      field: fieldName(e.validationContext, v.instancePath, v.params as Record<string, unknown>),
      message: zhMessage(v.keyword, v.message ?? ''),
    }));
    return new AppError(
      400,
      'VALIDATION_FAILED',
      '请求参数校验失败',
      errors.map((x) => `${x.field}: ${x.message}`).join('; '),
      {
        errors,
      },
    );
  }
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return malformedJson();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', '不支持的请求内容类型', '请使用 application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'PAYLOAD_TOO_LARGE', '请求体过大');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(400, 'INVALID_CONTENT_LENGTH', '请求长度无效');
  }
  if (e instanceof SyntaxError || e.name === 'SyntaxError') return malformedJson();
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError(e.statusCode, 'BAD_REQUEST', '请求无效', e.message);
  }
  return new AppError(500, 'INTERNAL_ERROR', '服务器内部错误，请稍后重试');
}

/** The refusal of a JSON body, saying in Chinese where it went wrong (an integrator fixes it from this alone). */
function malformedJson(body?: string): AppError {
  const detail = body === undefined ? '请检查引号、逗号和括号是否成对' : jsonSyntaxDetail(body);
  return new AppError(400, 'MALFORMED_JSON', '请求体不是有效的 JSON', detail);
}

function jsonSyntaxDetail(body: string): string {
  if (body.trim() === '') return '请求体为空';
  try {
    JSON.parse(body);
  } catch (e) {
    const position = /position (\d+)/.exec((e as Error).message)?.[1];
    if (position && Number(position) < body.length)
      return `第 ${Number(position) + 1} 个字符处有语法错误（请检查引号、逗号和括号）`;
    return '请求体不完整（意外结束）';
  }
  // valid JSON that the safe parser refused
  return '请求体含有不允许的键 __proto__ 或 constructor';
}

function fieldName(context: string | undefined, path: string, params: Record<string, unknown>): string {
  const parts = path.split('/').filter(Boolean);
  const keys = params?.keys;
  if (Array.isArray(keys) && keys.length > 0) parts.push(String(keys[0]));
  return [context === 'body' ? undefined : context, ...parts].filter(Boolean).join('.') || (context ?? 'body');
}

function zhMessage(code: string, message: string): string {
  if (code === 'unrecognized_keys') return '不允许的字段';
  if (code === 'invalid_type') return /received undefined|Required/i.test(message) ? '必填' : '类型错误';
  if (code === 'too_small') return '长度或数值过小';
  if (code === 'too_big') return '长度或数值过大';
  if (code === 'invalid_format') return '格式不正确';
  if (code === 'invalid_value') return '取值不在允许范围内';
  return message || '无效';
}

/** A `fetch` that sends each request through the app's whole request pipeline in memory (`inject`), no socket. */
export function injectFetch(app: App): typeof globalThis.fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const res = await app.inject({
      method: (init?.method ?? 'GET') as 'POST',
      url: url.pathname + url.search,
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      payload: init?.body as string | undefined,
    });
    return new Response(res.body === '' ? null : res.body, {
      status: res.statusCode,
      headers: { 'content-type': String(res.headers['content-type'] ?? 'application/json') },
    });
  };
}
