#!/usr/bin/python3
"""A NUL byte from the IRC side (issue 10, item 12).

ngircd never relays a NUL (tests/integration/test_content.py), so a fake
IRC server on 127.0.0.1 (tests/tools/irc_nul_probe.py's: 001, PING, ISON)
plays a network that does. Prosody + ferry, alice registered there; the
server sends her a line, then in one write a line with a NUL and another
line, then a line in a later write, then a PING. Before the worker's
nul_filter.c, prpl-irc's strstr() stopped at the NUL and every later line
(and the PING) stalled behind it; now the NUL is dropped: all arrive and
the PING is answered.
Prints TAP.
"""

import asyncio
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

from harness import run_test, start_ferry  # noqa: E402
from irc_nul_probe import FakeIrc  # noqa: E402
from servers import Prosody, free_ports  # noqa: E402
from transport import XmppUser, transport_config  # noqa: E402

T = "irc.localhost"
WAIT = 10.0


async def scenario(tap, run, prosody):
    fake = FakeIrc()
    port = free_ports(1)[0]
    server = await asyncio.start_server(fake.serve, "127.0.0.1", port)
    try:
        ferry = start_ferry(tap, run, **transport_config(
            prosody, presets={"server": "127.0.0.1", "port": str(port),
                              "ssl": "false", "ratelimit-interval": "0",
                              "ferry.allowed_servers": "127.0.0.1"}))
        if ferry is None:
            return
        async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
            r = await alice.register(T, {"username": "alice"})
            tap.ok(r.type == "result", "alice registers on the fake IRC server", str(r))
            connected = await alice.transport_connected(T, timeout=40)
            tap.ok(connected is not None and fake.writer is not None, "alice is online")
            if fake.writer is None:
                return

            async def arrives(data, body, what):
                m0 = alice.mark()
                fake.writer.write(data)
                await fake.writer.drain()
                t0 = time.monotonic()
                got = await alice.wait_for(
                    lambda x: x.kind == "message" and x.child_text("body") == body, WAIT, m0)
                tap.ok(got is not None, "%s arrives (%.2f s)" % (what, time.monotonic() - t0),
                       ferry.log_tail())

            await arrives(b":bob!b@h PRIVMSG alice :before\r\n", "before", "a line")
            await arrives(b":bob!b@h PRIVMSG alice :nul\x00here\r\n"
                          b":bob!b@h PRIVMSG alice :same read\r\n", "nulhere",
                          "the line with a NUL, without it")
            got = await alice.wait_for(
                lambda x: x.kind == "message" and x.child_text("body") == "same read", WAIT)
            tap.ok(got is not None, "the line after it in the same read arrives")
            await arrives(b":carol!c@h PRIVMSG alice :later write\r\n", "later write",
                          "a line in a later write")
            seen = len(fake.received)
            fake.writer.write(b"PING :probe\r\n")
            await fake.writer.drain()
            for _ in range(int(WAIT * 10)):
                if any("probe" in x for x in fake.received[seen:]):
                    break
                await asyncio.sleep(0.1)
            tap.ok(any("probe" in x for x in fake.received[seen:]),
                   "the server's PING after the NUL is answered")
            tap.ok(ferry.count(r"NUL byte\(s\) from the server removed") >= 1,
                   "the worker logs the NULs it removed")
    finally:
        server.close()


def body(tap, run):
    prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"], component=T,
                              secret="s3cret-%s" % os.urandom(6).hex()))
    prosody.start()
    prosody.register("alice", "localhost", "alicepw")
    asyncio.run(asyncio.wait_for(scenario(tap, run, prosody), 150))


def main():
    return run_test("irc-nul", ("prosody", "prosodyctl"), body)


if __name__ == "__main__":
    sys.exit(main())
