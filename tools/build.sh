#!/bin/sh
# Builds ferry out of tree in $1 (default: _build) with extra configure
# arguments after it. Used by demo.sh and test.sh.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-_build}
shift 2>/dev/null || true
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] && [ configure -nt Makefile.am ] || autoreconf -fi
mkdir -p "$dir"
cd "$dir"
"$top/configure" -q "$@"
make -j"$(nproc)"
