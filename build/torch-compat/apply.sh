#!/usr/bin/env bash
# Makes TorchSharp's native library load on systems whose libstdc++ predates GCC 13 (no
# GLIBCXX_3.4.32, for example Debian 12). Usage: apply.sh DIR, where DIR contains
# libLibTorchSharp.so. Does nothing on newer systems or when DIR is already patched.
# The build calls this after every copy of the native files (see Directory.Build.targets).
set -euo pipefail

target_dir=${1:?usage: apply.sh DIR}
library="$target_dir/libLibTorchSharp.so"
shim_name=libios_base_library_init.so
[[ -f "$library" ]] || exit 0
[[ "$(uname -s)" == Linux ]] || exit 0

system_libstdcxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }')
if [[ -z "$system_libstdcxx" ]] || grep -q GLIBCXX_3.4.32 "$system_libstdcxx"; then
  exit 0
fi
if [[ -f "$target_dir/$shim_name" ]] && readelf -d "$library" | grep -q "$shim_name"; then
  exit 0
fi
if ! command -v patchelf >/dev/null; then
  echo "error: $library needs GLIBCXX_3.4.32, which $system_libstdcxx lacks; install patchelf (apt-get install -y patchelf) so the build can patch it" >&2
  exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
tools="$here/obj"
mkdir -p "$tools"
# A lock keeps parallel builds of several projects from compiling the tools at the same time.
exec 9>"$tools/.lock"
flock 9
if [[ ! -x "$tools/mark_version_weak" || "$here/mark_version_weak.cpp" -nt "$tools/mark_version_weak" ]]; then
  g++ -O2 -o "$tools/mark_version_weak.tmp" "$here/mark_version_weak.cpp"
  mv -f "$tools/mark_version_weak.tmp" "$tools/mark_version_weak"
fi
if [[ ! -f "$tools/$shim_name" || "$here/ios_base_library_init.cpp" -nt "$tools/$shim_name" ]]; then
  g++ -O2 -shared -fPIC -o "$tools/$shim_name.tmp" "$here/ios_base_library_init.cpp"
  mv -f "$tools/$shim_name.tmp" "$tools/$shim_name"
fi

# Patch a copy, then move it over the original, so an interrupted build never leaves a
# half-written library behind.
cp -f "$tools/$shim_name" "$target_dir/$shim_name"
work="$library.patching"
cp -f "$library" "$work"
patchelf --clear-symbol-version _ZSt21ios_base_library_initv "$work"
patchelf --add-needed "$shim_name" "$work"
"$tools/mark_version_weak" "$work" GLIBCXX_3.4.32
mv -f "$work" "$library"
echo "patched $library for $system_libstdcxx (no GLIBCXX_3.4.32)"
