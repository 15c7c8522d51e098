#!/usr/bin/python3
"""Backpressure: a slow or absent XMPP server costs no message.

Prosody + ngircd + ferry, whose component link goes through a small TCP
proxy on loopback (the test can cut it, or refuse new connections). alice
and carol are registered and on IRC as alice and carol; bob and dave are
IRC peers.
- Prosody SIGSTOPped for 11 s while bob sends alice 20 000 messages: after
  SIGCONT every one arrives (distinct bodies counted), the link was not
  reopened and no write queue overflowed; alice's account was paused
  (PAUSE_READ) rather than anything dropped.
- The same flood while dave writes to carol: only alice's account is paused
  (never every account), and carol's messages arrive.
- The link cut right after a burst (the proxy swallows what ferry writes,
  then drops both connections): every message of the burst arrives at
  least once after the reconnect.
- The link kept down longer than [workers] stall_seconds (20 s here): alice
  is logged out of IRC, told that messages may be missing, and back on IRC
  after the link returns.
- IRC over TLS (a second ngircd with a test CA, a second ferry): the worker
  finds the TLS connection's input and pauses it too; every message of a
  flood arrives.
Prints TAP, and the figures (loss, duplicates, delays) as comments.
"""

import asyncio
import os
import re
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Ferry, run_test, start_ferry  # noqa: E402
from servers import Ngircd, TestCA  # noqa: E402
from transport import (IrcPeer, XmppUser, irc_presets, register_on_irc,  # noqa: E402
                       start_xmpp_and_irc, transport_config)

T = "irc.localhost"
BOB, DAVE = "bob@" + T, "dave@" + T
FLOOD = 20000
BURST = 300
PAD = "x" * 200            # ~420-byte stanzas: 20 000 of them are 8 MiB
SOCKET_BUFFER = 32 * 1024  # the proxy's own buffers stay small
STALL_SECONDS = 20
LINK_DOWN = r"component: link down"
WHOLE_LINK_PAUSED = r"legacy: stopped reading from"


class LinkProxy:
    """ferry <-> Prosody's component port, through 127.0.0.1:self.port.

    mode "forward" passes bytes both ways (with backpressure: it reads from
    one side only as fast as the other takes); "swallow" reads what ferry
    writes and throws it away (bytes ferry counts as written, which never
    reach the server); "refuse" closes every new connection at once."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.mode = "forward"
        self.server = None
        self.port = None
        self.connections = 0
        self.swallowed = 0
        self.forwarded = 0  # bytes from ferry passed on
        self._links = []   # (ferry writer, prosody writer)

    async def start(self):
        # Small socket buffers (set before listen/connect, so no
        # autotuning): what ferry writes waits in ferry, not in the proxy.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        sock.bind(("127.0.0.1", 0))
        self.server = await asyncio.start_server(self._accept, sock=sock)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _connect_upstream(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", self.target_port))
        return await asyncio.open_connection(sock=sock, limit=SOCKET_BUFFER)

    async def _accept(self, reader, writer):
        if self.mode == "refuse":
            writer.transport.abort()
            return
        try:
            up_r, up_w = await asyncio.wait_for(self._connect_upstream(), 10)
        except (OSError, asyncio.TimeoutError):
            writer.transport.abort()
            return
        self.connections += 1
        self._links.append((writer, up_w))
        up_w.transport.set_write_buffer_limits(high=SOCKET_BUFFER)
        writer.transport.set_write_buffer_limits(high=SOCKET_BUFFER)
        asyncio.ensure_future(self._pump(reader, up_w, True))
        asyncio.ensure_future(self._pump(up_r, writer, False))

    async def _pump(self, src, dst, from_ferry):
        try:
            while True:
                data = await src.read(SOCKET_BUFFER)
                if not data:
                    break
                if from_ferry and self.mode == "swallow":
                    self.swallowed += len(data)
                    continue
                if from_ferry:
                    self.forwarded += len(data)
                dst.write(data)
                await dst.drain()
        except (OSError, ConnectionError, asyncio.CancelledError):
            pass
        dst.transport.abort()

    def cut(self):
        """Drops every connection (RST), losing what is in flight."""
        for a, b in self._links:
            a.transport.abort()
            b.transport.abort()
        self._links = []

    def close(self):
        self.cut()
        if self.server is not None:
            self.server.close()


class Counter:
    """Distinct bodies (with a prefix) from JID in a user's inbox, read
    incrementally (20 000 messages: no rescans)."""

    def __init__(self, user, jid, prefix):
        self.user, self.jid, self.prefix = user, jid, prefix
        self.seen = set()
        self.total = 0
        self._next = 0

    def update(self):
        inbox = self.user.inbox
        while self._next < len(inbox):
            r = inbox[self._next]
            self._next += 1
            if r.kind != "message" or not r.sender or r.type == "error":
                continue
            if r.sender.split("/")[0] != self.jid:
                continue
            body = (r.child_text("body") or "").split(" ")[0]
            if body.startswith(self.prefix):
                self.total += 1
                self.seen.add(body)
        return len(self.seen)

    async def wait(self, count, timeout):
        deadline = time.monotonic() + timeout
        while self.update() < count and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        return self.update() >= count


async def flood(peer, nick, prefix, n):
    """N lines to NICK, paced at about 10 000 a second: faster, ngircd can
    outrun the worker even when nothing stops it (its 32 KiB write buffer
    per client overflows and it drops the client)."""
    for i in range(n):
        peer.send("PRIVMSG %s :%s%d %s" % (nick, prefix, i, PAD))
        if i % 200 == 199:
            await peer._writer.drain()
            await asyncio.sleep(0.02)
    await peer._writer.drain()


def account_of(ferry, jid):
    m = re.search(r"session: %s: (?:logging in to \S+ as \S+|continuing the "
                  r"registration's login) \(account (\d+)\)" % re.escape(jid),
                  ferry.log_text())
    return m.group(1) if m else None


async def stop_prosody_during(prosody, seconds, during):
    """SIGSTOPs Prosody, runs the coroutine DURING, keeps Prosody stopped
    until SECONDS have passed, then SIGCONTs it (always)."""
    pid = prosody.popen.pid
    os.kill(pid, signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        await during
        left = seconds - (time.monotonic() - t0)
        if left > 0:
            await asyncio.sleep(left)
    finally:
        os.kill(pid, signal.SIGCONT)


async def scenario(tap, prosody, irc, ferry, proxy):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice, \
            XmppUser("carol@localhost", "carolpw", prosody.c2s_port) as carol, \
            IrcPeer(irc.port, "bob") as bob, IrcPeer(irc.port, "dave") as dave:
        await register_on_irc(tap, alice, bob, T)
        await register_on_irc(tap, carol, dave, T, "carol")
        alice_account = account_of(ferry, "alice@localhost")
        carol_account = account_of(ferry, "carol@localhost")

        # -- 1. 20 000 messages while the server reads nothing for 11 s
        mark = ferry.mark()
        got = Counter(alice, BOB, "A")
        t0 = time.monotonic()
        await stop_prosody_during(prosody, 11, flood(bob, "alice", "A", FLOOD))
        resumed = time.monotonic()
        complete = await got.wait(FLOOD, 180)
        took = time.monotonic() - resumed
        lost = FLOOD - len(got.seen)
        tap.diag("flood 1: %d of %d arrived (%d lost, %d duplicates), the last %.1f s "
                    "after SIGCONT (%.1f s after the first was sent)"
                    % (len(got.seen), FLOOD, lost, got.total - len(got.seen), took,
                       time.monotonic() - t0))
        tap.ok(complete, "every one of %d messages sent while the server was stopped "
               "arrives" % FLOOD, "%d lost" % lost)
        tap.ok(ferry.count(LINK_DOWN, since=mark) == 0,
               "the link was not reopened", ferry.log_tail())
        tap.ok(ferry.count(r"write queue full", since=mark) == 0,
               "no write queue overflowed")
        paused = ferry.count(r"legacy: account %s: more of its events wait" % alice_account,
                             since=mark)
        tap.ok(paused >= 1, "alice's account stopped reading from IRC instead "
               "(paused %d time(s))" % paused, ferry.log_tail())

        # -- 2. the same flood for alice while dave writes to carol
        mark = ferry.mark()
        got = Counter(alice, BOB, "B")
        carol_got = Counter(carol, DAVE, "carol")

        async def both():
            await flood(bob, "alice", "B", FLOOD)
            await asyncio.sleep(2)
            for i in range(5):
                dave.send("PRIVMSG carol :carol%d" % i)
            await dave._writer.drain()

        await stop_prosody_during(prosody, 11, both())
        resumed = time.monotonic()
        carol_ok = await carol_got.wait(5, 60)
        carol_took = time.monotonic() - resumed
        alice_then = got.update()
        complete = await got.wait(FLOOD, 180)
        tap.diag("flood 2: carol's 5 messages %.1f s after SIGCONT, when alice had %d of "
                    "her %d; alice's last %.1f s after SIGCONT"
                    % (carol_took, alice_then, FLOOD, time.monotonic() - resumed))
        tap.ok(carol_ok, "carol's messages arrive while alice's flood is held",
               "%d of 5" % len(carol_got.seen))
        tap.ok(complete, "alice's second flood arrives in full too",
               "%d lost" % (FLOOD - len(got.seen)))
        # Whether alice's queue went over its bound this time depends on how
        # much the kernel's buffers took (a slower ferry, under ASan, was
        # not paused once in one run): said, not asserted; phase 1 asserts it.
        tap.diag("flood 2: alice's account paused %d time(s)" % ferry.count(
            r"legacy: account %s: more of its events wait" % alice_account, since=mark))
        tap.ok(ferry.count(r"legacy: account %s: more of its events wait" % carol_account,
                           since=mark) == 0, "carol's account never was")
        tap.ok(ferry.count(WHOLE_LINK_PAUSED, since=mark) == 0,
               "nor was every account: one flood does not stall the others",
               ferry.log_tail())

        # -- 3. the link cut right after a burst: resent after the reconnect
        mark = ferry.mark()
        got = Counter(alice, BOB, "C")
        proxy.mode = "swallow"
        await flood(bob, "alice", "C", BURST)
        deadline = time.monotonic() + 20
        while proxy.swallowed < BURST * 400 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        swallowed = proxy.swallowed
        tap.ok(swallowed > 0, "the burst is lost in the proxy before the cut (%d bytes)"
               % swallowed)
        proxy.mode = "forward"
        proxy.cut()
        back = await ferry.await_log(Ferry.ONLINE, 30, since=mark)
        tap.ok(back is not None, "ferry reconnects after the cut", ferry.log_tail())
        complete = await got.wait(BURST, 60)
        resent = await ferry.await_log(r"component: (\d+) stanza\(s\) \((\d+) bytes\) written "
                                    r"since the last answered ping", 1, since=mark)
        tap.diag("cut: %d bytes written by ferry were lost in the proxy; %s; %d of %d "
                    "arrived, %d duplicate(s)"
                    % (swallowed, resent.group(0) if resent else "nothing resent",
                       len(got.seen), BURST, got.total - len(got.seen)))
        tap.ok(complete, "every message of a burst written just before the link died "
               "arrives after the reconnect", "%d of %d" % (len(got.seen), BURST))

        # -- 3b. the same, but the server gets the burst: cut halfway, before the
        # confirming ping's answer can come back, what was received is sent
        # again (at-least-once: duplicates with the same ids, counted)
        mark = ferry.mark()
        got = Counter(alice, BOB, "D")
        before = proxy.forwarded
        await flood(bob, "alice", "D", BURST)
        deadline = time.monotonic() + 20
        while proxy.forwarded - before < BURST * 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        proxy.cut()
        back = await ferry.await_log(Ferry.ONLINE, 30, since=mark)
        complete = await got.wait(BURST, 60)
        await asyncio.sleep(2)
        got.update()
        resent = await ferry.await_log(r"component: (\d+) stanza\(s\) \((\d+) bytes\) "
                                       r"written since the last answered ping", 1, since=mark)
        tap.ok(resent is not None and int(resent.group(1)) > 0,
               "what was written after the last answered ping is sent again after the cut",
               ferry.log_tail())
        tap.diag("cut after delivery: %s; %d of %d arrived, %d duplicate(s)"
                 % (resent.group(0) if resent else "nothing resent", len(got.seen), BURST,
                    got.total - len(got.seen)))
        tap.ok(back is not None and complete,
               "a burst the server had received arrives in full after the cut too",
               "%d of %d" % (len(got.seen), BURST))

        # -- 4. the link down beyond the stall bound
        mark = ferry.mark()
        proxy.mode = "refuse"
        proxy.cut()
        t0 = time.monotonic()
        out = await bob.wait_ison("alice", False, STALL_SECONDS + 30)
        tap.ok(out, "alice is logged out of IRC when the link stays down beyond "
               "stall_seconds (after %.1f s)" % (time.monotonic() - t0))
        proxy.mode = "forward"
        a_mark = alice.mark()
        notice = await alice.wait_for(
            lambda r: r.kind == "message" and r.sender == T and
            "may be missing" in (r.child_text("body") or ""), 90, since=a_mark)
        tap.ok(notice is not None, "alice is told, once the link is back, that messages "
               "may be missing", ferry.log_tail())
        if notice is not None:
            tap.diag("notice: %s" % notice.child_text("body"))
        # the reason is the one at the stall: the link was down (not a slow server)
        tap.ok(notice is not None and "link to your XMPP server was down" in
               (notice.child_text("body") or ""), "the notice says the link was down",
               ferry.log_tail())
        tap.ok(await bob.wait_ison("alice", True, 60),
               "and she is logged in to IRC again", ferry.log_tail())
    tap.ok(ferry.running(), "ferry is still running at the end")


async def over_tls(tap, prosody, irc, ferry):
    """Phase 5: the account's connection is TLS (sslconn.c's reader)."""
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice, \
            IrcPeer(irc.port, "bob") as bob:
        await register_on_irc(tap, alice, bob, T)
        mark = ferry.mark()
        got = Counter(alice, BOB, "T")
        await stop_prosody_during(prosody, 11, flood(bob, "alice", "T", FLOOD))
        complete = await got.wait(FLOOD, 120)
        paused = await ferry.await_log(r"ferry-worker\[\d+\] info: account \d+: stopped "
                                       r"reading its connection \(([1-9]\d*) input", 1,
                                       since=mark)
        asked = ferry.count(r"legacy: account \d+: more of its events wait", since=mark)
        tap.ok(paused is not None, "over TLS the worker found the connection's input and "
               "paused it", "ferry asked %d time(s)\n%s" % (asked, ferry.log_tail()))
        tap.diag("TLS flood: %d of %d arrived" % (len(got.seen), FLOOD))
        tap.ok(complete, "every message of the flood arrives over TLS too",
               "%d lost" % (FLOOD - len(got.seen)))


def ferry_config(prosody, presets, port, extra=None):
    cfg = transport_config(prosody, presets=presets, extra={
        "component": {"queue_high_bytes": str(1024 * 1024)},
        "workers": dict({"account_queue_bytes": str(128 * 1024),
                         "stall_seconds": str(STALL_SECONDS)}, **(extra or {})),
        "logging": {"level": "info"}})
    cfg["port"] = port
    return cfg


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(run, T, users=("alice@localhost", "carol@localhost"))

    async def main(label, irc, presets, extra, run_scenario):
        proxy = LinkProxy(prosody.component_port)
        await proxy.start()
        cfg = ferry_config(prosody, presets, proxy.port, extra)
        ferry = await asyncio.get_running_loop().run_in_executor(
            None, lambda: start_ferry(tap, run, label=label, **cfg))
        try:
            if ferry is not None:
                await run_scenario(ferry, proxy)
        finally:
            proxy.close()
        if ferry is not None:
            ferry.stop()

    asyncio.run(asyncio.wait_for(main(
        "ferry", irc, irc_presets(irc), None,
        lambda ferry, proxy: scenario(tap, prosody, irc, ferry, proxy)), 900))

    ca = TestCA(run.path("ca"))
    cert = ca.issue("localhost", dns=["localhost"], ips=["127.0.0.1"])
    tls_irc = run.add(Ngircd(run.path("ngircd-tls"), tls_cert=cert["chain"],
                             tls_key=cert["key"]))
    tls_irc.start()
    presets = dict(irc_presets(tls_irc), server="localhost", port=str(tls_irc.tls_port),
                   ssl="true")
    presets["ferry.allowed_servers"] = "localhost"
    asyncio.run(asyncio.wait_for(main(
        "ferry-tls", tls_irc, presets, {"legacy_ca_file": ca.cert},
        lambda ferry, proxy: over_tls(tap, prosody, tls_irc, ferry)), 600))


def main():
    return run_test("backpressure", ("prosody", "prosodyctl", "ngircd", "openssl"), body)


if __name__ == "__main__":
    sys.exit(main())
