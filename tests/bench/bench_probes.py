#!/usr/bin/python3
"""Memory of ferry after N presence probes to distinct contacts outside one
user's roster ([limits] max_pending_probes bounds the state they leave).

Starts Prosody + ngircd + ferry on loopback, registers one user, sends N
probes to p0..pN-1 at the transport, waits until ferry has answered the
last, and prints ferry's RSS before and after. Usage:

    FERRY_BUILDDIR=_build /usr/bin/python3 tests/bench/bench_probes.py 20000

A benchmark: it prints figures and asserts nothing.
"""

import asyncio
import os
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Ferry, TestRun  # noqa: E402
from tap import Tap  # noqa: E402
from transport import XmppUser, irc_presets, start_xmpp_and_irc, transport_config  # noqa: E402

T = "irc.localhost"


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


async def probe(ferry, prosody, n):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        r = await alice.register(T, {"username": "alice"}, timeout=60)
        if r.type != "result":
            print("registration failed: %s" % r)
            return
        await alice.transport_connected(T, timeout=30)
        await asyncio.sleep(2)
        before = rss_kib(ferry.popen.pid)
        t0 = time.monotonic()
        for i in range(n):
            alice.send_presence(to="p%d@%s" % (i, T), ptype="probe")
            if i % 500 == 499:
                await asyncio.sleep(0)
        last = "p%d@%s" % (n - 1, T)
        await alice.wait_for(lambda x: x.kind == "presence" and
                             (x.sender or "").split("/")[0] == last, timeout=300)
        took = time.monotonic() - t0
        await asyncio.sleep(2)
        after = rss_kib(ferry.popen.pid)
        print("%d probes in %.1f s: ferry RSS %d KiB before, %d KiB after (+%d KiB)"
              % (n, took, before, after, after - before))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    tap = Tap()
    run = TestRun("bench_probes", tap)
    try:
        prosody, irc = start_xmpp_and_irc(run, T, ["alice@localhost"])
        ferry = run.add(Ferry(run.path("ferry"), level="info",
                              **transport_config(prosody, presets=irc_presets(irc))))
        ferry.start()
        if ferry.wait_for_log(Ferry.ONLINE, 30) is None:
            print("ferry did not attach")
            return 1
        asyncio.run(probe(ferry, prosody, n))
        ferry.stop()
    finally:
        run.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
