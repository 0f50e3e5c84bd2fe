#!/usr/bin/env bash
# Container health check without curl: sends GET PATH to the service on 127.0.0.1 and succeeds on
# HTTP 200. Usage: healthcheck.sh [PATH], default /alive. The port is the first of
# ASPNETCORE_HTTP_PORTS (the .NET images set 8080), or LIPIZZANER_HEALTH_PORT when set.
set -euo pipefail

path=${1:-/alive}
ports=${ASPNETCORE_HTTP_PORTS:-8080}
port=${LIPIZZANER_HEALTH_PORT:-${ports%%[,;]*}}

exec 3<>"/dev/tcp/127.0.0.1/$port" || { echo "health check: nothing listens on 127.0.0.1:$port" >&2; exit 1; }
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
status_line=""
if ! IFS= read -r -t 5 status_line <&3; then
  echo "health check: no response from 127.0.0.1:$port$path within 5 s" >&2
  exit 1
fi
exec 3<&-
if [[ "$status_line" != HTTP/1.[01]\ 200* ]]; then
  echo "health check: 127.0.0.1:$port$path returned '${status_line%$'\r'}'" >&2
  exit 1
fi
