{{/*
Pod spec of a short-lived CLI pod (the submit Job and the helm test); call with
(dict "context" $ "name" "submit" "script" "...").
*/}}
{{- define "lipizzaner.clientPodSpec" -}}
{{- $ := .context -}}
automountServiceAccountToken: false
restartPolicy: Never
{{- with $.Values.image.pullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . }}
  {{- end }}
{{- end }}
securityContext:
  {{- include "lipizzaner.podSecurityContext" $ | nindent 2 }}
containers:
  - name: {{ .name }}
    image: {{ include "lipizzaner.image" (dict "context" $ "image" $.Values.tests.image) | quote }}
    imagePullPolicy: {{ $.Values.image.pullPolicy }}
    command: [bash, -c]
    args:
      - {{ .script | quote }}
    env:
      - name: LIPIZZANER_COORDINATOR
        value: {{ include "lipizzaner.coordinatorUrl" $ | quote }}
      {{- include "lipizzaner.tokenEnv" (dict "context" $ "name" "LIPIZZANER_TOKEN") | nindent 6 }}
      - name: TMPDIR
        value: /tmp
    resources:
      requests:
        cpu: 100m
        memory: 256Mi
      limits:
        memory: 512Mi
    securityContext:
      {{- include "lipizzaner.securityContext" $ | nindent 6 }}
    volumeMounts:
      - name: run-config
        mountPath: /etc/lipizzaner
        readOnly: true
      - name: tmp
        mountPath: /tmp
volumes:
  - name: run-config
    configMap:
      name: {{ include "lipizzaner.fullname" $ }}-run
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- with $.Values.coordinator.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $.Values.coordinator.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
