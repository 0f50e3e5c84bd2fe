# shellcheck shell=bash
# Shared by singularity/lsf/lipizzaner.lsf and singularity/slurm/lipizzaner.sbatch (sourced).
# lipizzaner_prepare_job sets up the job directory, the secrets, the deadline and the checkpoint
# period; lipizzaner_finish_job reads the run's state and resubmits the job when the wall time
# ran out before the run ended.
#
# Settings (environment variables; defaults in brackets):
#   LIPIZZANER_IMAGE                the .sif image [$LIPIZZANER_SOURCE/lipizzaner.sif]
#   LIPIZZANER_CONFIG               the run's YAML configuration (required)
#   LIPIZZANER_JOB_DIR              shared folder of this run, kept across resubmissions
#                                   [$LIPIZZANER_SOURCE/runs/<job name>]
#   LIPIZZANER_WALLTIME_MINUTES     the job's wall-time limit; keep it equal to the header's
#   LIPIZZANER_STOP_MARGIN_SECONDS  time kept free before the limit for a clean stop [300]
#   LIPIZZANER_SECONDS_PER_GENERATION  estimated duration of one generation of a cell [60]
#   LIPIZZANER_MAX_LOSS_SHARE       share of the wall time a stop may lose, sets the checkpoint
#                                   period [0.1]
#   LIPIZZANER_MAX_RESUBMITS        resubmissions before giving up [5]
#   LIPIZZANER_MINIO                a MinIO server binary; unset: checkpoints in the job directory
# and the ports and timeouts that singularity/lipizzaner-rank.sh reads.

lipizzaner_log() { printf '%s job: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Usage: lipizzaner_prepare_job JOB_ID JOB_NAME WORKER_RANKS
lipizzaner_prepare_job() {
  local job_id=$1 job_name=$2 worker_ranks=$3
  : "${LIPIZZANER_CONFIG:?must name the run configuration (YAML)}"
  : "${LIPIZZANER_WALLTIME_MINUTES:?must be the job wall-time limit in minutes}"
  if (( worker_ranks < 1 )); then
    echo "error: the job needs at least 2 resource sets or tasks (rank 0 runs the services), got $((worker_ranks + 1))" >&2
    return 1
  fi
  export LIPIZZANER_IMAGE=${LIPIZZANER_IMAGE:-$LIPIZZANER_SOURCE/lipizzaner.sif}
  export LIPIZZANER_JOB_DIR=${LIPIZZANER_JOB_DIR:-$LIPIZZANER_SOURCE/runs/$job_name}
  LIPIZZANER_CONFIG=$(realpath "$LIPIZZANER_CONFIG")
  export LIPIZZANER_CONFIG LIPIZZANER_JOB_ID=$job_id LIPIZZANER_WORKER_RANKS=$worker_ranks
  [[ -f "$LIPIZZANER_IMAGE" ]] || { echo "error: image $LIPIZZANER_IMAGE not found; build it with singularity/build.sh" >&2; return 1; }
  mkdir -p "$LIPIZZANER_JOB_DIR"
  chmod 700 "$LIPIZZANER_JOB_DIR"

  # Secrets are made once per run and kept for resubmissions: MinIO's data and the coordinator's
  # state in Redis outlive a job. A value already in the environment (e.g. the keys of a site's
  # MinIO) is kept, the others are generated. Only this script writes the file, before any rank starts.
  local secrets="$LIPIZZANER_JOB_DIR/secrets.env"
  if [[ ! -s "$secrets" ]]; then
    (
      umask 077
      {
        echo "LIPIZZANER_TOKEN=${LIPIZZANER_TOKEN:-$(lipizzaner_random 40)}"
        echo "LIPIZZANER_REDIS_PASSWORD=${LIPIZZANER_REDIS_PASSWORD:-$(lipizzaner_random 32)}"
        echo "LIPIZZANER_S3_ACCESS_KEY=${LIPIZZANER_S3_ACCESS_KEY:-lipizzaner$(lipizzaner_random 8)}"
        echo "LIPIZZANER_S3_SECRET_KEY=${LIPIZZANER_S3_SECRET_KEY:-$(lipizzaner_random 40)}"
      } > "$secrets.tmp"
      mv -f "$secrets.tmp" "$secrets"
    )
  fi
  set -a
  # shellcheck disable=SC1090
  source "$secrets"
  set +a

  local limit=$(( LIPIZZANER_WALLTIME_MINUTES * 60 ))
  local margin=${LIPIZZANER_STOP_MARGIN_SECONDS:-300}
  if (( limit <= margin )); then
    echo "error: LIPIZZANER_WALLTIME_MINUTES=$LIPIZZANER_WALLTIME_MINUTES leaves no time after the stop margin of $margin s" >&2
    return 1
  fi
  export LIPIZZANER_DEADLINE=$(( $(date +%s) + limit - margin ))

  # A stop at the deadline loses at most one checkpoint period of training per cell, so the
  # period is the share LIPIZZANER_MAX_LOSS_SHARE of the usable wall time, in generations.
  if [[ -z "${LIPIZZANER_CHECKPOINT_PERIOD:-}" ]]; then
    LIPIZZANER_CHECKPOINT_PERIOD=$(awk -v usable=$(( limit - margin )) -v share="${LIPIZZANER_MAX_LOSS_SHARE:-0.1}" \
      -v generation="${LIPIZZANER_SECONDS_PER_GENERATION:-60}" \
      'BEGIN { period = int(usable * share / generation); print (period < 1 ? 1 : period) }')
    export LIPIZZANER_CHECKPOINT_PERIOD
  fi
  lipizzaner_log "job $job_id: $worker_ranks worker rank(s), job directory $LIPIZZANER_JOB_DIR, stops at $(date -u -d "@$LIPIZZANER_DEADLINE" +%H:%M:%S) UTC, checkpoint period $LIPIZZANER_CHECKPOINT_PERIOD generation(s)"
}

lipizzaner_random() {
  local length=$1 value=""
  while (( ${#value} < length )); do
    value+=$(head -c 64 /dev/urandom | tr -dc 'A-Za-z0-9')
  done
  printf '%s' "${value:0:length}"
}

# Usage: lipizzaner_finish_job LAUNCHER_STATUS RESUBMIT_COMMAND...
# Returns 0 when the run completed or was resubmitted, 1 otherwise.
lipizzaner_finish_job() {
  local launcher_status=$1
  shift
  local state_file="$LIPIZZANER_JOB_DIR/state-$LIPIZZANER_JOB_ID" state
  state=$(cat "$state_file" 2>/dev/null || echo unknown)
  lipizzaner_log "ranks ended with status $launcher_status; run state: $state"
  case "$state" in
    completed)
      lipizzaner_log "final status: $LIPIZZANER_JOB_DIR/status-$LIPIZZANER_JOB_ID.json"
      return 0 ;;
    timeout)
      local count=${LIPIZZANER_RESUBMIT_COUNT:-0}
      if (( count >= ${LIPIZZANER_MAX_RESUBMITS:-5} )); then
        lipizzaner_log "error: the run did not finish after $count resubmission(s); resubmit by hand to continue"
        return 1
      fi
      export LIPIZZANER_RESUBMIT_COUNT=$(( count + 1 ))
      lipizzaner_log "resubmitting (resubmission $LIPIZZANER_RESUBMIT_COUNT): $*"
      "$@"
      return 0 ;;
    *)
      lipizzaner_log "error: the run ended as '$state'; logs are in $LIPIZZANER_JOB_DIR/logs/$LIPIZZANER_JOB_ID"
      return 1 ;;
  esac
}
