/**
 * Every wire shape of the recommender, as TypeBox schemas: one definition gives the runtime
 * validation, the static type and the OpenAPI 3.1 document.
 */
import { FormatRegistry, Type, type Static } from '@sinclair/typebox';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has('date-time')) {
  FormatRegistry.Set('date-time', (v) => ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));
}

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^,\\s]+$' });

/** A catalogue item. `attributes` defaults to `{}`; `margin` is a fraction of the price (0–1). */
export const CatalogItem = Type.Object(
  {
    id: Id,
    title: Type.String({ maxLength: 500 }),
    category: Type.String({ minLength: 1, maxLength: 128 }),
    price: Type.Number({ minimum: 0 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    margin: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    stock: Type.Integer({ minimum: 0 }),
    brand: Type.Optional(Type.String({ maxLength: 128 })),
    attributes: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    ),
  },
  { additionalProperties: false },
);
export type CatalogItem = Static<typeof CatalogItem>;

export const EventType = Type.Union([Type.Literal('view'), Type.Literal('add_to_cart'), Type.Literal('purchase')]);
export type EventType = Static<typeof EventType>;

/** A shopper event. `timestamp` is an RFC 3339 date-time. */
export const ShopEvent = Type.Object(
  {
    type: EventType,
    userId: Id,
    itemId: Id,
    orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    quantity: Type.Optional(Type.Integer({ minimum: 1 })),
    price: Type.Optional(Type.Number({ minimum: 0 })),
    timestamp: Type.String({ format: 'date-time' }),
    recommendationId: Type.Optional(
      Type.String({
        pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
        description: 'The answer the shopper acted on: a view or add_to_cart is its click, a purchase its conversion.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ShopEvent = Static<typeof ShopEvent>;

const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'Number of items, 1–100.' });
const User = Type.String({ minLength: 1, maxLength: 128, description: 'Shopper id.' });
const Session = Type.String({ minLength: 1, maxLength: 128, description: 'Session id: assigns an experiment variant when there is no shopper id.' });

export const CrossSellQuery = Type.Object(
  {
    items: Type.String({
      pattern: '^[^,\\s]+(,[^,\\s]+){0,49}$',
      maxLength: 4096,
      description: 'Comma-separated item ids in the basket (1–50).',
    }),
    user: Type.Optional(User),
    session: Type.Optional(Session),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type CrossSellQuery = Static<typeof CrossSellQuery>;

export const UpSellQuery = Type.Object(
  { item: Id, user: Type.Optional(User), session: Type.Optional(Session), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);
export type UpSellQuery = Static<typeof UpSellQuery>;

export const PersonalQuery = Type.Object({ user: User, limit: Type.Optional(Limit) }, { additionalProperties: false });
export type PersonalQuery = Static<typeof PersonalQuery>;

export const Intent = Type.Union([Type.Literal('cross-sell'), Type.Literal('up-sell'), Type.Literal('personal')]);
export type Intent = Static<typeof Intent>;

export const RecommendedItem = Type.Object(
  {
    id: Type.String(),
    reasons: Type.Array(Type.String(), { description: 'e.g. `bought_together:sku-1 with=14% with_similar=9.5% base=1.2%`, `promotion:black-friday`.' }),
    score: Type.Number(),
  },
  { additionalProperties: false },
);
export type RecommendedItem = Static<typeof RecommendedItem>;

export const RecommendationResponse = Type.Object(
  {
    recommendationId: Type.String({ format: 'uuid' }),
    intent: Intent,
    modelVersion: Type.String(),
    variant: Type.String(),
    items: Type.Array(RecommendedItem),
    reasons: Type.Optional(
      Type.Array(Type.String(), { description: 'Why the list is short or a fallback, e.g. `unknown_item:sku-9`.' }),
    ),
  },
  { additionalProperties: false },
);
export type RecommendationResponse = Static<typeof RecommendationResponse>;

export const FieldError = Type.Object(
  {
    index: Type.Optional(Type.Integer({ description: 'Position of the record in the batch (0-based).' })),
    line: Type.Optional(Type.Integer({ description: 'Line of the record in a JSON Lines file (1-based).' })),
    field: Type.String({ description: 'JSON pointer of the bad field, `/` for the whole record.' }),
    message: Type.String(),
  },
  { additionalProperties: false },
);
export type FieldError = Static<typeof FieldError>;

/** RFC 9457 problem details. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldError)),
  },
  { additionalProperties: false },
);
export type Problem = Static<typeof Problem>;

export const BatchResult = Type.Object(
  { accepted: Type.Integer(), rejected: Type.Integer(), errors: Type.Array(FieldError) },
  { additionalProperties: false },
);
export type BatchResult = Static<typeof BatchResult>;

export const CatalogBatch = Type.Array(Type.Unknown(), {
  maxItems: 10_000,
  description: 'Catalogue items to upsert (each validated as CatalogItem).',
});
export const EventBatch = Type.Array(Type.Unknown(), {
  maxItems: 10_000,
  description: 'Events to ingest (each validated as ShopEvent).',
});
export const InventoryPatch = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Map of item id to new stock level (integer ≥ 0).',
});

export const ModelSummary = Type.Object(
  {
    version: Type.String(),
    createdAt: Type.String(),
    sha256: Type.String(),
    active: Type.Boolean(),
    window: Type.Object({ from: Type.Union([Type.String(), Type.Null()]), to: Type.Union([Type.String(), Type.Null()]) }),
    counts: Type.Record(Type.String(), Type.Number()),
    metrics: Type.Record(Type.String(), Type.Number()),
  },
  { additionalProperties: false },
);
export const ModelsResponse = Type.Object(
  {
    active: Type.Union([Type.String(), Type.Null()]),
    available: Type.Array(ModelSummary),
    refused: Type.Array(Type.Object({ version: Type.String(), reason: Type.String() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type ModelsResponse = Static<typeof ModelsResponse>;

export const VersionParams = Type.Object(
  { version: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }) },
  { additionalProperties: false },
);

export const Health = Type.Object(
  { status: Type.String(), modelVersion: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
