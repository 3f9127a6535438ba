/** Builds the express app from its dependencies. No listening here (see server.ts). */
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { AuthDecision, Authenticator } from '../auth/authenticator.js';
import { checker, coerceQuery, fieldErrors } from '../data/validate.js';
import type { ModelStore } from '../model/store.js';
import type { RecommenderService } from '../service.js';
import { errorMiddleware, HttpError, notFound } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { answerCounter, observeComponents } from './observe.js';
import { buildOpenApi } from './openapi.js';
import { JsonText } from './recommendation-json.js';
import { buildRoutes, type RouteDef, type RouteInput } from './routes.js';

export interface AppDeps {
  service: RecommenderService;
  store: ModelStore;
  /** Checks `Authorization: Bearer <key>` against the keys and their scopes and rate limits. */
  auth: Authenticator;
  logger: Logger;
  metrics?: Metrics;
}

export interface App {
  app: Express;
  routes: RouteDef[];
  openapi: Record<string, unknown>;
  metrics: Metrics;
}

/** When the request arrived (a property on the request: a WeakMap entry per request costs the GC more). */
const STARTED = Symbol('tandem.started');
type Timed = Request & { [STARTED]?: number };

/** A refused call as its problem: 401 (missing or unknown key), 403 (scope), 429 (rate limit). */
function authError(d: AuthDecision & { ok: false }): HttpError {
  switch (d.reason) {
    case 'missing':
      return new HttpError(401, 'missing API key (Authorization: Bearer <key>)', undefined, { 'WWW-Authenticate': 'Bearer' });
    case 'unknown':
      return new HttpError(401, 'unknown API key', undefined, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    case 'scope':
      return new HttpError(403, `API key '${d.key.name}' lacks the scope '${d.scope}'`, undefined, {
        'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${d.scope}"`,
      });
    case 'rate_limited':
      return new HttpError(429, `API key '${d.key.name}' is over its rate limit (${d.ratePerSecond} requests/s)`, undefined, {
        'Retry-After': String(d.retryAfterSeconds),
      });
  }
}

/** The caller's key name, set once the request is authenticated. */
const CALLER = Symbol('tandem.caller');
type Authed = Request & { [CALLER]?: string };

/** Validates query, path and body against the route's schemas; throws one 400 naming every bad field. */
function validate(route: RouteDef, req: Request): RouteInput {
  const errors: { field: string; message: string; in: string }[] = [];
  let query: Record<string, unknown> = {};
  if (route.query) {
    query = coerceQuery(route.query, req.query as Record<string, unknown>);
    if (!checker(route.query).Check(query)) for (const e of fieldErrors(route.query, query)) errors.push({ ...e, in: 'query' });
  } else if (Object.keys(req.query as object).length > 0) {
    errors.push({ field: '/', message: 'this endpoint takes no query parameters', in: 'query' });
  }
  if (route.params && !checker(route.params).Check(req.params)) {
    for (const e of fieldErrors(route.params, req.params)) errors.push({ ...e, in: 'path' });
  }
  if (route.body && !checker(route.body).Check(req.body)) {
    for (const e of fieldErrors(route.body, req.body)) errors.push({ ...e, in: 'body' });
  }
  if (errors.length > 0) {
    const what = [...new Set(errors.map((e) => e.in))].join(' and ');
    throw new HttpError(
      400,
      `invalid ${what}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      errors.map(({ field, message }) => ({ field, message })),
    );
  }
  return { query, params: req.params as Record<string, string>, body: req.body, caller: (req as Authed)[CALLER] };
}

export function createApp(deps: AppDeps): App {
  const metrics = deps.metrics ?? createMetrics();
  observeComponents(metrics, { store: deps.store, cache: deps.service.cache.stats, auth: deps.auth });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  let openapi: Record<string, unknown> = {};
  const routes = buildRoutes({ service: deps.service, store: deps.store, metrics, countAnswer: answerCounter(metrics), openapi: () => openapi });
  openapi = buildOpenApi(routes);

  // Request duration by route (the OpenAPI path), method and status. Observed where the answer is
  // sent (route handler or error middleware) rather than from a 'finish' listener per request;
  // histogram children are cached per label set.
  const routeOf = new Map(routes.map((r) => [r.path.replace(/\{(\w+)\}/g, ':$1'), r.path]));
  const children = new Map<string, { observe: (v: number) => void }>();
  const observe = (req: Request, res: Response, label: string): void => {
    const start = (req as Timed)[STARTED];
    if (start === undefined) return;
    (req as Timed)[STARTED] = undefined;
    const key = `${label} ${req.method} ${res.statusCode}`;
    let child = children.get(key);
    if (!child) {
      child = metrics.duration.labels({ route: label, method: req.method, status: String(res.statusCode) });
      children.set(key, child);
    }
    child.observe((performance.now() - start) / 1000);
  };
  app.use((req, _res, next) => {
    (req as Timed)[STARTED] = performance.now();
    next();
  });

  const json = express.json({ limit: '10mb', strict: false });
  const authenticate = (route: RouteDef, req: Request): void => {
    if (!route.scope) return;
    const d = deps.auth.check(req.headers.authorization, route.scope, req.socket);
    if (!d.ok) throw authError(d);
    (req as Authed)[CALLER] = d.key.name;
  };
  for (const route of routes) {
    const chain: RequestHandler[] = [];
    // Authenticate before a body is read.
    if (route.body) {
      chain.push((req, _res, next) => {
        authenticate(route, req);
        next();
      });
      chain.push(json);
    }
    // Synchronous when the handler is (the answer is then written in the same tick as the request,
    // which lets node write headers and body in one syscall); promises are awaited.
    chain.push((req, res, next) => {
      if (!route.body) authenticate(route, req);
      const send = (out: unknown): void => {
        if (out !== undefined && !res.headersSent) writeJson(res, out);
        observe(req, res, route.path);
      };
      const out = route.handler(validate(route, req), req, res);
      if (out instanceof Promise) out.then(send, next);
      else send(out);
    });
    app[route.method](route.path.replace(/\{(\w+)\}/g, ':$1'), ...chain);
  }
  // A known path with a method it does not declare: 405 naming the ones it does (HEAD comes with GET).
  const methodsOf = new Map<string, Set<string>>();
  for (const r of routes) methodsOf.set(r.path, (methodsOf.get(r.path) ?? new Set()).add(r.method.toUpperCase()));
  for (const [path, methods] of methodsOf) {
    if (methods.has('GET')) methods.add('HEAD');
    const allow = [...methods].sort().join(', ');
    app.all(path.replace(/\{(\w+)\}/g, ':$1'), (req, res, next) => {
      if (req.method === 'OPTIONS') {
        res.status(204).setHeader('Allow', `${allow}, OPTIONS`);
        res.end();
        observe(req, res, path);
        return;
      }
      next(new HttpError(405, `${req.method} is not allowed on ${path} (allowed: ${allow})`, undefined, { Allow: allow }));
    });
  }
  app.use(notFound);
  const onError = errorMiddleware(deps.logger);
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    onError(err, req, res, next);
    const route = (req.route as { path?: string } | undefined)?.path;
    observe(req, res, (route !== undefined && routeOf.get(route)) || 'unmatched');
  });
  return { app, routes, openapi, metrics };
}

/**
 * The hot path's answer: JSON written with one end() call. express's res.json() looks up the
 * charset, content type and freshness on every call, a fifth of the framework's cost per request.
 */
function writeJson(res: Response, out: unknown): void {
  const body = out instanceof JsonText ? out.text : JSON.stringify(out);
  res.writeHead(res.statusCode, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A separate app serving only /metrics (METRICS_PORT), so Prometheus never reaches the API. */
export function createMetricsApp(metrics: Metrics): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}
