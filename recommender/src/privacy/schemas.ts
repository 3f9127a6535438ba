/** The wire shapes of the shopper's rights: export, erasure, opt-out. */
import { Type, type Static } from '@sinclair/typebox';
import { DecisionView } from '../audit/record.js';

export const UserParams = Type.Object(
  { id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^,\\s]+$', description: 'The shopper id, as the shop knows it.' }) },
  { additionalProperties: false },
);

const HistoryItem = Type.Object(
  { itemId: Type.String(), weight: Type.Number(), bought: Type.Boolean() },
  { additionalProperties: false },
);

export const UserExport = Type.Object(
  {
    user: Type.Object(
      {
        pseudonyms: Type.Array(Type.String(), { description: 'What the shopper is stored under, one per configured HMAC key (current first).' }),
        keyId: Type.String(),
      },
      { additionalProperties: false },
    ),
    erased: Type.Boolean(),
    optedOut: Type.Union([Type.Object({ since: Type.String({ format: 'date-time' }) }, { additionalProperties: false }), Type.Null()]),
    history: Type.Object(
      {
        modelVersion: Type.Union([Type.String(), Type.Null()]),
        trained: Type.Array(HistoryItem, { description: 'Recent items in the active model, from the training events.' }),
        online: Type.Array(HistoryItem, { description: 'Items from events received since the model was activated.' }),
      },
      { additionalProperties: false },
    ),
    experiments: Type.Array(Type.Object({ experiment: Type.String(), variant: Type.String() }, { additionalProperties: false })),
    decisions: Type.Array(DecisionView, { description: 'Every audit record about the shopper still held.' }),
    decisionsTruncated: Type.Boolean(),
    notes: Type.Array(Type.String(), { description: 'What is held elsewhere, and what is never held.' }),
  },
  { additionalProperties: false },
);
export type UserExport = Static<typeof UserExport>;

export const ErasureResult = Type.Object(
  {
    erasureId: Type.String({ format: 'uuid', description: 'The id of the erasure record in the audit trail.' }),
    erasedAt: Type.String({ format: 'date-time' }),
    reached: Type.Object(
      {
        histories: Type.Integer({ description: 'Online shopper histories removed (per model version).' }),
        cacheEntries: Type.Integer({ description: "Candidate lists dropped from this pod's memory (Redis's go in the background)." }),
        auditRecords: Type.Integer({ description: 'Audit records redacted, every pod.' }),
        optOut: Type.Integer({ description: 'Opt-out entries removed.' }),
      },
      { additionalProperties: false },
    ),
    pending: Type.Array(Type.String(), { description: 'What completes later, and when.' }),
  },
  { additionalProperties: false },
);
export type ErasureResult = Static<typeof ErasureResult>;

export const OptOutState = Type.Object({ optedOut: Type.Boolean() }, { additionalProperties: false });
export type OptOutState = Static<typeof OptOutState>;
