#!/usr/bin/python3
"""What prpl-irc's reader does with a NUL byte from the server (a developer
measurement, ~40 s, not in `make check`).

ngircd never relays a NUL (it stops reading the sender's connection at
one: tests/integration/test_content.py), so a fake IRC server plays the
network here: Prosody + ferry, alice registered on the fake server, which
then sends her a line, a line with a NUL followed by another line in the
same write, a line in a later write, and a PING. Prints how long each took
to reach alice, or that it did not within the wait.

libpurple 2.14's read_input() (protocols/irc/irc.c) looks for the end of a
line with strstr(), which stops at the NUL; the unfinished "line" is kept
at the start of the buffer, so every later line waits behind it.

    FERRY_BUILDDIR=_build /usr/bin/python3 tests/tools/irc_nul_probe.py
"""

import asyncio
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Ferry, TestRun  # noqa: E402
from servers import Prosody, free_ports  # noqa: E402
from tap import Tap  # noqa: E402
from transport import XmppUser, transport_config  # noqa: E402

T = "irc.localhost"
WAIT = 5.0


class FakeIrc:
    """Welcomes one client per connection, answers PING and ISON, and keeps
    the newest connection for the probe to write to."""

    def __init__(self):
        self.writer = None
        self.received = []

    async def serve(self, reader, writer):
        nick, user, welcomed = None, False, False
        while True:
            raw = await reader.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.received.append(line)
            cmd = line.split(" ")[0].upper()
            if cmd == "NICK":
                nick = line.split(" ")[1]
            elif cmd == "USER":
                user = True
            if nick and user and not welcomed:
                welcomed = True
                writer.write((":fake 001 %s :Welcome\r\n:fake 375 %s :motd\r\n"
                              ":fake 376 %s :End\r\n" % (nick, nick, nick)).encode())
                self.writer = writer
            elif cmd == "PING":
                writer.write((":fake PONG fake :%s\r\n"
                              % line.split(" ", 1)[1].lstrip(":")).encode())
            elif cmd == "ISON":
                writer.write((":fake 303 %s :\r\n" % nick).encode())
            await writer.drain()


async def probe(run, prosody, port):
    fake = FakeIrc()
    server = await asyncio.start_server(fake.serve, "127.0.0.1", port)
    ferry = run.add(Ferry(run.path("ferry"), **transport_config(
        prosody, presets={"server": "127.0.0.1", "port": str(port), "ssl": "false",
                          "ratelimit-interval": "0"})))
    ferry.start()
    if ferry.wait_for_log(Ferry.ONLINE, 30) is None:
        print("ferry did not attach")
        return
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        r = await alice.register(T, {"username": "alice"})
        connected = await alice.transport_connected(T, timeout=40)
        if r.type != "result" or connected is None or fake.writer is None:
            print("alice did not get online: %s" % r)
            return

        async def arrives(data, body):
            m0 = alice.mark()
            fake.writer.write(data)
            await fake.writer.drain()
            t0 = time.monotonic()
            got = await alice.wait_for(
                lambda x: x.kind == "message" and x.child_text("body") == body, WAIT, m0)
            took = time.monotonic() - t0
            print("%-58s %s" % (repr(data)[:58], "arrived in %.3f s" % took if got
                                else "not within %.0f s" % WAIT))

        await arrives(b":bob!b@h PRIVMSG alice :before\r\n", "before")
        await arrives(b":bob!b@h PRIVMSG alice :nul\x00here\r\n"
                      b":bob!b@h PRIVMSG alice :same read\r\n", "same read")
        await arrives(b":carol!c@h PRIVMSG alice :later write\r\n", "later write")
        seen = len(fake.received)
        fake.writer.write(b"PING :probe\r\n")
        await fake.writer.drain()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and \
                not any("probe" in x for x in fake.received[seen:]):
            await asyncio.sleep(0.1)
        print("the server's PING after the NUL answered: %s"
              % any("probe" in x for x in fake.received[seen:]))
    ferry.stop()
    server.close()


def main():
    run = TestRun("irc-nul-probe", Tap())
    try:
        prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"], component=T,
                                  secret="s3cret-%s" % os.urandom(6).hex()))
        prosody.start()
        prosody.register("alice", "localhost", "alicepw")
        asyncio.run(asyncio.wait_for(probe(run, prosody, free_ports(1)[0]), 150))
    finally:
        problems = run.cleanup()
        if problems:
            print("\n".join(problems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
