#!/usr/bin/env bash
# Times generations of a 2x2 grid of 4lp GANs on MNIST (batch 100, 100 batches per generation)
# against a plain G+D step loop measured in the same process, and the Redis center exchange per
# cell and generation (needs redis-server), and the coordinator registering and leasing 324 cells. Results: docs/benchmarks.md.
# Usage: benchmarks/run.sh [generation|exchange|coordinator|all] [timed generations, default 3] [cells in parallel, default: processors]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../build/prerequisites.sh
source "$root/build/prerequisites.sh"
lipizzaner_ensure_prerequisites
exec dotnet run -c Release --project "$root/benchmarks/Lipizzaner.Benchmarks" -- "$@"
