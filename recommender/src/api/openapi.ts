/** Builds the OpenAPI 3.1 document from the route table and its TypeBox schemas. */
import type { TSchema } from '@sinclair/typebox';
import { Problem } from '../schemas.js';
import type { RouteDef } from './routes.js';

/** Plain JSON Schema (TypeBox symbols dropped). */
function json(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

function parameters(schema: TSchema | undefined, where: 'query' | 'path'): unknown[] {
  if (!schema) return [];
  const s = json(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    ...(prop.description ? { description: prop.description } : {}),
    schema: prop,
  }));
}

const problemContent = { 'application/problem+json': { schema: json(Problem) } };

function header(description: string, schema: Record<string, unknown> = { type: 'string' }): Record<string, unknown> {
  return { description, schema };
}

export function buildOpenApi(routes: readonly RouteDef[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const responses: Record<string, unknown> = {};
    for (const [status, resp] of Object.entries(r.responses)) {
      const isError = Number(status) >= 400;
      responses[status] = {
        description: resp.description,
        ...(resp.headers ? { headers: Object.fromEntries(Object.entries(resp.headers).map(([name, d]) => [name, header(d)])) } : {}),
        content: isError ? problemContent : resp.schema ? { [resp.contentType ?? 'application/json']: { schema: json(resp.schema) } } : undefined,
      };
    }
    if (r.query || r.params || r.body) responses['400'] ??= { description: 'Malformed input.', content: problemContent };
    if (r.scope) {
      responses['401'] ??= { description: 'Missing or unknown API key.', headers: { 'WWW-Authenticate': header('`Bearer`') }, content: problemContent };
      responses['403'] ??= {
        description: `The API key lacks the scope \`${r.scope}\`.`,
        headers: { 'WWW-Authenticate': header('`Bearer error="insufficient_scope", scope="…"`') },
        content: problemContent,
      };
      responses['429'] ??= { description: "Over the API key's rate limit.", headers: { 'Retry-After': header('Seconds to wait.', { type: 'integer' }) }, content: problemContent };
    }
    if (r.body) responses['413'] ??= { description: 'The body is larger than 10 MB.', content: problemContent };
    responses['500'] ??= { description: 'An unexpected error (logged).', content: problemContent };
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      operationId: r.operationId,
      summary: r.summary,
      // OpenAPI 3.1 lets a non-OAuth scheme list the roles an operation needs: here the key's scope.
      security: r.scope ? [{ bearer: [r.scope] }] : [],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: json(r.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tandem recommender API',
      version: '1.0.0',
      description:
        'Cross-sell, up-sell and personal recommendations; catalogue, inventory and event ingestion; model versions. ' +
        'A method a path does not declare answers 405 with an `Allow` header; errors are RFC 9457 problem details.',
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key with scopes (recommend:read, events:write, catalog:write, admin); each operation lists the one it needs.',
        },
      },
      schemas: { Problem: json(Problem) },
    },
    paths,
  };
}
