/**
 * The Recommender API (tandem.dev/v1alpha1): the single source of truth.
 *
 * The TypeScript types (`RecommenderSpec`, `RecommenderStatus`, …), the CRD's openAPIV3Schema
 * (see `crd.ts`) and the offline validation used by `npm run synth` (see `validate.ts`) are all
 * derived from the TypeBox schemas below. Cross-field rules are CEL `x-kubernetes-validations`,
 * so the API server itself rejects a bad spec, and `validate.ts` evaluates the very same rules.
 */
import { Type, type Static } from '@sinclair/typebox';

export const GROUP = 'tandem.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'Recommender';
export const PLURAL = 'recommenders';
export const SINGULAR = 'recommender';
export const SHORT_NAMES = ['rec'];

/** A CEL rule evaluated by the API server (and by `validate.ts`) with `self` bound to the node it sits on. */
export interface CelRule {
  readonly rule: string;
  readonly message: string;
  /** Field the rule is about, relative to the node (shown in the error path). */
  readonly fieldPath?: string;
}

const rules = (...list: CelRule[]) => ({ 'x-kubernetes-validations': list });

/** Longest Recommender name: children such as `<name>-retrain-<job>` and `<name>-redis-0` must stay valid names. */
export const MAX_NAME_LENGTH = 44;

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const QUANTITY = '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$';
const CRON = '^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\\S+\\s+){4}\\S+)$';
/** An IPv4 or IPv6 CIDR such as `10.0.0.0/8` or `fd00::/8` (the shape; the API server checks the rest). */
const CIDR = '^(([0-9]{1,3}\\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])|[0-9a-fA-F:]*:[0-9a-fA-F:]*/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$';
/** An S3 bucket name (the DNS-compatible rules: 3–63 lower-case letters, digits, dots and dashes). */
const BUCKET = '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$';

/**
 * The default Redis image: a patch version pinned by digest, so every node runs the same build. The digest
 * is the multi-platform OCI index of `redis:7.4.11-alpine` as docker-library/repo-info records it
 * (repos/redis/remote/7.4.11-alpine.md at commit 1742085aa3304e996a45e00271d6b8308029b6e3). Mirror it to a
 * private registry with `crane copy` (docs/cdk8s.md) and set `spec.cache.image`.
 */
export const DEFAULT_REDIS_IMAGE = 'redis:7.4.11-alpine@sha256:ff02b58f971e7d7d156a1267e283fcbbeee91773b6aa36c49dac28ecfe28eadf';

/**
 * The default Spark image of `training.engine: spark`: Apache Spark's official image with Python (the job is
 * PySpark), Spark 4 (the SQL job is written for its ANSI mode, the default since 4.0). Mirror it and pin a digest.
 */
export const DEFAULT_SPARK_IMAGE = 'docker.io/library/spark:4.0.1-scala2.13-java17-python3-ubuntu';

/** A JVM memory size as Spark writes it (`512m`, `4g`). */
const SparkMemory = (description: string, fallback: string) => Type.String({ pattern: '^[1-9][0-9]*[kmgt]$', default: fallback, description });

/** A Kubernetes resource quantity such as `500m`, `2` or `512Mi`, written as a number or a string. */
const Quantity = (description: string) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ maxLength: 32 })], {
    'x-kubernetes-int-or-string': true,
    description,
    ...rules({ rule: `type(self) == int || self.matches('${QUANTITY.replaceAll('\\', '\\\\')}')`, message: 'must be a quantity such as 500m, 2 or 512Mi' }),
  });

const ResourceList = Type.Object(
  {
    cpu: Type.Optional(Quantity('cpu: CPU cores, e.g. `500m` or `2`.')),
    memory: Type.Optional(Quantity('memory: bytes, e.g. `512Mi`.')),
  },
  { additionalProperties: false },
);

/** Requests or limits of the trainer: CPU, memory, and the ephemeral storage its scratch volume uses. */
const TrainerResourceList = Type.Object(
  {
    cpu: Type.Optional(Quantity('cpu: CPU cores, e.g. `500m` or `2`.')),
    memory: Type.Optional(Quantity('memory: bytes, e.g. `1Gi`.')),
    'ephemeral-storage': Type.Optional(Quantity('ephemeral-storage: bytes of node-local disk, e.g. `2Gi`.')),
  },
  { additionalProperties: false },
);

const LabelMap = Type.Record(Type.String({ maxLength: 317 }), Type.String({ maxLength: 63 }), { maxProperties: 32 });

/** A metav1.LabelSelector. */
export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(LabelMap),
    matchExpressions: Type.Optional(
      Type.Array(
        Type.Object({
          key: Type.String({ minLength: 1, maxLength: 317 }),
          operator: Type.Union([Type.Literal('In'), Type.Literal('NotIn'), Type.Literal('Exists'), Type.Literal('DoesNotExist')]),
          values: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: 32 })),
        }, rules({
          rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
          message: "values must be non-empty for 'In' and 'NotIn', and empty for 'Exists' and 'DoesNotExist'",
        })),
        { maxItems: 16 },
      ),
    ),
  },
  { description: 'A label selector (metav1.LabelSelector). An empty selector matches everything.' },
);

const Port = (description: string) => Type.Integer({ minimum: 1, maximum: 65535, description });
const Cidrs = (description: string) => Type.Array(Type.String({ pattern: CIDR, maxLength: 64 }), { maxItems: 16, default: [], description });

const SecretKeyRef = (description: string, defaultKey: string) =>
  Type.Object(
    {
      name: Type.String({ pattern: DNS_LABEL, maxLength: 253, description: 'name: the Secret, in the Recommender\'s namespace.' }),
      key: Type.String({ minLength: 1, maxLength: 253, default: defaultKey, description: `key: the key in the Secret. Default \`${defaultKey}\`.` }),
    },
    { description },
  );

export const RecommenderSpecSchema = Type.Object(
  {
    image: Type.String({
      minLength: 1,
      maxLength: 512,
      default: 'ghcr.io/tandem-dev/recommender:0.1.0',
      description: 'image: the scoring service and trainer image (one image, two commands). Default `ghcr.io/tandem-dev/recommender:0.1.0`.',
    }),
    resources: Type.Object(
      {
        requests: Type.Optional(ResourceList),
        limits: Type.Optional(ResourceList),
      },
      {
        default: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
        description: 'resources: of each scoring container. Default requests 250m CPU / 512Mi, limit 1Gi memory.',
      },
    ),
    replicas: Type.Object(
      {
        min: Type.Integer({ minimum: 1, maximum: 100, default: 2, description: 'min: fewest scoring pods. Default 2, 1–100.' }),
        max: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'max: most scoring pods. Default 10, 1–100.' }),
      },
      {
        default: {},
        description: 'replicas: bounds on the number of scoring pods.',
        ...rules({ rule: 'self.min <= self.max', message: 'replicas.min must be less than or equal to replicas.max', fieldPath: '.min' }),
      },
    ),
    autoscaling: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'enabled: create a HorizontalPodAutoscaler; when false, min replicas run. Default true.' }),
        targetCPUUtilizationPercentage: Type.Integer({ minimum: 10, maximum: 95, default: 70, description: 'targetCPUUtilizationPercentage: 10–95. Default 70.' }),
        targetRequestsPerSecondPerPod: Type.Optional(
          Type.Integer({
            minimum: 1,
            maximum: 100000,
            description:
              'targetRequestsPerSecondPerPod: opt-in, unset by default (CPU only). When set, the HPA also scales on the pods metric `tandem_http_requests_per_second`, which only prometheus-adapter serves (charts/tandem-operator/files/prometheus-adapter-values.yaml); without it the HPA never scales down, and status condition AutoscalingReady says so.',
          }),
        ),
        scaleDownStabilizationSeconds: Type.Integer({ minimum: 0, maximum: 3600, default: 300, description: 'scaleDownStabilizationSeconds: 0–3600. Default 300.' }),
      },
      { default: {}, description: 'autoscaling: how the HPA scales the scoring pods between replicas.min and replicas.max.' },
    ),
    model: Type.Object(
      {
        version: Type.String({
          pattern: '^(latest|v?[0-9]{8}T[0-9]{6}Z?(-[a-z0-9]+)?|[a-z0-9][a-z0-9._-]{0,62})$',
          default: 'latest',
          description: 'version: the model version to serve, or `latest` for the newest trained one. Default `latest`.',
        }),
        storage: Type.Object(
          {
            type: Type.Union([Type.Literal('pvc'), Type.Literal('s3')], {
              default: 'pvc',
              description:
                'type: `pvc` (a volume the trainer writes and every scoring pod mounts: ReadWriteMany when the pods spread over nodes) or `s3` (S3-compatible object storage the trainer uploads to and each scoring pod downloads from, verifying sha256; no RWX needed). Default `pvc`.',
            }),
            size: Type.String({ pattern: QUANTITY, default: '5Gi', description: 'size: of the model volume (pvc), or of each scoring pod\'s local model cache (s3). Default 5Gi.' }),
            storageClassName: Type.Optional(Type.String({ maxLength: 253, description: 'storageClassName: for the model volume (pvc only); the cluster default when unset.' })),
            existingClaim: Type.Optional(Type.String({ pattern: DNS_LABEL, maxLength: 253, description: 'existingClaim: use this PVC instead of creating one (pvc only).' })),
            s3: Type.Optional(
              Type.Object(
                {
                  bucket: Type.String({ pattern: BUCKET, description: 'bucket: the bucket holding `<prefix>versions/<version>/` and the training data `<prefix>data/`.' }),
                  prefix: Type.String({
                    pattern: '^([^/][^\\s]*/)?$',
                    maxLength: 512,
                    default: '',
                    description: 'prefix: key prefix inside the bucket, empty or ending in `/` (e.g. `shop/storefront/`). Default empty.',
                  }),
                  endpoint: Type.Optional(
                    Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$', maxLength: 512, description: 'endpoint: the S3 API URL of an S3-compatible store (SeaweedFS, MinIO, Ceph RGW); AWS S3 when unset.' }),
                  ),
                  region: Type.String({ minLength: 1, maxLength: 64, default: 'us-east-1', description: 'region: signing region. Default `us-east-1`.' }),
                  forcePathStyle: Type.Boolean({ default: false, description: 'forcePathStyle: `<endpoint>/<bucket>/<key>` URLs instead of `<bucket>.<endpoint>`; most self-hosted stores need true. Default false.' }),
                  credentialsSecretRef: Type.Optional(
                    Type.Object(
                      {
                        name: Type.String({ pattern: DNS_LABEL, maxLength: 253, description: 'name: the Secret, in the Recommender\'s namespace, mounted as files.' }),
                        accessKeyIdKey: Type.String({ minLength: 1, maxLength: 253, default: 'AWS_ACCESS_KEY_ID', description: 'accessKeyIdKey: key of the access key id. Default `AWS_ACCESS_KEY_ID`.' }),
                        secretAccessKeyKey: Type.String({ minLength: 1, maxLength: 253, default: 'AWS_SECRET_ACCESS_KEY', description: 'secretAccessKeyKey: key of the secret access key. Default `AWS_SECRET_ACCESS_KEY`.' }),
                      },
                      { description: 'credentialsSecretRef: the access key pair; without it the SDK\'s default chain (e.g. a web identity token) is used.' },
                    ),
                  ),
                  egress: Type.Object(
                    {
                      cidrs: Cidrs('cidrs: addresses of the object store outside the cluster (keep them outside the pod network).'),
                      namespaceSelector: Type.Optional(LabelSelectorSchema),
                      podSelector: Type.Optional(LabelSelectorSchema),
                      ports: Type.Array(Port('a TCP port of the object store.'), { minItems: 1, maxItems: 8, default: [443], description: 'ports: TCP ports of the object store. Default [443].' }),
                    },
                    {
                      description:
                        'egress: where the scoring and trainer pods may connect to reach the object store: CIDRs, or in-cluster pods (a podSelector alone means the Recommender\'s namespace; protected namespaces are always excluded).',
                      ...rules({
                        rule: 'size(self.cidrs) > 0 || has(self.namespaceSelector) || has(self.podSelector)',
                        message: 'model.storage.s3.egress needs cidrs, a namespaceSelector or a podSelector: the NetworkPolicies deny everything else',
                      }),
                    },
                  ),
                },
                { description: 's3: the object store (type `s3` only).' },
              ),
            ),
          },
          {
            default: {},
            description: 'storage: where versioned model artifacts live.',
            ...rules(
              { rule: "self.type == 's3' ? has(self.s3) : !has(self.s3)", message: "model.storage.s3 is required when model.storage.type is 's3', and only then", fieldPath: '.s3' },
              {
                rule: "self.type == 'pvc' || (!has(self.existingClaim) && !has(self.storageClassName))",
                message: "model.storage.existingClaim and storageClassName apply to model.storage.type 'pvc' only",
                fieldPath: '.type',
              },
            ),
          },
        ),
      },
      { default: {}, description: 'model: which trained model the scoring pods load.' },
    ),
    state: Type.Object(
      {
        storage: Type.Object(
          {
            size: Type.String({ pattern: QUANTITY, default: '2Gi', description: 'size: of the state volume. Default 2Gi.' }),
            storageClassName: Type.Optional(Type.String({ maxLength: 253, description: 'storageClassName: for the state volume (ReadWriteMany); the cluster default when unset.' })),
            existingClaim: Type.Optional(Type.String({ pattern: DNS_LABEL, maxLength: 253, description: 'existingClaim: use this PVC instead of creating one.' })),
          },
          { default: {}, description: 'storage: the volume itself.' },
        ),
      },
      {
        default: {},
        description:
          'state: the writable volume every scoring pod and the trainer mount: the audit trail (one directory per pod), erasures, opt-outs and experiment counts, so nothing is lost when a pod restarts.',
      },
    ),
    training: Type.Object(
      {
        schedule: Type.String({ pattern: CRON, maxLength: 128, default: '0 3 * * *', description: 'schedule: cron schedule of the retraining job. Default `0 3 * * *`.' }),
        suspend: Type.Boolean({ default: false, description: 'suspend: pause scheduled retraining. Default false.' }),
        historyWindowDays: Type.Integer({ minimum: 1, maximum: 730, default: 90, description: 'historyWindowDays: days of events to train on, 1–730. Default 90.' }),
        keepVersions: Type.Integer({ minimum: 1, maximum: 50, default: 5, description: 'keepVersions: model versions kept for rollback, 1–50. Default 5.' }),
        resources: Type.Object(
          {
            requests: Type.Optional(TrainerResourceList),
            limits: Type.Optional(TrainerResourceList),
          },
          {
            default: { requests: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '2Gi' }, limits: { memory: '2Gi' } },
            description:
              'resources: of the trainer container, apart from the scoring pods\'. `requests.ephemeral-storage` sizes its scratch volume (/tmp, and in s3 mode the downloaded data and the new model too; 2Gi when unset); the ephemeral-storage limit defaults to that plus room for logs. Default requests 500m CPU / 1Gi / 2Gi ephemeral storage, limit 2Gi memory. With `engine: spark` they size the ingestion (the driver\'s init container) and the packing Job.',
          },
        ),
        engine: Type.Union([Type.Literal('embedded'), Type.Literal('spark')], {
          default: 'embedded',
          description:
            'engine: where training runs (docs/training.md). `embedded`: DuckDB inside the trainer pod, out of core (it spills to the scratch volume), the CronJob. `spark`: the same job on Apache Spark through the Kubeflow Spark operator (a ScheduledSparkApplication, then a Job that packs its output into a model version), for shops that outgrow one pod. Default `embedded`.',
        }),
        spark: Type.Object(
          {
            image: Type.String({ minLength: 1, maxLength: 512, default: DEFAULT_SPARK_IMAGE, description: `image: the Spark image of the driver and executors (Spark 4 with Python 3). Default \`${DEFAULT_SPARK_IMAGE}\`.` }),
            sparkVersion: Type.String({ pattern: '^4\\.[0-9]+\\.[0-9]+$', default: '4.0.1', description: 'sparkVersion: the image\'s Spark version, 4.x. Default `4.0.1`.' }),
            serviceAccountName: Type.String({
              pattern: DNS_LABEL,
              maxLength: 253,
              default: 'spark-operator-spark',
              description: 'serviceAccountName: the driver\'s ServiceAccount, allowed to manage executor pods (the Spark operator\'s chart creates `spark-operator-spark` in its job namespaces). Default `spark-operator-spark`.',
            }),
            driver: Type.Object(
              {
                cores: Type.Integer({ minimum: 1, maximum: 64, default: 1, description: 'cores: 1–64. Default 1.' }),
                memory: SparkMemory('memory: JVM heap, e.g. `2g`. Default `2g`.', '2g'),
              },
              { default: {}, description: 'driver: plans the job and collects nothing large (the outputs go straight to Parquet).' },
            ),
            executor: Type.Object(
              {
                instances: Type.Integer({ minimum: 1, maximum: 1000, default: 2, description: 'instances: 1–1000. Default 2.' }),
                cores: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'cores: per executor, 1–64. Default 2.' }),
                memory: SparkMemory('memory: JVM heap per executor, e.g. `4g`. Default `4g`.', '4g'),
              },
              { default: {}, description: 'executor: where the pairs are counted and ranked; see docs/training.md for sizing.' },
            ),
            apiServer: Type.Object(
              {
                cidrs: Cidrs('cidrs: the API server\'s addresses (the `kubernetes` Service\'s endpoints), which the driver calls to run its executors.'),
                ports: Type.Array(Port('a TCP port of the API server.'), { minItems: 1, maxItems: 4, default: [443, 6443], description: 'ports: Default [443, 6443].' }),
              },
              { default: {}, description: 'apiServer: the egress the driver needs to create and watch its executor pods (engine spark only).' },
            ),
          },
          { default: {}, description: 'spark: the Spark run (engine `spark` only).' },
        ),
      },
      {
        default: {},
        description: 'training: scheduled retraining into a new model version.',
        ...rules({
          rule: "self.engine != 'spark' || size(self.spark.apiServer.cidrs) > 0",
          message: "training.spark.apiServer.cidrs is required with training.engine 'spark': the driver runs its executors through the API server, and the NetworkPolicies deny everything else",
          fieldPath: '.spark.apiServer.cidrs',
        }),
      },
    ),
    cache: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'enabled: run a Redis cache tier. Default true.' }),
        image: Type.String({
          minLength: 1,
          maxLength: 512,
          default: DEFAULT_REDIS_IMAGE,
          description: `image: the Redis image, best pinned by digest (mirror it to your registry and set this). Default \`${DEFAULT_REDIS_IMAGE}\`.`,
        }),
        memory: Type.String({ pattern: QUANTITY, default: '256Mi', description: 'memory: Redis maxmemory (allkeys-lru) and its container limit. Default 256Mi.' }),
        ttlSeconds: Type.Integer({ minimum: 1, maximum: 86400, default: 300, description: 'ttlSeconds: how long a cached candidate list lives, 1–86400. Default 300.' }),
        passwordSecretRef: Type.Optional(SecretKeyRef('passwordSecretRef: the Secret holding the Redis password.', 'password')),
      },
      { default: {}, description: 'cache: the Redis cache of scored candidates (business rules still apply after it).' },
    ),
    network: Type.Object(
      {
        allowedCallers: Type.Array(
          Type.Object(
            {
              namespaceSelector: Type.Optional(LabelSelectorSchema),
              podSelector: Type.Optional(LabelSelectorSchema),
            },
            rules({ rule: 'has(self.namespaceSelector) || has(self.podSelector)', message: 'an allowed caller needs a namespaceSelector, a podSelector or both' }),
          ),
          { maxItems: 20, default: [], description: 'allowedCallers: who may call the scoring API. Empty means no one outside the Recommender.' },
        ),
        protectedNamespaces: Type.Object(
          {
            matchLabels: Type.Optional(LabelMap),
            matchExpressions: LabelSelectorSchema.properties.matchExpressions,
          },
          {
            default: { matchLabels: { 'tandem.dev/zone': 'payments' } },
            description: 'protectedNamespaces: namespaces (payments, PCI) that may never reach the Recommender nor be reached by it. Default `tandem.dev/zone: payments`.',
            ...rules({
              rule: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
              message: 'protectedNamespaces must not be empty: an empty selector would protect every namespace and cut off all callers',
            }),
          },
        ),
        monitoringNamespace: Type.String({ pattern: DNS_LABEL, maxLength: 63, default: 'monitoring', description: 'monitoringNamespace: where Prometheus runs; it may scrape the metrics port. Default `monitoring`.' }),
        dns: Type.Object(
          {
            namespace: Type.String({ pattern: DNS_LABEL, maxLength: 63, default: 'kube-system', description: 'namespace: of the cluster DNS pods. Default `kube-system` (OpenShift: `openshift-dns`).' }),
            podSelector: Type.Object(
              { matchLabels: Type.Optional(LabelMap), matchExpressions: LabelSelectorSchema.properties.matchExpressions },
              {
                default: { matchLabels: { 'k8s-app': 'kube-dns' } },
                description: 'podSelector: the cluster DNS pods. Default `k8s-app: kube-dns` (OpenShift: `dns.operator.openshift.io/daemonset-dns: default`).',
              },
            ),
            cidrs: Cidrs('cidrs: DNS addresses that are not pods, e.g. NodeLocal DNSCache\'s `169.254.20.10/32` (and the kube-dns Service IP it answers on). Default none.'),
            ports: Type.Array(Port('a DNS port, UDP and TCP.'), { minItems: 1, maxItems: 4, default: [53], description: 'ports: DNS ports as the pods see them after Service translation, UDP and TCP. Default [53] (OpenShift DNS listens on 5353).' }),
          },
          { default: {}, description: 'dns: the resolver the scoring and trainer pods may query.' },
        ),
      },
      { default: {}, description: 'network: who may talk to the Recommender. Everything else is denied.' },
    ),
    experiments: Type.Object(
      {
        name: Type.String({ pattern: DNS_LABEL, maxLength: 63, default: 'default', description: 'name: of the experiment, in its report (`/v1/experiments/<name>/report`) and metrics. Default `default`.' }),
        variants: Type.Array(
          Type.Object({
            name: Type.String({ pattern: DNS_LABEL, maxLength: 63, description: 'name: the variant, reported on every response.' }),
            weight: Type.Integer({ minimum: 0, maximum: 100, description: 'weight: share of traffic in percent, 0–100.' }),
            modelVersion: Type.Optional(Type.String({ maxLength: 63, description: 'modelVersion: serve this model version to the variant; the main model when unset.' })),
            engine: Type.Optional(
              Type.Object(
                {
                  shrinkage: Type.Optional(Type.Number({ minimum: 0, maximum: 1000, description: 'shrinkage: pseudo-count of the shrunk lift (default 5).' })),
                  marginWeight: Type.Optional(Type.Number({ minimum: 0, maximum: 10, description: 'marginWeight: weight of the margin in the up-sell score (default 0.2).' })),
                  coldStartMinBaskets: Type.Optional(Type.Number({ minimum: 0, maximum: 1000, description: 'coldStartMinBaskets: items in fewer baskets borrow from similar items (default 3).' })),
                },
                { additionalProperties: false, description: 'engine: serve-time engine parameters of the variant; the config\'s when unset.' },
              ),
            ),
          }),
          { maxItems: 10, default: [], description: 'variants: A/B variants. When set, weights sum to 100 and names are unique.' },
        ),
      },
      {
        default: {},
        description: 'experiments: A/B tests between variants.',
        ...rules(
          {
            rule: 'size(self.variants) == 0 || self.variants.map(v, v.weight).sum() == 100',
            message: 'experiments.variants weights must sum to 100',
            fieldPath: '.variants',
          },
          {
            rule: 'self.variants.all(x, self.variants.exists_one(y, y.name == x.name))',
            message: 'experiments.variants names must be unique',
            fieldPath: '.variants',
          },
          {
            rule: 'size(self.variants) != 1',
            message: 'experiments.variants needs at least two variants to compare (or none)',
            fieldPath: '.variants',
          },
        ),
      },
    ),
    slo: Type.Object(
      {
        availabilityTarget: Type.Number({ minimum: 90, exclusiveMaximum: 100, default: 99.9, description: 'availabilityTarget: percent of requests answered without a 5xx, 90–<100. Default 99.9.' }),
        latencyThresholdMs: Type.Integer({ minimum: 1, maximum: 10000, default: 50, description: 'latencyThresholdMs: p99 latency objective in ms, 1–10000. Default 50.' }),
      },
      { default: {}, description: 'slo: objectives the alerts and dashboards are built from.' },
    ),
    monitoring: Type.Object(
      {
        labels: Type.Record(Type.String({ minLength: 1, maxLength: 317 }), Type.String({ maxLength: 63 }), {
          maxProperties: 16,
          default: {},
          description:
            'labels: extra labels on the PrometheusRule and the ServiceMonitor, e.g. `release: kube-prometheus-stack` so that a Prometheus selecting on it loads them. Default none; keys under `app.kubernetes.io/` are reserved.',
          ...rules({ rule: "self.all(k, !k.startsWith('app.kubernetes.io/'))", message: 'monitoring.labels must not set app.kubernetes.io/ labels: the operator selects its objects by them' }),
        }),
      },
      { default: {}, description: 'monitoring: how Prometheus finds the Recommender\'s rules and scrape config.' },
    ),
    audit: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'enabled: keep a replayable record of every recommendation shown. Default true.' }),
        retentionDays: Type.Integer({ minimum: 1, maximum: 400, default: 30, description: 'retentionDays: 1–400. Default 30.' }),
        stdout: Type.Boolean({ default: false, description: 'stdout: also write every record to the scoring container\'s stdout, for a SIEM. Default false.' }),
        maxFileMiB: Type.Integer({ minimum: 1, maximum: 1024, default: 64, description: 'maxFileMiB: an audit file is rotated at this size, 1–1024. Default 64.' }),
        rotateMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 60, description: 'rotateMinutes: and at this age, 1–1440. Default 60.' }),
      },
      { default: {}, description: 'audit: the decision trail, hash-chained JSON Lines on the state volume.' },
    ),
    privacy: Type.Object(
      {
        eventRetentionDays: Type.Integer({
          minimum: 1,
          maximum: 3650,
          default: 365,
          description: 'eventRetentionDays: events older than this are dropped at ingestion and training, and pruned from the events file, 1–3650. Default 365.',
        }),
      },
      { default: {}, description: 'privacy: how long shopper events are kept (pseudonymisation and erasure need no settings).' },
    ),
    auth: Type.Object(
      {
        apiKeysSecretRef: Type.Optional(SecretKeyRef('apiKeysSecretRef: the Secret holding the API keys. Default `<name>-auth`, key `api-keys`.', 'api-keys')),
        hmacKeySecretRef: Type.Optional(SecretKeyRef('hmacKeySecretRef: the Secret holding the key that pseudonymises user ids. Default `<name>-auth`, key `hmac-key`.', 'hmac-key')),
      },
      { default: {}, description: 'auth: Secret references; their values are never rendered into manifests.' },
    ),
    scoring: Type.Object(
      {
        upSellPriceBand: Type.Object(
          {
            min: Type.Number({ minimum: 1, maximum: 10, default: 1.05, description: 'min: lowest price ratio of an up-sell. Default 1.05.' }),
            max: Type.Number({ minimum: 1, maximum: 10, default: 1.6, description: 'max: highest price ratio of an up-sell. Default 1.6.' }),
          },
          {
            default: {},
            ...rules({ rule: 'self.min < self.max', message: 'scoring.upSellPriceBand.min must be less than scoring.upSellPriceBand.max', fieldPath: '.min' }),
          },
        ),
        maxItemsPerCategory: Type.Integer({ minimum: 1, maximum: 100, default: 3, description: 'maxItemsPerCategory: diversity cap. Default 3.' }),
      },
      { default: {}, description: 'scoring: business rules applied at serve time.' },
    ),
    paused: Type.Boolean({ default: false, description: 'paused: when true the operator reports status but changes nothing. Default false.' }),
  },
  {
    description: 'RecommenderSpec: the desired state of one shop\'s recommender stack.',
    ...rules({
      rule: "self.training.engine != 'spark' || self.model.storage.type == 'pvc'",
      message: "training.engine 'spark' needs model.storage.type 'pvc': the driver, its executors and the packing Job share the model volume",
      fieldPath: '.training.engine',
    }),
  },
);

export const ConditionSchema = Type.Object({
  type: Type.String({ maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' }),
  status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  reason: Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: Type.String({ maxLength: 32768 }),
});

export const RecommenderStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
    conditions: Type.Optional(Type.Array(ConditionSchema, { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })),
    modelVersion: Type.Optional(Type.String({ maxLength: 128 })),
    endpoint: Type.Optional(Type.String({ maxLength: 512 })),
    replicas: Type.Optional(Type.Integer({ minimum: 0 })),
    readyReplicas: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { description: 'RecommenderStatus: what the operator observed.' },
);

export type RecommenderSpec = Static<typeof RecommenderSpecSchema>;
export type RecommenderStatus = Static<typeof RecommenderStatusSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type LabelSelector = Static<typeof LabelSelectorSchema>;

/** A spec as a user may write it: every defaulted field optional. */
export type RecommenderSpecInput = DeepPartial<RecommenderSpec>;
type DeepPartial<T> = T extends (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set once deletion has begun (a string on the wire; typed as client-node's V1ObjectMeta has it). */
  deletionTimestamp?: Date;
}

export interface Recommender {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: RecommenderSpec;
  status?: RecommenderStatus;
}
