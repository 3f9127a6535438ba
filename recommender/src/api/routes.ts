/**
 * The route table: one entry per endpoint with its schemas. app.ts mounts it and openapi.ts
 * documents it, so the OpenAPI document cannot drift from what the routes accept and return.
 */
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import type { Scope } from '../auth/keys.js';
import type { ModelStore } from '../model/store.js';
import { ArtifactError, VersionNotFoundError } from '../model/artifact.js';
import type { Metrics } from './metrics.js';
import { HttpError } from './errors.js';
import { JsonText, recommendationJson } from './recommendation-json.js';
import { andThen, type MaybePromise } from '../maybe-promise.js';
import { NotReadyError, type Decision, type RecommenderService } from '../service.js';
import { trustRoutes } from './trust-routes.js';
import {
  BatchResult,
  CatalogBatch,
  CrossSellQuery,
  EventBatch,
  Health,
  InventoryPatch,
  ModelsResponse,
  PersonalQuery,
  RecommendationResponse,
  UpSellQuery,
  VersionParams,
  type Intent,
} from '../schemas.js';

export interface RouteInput {
  query: Record<string, unknown>;
  params: Record<string, string>;
  body: unknown;
  /** The name of the caller's API key (routes with a scope). */
  caller: string | undefined;
}

export interface RouteResponse {
  description: string;
  schema?: TSchema;
  /** Defaults to application/json. */
  contentType?: string;
  /** Response headers worth documenting, name → description. */
  headers?: Record<string, string>;
}

export interface RouteDef {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI-style path, e.g. `/v1/models/{version}/activate`. */
  path: string;
  operationId: string;
  summary: string;
  /**
   * The scope a caller's API key needs; public without one (probes, metrics, the OpenAPI document).
   * `responses` lists what the handler answers; openapi.ts adds what the shell answers for every route
   * (400 for bad input, 401/403/429 for a scope, 413 for a body, 500). An undeclared method on the path
   * answers 405 (app.ts).
   */
  scope?: Scope;
  query?: TSchema;
  params?: TSchema;
  body?: TSchema;
  responses: Record<number, RouteResponse>;
  handler: (input: RouteInput, req: Request, res: Response) => unknown;
}

export interface RouteDeps {
  service: RecommenderService;
  store: ModelStore;
  metrics: Metrics;
  /** Counts an answer for /metrics (see observe.ts). */
  countAnswer: (decision: Decision) => void;
  openapi: () => unknown;
}

/** What a use case that needs a model answers before one is loaded (see `notReady`). */
export const NOT_READY: RouteResponse = { description: 'No model is loaded yet.', headers: { 'Retry-After': 'Seconds to wait.' } };

const recommendationResponses = {
  200: { description: 'Recommendations, best first.', schema: RecommendationResponse },
  503: NOT_READY,
};

/** Runs a use case; "no model yet" becomes a 503 with Retry-After (whether thrown now or later). */
function notReady<T>(fn: () => T): T {
  const toHttp = (err: unknown): unknown => (err instanceof NotReadyError ? new HttpError(503, err.message, undefined, { 'Retry-After': '5' }) : err);
  try {
    const out = fn();
    return (out instanceof Promise ? out.catch((err: unknown) => Promise.reject(toHttp(err))) : out) as T;
  } catch (err) {
    throw toHttp(err);
  }
}

export function buildRoutes(deps: RouteDeps): RouteDef[] {
  const { service, store, metrics, countAnswer } = deps;
  const counted = <R extends { accepted: number; rejected: number }>(kind: string, result: R): R => {
    metrics.ingested.inc({ kind, outcome: 'accepted' }, result.accepted);
    metrics.ingested.inc({ kind, outcome: 'rejected' }, result.rejected);
    return result;
  };
  const json = (decision: Decision): JsonText => {
    countAnswer(decision);
    return new JsonText(recommendationJson(decision));
  };
  const recommend = (intent: Intent, items: string[], q: Record<string, unknown>): MaybePromise<JsonText> =>
    andThen(
      notReady(() =>
        service.recommend({
          intent,
          items,
          user: q.user as string | undefined,
          session: q.session as string | undefined,
          limit: (q.limit as number | undefined) ?? 10,
        }),
      ),
      json,
    );
  return [
    {
      method: 'get',
      path: '/v1/recommendations/cross-sell',
      operationId: 'crossSell',
      summary: 'Frequently bought together / others also bought, for a basket.',
      scope: 'recommend:read',
      query: CrossSellQuery,
      responses: recommendationResponses,
      handler: ({ query }) => recommend('cross-sell', String(query.items).split(','), query),
    },
    {
      method: 'get',
      path: '/v1/recommendations/up-sell',
      operationId: 'upSell',
      summary: 'Higher-value alternatives to an item, priced within the up-sell band.',
      scope: 'recommend:read',
      query: UpSellQuery,
      responses: recommendationResponses,
      handler: ({ query }) => recommend('up-sell', [String(query.item)], query),
    },
    {
      method: 'get',
      path: '/v1/recommendations/personal',
      operationId: 'personal',
      summary: 'You may also like: item-kNN over the shopper’s recent history, popularity fallback.',
      scope: 'recommend:read',
      query: PersonalQuery,
      responses: recommendationResponses,
      handler: ({ query }) => recommend('personal', [], query),
    },
    {
      method: 'post',
      path: '/v1/catalog/items',
      operationId: 'upsertItems',
      summary: 'Upsert catalogue items (batch). Good records are kept; bad ones are listed by index and field.',
      scope: 'catalog:write',
      body: CatalogBatch,
      responses: { 200: { description: 'Accepted and rejected counts.', schema: BatchResult } },
      handler: ({ body }) => counted('item', service.upsertItems(body as unknown[])),
    },
    {
      method: 'patch',
      path: '/v1/inventory',
      operationId: 'patchInventory',
      summary: 'Set stock levels, `{itemId: stock}`. Applies on the very next request.',
      scope: 'catalog:write',
      body: InventoryPatch,
      responses: { 200: { description: 'Accepted and rejected counts.', schema: BatchResult } },
      handler: ({ body }) => counted('inventory', service.patchInventory(body as Record<string, unknown>)),
    },
    {
      method: 'post',
      path: '/v1/events',
      operationId: 'ingestEvents',
      summary: 'Ingest events (batch); purchases update co-occurrence counts online.',
      scope: 'events:write',
      body: EventBatch,
      responses: { 200: { description: 'Accepted and rejected counts.', schema: BatchResult }, 503: NOT_READY },
      handler: ({ body }) => counted('event', notReady(() => service.ingestEvents(body as unknown[]))),
    },
    {
      method: 'get',
      path: '/v1/models',
      operationId: 'listModels',
      summary: 'The active model version and the available ones.',
      scope: 'admin',
      responses: { 200: { description: 'Model versions.', schema: ModelsResponse } },
      handler: () => store.list(),
    },
    {
      method: 'post',
      path: '/v1/models/{version}/activate',
      operationId: 'activateModel',
      summary: 'Verify and activate a model version (hot swap, or rollback to an older one); it holds until a newer version is trained.',
      scope: 'admin',
      params: VersionParams,
      responses: {
        200: { description: 'The version now active, and the model list.', schema: ModelsResponse },
        404: { description: 'No such version in the model directory.' },
        409: { description: 'The artifact is corrupt or mismatched; the active model is unchanged.' },
      },
      handler: async ({ params }) => {
        try {
          await store.activateAndHold(params.version!);
        } catch (err) {
          if (err instanceof VersionNotFoundError) throw new HttpError(404, err.message);
          if (err instanceof ArtifactError) throw new HttpError(409, `model ${params.version} refused: ${err.message}`);
          throw err;
        }
        return store.list();
      },
    },
    ...trustRoutes(service),
    {
      method: 'get',
      path: '/healthz',
      operationId: 'healthz',
      summary: 'Liveness.',
      responses: { 200: { description: 'The process is alive.', schema: Health } },
      handler: () => ({ status: 'ok' }),
    },
    {
      method: 'get',
      path: '/readyz',
      operationId: 'readyz',
      summary: 'Readiness: ready once a model is loaded.',
      responses: {
        200: { description: 'A model is loaded.', schema: Health },
        503: { description: 'No model is loaded yet.' },
      },
      handler: () => {
        const m = store.active;
        if (!m) throw new HttpError(503, 'no model is loaded yet');
        return { status: 'ready', modelVersion: m.version };
      },
    },
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics.',
      responses: { 200: { description: 'Prometheus text exposition.', schema: Type.String(), contentType: 'text/plain' } },
      handler: async (_input, _req, res) => {
        res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
        return undefined;
      },
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This OpenAPI 3.1 document.',
      responses: { 200: { description: 'OpenAPI 3.1 document.', schema: Type.Object({}) } },
      handler: () => deps.openapi(),
    },
  ];
}
