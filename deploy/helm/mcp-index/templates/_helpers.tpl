{{/* Names, labels and the pieces every workload shares. */}}

{{- define "mcp-index.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcp-index.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "mcp-index.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mcp-index.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-index.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "mcp-index.labels" -}}
{{ include "mcp-index.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "mcp-index.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Secret the pods load: the chart's own, or one managed outside it. */}}
{{- define "mcp-index.secretName" -}}
{{- if .Values.existingSecret -}}
{{ .Values.existingSecret }}
{{- else -}}
{{ include "mcp-index.fullname" . }}
{{- end -}}
{{- end -}}

{{/* stringData of the chart's Secret: required keys fail the render when empty. */}}
{{- define "mcp-index.secretData" -}}
DJANGO_SECRET_KEY: {{ required "secret.DJANGO_SECRET_KEY is required (or set existingSecret)" .Values.secret.DJANGO_SECRET_KEY | quote }}
MCP_INDEX_JWT_PRIVATE_KEY: {{ required "secret.MCP_INDEX_JWT_PRIVATE_KEY is required (or set existingSecret)" .Values.secret.MCP_INDEX_JWT_PRIVATE_KEY | quote }}
DATABASE_URL: {{ required "secret.DATABASE_URL is required (or set existingSecret)" .Values.secret.DATABASE_URL | quote }}
REDIS_URL: {{ required "secret.REDIS_URL is required (or set existingSecret)" .Values.secret.REDIS_URL | quote }}
CELERY_BROKER_URL: {{ required "secret.CELERY_BROKER_URL is required (or set existingSecret)" .Values.secret.CELERY_BROKER_URL | quote }}
{{- with .Values.secret.DATABASE_REPLICA_URL }}
DATABASE_REPLICA_URL: {{ . | quote }}
{{- end }}
{{- with .Values.secret.MCP_INDEX_METRICS_TOKEN }}
MCP_INDEX_METRICS_TOKEN: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Pod spec fields shared by web, worker, beat and the migrations Job. */}}
{{- define "mcp-index.podDefaults" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: 256Mi
{{- end -}}

{{/* Container fields shared by every workload: image, settings, a writable /tmp. */}}
{{- define "mcp-index.containerDefaults" -}}
image: {{ include "mcp-index.image" . | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
envFrom:
  - configMapRef:
      name: {{ include "mcp-index.fullname" . }}
  - secretRef:
      name: {{ include "mcp-index.secretName" . }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}

{{/* Pod template annotations: a config or secret change rolls the pods. */}}
{{- define "mcp-index.podAnnotations" -}}
checksum/config: {{ toYaml .Values.config | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include "mcp-index.secretData" . | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end -}}
