#!/bin/sh
# The README's test command: installs what the tests need (Debian 12, as
# root), and passes every test a developer needs, each suite once:
#   1. gcc, warnings as errors: the format check, then every unit test and
#      every integration test (real Prosody, ejabberd, ngircd, slixmpp);
#   2. AddressSanitizer + UndefinedBehaviorSanitizer: the unit tests and the
#      integration tests nearest to memory handling (make check-sanitizer);
#   3. make distcheck: the tarball builds out of tree and passes the unit
#      tests.
# Exits non-zero on the first failure; prints how long each step took.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
start=$(date +%s)
last=
step() {
    now=$(date +%s)
    [ -z "$last" ] || printf '(%s s)\n' "$((now - last))"
    last=$now
    printf '\n==== %s ====\n' "$*"
}

step "install what the tests need"
"$top/tools/install-deps.sh" --tests
export FERRY_REQUIRE_ALL=1   # a missing server fails the run; nothing is skipped

step "build (gcc, -Werror), format check, unit and integration tests"
tools/build.sh _build --enable-werror
make -C _build check-format
make -C _build -j2 check || { cat _build/test-suite.log; exit 1; }

step "AddressSanitizer + UndefinedBehaviorSanitizer: unit tests, faults, stream, worker protocol"
tools/build.sh _build-asan --enable-werror --enable-asan --enable-ubsan CFLAGS="-O1 -g"
ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    make -C _build-asan -j2 check-sanitizer || { cat _build-asan/test-suite.log; exit 1; }

step "make distcheck (the tarball, unit tests)"
make -C _build -j2 distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror

step "all tests passed in $(( $(date +%s) - start )) s"
