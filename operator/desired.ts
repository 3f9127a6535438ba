/**
 * The desired children of a Recommender: the cdk8s render, the packing Job of each Spark run that succeeded
 * (`training.engine: spark`; the runs come from the live ScheduledSparkApplication's status), plus what only
 * the operator knows — the ownerReference to the Recommender (so the garbage collector deletes them with it)
 * and a hash of the render (so a changed render is always re-applied). Pure.
 */
import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { API_VERSION, KIND, type Recommender } from '../cdk8s/api/v1alpha1/recommender.js';
import { renderRecommender, type RenderOptions } from '../cdk8s/recommender-chart.js';
import { packJobs } from '../cdk8s/spark-training.js';
import { RENDER_HASH_ANNOTATION } from './compare.js';

export function desiredChildren(rec: Recommender, options: RenderOptions = {}, sparkRuns: readonly string[] = []): KubernetesObject[] {
  const owner = {
    apiVersion: API_VERSION,
    kind: KIND,
    name: rec.metadata.name,
    uid: rec.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
  return [...renderRecommender(rec, options), ...packJobs(rec, sparkRuns)].map((obj) => {
    const hash = createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);
    return {
      ...obj,
      metadata: {
        ...obj.metadata,
        annotations: { ...obj.metadata?.annotations, [RENDER_HASH_ANNOTATION]: hash },
        ownerReferences: [owner],
      },
    };
  });
}

/** `apps/v1 Deployment shop/storefront-scoring`: how logs, errors and events name a child. */
export function describeObject(obj: KubernetesObject): string {
  return `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
}

export function objectKey(obj: KubernetesObject): string {
  return `${obj.apiVersion}/${obj.kind}/${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
