/**
 * The routes of the shopper's rights (export, erasure, opt-out), the decision trail (record, replay) and
 * the experiment reports: admin operations, in the same route table as the rest (see routes.ts).
 */
import { Type } from '@sinclair/typebox';
import { DecisionView } from '../audit/record.js';
import { ReplayResult } from '../audit/replay.js';
import { ExperimentReport } from '../experiments/report.js';
import { ErasureResult, OptOutState, UserExport, UserParams } from '../privacy/schemas.js';
import type { RecommenderService } from '../service.js';
import { HttpError } from './errors.js';
import type { RouteDef } from './routes.js';

const DecisionParams = Type.Object(
  { id: Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'A recommendationId.' }) },
  { additionalProperties: false },
);
const ExperimentParams = Type.Object(
  { name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63, description: 'The experiment.' }) },
  { additionalProperties: false },
);

function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new HttpError(404, what);
  return value;
}

export function trustRoutes(service: RecommenderService): RouteDef[] {
  const decisionMissing = (id: string) => `no decision record ${id} (unknown, past retention, or the audit trail is off)`;
  return [
    {
      method: 'get',
      path: '/v1/decisions/{id}',
      operationId: 'getDecision',
      summary: 'The decision record of an answer: request, model, variant, candidates with scores and sources, what each rule filtered and why, the answer.',
      scope: 'admin',
      params: DecisionParams,
      responses: {
        200: { description: 'The record with its outcome, the shopper (pseudonym) and its place in the hash chain.', schema: DecisionView },
        404: { description: 'No such record.' },
      },
      handler: async ({ params }) => found(await service.decision(params.id!), decisionMissing(params.id!)),
    },
    {
      method: 'post',
      path: '/v1/decisions/{id}/replay',
      operationId: 'replayDecision',
      summary: 'Recompute a decision with its model version and the recorded inventory and promotion state, and compare.',
      scope: 'admin',
      params: DecisionParams,
      responses: {
        200: { description: 'Whether the replay gives the recorded answer, and what differs.', schema: ReplayResult },
        404: { description: 'No such record.' },
      },
      handler: async ({ params }) => found(await service.replay(params.id!), decisionMissing(params.id!)),
    },
    {
      method: 'get',
      path: '/v1/users/{id}/export',
      operationId: 'exportUser',
      summary: 'Everything held about a shopper (GDPR access), as JSON.',
      scope: 'admin',
      params: UserParams,
      responses: { 200: { description: 'What is held, and where the rest is.', schema: UserExport } },
      handler: ({ params }) => service.exportUser(params.id!),
    },
    {
      method: 'delete',
      path: '/v1/users/{id}',
      operationId: 'eraseUser',
      summary: 'Erase a shopper (GDPR erasure): events, histories, cached lists, audit records (redacted); the next retraining leaves them out.',
      scope: 'admin',
      params: UserParams,
      responses: { 200: { description: 'What the erasure reached, and what completes later.', schema: ErasureResult } },
      handler: ({ params }) => service.eraseUser(params.id!),
    },
    {
      method: 'post',
      path: '/v1/users/{id}/opt-out',
      operationId: 'optOut',
      summary: 'Opt a shopper out of personalisation: from now on they get only non-personal recommendations.',
      scope: 'admin',
      params: UserParams,
      responses: { 200: { description: 'Opted out.', schema: OptOutState } },
      handler: ({ params }) => service.setOptOut(params.id!, true),
    },
    {
      method: 'delete',
      path: '/v1/users/{id}/opt-out',
      operationId: 'optIn',
      summary: 'Withdraw an opt-out: personal recommendations again.',
      scope: 'admin',
      params: UserParams,
      responses: { 200: { description: 'Opted in.', schema: OptOutState } },
      handler: ({ params }) => service.setOptOut(params.id!, false),
    },
    {
      method: 'get',
      path: '/v1/experiments/{name}/report',
      operationId: 'experimentReport',
      summary: 'Per variant: conversion rate, uplift, two-proportion z-test p-value and confidence interval, and a verdict in plain words.',
      scope: 'admin',
      params: ExperimentParams,
      responses: {
        200: { description: 'The report, every scoring pod counted.', schema: ExperimentReport },
        404: { description: 'No such experiment.' },
      },
      handler: async ({ params }) => found(await service.experimentReport(params.name!), `no experiment '${params.name}' in the experiments file`),
    },
  ];
}
