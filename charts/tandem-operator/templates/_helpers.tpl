{{/*
Names and labels. The bundle's labels (`app.kubernetes.io/{name,part-of}: tandem`, `component: operator`)
are fixed: the operator and the dashboards select on them. Helm adds `instance`, `managed-by`, `version` and
`helm.sh/chart` to object metadata only, never to selectors or pod templates.
*/}}

{{/* Name of every object: at most 55 characters, so "<name>-metrics" stays a valid Service name. */}}
{{- define "tandem-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end }}

{{/* Selects the operator pods (Deployment, Service, PDB, NetworkPolicy, spread). Equal to the bundle's. */}}
{{- define "tandem-operator.selectorLabels" -}}
app.kubernetes.io/component: operator
app.kubernetes.io/name: tandem
{{- end }}

{{/* Labels of the operator pods. */}}
{{- define "tandem-operator.podLabels" -}}
{{ include "tandem-operator.selectorLabels" . }}
app.kubernetes.io/part-of: tandem
{{- with .Values.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of every object: the bundle's, plus Helm's. */}}
{{- define "tandem-operator.labels" -}}
{{ include "tandem-operator.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
app.kubernetes.io/part-of: tandem
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | quote }}
{{- end }}

{{/* The operator image: repository:tag (tag defaults to appVersion), or repository@digest. */}}
{{- define "tandem-operator.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end }}

{{/* The Role (and binding) that lets the operator hold its Lease. */}}
{{- define "tandem-operator.leaderElectionName" -}}
{{- printf "%s-leader-election" (include "tandem-operator.fullname" .) -}}
{{- end }}

{{/*
Rules across values that values.schema.json cannot state with a clear message. Included by the Deployment,
so `helm template`, `helm install` and `helm lint` all fail on them.
*/}}
{{- define "tandem-operator.validate" -}}
{{- if and (not .Values.leaderElect) (gt (int .Values.replicas) 1) -}}
{{- fail (printf "values: 'replicas' (%d) must be at most 1 when 'leaderElect' is false: operators without leader election would reconcile the same Recommenders at once" (int .Values.replicas)) -}}
{{- end -}}
{{- if eq (int .Values.metrics.port) (int .Values.health.port) -}}
{{- fail (printf "values: 'metrics.port' and 'health.port' must differ, both are %d" (int .Values.metrics.port)) -}}
{{- end -}}
{{- range $key := list "app.kubernetes.io/name" "app.kubernetes.io/component" "app.kubernetes.io/part-of" -}}
{{- if hasKey $.Values.podLabels $key -}}
{{- fail (printf "values: 'podLabels' may not set %q: the operator pods' name, component and part-of labels are fixed (the selectors use them)" $key) -}}
{{- end -}}
{{- end -}}
{{- end }}
