#!/bin/sh
# The README's test command: installs what the tests need (Debian 12, as
# root), builds with warnings as errors, and runs every test: unit tests and
# integration tests against real Prosody, ejabberd and ngircd, the format
# check, the same tests under AddressSanitizer + UndefinedBehaviorSanitizer,
# and `make distcheck`. Exits non-zero on the first failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/tools/install-deps.sh" --tests
export FERRY_REQUIRE_ALL=1   # a missing server fails the run; nothing is skipped

step() { printf '\n==== %s ====\n' "$*"; }

step "build (gcc, -Werror) and make check"
tools/build.sh _build --enable-werror
make -C _build check-format
make -C _build -j2 check || { cat _build/test-suite.log; exit 1; }

step "AddressSanitizer + UndefinedBehaviorSanitizer build and make check"
tools/build.sh _build-asan --enable-werror --enable-asan --enable-ubsan CFLAGS="-O1 -g"
ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    make -C _build-asan -j2 check || { cat _build-asan/test-suite.log; exit 1; }

step "make distcheck"
make -C _build -j2 distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror

step "all tests passed"
