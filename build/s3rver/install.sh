#!/usr/bin/env bash
# Installs the S3-protocol test server s3rver 3.7.1 into build/s3rver/node_modules-root (git-ignored)
# and corrects the XML namespace of its list responses, without which the Minio SDK's ListObjects
# returns nothing. Safe to run again: an existing install is kept and the correction is idempotent.
# Usage: build/s3rver/install.sh   (needs node and npm on PATH)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
prefix="$here/node_modules-root"
package="$prefix/node_modules/s3rver"
version=3.7.1

command -v npm >/dev/null || { echo "npm is missing: install Node.js and npm (apt-get install -y nodejs npm)" >&2; exit 1; }

installed=""
if [[ -f "$package/package.json" ]]; then
  installed=$(node -p "require('$package/package.json').version")
fi
if [[ "$installed" != "$version" ]]; then
  mkdir -p "$prefix"
  npm install --no-save --no-audit --no-fund --prefix "$prefix" "s3rver@$version"
fi

wrong='http://doc.s3.amazonaws.com/2006-03-01/'
right='http://s3.amazonaws.com/doc/2006-03-01/'
shopt -s nullglob
controllers=("$package"/lib/controllers/*.js)
if (( ${#controllers[@]} == 0 )); then
  echo "s3rver controllers not found under $package/lib/controllers" >&2
  exit 1
fi
for file in "${controllers[@]}"; do
  if grep -qF "$wrong" "$file"; then
    sed -i "s#${wrong}#${right}#g" "$file"
  fi
done

test -x "$package/bin/s3rver.js" || chmod +x "$package/bin/s3rver.js" 2>/dev/null || true
echo "s3rver $version ready: $package/bin/s3rver.js"
