#!/bin/sh
# Builds the libFuzzer targets (tests/fuzz/) in their own tree and runs
# them one after another, then prints a line per target: seconds, runs,
# libFuzzer's final cov/ft figures, corpus size and crashes. Not part of
# make check or CI. Needs clang (tools/install-deps.sh --fuzz).
#
#   tools/fuzz.sh [-t SECONDS] [-j JOBS] [TARGET...]
#
# SECONDS per target (default 600); JOBS targets at once (default 1; the
# runs are niced). TARGET is a name such as jid (default: all of them). The
# tree is _build-fuzz, configured with
#   CC=clang --enable-fuzzing --enable-werror --disable-integration-tests
# Each target's run is in _build-fuzz/fuzz-runs/NAME/: corpus/ (the seeds,
# tests/fuzz/corpus/NAME/, copied, plus what the run found; kept for the
# next run), crashes/ (libFuzzer's crash-*, leak-*, timeout-* files) and
# log. A crash file replays with: _build-fuzz/tests/fuzz/fuzz_NAME FILE
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=600
jobs=1
while getopts t:j: opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-j JOBS] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
targets=${*:-"xml_stream worker_frame jid markup dataform"}
build=$top/_build-fuzz
[ -f "$build/Makefile" ] ||
    "$top/tools/build.sh" _build-fuzz CC=clang --enable-fuzzing --enable-werror \
        --disable-integration-tests
# shellcheck disable=SC2046 # one make argument per target
make -C "$build" -j2 $(for t in $targets; do echo "tests/fuzz/fuzz_$t"; done) >/dev/null

run_one() {
    name=$1
    dir=$build/fuzz-runs/$name
    mkdir -p "$dir/corpus" "$dir/crashes"
    for seed in "$top/tests/fuzz/corpus/$name/"*; do
        [ -e "$dir/corpus/${seed##*/}" ] || cp "$seed" "$dir/corpus/"
    done
    start=$(date +%s)
    # A broken promise is an abort: libFuzzer saves the input and stops.
    nice -n 19 "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" \
        -print_final_stats=1 -artifact_prefix="$dir/crashes/" "$dir/corpus" \
        >"$dir/log" 2>&1 || true
    end=$(date +%s)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
    final=$(grep -E '^#[0-9]+' "$dir/log" | tail -1 |
        sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\/[0-9a-zA-Z]*\).*/cov \1 ft \2 corpus \3/p')
    crashes=$(find "$dir/crashes" -type f | wc -l)
    echo "fuzz_$name: $((end - start)) s, ${runs:-?} runs, ${final:-no figures}, $crashes crashes"
}

pids=""
n=0
for t in $targets; do
    run_one "$t" &
    pids="$pids $!"
    n=$((n + 1))
    if [ "$n" -ge "$jobs" ]; then
        for p in $pids; do wait "$p"; done
        pids=""
        n=0
    fi
done
for p in $pids; do wait "$p"; done
status=0
for t in $targets; do
    [ -z "$(find "$build/fuzz-runs/$t/crashes" -type f)" ] || status=1
done
exit $status
