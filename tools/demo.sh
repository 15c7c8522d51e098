#!/bin/sh
# The README's demo command: installs what ferry needs (Debian 12, as root),
# builds it, and runs it. With no XMPP server of your own, it starts a
# throwaway one on loopback (see tools/demo.py), attaches ferry and prints
# how to log in with a client. Ctrl-C stops everything it started and keeps
# the logs (it prints where).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/tools/install-deps.sh"
tools/build.sh _build
FERRY_BUILDDIR="$top/_build" exec /usr/bin/python3 "$top/tools/demo.py" "$@"
