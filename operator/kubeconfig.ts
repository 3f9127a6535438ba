/**
 * Connection reuse for @kubernetes/client-node 2.0.1, which builds a new undici Agent (so a new TLS
 * connection) for every request. One dispatcher per cluster, user and TLS material is shared by all
 * requests instead, which removes a handshake per call from the operator's hot path.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => unknown;
const POOLED = Symbol('tandem.pooledDispatcher');

export function withConnectionReuse(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher: CreateDispatcher; [POOLED]?: true };
  if (target[POOLED]) return kc;
  const create = target.createDispatcher.bind(kc);
  const pool = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const tls = ['ca', 'cert', 'key', 'pfx', 'rejectUnauthorized', 'servername'].map((k) => String(agentOptions[k] ?? ''));
    const key = createHash('sha256').update(JSON.stringify([cluster, kc.getCurrentUser()?.name, tls])).digest('hex');
    if (!pool.has(key)) pool.set(key, create(cluster, agentOptions));
    return pool.get(key);
  };
  target[POOLED] = true;
  return kc;
}
