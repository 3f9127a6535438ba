/**
 * `RecommenderChart`: one Recommender spec in, all its Kubernetes objects out. Pure: no I/O, no clock,
 * no randomness, no ownerReferences (the operator adds those). The operator renders in-process with
 * `renderRecommender`; `npm run synth` writes the same objects as YAML for GitOps.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { Recommender } from './api/v1alpha1/recommender.js';
import { Cache } from './cache.js';
import { Component } from './constants.js';
import { Monitoring } from './monitoring.js';
import { objectLabels, recommenderNames, type RecommenderNames } from './names.js';
import { RecommenderNetworkPolicies, assertSafeNetworkSpec } from './network-policies.js';
import { chartObjects } from './render.js';
import { Scoring } from './scoring.js';
import { addStateClaim, stateClaimName } from './state.js';
import { SparkTraining } from './spark-training.js';
import { Training } from './training.js';

export interface RenderOptions {
  /** The namespace the operator runs in (its pods may read the scoring pods' metrics port). @default OPERATOR_NAMESPACE */
  readonly operatorNamespace?: string;
}

export interface RecommenderChartProps extends RenderOptions {
  /** A defaulted Recommender: as the API server returns it, or `validateRecommender(doc).value`. */
  readonly recommender: Recommender;
}

/**
 * Every object one Recommender owns. Construct IDs are fixed strings, and every object has an
 * explicit `metadata.name`, so renders of the same spec are identical and selectors never move.
 */
export class RecommenderChart extends Chart {
  readonly names: RecommenderNames;

  constructor(scope: Construct, id: string, props: RecommenderChartProps) {
    super(scope, id);
    const rec = props.recommender;
    const namespace = rec.metadata.namespace;
    if (!namespace) throw new Error(`metadata.namespace: Required value: Recommender "${rec.metadata.name}" must have a namespace to render`);
    const spec = rec.spec;
    assertSafeNetworkSpec(spec);
    const names = recommenderNames(rec.metadata.name, namespace);
    this.names = names;

    if (spec.model.storage.type === 'pvc' && !spec.model.storage.existingClaim) {
      new kplus.k8s.KubePersistentVolumeClaim(this, 'ModelClaim', {
        metadata: { name: names.models, namespace, labels: objectLabels(names.instance, Component.MODEL) },
        spec: {
          // Many scoring pods read, on any node; the trainer writes. The storage class must support RWX
          // (or use spec.model.storage.type s3, which needs none).
          accessModes: ['ReadWriteMany'],
          resources: { requests: { storage: kplus.k8s.Quantity.fromString(spec.model.storage.size) } },
          ...(spec.model.storage.storageClassName !== undefined ? { storageClassName: spec.model.storage.storageClassName } : {}),
        },
      });
    }

    addStateClaim(this, names, spec);
    const stateClaim = stateClaimName(names, spec);

    new Scoring(this, 'Scoring', { names, spec, stateClaim });
    if (spec.cache.enabled) new Cache(this, 'Cache', { names, spec });
    if (spec.training.engine === 'spark') new SparkTraining(this, 'SparkTraining', { names, spec, stateClaim, configMapName: names.config });
    else new Training(this, 'Training', { names, spec, stateClaim, configMapName: names.config });
    new RecommenderNetworkPolicies(this, 'NetworkPolicies', { names, spec, ...(props.operatorNamespace ? { operatorNamespace: props.operatorNamespace } : {}) });
    new Monitoring(this, 'Monitoring', { names, spec });
  }
}

/**
 * All the objects of one Recommender, in apply order. A fresh App per call; throws a clear Error
 * naming the fields when the spec is unsafe (an allowed caller that could match a protected namespace).
 */
export function renderRecommender(rec: Recommender, options: RenderOptions = {}): KubernetesObject[] {
  const app = new App();
  const chart = new RecommenderChart(app, 'recommender', { ...options, recommender: rec });
  return chartObjects(chart);
}

export { CHILD_KINDS, type ChildKind } from './child-kinds.js';
export {
  APP_NAME,
  Component,
  FIELD_MANAGER,
  HPA_HANDOVER_FIELD_MANAGER,
  LABEL_COMPONENT,
  LABEL_INSTANCE,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  MANAGED_BY,
} from './constants.js';
export { objectLabels, podSelectorLabels, recommenderNames, type RecommenderNames } from './names.js';
export { UnsafeNetworkSpecError, allowedCallerProblems } from './network-policies.js';
export { replicasHandover } from './scoring.js';
