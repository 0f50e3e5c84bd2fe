#!/usr/bin/env bash
# Publishes the coordinator, the cell worker and the CLI as self-contained linux-x64 programs into
# singularity/stage, copies MNIST from the download cache, and builds lipizzaner.sif with
# singularity (or apptainer). Usage, from anywhere:
#   singularity/build.sh [OUTPUT.sif [BUILD OPTION...]]   CPU libtorch
#   TORCH_BACKEND=cuda singularity/build.sh               CUDA libtorch (the package feed must serve it)
# Options after OUTPUT.sif go to `singularity build`, for example --build-arg BASE_IMAGE=debian:12.
# STAGE_ONLY=1 stops after staging, for machines without singularity.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
output=${1:-$root/lipizzaner.sif}
build_options=("${@:2}")
backend=${TORCH_BACKEND:-cpu}
stage="$here/stage"

# shellcheck source=build/prerequisites.sh
source "$root/build/prerequisites.sh"
lipizzaner_ensure_prerequisites

rm -rf "$stage"
mkdir -p "$stage"
publish() {
  local project=$1 target=$2
  echo "Publishing $project ($backend) into $stage/$target" >&2
  dotnet publish "$root/$project" -c Release -r linux-x64 --self-contained \
    -p:TorchBackend="$backend" -o "$stage/$target" --nologo -v quiet
}
publish services/Lipizzaner.Coordinator/Lipizzaner.Coordinator.csproj coordinator
publish services/Lipizzaner.CellWorker/Lipizzaner.CellWorker.csproj cellworker
publish services/Lipizzaner.Cli/Lipizzaner.Cli.csproj cli
echo "$backend" > "$stage/cellworker/torch-backend"

# MNIST from the verified cache (filled by ./lipizzaner classifier train or any training run).
cache=${LIPIZZANER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lipizzaner}
mkdir -p "$stage/mnist"
for file in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [[ ! -f "$cache/mnist/$file" ]]; then
    echo "error: $cache/mnist/$file is missing; run ./lipizzaner classifier train once to fetch MNIST" >&2
    exit 1
  fi
  cp "$cache/mnist/$file" "$stage/mnist/"
done

if [[ "${STAGE_ONLY:-0}" == 1 ]]; then
  echo "Staged into $stage" >&2
  exit 0
fi
builder=$(command -v singularity || command -v apptainer || true)
if [[ -z "$builder" ]]; then
  echo "error: neither singularity nor apptainer is on PATH; build $output on a machine that has one (STAGE_ONLY=1 stages only)" >&2
  exit 1
fi
cd "$here"
"$builder" build --fakeroot "${build_options[@]}" "$output" lipizzaner.def
