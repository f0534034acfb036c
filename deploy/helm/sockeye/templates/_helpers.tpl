{{/* Release-scoped names: "sockeye" for a release named sockeye, else "<release>-sockeye". */}}
{{- define "sockeye.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{ else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" }}{{ end }}
{{- end }}
{{- define "sockeye.labels" -}}
app.kubernetes.io/part-of: sockeye
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
