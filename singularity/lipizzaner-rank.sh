#!/usr/bin/env bash
# One rank of a Lipizzaner batch job, started once per GPU by jsrun (LSF) or srun (Slurm) from
# singularity/lsf/lipizzaner.lsf or singularity/slurm/lipizzaner.sbatch, which set the variables
# below. Rank 0 starts Redis, the S3 server (when LIPIZZANER_MINIO names a MinIO binary) and the
# coordinator, submits the run (unless the job directory already contains one, as after a
# resubmission) and waits for it to end. Every other rank runs one cell worker in the image.
#
# Required: LIPIZZANER_IMAGE (the .sif file), LIPIZZANER_JOB_DIR (a folder on the shared file
# system, kept across resubmissions), LIPIZZANER_CONFIG (the run's YAML), LIPIZZANER_JOB_ID,
# LIPIZZANER_DEADLINE (Unix time at which every rank stops), LIPIZZANER_WORKER_RANKS, and the
# secrets LIPIZZANER_TOKEN and LIPIZZANER_REDIS_PASSWORD (plus LIPIZZANER_S3_ACCESS_KEY and
# LIPIZZANER_S3_SECRET_KEY with MinIO).
# Files: rank 0 alone writes services-JOB.env, run-id, state-JOB, status-JOB.json and results-JOB.txt
# in the job directory; each rank writes only its own logs under logs/JOB/.
set -euo pipefail

rank=${JSM_NAMESPACE_RANK:-${SLURM_PROCID:-${OMPI_COMM_WORLD_RANK:-}}}
local_rank=${JSM_NAMESPACE_LOCAL_RANK:-${SLURM_LOCALID:-${OMPI_COMM_WORLD_LOCAL_RANK:-0}}}
if [[ -z "$rank" ]]; then
  echo "error: no rank: start this script with jsrun or srun (JSM_NAMESPACE_RANK or SLURM_PROCID unset)" >&2
  exit 2
fi

: "${LIPIZZANER_IMAGE:?must name the Lipizzaner .sif image}"
: "${LIPIZZANER_JOB_DIR:?must name the job directory on the shared file system}"
: "${LIPIZZANER_CONFIG:?must name the run configuration}"
: "${LIPIZZANER_JOB_ID:?must be the scheduler job id}"
: "${LIPIZZANER_DEADLINE:?must be the Unix time at which the job stops}"
: "${LIPIZZANER_WORKER_RANKS:?must be the number of worker ranks}"
: "${LIPIZZANER_TOKEN:?must be the coordinator token}"
: "${LIPIZZANER_REDIS_PASSWORD:?must be the Redis password}"

job_dir=$LIPIZZANER_JOB_DIR
job=$LIPIZZANER_JOB_ID
singularity_cmd=${LIPIZZANER_SINGULARITY:-singularity}
bind_address=${LIPIZZANER_BIND_ADDRESS:-0.0.0.0}
redis_port=${LIPIZZANER_REDIS_PORT:-6379}
s3_port=${LIPIZZANER_S3_PORT:-9000}
coordinator_port=${LIPIZZANER_COORDINATOR_PORT:-5080}
worker_port=$(( ${LIPIZZANER_WORKER_PORT_BASE:-5100} + local_rank ))
startup_timeout=${LIPIZZANER_STARTUP_TIMEOUT:-300}
log_dir="$job_dir/logs/$job"
services_file="$job_dir/services-$job.env"
run_id_file="$job_dir/run-id"
state_file="$job_dir/state-$job"
mkdir -p "$log_dir"

log() { printf '%s rank %s: %s\n' "$(date -u +%H:%M:%S)" "$rank" "$*" >&2; }

# Sets image_argv to "singularity SUBCOMMAND [OPTIONS] IMAGE ARGS...", binding the job directory,
# the folder of the run configuration and LIPIZZANER_BIND (comma-separated paths) at the same
# paths inside the image.
image_command() {
  local subcommand=$1
  shift
  image_argv=("$singularity_cmd" "$subcommand" --bind "$job_dir" --bind "$(dirname "$LIPIZZANER_CONFIG")")
  if [[ -n "${LIPIZZANER_BIND:-}" ]]; then
    image_argv+=(--bind "$LIPIZZANER_BIND")
  fi
  image_argv+=("$@")
}

in_image() {
  image_command "$@"
  "${image_argv[@]}"
}

seconds_left() { echo $(( LIPIZZANER_DEADLINE - $(date +%s) )); }

# Waits until CHECK (a command) succeeds, at most TIMEOUT seconds. Fails with a message naming WHAT.
wait_until() {
  local what=$1 timeout=$2
  shift 2
  local stop=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) >= stop )); then
      log "error: $what not ready after $timeout s"
      return 1
    fi
    sleep 1
  done
  log "$what ready"
}

http_ok() { curl -fsS --max-time 5 -o /dev/null "$1"; }

# Any HTTP status means the server listens, because MinIO and other S3 servers respond to / differently.
http_answers() {
  local code
  code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$1" || true)
  [[ "$code" != 000 && -n "$code" ]]
}

redis_ping() {
  [[ "$(REDISCLI_AUTH=$LIPIZZANER_REDIS_PASSWORD in_image exec "$LIPIZZANER_IMAGE" \
    redis-cli -h "$1" -p "$redis_port" ping 2>/dev/null)" == PONG ]]
}

# Writes a file atomically: readers on other nodes see the old content or the new, never a part.
write_atomically() {
  local target=$1 content=$2
  printf '%s\n' "$content" > "$target.tmp.$$"
  mv -f "$target.tmp.$$" "$target"
}

redis_connection() { echo "$1:$redis_port,password=$LIPIZZANER_REDIS_PASSWORD,abortConnect=false"; }

# Processes of the services that rank 0 started; global, because the EXIT trap reads it.
service_pids=()

# Stops the services: Redis by SHUTDOWN (it writes its append-only file), the others by SIGTERM,
# and whatever still runs 30 s later by SIGKILL.
stop_services() {
  log "stopping the services"
  REDISCLI_AUTH=$LIPIZZANER_REDIS_PASSWORD in_image exec "$LIPIZZANER_IMAGE" \
    redis-cli -h 127.0.0.1 -p "$redis_port" shutdown >/dev/null 2>&1 || true
  local pid stop=$(( $(date +%s) + 30 ))
  for pid in "${service_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${service_pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && (( $(date +%s) < stop )); do sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "process $pid did not stop within 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
}

run_services() {
  local host=${LIPIZZANER_SERVICE_HOST:-$(hostname -f)}
  trap stop_services EXIT

  # Redis with an append-only file in the job directory, so a resubmitted job continues its state.
  # The password is passed on standard input, so it does not appear in the process list.
  mkdir -p "$job_dir/redis"
  printf 'requirepass "%s"\n' "$LIPIZZANER_REDIS_PASSWORD" | in_image exec "$LIPIZZANER_IMAGE" \
    redis-server - --bind "$bind_address" --port "$redis_port" --dir "$job_dir/redis" \
    --appendonly yes --save '' --protected-mode no > "$log_dir/redis.log" 2>&1 &
  service_pids+=($!)
  wait_until "Redis on port $redis_port" "$startup_timeout" redis_ping 127.0.0.1

  local checkpoint_env=()
  if [[ -n "${LIPIZZANER_MINIO:-}" ]]; then
    mkdir -p "$job_dir/s3"
    MINIO_ROOT_USER=$LIPIZZANER_S3_ACCESS_KEY MINIO_ROOT_PASSWORD=$LIPIZZANER_S3_SECRET_KEY \
      "$LIPIZZANER_MINIO" server --address "$bind_address:$s3_port" "$job_dir/s3" > "$log_dir/s3.log" 2>&1 &
    service_pids+=($!)
    wait_until "S3 server on port $s3_port" "$startup_timeout" http_answers "http://127.0.0.1:$s3_port/"
    checkpoint_env=("LIPIZZANER_S3_ENDPOINT=http://$host:$s3_port")
  fi

  local workers=$LIPIZZANER_WORKER_RANKS cells=${LIPIZZANER_CELLS_PER_WORKER:-1}
  image_command run "$LIPIZZANER_IMAGE" coordinator
  env ASPNETCORE_URLS="http://$bind_address:$coordinator_port" \
    Lipizzaner__Token="$LIPIZZANER_TOKEN" \
    ConnectionStrings__redis="$(redis_connection 127.0.0.1)" \
    Lipizzaner__Distribution__MinClients="${LIPIZZANER_MIN_CLIENTS:-$(( workers * cells ))}" \
    Lipizzaner__Distribution__MaxClients="${LIPIZZANER_MAX_CLIENTS:-$(( workers * cells ))}" \
    Lipizzaner__Distribution__LeaseDuration="${LIPIZZANER_LEASE_DURATION:-00:01:00}" \
    Lipizzaner__Distribution__RegistrationTimeout="${LIPIZZANER_REGISTRATION_TIMEOUT:-00:10:00}" \
    Lipizzaner__Distribution__MaxDeadCells="${LIPIZZANER_MAX_DEAD_CELLS:-$workers}" \
    "${image_argv[@]}" > "$log_dir/coordinator.log" 2>&1 &
  service_pids+=($!)
  local local_url="http://127.0.0.1:$coordinator_port"
  wait_until "coordinator on port $coordinator_port" "$startup_timeout" http_ok "$local_url/health"

  local coordinator_url="http://$host:$coordinator_port"
  if [[ -s "$run_id_file" ]]; then
    log "continuing run $(cat "$run_id_file") (resubmitted job)"
  else
    local run_id
    run_id=$(LIPIZZANER_TOKEN=$LIPIZZANER_TOKEN in_image run "$LIPIZZANER_IMAGE" cli submit \
      -f "$LIPIZZANER_CONFIG" --coordinator "$local_url" \
      --set "general.checkpoint_period=${LIPIZZANER_CHECKPOINT_PERIOD:-1}" 2>>"$log_dir/cli.log")
    write_atomically "$run_id_file" "$run_id"
    log "submitted run $run_id, checkpoint period ${LIPIZZANER_CHECKPOINT_PERIOD:-1} generations"
  fi
  local run_id
  run_id=$(cat "$run_id_file")

  # Published last, so workers start only once every service they need responds.
  write_atomically "$services_file" "$(printf '%s\n' \
    "LIPIZZANER_COORDINATOR_URL=$coordinator_url" \
    "LIPIZZANER_REDIS_HOST=$host" \
    "${checkpoint_env[@]}")"

  local state=""
  while (( $(seconds_left) > 0 )); do
    state=$(in_image run "$LIPIZZANER_IMAGE" cli status "$run_id" --json --coordinator "$local_url" 2>>"$log_dir/cli.log" \
      | sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p' | head -n 1 || true)
    case "$state" in
      completed|aborted|failed) break ;;
    esac
    sleep "${LIPIZZANER_POLL_SECONDS:-10}"
  done
  if [[ "$state" != completed && "$state" != aborted && "$state" != failed ]]; then
    state=timeout
    log "wall-time limit reached; run $run_id continues after a resubmission"
  else
    log "run $run_id $state"
    in_image run "$LIPIZZANER_IMAGE" cli status "$run_id" --json --coordinator "$local_url" \
      > "$job_dir/status-$job.json" 2>>"$log_dir/cli.log" || true
    # The best cell and its score; a run without scoring has none, and then no results file.
    if ! in_image run "$LIPIZZANER_IMAGE" cli results "$run_id" --coordinator "$local_url" \
      > "$job_dir/results-$job.txt" 2>>"$log_dir/cli.log"; then
      rm -f "$job_dir/results-$job.txt"
    fi
  fi
  write_atomically "$state_file" "$state"
}

run_worker() {
  wait_until "service address file $services_file" "$startup_timeout" test -s "$services_file"
  # shellcheck disable=SC1090
  source "$services_file"
  wait_until "coordinator at $LIPIZZANER_COORDINATOR_URL" "$startup_timeout" http_ok "$LIPIZZANER_COORDINATOR_URL/health"
  wait_until "run id file $run_id_file" "$startup_timeout" test -s "$run_id_file"

  local checkpoint_env
  if [[ -n "${LIPIZZANER_S3_ENDPOINT:-}" ]]; then
    checkpoint_env="ConnectionStrings__minio=Endpoint=$LIPIZZANER_S3_ENDPOINT;AccessKey=$LIPIZZANER_S3_ACCESS_KEY;SecretKey=$LIPIZZANER_S3_SECRET_KEY"
  else
    mkdir -p "$job_dir/checkpoints"
    checkpoint_env="Lipizzaner__Worker__CheckpointFolder=$job_dir/checkpoints"
  fi

  local left
  left=$(seconds_left)
  if (( left <= 0 )); then
    log "no time left before the deadline; not starting a worker"
    return 0
  fi
  log "starting worker $(hostname -s)-r$rank for run $(cat "$run_id_file"), $left s left"
  # The worker stops by SIGTERM at the deadline; its cells resume from their last checkpoints.
  local status=0
  image_command run --nv "$LIPIZZANER_IMAGE" worker
  env "$checkpoint_env" \
    ASPNETCORE_URLS="http://$bind_address:$worker_port" \
    Lipizzaner__Coordinator="$LIPIZZANER_COORDINATOR_URL" \
    Lipizzaner__Token="$LIPIZZANER_TOKEN" \
    ConnectionStrings__redis="$(redis_connection "$LIPIZZANER_REDIS_HOST")" \
    Lipizzaner__Worker__RunId="$(cat "$run_id_file")" \
    Lipizzaner__Worker__Id="$(hostname -s)-r$rank" \
    Lipizzaner__Worker__Capacity="${LIPIZZANER_CELLS_PER_WORKER:-1}" \
    Lipizzaner__Worker__RequireGpu="${LIPIZZANER_REQUIRE_GPU:-true}" \
    LIPIZZANER_CACHE="${LIPIZZANER_CACHE:-$job_dir/cache}" \
    timeout --signal=TERM --kill-after=60 "$left" \
    "${image_argv[@]}" > "$log_dir/worker-$rank.log" 2>&1 || status=$?
  if (( status == 124 )); then
    log "worker stopped at the deadline"
    return 0
  fi
  log "worker exited with status $status"
  return "$status"
}

if (( rank == 0 )); then
  run_services
else
  run_worker
fi
