/**
 * Every name, label, port, path and environment variable the rendered objects share with the
 * operator and the recommender image. Change them here only: the constructs, the NetworkPolicies,
 * the ServiceMonitor, the alerts and the tests all read these.
 */

// ── Labels (ARCHITECTURE.md "Child objects") ────────────────────────────────────────────────────

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';

export const APP_NAME = 'tandem';
export const MANAGED_BY = 'tandem-operator';
/** The operator's server-side apply field manager (ARCHITECTURE.md). */
export const FIELD_MANAGER = 'tandem-operator';
/**
 * The field manager that takes `spec.replicas` over from FIELD_MANAGER when autoscaling is switched on
 * (see `replicasHandover`), so dropping the field from the operator's apply does not reset it to 1.
 */
export const HPA_HANDOVER_FIELD_MANAGER = 'tandem-operator-hpa-handover';

/** The `app.kubernetes.io/component` values of a Recommender's children. */
export const Component = {
  /** The scoring Deployment, its Service, HPA, PDB and ConfigMap. */
  SCORING: 'scoring',
  /** The Redis StatefulSet, its headless Service and PDB. */
  CACHE: 'cache',
  /** The retraining CronJob (or ScheduledSparkApplication) and the packing Jobs. */
  TRAINER: 'trainer',
  /** A Spark run's driver pod (`training.engine: spark`). */
  SPARK_DRIVER: 'spark-driver',
  /** A Spark run's executor pods. */
  SPARK_EXECUTOR: 'spark-executor',
  /** The model PersistentVolumeClaim. */
  MODEL: 'model',
  /** The state PersistentVolumeClaim (audit trail, erasures, opt-outs, experiment counts). */
  STATE: 'state',
  /** The NetworkPolicies. */
  NETWORK: 'network',
  /** The PrometheusRule and the ServiceMonitor. */
  MONITORING: 'monitoring',
} as const;
export type Component = (typeof Component)[keyof typeof Component];

/** Well-known namespace name label, set by the API server on every namespace (1.22+). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Pod annotation carrying a hash of the rendered config, so a config change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'tandem.dev/config-hash';

// ── The recommender image (one image, two commands) ─────────────────────────────────────────────

/** The container entrypoint of the recommender image; `serve` and `train` are its subcommands. */
export const RECOMMENDER_COMMAND = ['node', 'build/recommender/src/main.js'] as const;

/** Scoring API port (`PORT`): `/v1/...`, `/healthz`, `/readyz`. */
export const API_PORT = 8080;
export const API_PORT_NAME = 'http';
/** Prometheus metrics port (`METRICS_PORT`): `/metrics` only, so Prometheus never reaches the API. */
export const METRICS_PORT = 9090;
export const METRICS_PORT_NAME = 'metrics';
export const METRICS_PATH = '/metrics';
export const LIVENESS_PATH = '/healthz';
export const READINESS_PATH = '/readyz';

export const REDIS_PORT = 6379;
export const REDIS_PORT_NAME = 'redis';

/** Where the ConfigMap is mounted (read-only). */
export const CONFIG_DIR = '/etc/tandem';
/** Engine and business-rule config, in the recommender's `TandemConfig` format. */
export const CONFIG_FILE = 'config.yaml';
/** A/B variants, as a JSON array of `{name, weight, modelVersion?}`. */
export const EXPERIMENTS_FILE = 'experiments.json';
/**
 * Where the scoring pod's Secrets are mounted as files (one projected volume, read-only). Kubernetes
 * updates them in place when a Secret changes (an atomic swap of the `..data` symlink); the service
 * re-reads them, so a rotated key needs no restart.
 */
export const SECRETS_DIR = '/var/run/secrets/tandem';
/** The API keys file (`spec.auth.apiKeysSecretRef`). */
export const API_KEYS_FILE = 'api-keys';
/** The pseudonymisation key (`spec.auth.hmacKeySecretRef`). */
export const HMAC_KEY_FILE = 'hmac-key';
/** The Redis password (`spec.cache.passwordSecretRef`). */
export const REDIS_PASSWORD_FILE = 'redis-password';
/** Where the model volume is mounted: read-only in scoring pods, read-write in the trainer. */
export const MODEL_MOUNT = '/models';
/**
 * Where the state volume is mounted, read-write, in scoring pods and the trainer: what must outlive a pod
 * and be seen by all of them (`privacy/erased`, `privacy/opt-out`, `experiments/<pod>.json`).
 */
export const STATE_MOUNT = '/state';
/** The audit trail on the state volume: one directory per scoring pod, so no file has two writers. */
export const AUDIT_DIR = `${STATE_MOUNT}/audit`;
/** Versioned model artifacts (`train --out`, and what scoring loads). */
export const MODEL_DIR = `${MODEL_MOUNT}/versions`;
/** Training input files on the model volume (JSON Lines, ARCHITECTURE.md "Data files"). */
export const DATA_DIR = `${MODEL_MOUNT}/data`;
export const CATALOG_FILE = `${DATA_DIR}/catalog.jsonl`;
/** Spark runs' job directories on the model volume (`<SPARK_DIR>/<run>/`: staged input, job, output tables). */
export const SPARK_DIR = `${MODEL_MOUNT}/spark`;
/** The Spark driver's RPC port and the block managers' port (driver and executors): fixed, for the NetworkPolicies. */
export const SPARK_DRIVER_PORT = 7078;
export const SPARK_BLOCK_MANAGER_PORT = 7079;
export const EVENTS_FILE = `${DATA_DIR}/events.jsonl`;

/** How often scoring pods look for a newer model version in the model directory (`serve --watch-seconds`). */
export const MODEL_WATCH_SECONDS = 30;

/** The non-root identity of the recommender image. */
export const RECOMMENDER_UID = 10001;
/**
 * Redis runs as a high uid, not the image's own `redis` user (999): redis-server needs only its binary and
 * the `/data` emptyDir (group-owned through fsGroup), and a uid below 10000 may collide with a host user.
 */
export const REDIS_UID = 10999;
export const REDIS_GID = 10999;
/** Where the Redis password Secret is mounted in the Redis pod (read by its start script and probe). */
export const REDIS_PASSWORD_DIR = '/run/secrets/redis';

/**
 * In `spec.model.storage.type: s3`, where the credentials Secret is mounted (files `access-key-id` and
 * `secret-access-key`, re-read on every sync so a rotated Secret is picked up).
 */
export const MODEL_S3_CREDENTIALS_DIR = '/run/secrets/tandem-s3';
/** Ephemeral storage a container gets on top of its emptyDirs: its logs (the kubelet keeps 5 × 10Mi by default). */
export const LOG_STORAGE_BYTES = 64 * 2 ** 20;
/** The scoring pods' writable /tmp. */
export const SCORING_TMP_BYTES = 256 * 2 ** 20;
/** The trainer's scratch volume when `spec.training.resources.requests.ephemeral-storage` is unset. */
export const TRAINER_SCRATCH_DEFAULT = '2Gi';

/**
 * Environment variables the recommender reads. The service's reader (`recommender/src/env.ts`) has one
 * entry per name, and a test checks it against the scoring container's render in both directions.
 */
export const Env = {
  PORT: 'PORT',
  METRICS_PORT: 'METRICS_PORT',
  EXPERIMENTS: 'TANDEM_EXPERIMENTS_FILE',
  MODEL_DIR: 'TANDEM_MODEL_DIR',
  MODEL_VERSION: 'TANDEM_MODEL_VERSION',
  CACHE_TTL_SECONDS: 'TANDEM_CACHE_TTL_SECONDS',
  AUDIT_ENABLED: 'TANDEM_AUDIT_ENABLED',
  AUDIT_RETENTION_DAYS: 'TANDEM_AUDIT_RETENTION_DAYS',
  /** Where the audit files go: `<dir>/<pod name>/`, on the state volume. */
  AUDIT_DIR: 'TANDEM_AUDIT_DIR',
  /** `true`: every audit record is also written to stdout (for a SIEM). */
  AUDIT_STDOUT: 'TANDEM_AUDIT_STDOUT',
  AUDIT_MAX_FILE_BYTES: 'TANDEM_AUDIT_MAX_FILE_BYTES',
  AUDIT_ROTATE_SECONDS: 'TANDEM_AUDIT_ROTATE_SECONDS',
  /** The state volume: erasures, opt-outs, experiment counts (and the audit directory under it). */
  STATE_DIR: 'TANDEM_STATE_DIR',
  /** Events older than this are dropped at ingestion and training, and pruned from the events file. */
  EVENT_RETENTION_DAYS: 'TANDEM_EVENT_RETENTION_DAYS',
  HISTORY_WINDOW_DAYS: 'TANDEM_HISTORY_WINDOW_DAYS',
  KEEP_VERSIONS: 'TANDEM_KEEP_VERSIONS',
  /** The trainer's engine (`embedded` DuckDB, `spark`, `memory`); `train --engine` wins. Default embedded. */
  TRAINING_ENGINE: 'TANDEM_TRAINING_ENGINE',
  /** The embedded engine's memory limit (DuckDB's `memory_limit`), from the trainer's memory limit; beyond it, it spills. */
  DUCKDB_MEMORY: 'TANDEM_DUCKDB_MEMORY',
  /** Where DuckDB finds its httpfs extension (for `s3://` inputs): `<dir>/<duckdb version>/<platform>/`. */
  DUCKDB_EXTENSIONS: 'TANDEM_DUCKDB_EXTENSIONS',
  /** `redis://<name>-redis:6379`; unset when the cache is disabled (the service then caches in memory). */
  REDIS_URL: 'REDIS_URL',
  /** The Redis password as a value (Redis itself and the trainer get it so; local runs). */
  REDIS_PASSWORD: 'REDIS_PASSWORD',
  /** The Redis password as a file from `spec.cache.passwordSecretRef` (scoring pods; re-read on reconnect). */
  REDIS_PASSWORD_FILE: 'REDIS_PASSWORD_FILE',
  /** One all-scope API key as a value (the demo and local runs; never rendered). */
  API_KEY: 'TANDEM_API_KEY',
  /** The API keys file from `spec.auth.apiKeysSecretRef`: `[{name, sha256, scopes}]`, or one plain key; re-read on change. */
  API_KEYS_FILE: 'TANDEM_API_KEYS_FILE',
  /** The pseudonymisation key as a value (local runs; never rendered). */
  HMAC_KEY: 'TANDEM_HMAC_KEY',
  /** The pseudonymisation key file from `spec.auth.hmacKeySecretRef`; re-read on change. */
  HMAC_KEY_FILE: 'TANDEM_HMAC_KEY_FILE',
  /** `--max-old-space-size` from the memory limit (see SCORING_HEAP_RATIO); read by node itself. */
  NODE_OPTIONS: 'NODE_OPTIONS',
  /** `spec.model.storage.type: s3`: the bucket; its presence switches the service and trainer to the object store. */
  MODEL_S3_BUCKET: 'TANDEM_MODEL_S3_BUCKET',
  MODEL_S3_PREFIX: 'TANDEM_MODEL_S3_PREFIX',
  /** Unset for AWS S3. */
  MODEL_S3_ENDPOINT: 'TANDEM_MODEL_S3_ENDPOINT',
  MODEL_S3_REGION: 'TANDEM_MODEL_S3_REGION',
  MODEL_S3_FORCE_PATH_STYLE: 'TANDEM_MODEL_S3_FORCE_PATH_STYLE',
  /** MODEL_S3_CREDENTIALS_DIR when a credentials Secret is given; the SDK's default chain otherwise. */
  MODEL_S3_CREDENTIALS_DIR: 'TANDEM_MODEL_S3_CREDENTIALS_DIR',
  /** pino level of the service's JSON logs (local runs; the render leaves the default, `info`). */
  LOG_LEVEL: 'LOG_LEVEL',
  /** The variant named in answers when no experiment assigns one (local runs). */
  VARIANT: 'TANDEM_VARIANT',
} as const;

/**
 * Share of the scoring container's memory limit given to the V8 heap. Node's default in a cgroup is a
 * quarter of the limit, too small for a 100k-item catalogue plus the candidate cache; the model's
 * arrays live outside the heap (ArrayBuffers) yet count toward the limit, so the heap gets half.
 */
export const SCORING_HEAP_RATIO = 0.5;

// ── Metrics the alerts and the HPA read (exported by the recommender's prom-client registry) ────

export const Metrics = {
  /** Requests by `route`, `method`, `status`: the request histogram's own count series. */
  REQUESTS_TOTAL: 'tandem_http_request_duration_seconds_count',
  /** Histogram (seconds) with labels `route`, `method`, `status`, buckets REQUEST_DURATION_BUCKETS. */
  REQUEST_DURATION_SECONDS: 'tandem_http_request_duration_seconds',
  /** Pods metric for the HPA (via prometheus-adapter), from `spec.autoscaling.targetRequestsPerSecondPerPod`. */
  REQUESTS_PER_SECOND: 'tandem_http_requests_per_second',

  // The contract between the scoring service (which exports these), the alerts and the dashboards.
  // No user or item ids are ever labels.
  /** Counter, answers served by `intent`, `variant`. */
  RECOMMENDATIONS_TOTAL: 'tandem_recommendations_total',
  /** Counter, items shown by `intent`, `source` (bought_together, also_viewed, similar_to, cold_start, popular, promotion). */
  RECOMMENDED_ITEMS_TOTAL: 'tandem_recommended_items_total',
  /** Counter, candidates the business rules looked at, by `intent` (the denominator of the filtered share). */
  CANDIDATES_TOTAL: 'tandem_candidates_total',
  /** Counter, candidates dropped by `intent`, `reason` (stock, blocked, diversity, opt_out, limit…). */
  FILTERED_ITEMS_TOTAL: 'tandem_filtered_items_total',
  /** Counter, candidate-cache lookups by `tier` (memory, redis) and `result` (hit, miss, error). */
  CACHE_REQUESTS_TOTAL: 'tandem_cache_requests_total',
  /** Gauge, 1 while the Redis tier answers, 0 during an outage; absent without REDIS_URL. */
  CACHE_UP: 'tandem_cache_up',
  /** Gauge, `version` of the active model (value 1). */
  MODEL_INFO: 'tandem_model_info',
  /** Gauge, seconds since the active model was trained. */
  MODEL_AGE_SECONDS: 'tandem_model_age_seconds',
  /** Counter, model versions refused at activation, by `reason` (corrupt, gate). */
  MODEL_REFUSED_TOTAL: 'tandem_model_refused_total',
  /** Counter, audit records by `outcome` (written, dropped). */
  AUDIT_RECORDS_TOTAL: 'tandem_audit_records_total',
  /** Counter, audit sink write failures by `sink` (file, stdout). */
  AUDIT_SINK_ERRORS_TOTAL: 'tandem_audit_sink_errors_total',
  /** Counter, records received by the ingestion endpoints, by `kind`, `outcome`. */
  INGESTED_RECORDS_TOTAL: 'tandem_ingested_records_total',
  /** Counter, users erased (DELETE /v1/users/{id}). */
  ERASURES_TOTAL: 'tandem_user_erasures_total',
  /** Counters by `experiment`, `variant`: answers shown, clicks, conversions, attributed revenue. */
  EXPERIMENT_IMPRESSIONS_TOTAL: 'tandem_experiment_impressions_total',
  EXPERIMENT_CLICKS_TOTAL: 'tandem_experiment_clicks_total',
  /** Answers with an add_to_cart event that carried their recommendationId (the business dashboard's add-to-cart rate). */
  EXPERIMENT_ADD_TO_CARTS_TOTAL: 'tandem_experiment_add_to_carts_total',
  EXPERIMENT_CONVERSIONS_TOTAL: 'tandem_experiment_conversions_total',
  EXPERIMENT_REVENUE_TOTAL: 'tandem_experiment_revenue_total',
  /** Counter, refused API calls by `reason` (missing, unknown, scope, rate_limited). */
  AUTH_FAILURES_TOTAL: 'tandem_auth_failures_total',
} as const;

/**
 * Upper bounds (seconds) of the REQUEST_DURATION_SECONDS buckets. The latency SLO counts a request as fast when it
 * falls in the largest bucket at or below `spec.slo.latencyThresholdMs`, so these are part of the contract too.
 */
export const REQUEST_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

/** The operator's own metrics (`operator/metrics.ts` registers them), named after controller-runtime's. */
export const OperatorMetricNames = {
  /** Counter by `controller`, `result` (success, error). */
  RECONCILE_TOTAL: 'tandem_operator_reconcile_total',
  /** Counter by `controller`. */
  RECONCILE_ERRORS_TOTAL: 'tandem_operator_reconcile_errors_total',
  /** Histogram (seconds) by `controller`. */
  RECONCILE_TIME_SECONDS: 'tandem_operator_reconcile_time_seconds',
  /** Gauge by `name` (the queue). */
  WORKQUEUE_DEPTH: 'tandem_operator_workqueue_depth',
  WORKQUEUE_ADDS_TOTAL: 'tandem_operator_workqueue_adds_total',
  WORKQUEUE_RETRIES_TOTAL: 'tandem_operator_workqueue_retries_total',
  WORKQUEUE_QUEUE_DURATION_SECONDS: 'tandem_operator_workqueue_queue_duration_seconds',
  WORKQUEUE_UNFINISHED_WORK: 'tandem_operator_workqueue_unfinished_work',
  /** Counter by `kind`, `verb`. */
  API_WRITES_TOTAL: 'tandem_operator_api_writes_total',
  /** Gauge by `name` (the Lease): 1 on the leader, 0 on a standby. */
  LEADER: 'tandem_operator_leader_election_master_status',
  /** Counter by `informer`. */
  INFORMER_RESTARTS_TOTAL: 'tandem_operator_informer_restarts_total',
} as const;

// ── The operator install bundle ─────────────────────────────────────────────────────────────────

export const OPERATOR_NAME = 'tandem-operator';
export const OPERATOR_NAMESPACE = 'tandem-system';
export const OPERATOR_IMAGE = 'ghcr.io/tandem-dev/operator:0.1.0';
/** Small young generation and a bounded old space keep RSS low; the operator's heap is mostly short-lived garbage. */
export const OPERATOR_COMMAND = ['node', '--max-semi-space-size=4', '--max-old-space-size=256', 'build/operator/main.js'] as const;
export const OPERATOR_METRICS_PORT = 8080;
/** `/healthz` and `/readyz` of the operator. */
export const OPERATOR_HEALTH_PORT = 8081;
export const OPERATOR_UID = 65532;
/** The labels of the operator's pods (what its Service, PDB and the Recommenders' NetworkPolicies select). */
export const OPERATOR_POD_LABELS: Readonly<Record<string, string>> = { [LABEL_COMPONENT]: 'operator', [LABEL_NAME]: APP_NAME };
/** The scoring pods' labels that do not depend on the Recommender: what the operator may reach on METRICS_PORT. */
export const SCORING_POD_LABELS: Readonly<Record<string, string>> = { [LABEL_COMPONENT]: Component.SCORING, [LABEL_NAME]: APP_NAME };
/** The operator container's resources (the chart's `resources` default is the same). */
export const OPERATOR_RESOURCES = {
  requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '64Mi' },
  limits: { memory: '512Mi', 'ephemeral-storage': '128Mi' },
} as const;
