#!/bin/sh
# The benchmark suite in one command (Debian 12, as root):
#
#     ./tools/bench.sh [bench.py options]     e.g. --quick, --users 1,50,500,
#                                             --repeats 3, --json FILE,
#                                             --ferry-config workers.login_rate=200
#     ./tools/bench.sh --muc [bench_muc.py options]   the group-chat benchmark
#                                             (--quick, --big 0, --perf ferry)
#
# Installs what it needs (tools/install-deps.sh --bench: apt runs only when
# something is missing),
# builds ferry with tools/build.sh in $FERRY_BENCH_BUILDDIR (default
# _build-bench; ferry's bench_parser is built with it), then runs
# tests/bench/bench.py, which starts its own Prosody, ngircd, Biboumi and
# ferry on 127.0.0.1, prints a table and writes JSON (bench-results.json by
# default). Set FERRY_BUILDDIR to benchmark an existing build instead.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "bench.sh: run as root (sudo $0 $*)" >&2
    exit 1
fi

"$top/tools/install-deps.sh" --bench

if [ -z "${FERRY_BUILDDIR:-}" ]; then
    build=${FERRY_BENCH_BUILDDIR:-_build-bench}
    case $build in /*) ;; *) build=$top/$build ;; esac
    "$top/tools/build.sh" "$build"
    FERRY_BUILDDIR=$build
fi
export FERRY_BUILDDIR
cd "${FERRY_BENCH_OUTDIR:-$PWD}"
if [ "${1:-}" = "--muc" ]; then
    shift
    exec /usr/bin/python3 "$top/tests/bench/bench_muc.py" "$@"
fi
exec /usr/bin/python3 "$top/tests/bench/bench.py" "$@"
