/** The one error type of the API, and the one middleware that turns every error into problem+json. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { FieldError, Problem } from '../schemas.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
  }
}

export function problem(status: number, detail?: string, instance?: string, errors?: FieldError[]): Problem {
  const body: Problem = { type: 'about:blank', title: TITLES[status] ?? 'Error', status };
  if (detail !== undefined) body.detail = detail;
  if (instance !== undefined) body.instance = instance;
  if (errors !== undefined) body.errors = errors;
  return body;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, `no route for ${req.method} ${req.path}`));
};

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let status = 500;
    let detail = 'internal error';
    let errors: FieldError[] | undefined;
    if (err instanceof HttpError) {
      status = err.status;
      detail = err.message;
      errors = err.errors;
      for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
    } else if (typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number' && err.status < 500) {
      // body-parser errors (malformed JSON, too large, wrong charset) carry their status.
      status = err.status;
      detail = err instanceof Error ? err.message : 'bad request';
    } else {
      logger.error({ err, method: req.method, path: req.path }, 'request failed');
    }
    res.status(status).type('application/problem+json').send(JSON.stringify(problem(status, detail, req.originalUrl, errors)));
  };
}
