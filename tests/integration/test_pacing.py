#!/usr/bin/python3
"""Workers kept ready and paced logins, with real Prosody and ngircd.

ferry with [workers] min_workers = 1, login_rate = 2, login_burst = 1:
- a worker runs as soon as ferry is attached, before anyone registered;
- four users register and are on IRC (registrations are not queued);
- ferry restarts: the probe brings all four sessions back, their logins
  at least 1/login_rate apart (first at once), and all four are on IRC
  again.
Prints TAP.
"""

import asyncio
import datetime
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Ferry, run_test, start_ferry  # noqa: E402
from servers import Ngircd, Prosody, wait_until  # noqa: E402
from transport import IrcPeer, XmppUser, irc_presets, transport_config, worker_pids  # noqa: E402

T = "irc.localhost"
USERS = ["ann", "ben", "cat", "dan"]
RATE = 2  # logins per second
LOGIN = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ \w+: session: (\w+)@localhost: "
                   r"logging in to ", re.M)


def login_times(text):
    """(time, user) of each session login in a ferry log, in order."""
    return [(datetime.datetime.strptime(t, "%Y-%m-%d %H:%M:%S.%f"), u)
            for t, u in LOGIN.findall(text)]


async def scenario(tap, prosody, irc, ferry):
    tap.ok(wait_until(lambda: len(worker_pids(ferry)) == 1, 10),
           "a worker is running before any user (min_workers = 1)",
           "workers: %s" % worker_pids(ferry))

    users = {}
    async with IrcPeer(irc.port, "watcher") as watcher:
        for name in USERS:
            u = XmppUser("%s@localhost" % name, "pw", prosody.c2s_port)
            users[name] = await u.__aenter__()
        results = await asyncio.gather(*[users[n].register(T, {"username": n}) for n in USERS])
        tap.ok(all(r.type == "result" for r in results), "four users register",
               str([str(r) for r in results]))
        on = [await watcher.wait_ison(n, True, 30) for n in USERS]
        tap.ok(all(on), "all four are on IRC", str(dict(zip(USERS, on))))

        rc, killed = ferry.stop()
        tap.ok(not killed, "ferry stops", "exit %s" % rc)
        mark = ferry.mark()
        ferry.start()
        tap.ok(ferry.wait_for_log(Ferry.ONLINE, 20, since=mark) is not None, "ferry restarts")
        on = [await watcher.wait_ison(n, True, 30) for n in USERS]
        tap.ok(all(on), "after the restart all four are on IRC again",
               str(dict(zip(USERS, on))))

        logins = login_times(ferry.log_text()[mark:])
        tap.ok(sorted(u for _, u in logins) == sorted(USERS),
               "one login per user after the restart", str(logins))
        gaps = [(b[0] - a[0]).total_seconds() for a, b in zip(logins, logins[1:])]
        tap.ok(len(gaps) == len(USERS) - 1 and min(gaps) >= 1.0 / RATE - 0.05,
               "the logins are at least 1/login_rate apart", "gaps: %s" % gaps)
        for u in users.values():
            await u.__aexit__(None, None, None)


def body(tap, run):
    prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"], component=T))
    prosody.start()
    for name in USERS:
        prosody.register(name, "localhost", "pw")
    irc = run.add(Ngircd(run.path("ngircd")))
    irc.start()
    ferry = start_ferry(tap, run, **transport_config(
        prosody, presets=irc_presets(irc),
        extra={"workers": {"min_workers": "1", "login_rate": str(RATE),
                           "login_burst": "1"}}))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(scenario(tap, prosody, irc, ferry), 240))


def main():
    return run_test("pacing", ("prosody", "prosodyctl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
