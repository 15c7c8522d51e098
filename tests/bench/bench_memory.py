#!/usr/bin/python3
"""Memory of ferry and its workers with U online IRC users.

Starts Prosody + ngircd + ferry on loopback, registers U XMPP users with
the IRC transport, brings them online, waits until every nick is on IRC,
lets things settle, and prints RSS and PSS (from /proc/PID/smaps_rollup) of
ferry and of its workers, summed. Usage:

    FERRY_BUILDDIR=_build /usr/bin/python3 tests/bench/bench_memory.py 1 50

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
from servers import Ngircd, Prosody  # noqa: E402
from tap import Tap  # noqa: E402
from transport import IrcPeer, XmppUser, children_of, transport_config  # noqa: E402

T = "irc.localhost"


def rollup(pid):
    """(rss_kib, pss_kib) of a process."""
    out = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:"):
                out[parts[0][:-1]] = int(parts[1])
    return out["Rss"], out["Pss"]


def measure(ferry):
    pids = [ferry.popen.pid] + [p for p in children_of(ferry.popen.pid)]
    ferry_rss, ferry_pss = rollup(pids[0])
    workers = [rollup(p) for p in pids[1:]]
    return {"ferry_rss": ferry_rss, "ferry_pss": ferry_pss,
            "workers": len(workers),
            "workers_rss": sum(w[0] for w in workers),
            "workers_pss": sum(w[1] for w in workers)}


async def bring_online(prosody, irc, count, settle):
    users = []
    for i in range(count):
        u = XmppUser("u%03d@localhost" % i, "pw", prosody.c2s_port, timeout=60)
        users.append(await u.__aenter__())
    results = await asyncio.gather(*[u.register(T, {"username": "u%03d" % i})
                                     for i, u in enumerate(users)])
    bad = [r for r in results if r.type != "result"]
    if bad:
        print("registration failures: %d (first: %s)" % (len(bad), bad[0]))
    async with IrcPeer(irc.port, "watcher") as w:
        deadline = time.monotonic() + 120
        for i in range(count):
            await w.wait_ison("u%03d" % i, True, max(deadline - time.monotonic(), 1))
    await asyncio.sleep(settle)
    return users


def run_one(count, settle=12):
    tap = Tap(out=open(os.devnull, "w"))
    run = TestRun("bench-memory", tap)
    try:
        prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"],
                                  component=T, secret="s3cret"))
        prosody.start()
        for i in range(count):
            prosody.register("u%03d" % i, "localhost", "pw")
        irc = run.add(Ngircd(run.path("ngircd")))
        irc.start()
        ferry = run.add(Ferry(run.path("ferry"), level="message", **transport_config(
            prosody, presets={"server": "127.0.0.1", "port": str(irc.port),
                              "ssl": "false"})))
        ferry.start()
        ferry.wait_for_log(Ferry.ONLINE, 20)
        time.sleep(2)
        idle = measure(ferry)

        async def go():
            users = await bring_online(prosody, irc, count, settle)
            figures = measure(ferry)
            for u in users:
                await u.close()
            return figures
        online = asyncio.run(go())
        return idle, online
    finally:
        run.cleanup()


def main():
    counts = [int(a) for a in sys.argv[1:]] or [1, 50]
    print("%6s %8s | %9s %9s | %7s %11s %11s | %9s %9s"
          % ("users", "state", "ferry RSS", "ferry PSS", "workers", "workers RSS",
             "workers PSS", "total RSS", "total PSS"))
    for n in counts:
        idle, online = run_one(n)
        for state, f in (("idle", idle), ("online", online)):
            print("%6d %8s | %7d k %7d k | %7d %9d k %9d k | %7d k %7d k"
                  % (n, state, f["ferry_rss"], f["ferry_pss"], f["workers"],
                     f["workers_rss"], f["workers_pss"],
                     f["ferry_rss"] + f["workers_rss"], f["ferry_pss"] + f["workers_pss"]))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
