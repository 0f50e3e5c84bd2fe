{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "lipizzaner.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; names of components append "-coordinator", "-worker", ... to it. */}}
{{- define "lipizzaner.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "lipizzaner.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "lipizzaner.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: lipizzaner
{{- end }}

{{/* Selector labels of a component; call with (dict "context" $ "component" "coordinator"). */}}
{{- define "lipizzaner.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lipizzaner.name" .context }}
app.kubernetes.io/instance: {{ .context.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Full image reference; call with (dict "context" $ "image" .Values.x.image "suffix" "-cpu"). */}}
{{- define "lipizzaner.image" -}}
{{- $registry := .context.Values.image.registry | trimSuffix "/" }}
{{- $tag := .image.tag | default (printf "%s%s" (.context.Values.image.tag | default .context.Chart.AppVersion) (.suffix | default "")) }}
{{- if $registry }}
{{- printf "%s/%s:%s" $registry .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{/* Name of the Secret with the chart's generated credentials. */}}
{{- define "lipizzaner.secretName" -}}
{{- printf "%s-credentials" (include "lipizzaner.fullname" .) }}
{{- end }}

{{/* Secret and key of the coordinator's bearer token. */}}
{{- define "lipizzaner.tokenSecret" -}}
{{- .Values.auth.existingSecret | default (include "lipizzaner.secretName" .) }}
{{- end }}

{{/* Secret of the Redis password. */}}
{{- define "lipizzaner.redisSecret" -}}
{{- if .Values.redis.enabled }}
{{- .Values.redis.auth.existingSecret | default (include "lipizzaner.secretName" .) }}
{{- else }}
{{- required "redis.auth.existingSecret must name the Secret with the external Redis password when redis.enabled is false" .Values.redis.auth.existingSecret }}
{{- end }}
{{- end }}

{{/* Secret of the S3 access key and secret key. */}}
{{- define "lipizzaner.s3Secret" -}}
{{- if .Values.minio.enabled }}
{{- .Values.minio.auth.existingSecret | default (include "lipizzaner.secretName" .) }}
{{- else }}
{{- required "minio.auth.existingSecret must name the Secret with the external S3 keys when minio.enabled is false" .Values.minio.auth.existingSecret }}
{{- end }}
{{- end }}

{{/* Whether checkpoints go to S3 (in-chart MinIO or external) rather than a shared folder. */}}
{{- define "lipizzaner.usesS3" -}}
{{- if eq .Values.checkpoints.store "s3" }}true{{ end }}
{{- end }}

{{/* host:port of Redis. */}}
{{- define "lipizzaner.redisAddress" -}}
{{- if .Values.redis.enabled }}
{{- printf "%s-redis:%d" (include "lipizzaner.fullname" .) (int .Values.redis.port) }}
{{- else }}
{{- printf "%s:%d" (required "redis.external.host is required when redis.enabled is false" .Values.redis.external.host) (int .Values.redis.external.port) }}
{{- end }}
{{- end }}

{{/* S3 endpoint URL. */}}
{{- define "lipizzaner.s3Endpoint" -}}
{{- if .Values.minio.enabled }}
{{- printf "http://%s-minio:%d" (include "lipizzaner.fullname" .) (int .Values.minio.port) }}
{{- else }}
{{- required "minio.external.endpoint is required when minio.enabled is false and checkpoints.store is s3" .Values.minio.external.endpoint }}
{{- end }}
{{- end }}

{{/* Coordinator URL inside the cluster. */}}
{{- define "lipizzaner.coordinatorUrl" -}}
{{- printf "http://%s-coordinator:%d" (include "lipizzaner.fullname" .) (int .Values.coordinator.service.port) }}
{{- end }}

{{/*
Environment of the Redis connection. The password comes from its Secret, and the connection
string refers to it with Kubernetes' $(VAR) expansion, so no object other than the Secret holds it.
*/}}
{{- define "lipizzaner.redisEnv" -}}
- name: LIPIZZANER_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "lipizzaner.redisSecret" . }}
      key: {{ .Values.redis.auth.passwordKey }}
- name: ConnectionStrings__redis
  value: {{ printf "%s,password=$(LIPIZZANER_REDIS_PASSWORD)%s,abortConnect=false" (include "lipizzaner.redisAddress" .) (ternary ",ssl=true" "" (and (not .Values.redis.enabled) .Values.redis.external.ssl)) | quote }}
{{- end }}

{{/* Environment of the coordinator's bearer token. */}}
{{- define "lipizzaner.tokenEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "lipizzaner.tokenSecret" .context }}
      key: {{ .context.Values.auth.tokenKey }}
{{- end }}

{{/* Pod-level security settings shared by the Lipizzaner pods. */}}
{{- define "lipizzaner.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{/* Container-level security settings shared by the Lipizzaner containers. */}}
{{- define "lipizzaner.securityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}

{{/* Cells of capacity the coordinator waits for: coordinator.distribution.minClients, or every worker's cells when 0. */}}
{{- define "lipizzaner.minClients" -}}
{{- $all := mul (int .Values.workers.replicas) (int .Values.workers.cellsPerWorker) }}
{{- if gt (int .Values.coordinator.distribution.minClients) 0 }}{{ int .Values.coordinator.distribution.minClients }}{{ else }}{{ $all }}{{ end }}
{{- end }}

{{/* Most cells used: coordinator.distribution.maxClients, or every worker's cells when 0. */}}
{{- define "lipizzaner.maxClients" -}}
{{- $all := mul (int .Values.workers.replicas) (int .Values.workers.cellsPerWorker) }}
{{- if gt (int .Values.coordinator.distribution.maxClients) 0 }}{{ int .Values.coordinator.distribution.maxClients }}{{ else }}{{ $all }}{{ end }}
{{- end }}

{{/* Probes on the ServiceDefaults endpoints: liveness on /alive, readiness on /health. */}}
{{- define "lipizzaner.probes" -}}
startupProbe:
  httpGet:
    path: /alive
    port: http
  periodSeconds: 5
  failureThreshold: {{ .startupFailureThreshold | default 24 }}
livenessProbe:
  httpGet:
    path: /alive
    port: http
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /health
    port: http
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end }}
