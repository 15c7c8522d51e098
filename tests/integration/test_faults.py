#!/usr/bin/python3
"""Faults: the transport heals itself.

Prosody + ngircd + ferry, alice registered and online on IRC:
- SIGKILL of her worker: she is back on IRC within 20 s, a message sent
  while she was reconnecting is delivered afterwards (outbox), and
  messages flow both ways again; ferry itself keeps running;
- ferry restarted: her session comes back by itself (probe at start);
- the IRC server restarted: the session reconnects with backoff.
Prints TAP.
"""

import asyncio
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Ferry, run_test, start_ferry  # noqa: E402
from transport import start_xmpp_and_irc, irc_presets, IrcPeer, XmppUser, transport_config, worker_pids  # noqa: E402

T = "irc.localhost"
BOB = "bob@" + T


async def round_trip(tap, alice, bob, label):
    alice.send_message(BOB, "ping %s" % label)
    got = await bob.privmsg_from("alice", 20)
    tap.ok(got == "ping %s" % label, "%s: XMPP -> IRC flows" % label, "got %r" % got)
    m0 = alice.mark()
    bob.send("PRIVMSG alice :pong %s" % label)
    msg = await alice.message_from(BOB, since=m0, timeout=20)
    tap.ok(msg is not None and msg.child_text("body") == "pong %s" % label,
           "%s: IRC -> XMPP flows" % label, str(msg))


async def worker_kill(tap, prosody, irc, ferry):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice, \
            IrcPeer(irc.port, "bob") as bob:
        r = await alice.register(T, {"username": "alice"})
        tap.ok(r.type == "result", "alice registers", str(r))
        tap.ok(await bob.wait_ison("alice", True, 30), "alice is on IRC")
        tap.ok(await alice.transport_connected(T) is not None,
               "the transport says it is connected")
        await round_trip(tap, alice, bob, "before the kill")

        pids = worker_pids(ferry)
        tap.ok(len(pids) == 1, "one worker process serves alice", str(pids))
        t0 = time.monotonic()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        # Sent at once: the session is reconnecting, so it waits in the outbox.
        alice.send_message(BOB, "sent while reconnecting")
        tap.ok(await bob.wait_ison("alice", False, 10), "the kill drops alice from IRC")
        back = await bob.wait_ison("alice", True, 20)
        took = time.monotonic() - t0
        tap.ok(back, "alice is back on IRC within 20 s of the SIGKILL (%.1f s)" % took)
        got = await bob.privmsg_from("alice", 20)
        tap.ok(got == "sent while reconnecting",
               "the message sent during the reconnect is delivered after it", repr(got))
        new = worker_pids(ferry)
        tap.ok(len(new) == 1 and new != pids, "a new worker replaced the killed one",
               "before %s, after %s" % (pids, new))
        tap.ok(ferry.running(), "ferry itself kept running")
        await round_trip(tap, alice, bob, "after the kill")

        # -- ferry restarts: the session comes back by itself
        rc, killed = ferry.stop()
        tap.ok(not killed, "ferry stops on SIGTERM", "exit %s" % rc)
        tap.ok(await bob.wait_ison("alice", False, 15),
               "stopping ferry logs alice out of IRC (workers stopped)")
        mark = ferry.mark()
        ferry.start()
        tap.ok(ferry.wait_for_log(Ferry.ONLINE, 20, since=mark) is not None,
               "ferry restarts")
        tap.ok(await bob.wait_ison("alice", True, 30),
               "after the restart alice's session comes back by itself")
        await round_trip(tap, alice, bob, "after the ferry restart")

    # -- the IRC server restarts: the session reconnects with backoff
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        async with IrcPeer(irc.port, "carl") as carl:
            tap.ok(await carl.wait_ison("alice", True, 30), "alice is on IRC again")
        mark = ferry.mark()
        irc.stop()
        retry = ferry.wait_for_log(r"session: alice@localhost: disconnected \(.*\); "
                                   r"retrying in ([0-9.]+) s", 20, since=mark)
        tap.ok(retry is not None, "the lost IRC link is retried with a delay",
               ferry.log_tail)
        irc.start()
        async with IrcPeer(irc.port, "bob") as bob:
            back = await bob.wait_ison("alice", True, 60)
            tap.ok(back, "after the IRC server restart alice reconnects by herself",
                   ferry.log_tail)
            if back:
                await round_trip(tap, alice, bob, "after the IRC restart")
    tap.ok(ferry.running(), "ferry is still running at the end")


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(run, T)
    ferry = start_ferry(tap, run, **transport_config(
        prosody, presets=irc_presets(irc)))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(worker_kill(tap, prosody, irc, ferry), 300))


def main():
    return run_test("faults", ("prosody", "prosodyctl", "ngircd"), body)

if __name__ == "__main__":
    sys.exit(main())
