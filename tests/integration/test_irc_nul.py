#!/usr/bin/python3
"""A NUL byte from the IRC side (issue 10, item 12).

ngircd never relays a NUL (tests/integration/test_content.py), so a fake
IRC server on 127.0.0.1 (transport.FakeIrc: 001, PING, ISON)
plays a network that does. Prosody + ferry, alice registered there; the
server sends her a line, then in one write a line with a NUL and another
line, then a write of only NULs (not an end of stream), then a line in a
later write, then a PING. Before the worker's nul_filter.c, prpl-irc's
strstr() stopped at the NUL and every later line
(and the PING) stalled behind it; now the NUL is dropped: all arrive and
the PING is answered.
The same again over TLS (IRC's default; the fake server with a test CA's
certificate, ferry trusting that CA): there prpl-irc reads with
purple_ssl_read(), which the plain read() filter did not see, so the NUL
stalled it the same way until nul_filter.c interposed that too.
Prints TAP.
"""

import asyncio
import os
import ssl
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

from harness import run_test, start_ferry  # noqa: E402
from servers import Prosody, TestCA, free_ports  # noqa: E402
from transport import FakeIrc, XmppUser, transport_config  # noqa: E402

T = "irc.localhost"
WAIT = 10.0


async def scenario(tap, run, prosody, label, tls=None):
    """One phase: plain (TLS None) or over TLS (TLS = (server ssl context,
    the CA file ferry trusts))."""
    fake = FakeIrc()
    port = free_ports(1)[0]
    server = await asyncio.start_server(fake.serve, "127.0.0.1", port,
                                        ssl=tls[0] if tls else None)
    host = "localhost" if tls else "127.0.0.1"
    extra = {"workers": {"legacy_ca_file": tls[1]}} if tls else None
    ferry = None
    try:
        ferry = start_ferry(tap, run, label="ferry-" + label, **transport_config(
            prosody, extra=extra,
            presets={"server": host, "port": str(port),
                     "ssl": "true" if tls else "false", "ratelimit-interval": "0",
                     "ferry.allowed_servers": host}))
        if ferry is None:
            return
        async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
            r = await alice.register(T, {"username": "alice"})
            tap.ok(r.type == "result", "%s: alice registers on the fake IRC server" % label,
                   str(r))
            connected = await alice.transport_connected(T, timeout=40)
            tap.ok(connected is not None and fake.writer is not None,
                   "%s: alice is online" % label)
            if fake.writer is None:
                return

            async def arrives(data, body, what):
                m0 = alice.mark()
                fake.writer.write(data)
                await fake.writer.drain()
                t0 = time.monotonic()
                got = await alice.wait_for(
                    lambda x: x.kind == "message" and x.child_text("body") == body, WAIT, m0)
                tap.ok(got is not None,
                       "%s: %s arrives (%.2f s)" % (label, what, time.monotonic() - t0),
                       ferry.log_tail())

            await arrives(b":bob!b@h PRIVMSG alice :before\r\n", "before", "a line")
            await arrives(b":bob!b@h PRIVMSG alice :nul\x00here\r\n"
                          b":bob!b@h PRIVMSG alice :same read\r\n", "nulhere",
                          "the line with a NUL, without it")
            got = await alice.wait_for(
                lambda x: x.kind == "message" and x.child_text("body") == "same read", WAIT)
            tap.ok(got is not None, "%s: the line after it in the same read arrives" % label)
            # a write of only NULs: nothing to read, not the end of the stream
            # (prpl-irc would take a 0 for the server closing the connection)
            fake.writer.write(b"\x00" * 8)
            await fake.writer.drain()
            await asyncio.sleep(0.5)
            await arrives(b":carol!c@h PRIVMSG alice :later write\r\n", "later write",
                          "a line in a later write")
            seen = len(fake.received)
            fake.writer.write(b"PING :probe\r\n")
            await fake.writer.drain()
            for _ in range(int(WAIT * 10)):
                if any(b"probe" in x for x in fake.received[seen:]):
                    break
                await asyncio.sleep(0.1)
            tap.ok(any(b"probe" in x for x in fake.received[seen:]),
                   "%s: the server's PING after the NUL is answered" % label)
            removed = r"NUL byte\(s\) from the server removed"
            if tls:
                removed = r"over TLS to localhost: \d+ " + removed
            tap.ok(ferry.count(removed) >= 1, "%s: the worker logs the NULs it removed" % label)
    finally:
        server.close()
        if ferry is not None:
            ferry.stop()


def tls_context(run):
    ca = TestCA(run.path("ca"))
    cert = ca.issue("localhost", dns=["localhost"], ips=["127.0.0.1"])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert["chain"], cert["key"])
    return ctx, ca.cert


def body(tap, run):
    prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"], component=T,
                              secret="s3cret-%s" % os.urandom(6).hex()))
    prosody.start()
    prosody.register("alice", "localhost", "alicepw")
    asyncio.run(asyncio.wait_for(scenario(tap, run, prosody, "plain"), 150))
    asyncio.run(asyncio.wait_for(scenario(tap, run, prosody, "tls", tls_context(run)), 150))


def main():
    return run_test("irc-nul", ("prosody", "prosodyctl", "openssl"), body)


if __name__ == "__main__":
    sys.exit(main())
