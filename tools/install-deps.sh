#!/bin/sh
# Installs what ferry needs on Debian 12: build tools and libraries; with
# --tests also the real servers and client library the tests drive; with
# --bench also Biboumi, the gateway the benchmarks compare ferry with; with
# --fuzz clang and its libFuzzer/sanitizer runtimes (tools/fuzz.sh; not CI).
# Must run as root (or through sudo). Idempotent: apt runs only when a
# package is missing.
set -eu
build="gcc make autoconf automake libtool pkg-config libglib2.0-dev libexpat1-dev
       libssl-dev libsqlite3-dev libpurple-dev libseccomp-dev libqrencode-dev"
run="prosody ngircd python3-slixmpp openssl ca-certificates iproute2 procps"
tests="prosody-modules ejabberd clang-format zbar-tools"
bench="biboumi"
fuzz="clang libclang-rt-dev"
pkgs="$build $run"
for arg in "$@"; do
    case $arg in
    --tests) pkgs="$pkgs $tests" ;;
    --bench) pkgs="$pkgs $bench" ;;
    --fuzz) pkgs="$pkgs $fuzz" ;;
    *) echo "install-deps.sh: unknown option $arg (--tests, --bench, --fuzz)" >&2; exit 2 ;;
    esac
done
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (sudo $0 $*)" >&2
    exit 1
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Packaged servers must not start system-wide services as a side effect of
# installing them: ferry's demo, tests and benchmarks run private instances.
policy=/usr/sbin/policy-rc.d
added_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    added_policy=yes
    trap 'rm -f "$policy"' EXIT INT TERM
fi
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing
if [ "$added_policy" = yes ]; then
    rm -f "$policy"
    trap - EXIT INT TERM
fi
exit 0
