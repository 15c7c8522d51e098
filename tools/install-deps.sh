#!/bin/sh
# Installs what ferry needs on Debian 12: build tools and libraries, and with
# --tests also the real servers and client library the tests drive.
# Must run as root (or through sudo). Idempotent.
set -eu
build="gcc make autoconf automake libtool pkg-config libglib2.0-dev libexpat1-dev
       libssl-dev libsqlite3-dev libpurple-dev"
run="prosody ngircd python3-slixmpp openssl ca-certificates iproute2 procps"
tests="prosody-modules ejabberd clang-format"
pkgs="$build $run"
[ "${1:-}" = "--tests" ] && pkgs="$pkgs $tests"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (sudo $0 $*)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packaged servers must not start system-wide services as a side effect of
# installing them: ferry's demo and tests run their own private instances.
policy=/usr/sbin/policy-rc.d
added_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    added_policy=yes
fi
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $pkgs
[ "$added_policy" = yes ] && rm -f "$policy"
exit 0
