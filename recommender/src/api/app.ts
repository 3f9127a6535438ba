/** Builds the express app from its dependencies. No listening here (see server.ts). */
import { timingSafeEqual } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import { checker, coerceQuery, fieldErrors } from '../data/validate.js';
import type { ModelStore } from '../model/store.js';
import type { RecommenderService } from '../service.js';
import { errorMiddleware, HttpError, notFound } from './errors.js';
import { createMetrics, type Metrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { buildRoutes, type RouteDef } from './routes.js';

export interface AppDeps {
  service: RecommenderService;
  store: ModelStore;
  /** The one API key (`TANDEM_API_KEY`), sent as `Authorization: Bearer <key>`. */
  apiKey: string;
  logger: Logger;
  metrics?: Metrics;
}

export interface App {
  app: Express;
  routes: RouteDef[];
  openapi: Record<string, unknown>;
  metrics: Metrics;
}

function bearerAuth(apiKey: string): RequestHandler {
  const expected = Buffer.from(`Bearer ${apiKey}`);
  return (req, _res, next) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      next(new HttpError(401, 'missing or invalid API key (Authorization: Bearer <key>)', undefined, { 'WWW-Authenticate': 'Bearer' }));
      return;
    }
    next();
  };
}

function validator(route: RouteDef): RequestHandler {
  return (req, res, next) => {
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
      next(new HttpError(400, `invalid ${what}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
        errors.map(({ field, message }) => ({ field, message }))));
      return;
    }
    res.locals.input = { query, params: req.params, body: req.body };
    next();
  };
}

export function createApp(deps: AppDeps): App {
  const metrics = deps.metrics ?? createMetrics();
  const store = deps.store;
  const modelInfo = metrics.modelInfo as unknown as { collect?: () => void };
  modelInfo.collect = () => {
    metrics.modelInfo.reset();
    const v = store.active?.version;
    if (v) metrics.modelInfo.set({ version: v }, 1);
  };
  (metrics.cacheLookups as unknown as { collect?: () => void }).collect = () => {
    metrics.cacheLookups.set({ result: 'hit' }, deps.service.cache.hits);
    metrics.cacheLookups.set({ result: 'miss' }, deps.service.cache.misses);
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  let openapi: Record<string, unknown> = {};
  const routes = buildRoutes({ service: deps.service, store: deps.store, metrics, openapi: () => openapi });
  openapi = buildOpenApi(routes);

  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const labels = { route: (res.locals.route as string | undefined) ?? 'unmatched', method: req.method, status: String(res.statusCode) };
      metrics.duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  });

  const auth = bearerAuth(deps.apiKey);
  const json = express.json({ limit: '10mb', strict: false });
  for (const route of routes) {
    const chain: RequestHandler[] = [
      (_req, res, next) => {
        res.locals.route = route.path;
        next();
      },
    ];
    if (route.auth) chain.push(auth);
    if (route.body) chain.push(json);
    chain.push(validator(route));
    chain.push(async (req, res) => {
      const out = await route.handler(res.locals.input, req, res);
      if (out !== undefined && !res.headersSent) res.json(out);
    });
    app[route.method](route.path.replace(/\{(\w+)\}/g, ':$1'), ...chain);
  }
  app.use(notFound);
  app.use(errorMiddleware(deps.logger));
  return { app, routes, openapi, metrics };
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
