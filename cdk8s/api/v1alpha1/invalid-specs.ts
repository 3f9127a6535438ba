/**
 * Specs a user could get wrong, with the field the error must name. One table, checked against both
 * the real API server (crd.cluster.test.ts) and the offline validator (validate.test.ts).
 */
export interface InvalidSpecCase {
  readonly name: string;
  readonly spec: Record<string, unknown>;
  /** metadata.name of the object; default `invalid`. */
  readonly objectName?: string;
  /** The field path the error must name. */
  readonly field: string;
  /** Words the error message must contain. */
  readonly says: string;
}

export const INVALID_SPECS: readonly InvalidSpecCase[] = [
  { name: 'When replicas.min exceeds replicas.max', spec: { replicas: { min: 5, max: 3 } }, field: 'spec.replicas.min', says: 'replicas.min must be less than or equal to replicas.max' },
  { name: 'When replicas.min is zero', spec: { replicas: { min: 0 } }, field: 'spec.replicas.min', says: '1' },
  { name: 'When experiment weights do not sum to 100', spec: { experiments: { variants: [{ name: 'a', weight: 50 }, { name: 'b', weight: 40 }] } }, field: 'spec.experiments.variants', says: 'weights must sum to 100' },
  { name: 'When two variants share a name', spec: { experiments: { variants: [{ name: 'a', weight: 50 }, { name: 'a', weight: 50 }] } }, field: 'spec.experiments.variants', says: 'names must be unique' },
  { name: 'When an experiment has a single variant', spec: { experiments: { variants: [{ name: 'a', weight: 100 }] } }, field: 'spec.experiments.variants', says: 'at least two variants' },
  { name: 'When a variant name is not a DNS label', spec: { experiments: { variants: [{ name: 'Bad_Name', weight: 50 }, { name: 'b', weight: 50 }] } }, field: 'spec.experiments.variants[0].name', says: 'match' },
  { name: 'When the cache TTL is zero', spec: { cache: { ttlSeconds: 0 } }, field: 'spec.cache.ttlSeconds', says: '1' },
  { name: 'When audit retention exceeds 400 days', spec: { audit: { retentionDays: 1000 } }, field: 'spec.audit.retentionDays', says: '400' },
  { name: "When training runs on Spark without the API server's addresses", spec: { training: { engine: 'spark' } }, field: 'spec.training.spark.apiServer.cidrs', says: "required with training.engine 'spark'" },
  { name: 'When training runs on Spark with models in object storage', spec: { training: { engine: 'spark', spark: { apiServer: { cidrs: ['10.0.0.1/32'] } } }, model: { storage: { type: 's3', s3: { bucket: 'models', egress: { cidrs: ['10.0.0.0/8'] } } } } }, field: 'spec.training.engine', says: "needs model.storage.type 'pvc'" },
  { name: 'When the training engine is unknown', spec: { training: { engine: 'flink' } }, field: 'spec.training.engine', says: '"flink"' },
  { name: 'When a Spark executor memory is not a JVM size', spec: { training: { engine: 'spark', spark: { executor: { memory: '4Gi' } } } }, field: 'spec.training.spark.executor.memory', says: 'match' },
  { name: 'When the training schedule is not cron', spec: { training: { schedule: 'every night' } }, field: 'spec.training.schedule', says: 'match' },
  { name: 'When the up-sell band is inverted', spec: { scoring: { upSellPriceBand: { min: 2, max: 1.5 } } }, field: 'spec.scoring.upSellPriceBand.min', says: 'must be less than' },
  { name: 'When an allowed caller has no selector', spec: { network: { allowedCallers: [{}] } }, field: 'spec.network.allowedCallers[0]', says: 'needs a namespaceSelector, a podSelector or both' },
  { name: 'When protected namespaces are an empty selector', spec: { network: { protectedNamespaces: {} } }, field: 'spec.network.protectedNamespaces', says: 'must not be empty' },
  { name: 'When the CPU target is above 95%', spec: { autoscaling: { targetCPUUtilizationPercentage: 150 } }, field: 'spec.autoscaling.targetCPUUtilizationPercentage', says: '95' },
  { name: 'When a CPU request is not a quantity', spec: { resources: { requests: { cpu: 'lots' } } }, field: 'spec.resources.requests.cpu', says: 'must be a quantity' },
  { name: 'When the availability target is 100%', spec: { slo: { availabilityTarget: 100 } }, field: 'spec.slo.availabilityTarget', says: '100' },
  { name: "When a matchExpression with 'In' has no values", spec: { network: { allowedCallers: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }] } }, field: 'spec.network.allowedCallers[0].podSelector.matchExpressions[0]', says: 'values must be non-empty' },
  { name: 'When the model version is malformed', spec: { model: { version: 'latest!!' } }, field: 'spec.model.version', says: 'match' },
  { name: 'When the name is too long for its children', objectName: 'x'.repeat(45), spec: {}, field: 'metadata.name', says: 'may not be more than 44' },
  { name: "When the model store is 's3' without its bucket settings", spec: { model: { storage: { type: 's3' } } }, field: 'spec.model.storage.s3', says: "required when model.storage.type is 's3'" },
  { name: "When bucket settings are given for a 'pvc' model store", spec: { model: { storage: { s3: { bucket: 'models', egress: { cidrs: ['10.0.0.0/8'] } } } } }, field: 'spec.model.storage.s3', says: 'and only then' },
  { name: "When an s3 model store names an existing claim", spec: { model: { storage: { type: 's3', existingClaim: 'models', s3: { bucket: 'models', egress: { cidrs: ['10.0.0.0/8'] } } } } }, field: 'spec.model.storage.type', says: "apply to model.storage.type 'pvc' only" },
  { name: 'When the object store has no egress peer', spec: { model: { storage: { type: 's3', s3: { bucket: 'models', egress: {} } } } }, field: 'spec.model.storage.s3.egress', says: 'needs cidrs, a namespaceSelector or a podSelector' },
  { name: 'When the bucket name is not DNS-compatible', spec: { model: { storage: { type: 's3', s3: { bucket: 'Models_2026', egress: { cidrs: ['10.0.0.0/8'] } } } } }, field: 'spec.model.storage.s3.bucket', says: 'match' },
  { name: 'When the key prefix does not end in a slash', spec: { model: { storage: { type: 's3', s3: { bucket: 'models', prefix: 'shop', egress: { cidrs: ['10.0.0.0/8'] } } } } }, field: 'spec.model.storage.s3.prefix', says: 'match' },
  { name: 'When a DNS address is not a CIDR', spec: { network: { dns: { cidrs: ['169.254.20.10'] } } }, field: 'spec.network.dns.cidrs[0]', says: 'match' },
  { name: "When the trainer's ephemeral storage is not a quantity", spec: { training: { resources: { requests: { 'ephemeral-storage': 'plenty' } } } }, field: "spec.training.resources.requests.ephemeral-storage", says: 'must be a quantity' },
  { name: 'When a field is unknown', spec: { replica: { min: 1 } }, field: 'spec.replica', says: 'unknown field' },
];
