#!/usr/bin/python3
"""Stanza size limits both ways (issue 10 item 1), with Prosody and ngircd.

Inbound: eve, a Prosody user who never registered with the transport,
sends a message of 200 000 '"' to a contact JID. Prosody forwards each '"'
as &quot;, so it reaches ferry as 1.2 MB, over max_stanza_bytes (512 KiB
here, Prosody's own component limit). Before the fix ferry closed the
stream and reconnected, for every user; now the stanza is skipped: eve gets
policy-violation with her message id, ferry logs one line, the link stays
up and alice's round trip works right after.

Outbound: with max_outbound_bytes = 1024, an IRC peer's 400 '&' (2 000
bytes once escaped) reaches alice cut, with the note, and the link stays
up. Prints TAP.
"""

import asyncio
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Ferry, run_test, start_ferry  # noqa: E402
from transport import start_xmpp_and_irc, irc_presets, IrcPeer, XmppUser, transport_config, register_on_irc, round_trip  # noqa: E402

T = "irc.localhost"
BOB = "bob@" + T
QUOTES = 200000
NOTE = "[message truncated by the transport: "


async def oversized_from_stranger(tap, eve, ferry, mark, n):
    """Eve's huge message; returns the error she got (or None)."""
    mid = "huge-%d" % n
    m0 = eve.mark()
    # Raw, with the quotes unescaped as a client may write them: slixmpp
    # would write &quot; and go over Prosody's c2s limit (256 KiB).
    eve.xmpp.send_raw("<message xmlns='jabber:client' to='carol@%s' id='%s' type='chat'>"
                      "<body>%s</body></message>" % (T, mid, '"' * QUOTES))
    err = await eve.error_from("carol@" + T, since=m0, timeout=30)
    tap.ok(err is not None and err.xml.get("id") == mid and
           err.error_condition() == "policy-violation",
           "stranger's message %d: answered policy-violation with its id" % n, str(err))
    text = err.error_text() if err is not None else None
    tap.ok(text is not None and "over the limit of 524288" in text,
           "... with a text saying why", repr(text))
    line = await ferry.await_log(r"router: skipped <message type=chat> id '%s' from "
                              r"eve@localhost/\S+ to carol@%s \((\d+) bytes" % (mid, T),
                              10, since=mark)
    tap.ok(line is not None and int(line.group(1)) > 6 * QUOTES,
           "ferry logs the sender, kind and size (%s bytes)"
           % (line.group(1) if line else "?"), ferry.log_tail)


async def scenario(tap, prosody, irc, ferry):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice, \
            XmppUser("eve@localhost", "evepw", prosody.c2s_port) as eve, \
            IrcPeer(irc.port, "bob") as bob:
        await register_on_irc(tap, alice, bob, T)
        await round_trip(tap, alice, bob, "before")

        # -- inbound: a stranger's oversized message costs only itself
        mark = ferry.mark()
        for n in (1, 2):
            await oversized_from_stranger(tap, eve, ferry, mark, n)
        await round_trip(tap, alice, bob, "right after the oversized messages")
        tap.ok(ferry.count(Ferry.RECONNECTING, since=mark) == 0 and
               ferry.count(r"link down", since=mark) == 0,
               "the component link stayed up (no reconnect in ferry's log)")

        # -- outbound: nothing over max_outbound_bytes is written
        mark = ferry.mark()
        m0 = alice.mark()
        bob.send("PRIVMSG alice :%s" % ("&" * 400))
        msg = await alice.message_from(BOB, since=m0, timeout=20)
        body = msg.child_text("body") if msg is not None else None
        tap.ok(body is not None and body.startswith("&" * 100) and NOTE in body,
               "a 400-'&' IRC message arrives cut, with the note", repr(body))
        if body is not None and NOTE in body:
            kept = body.index("\n" + NOTE)
            shown = int(body.split(NOTE, 1)[1].split()[0])
            tap.ok(kept + shown == 400 and body[:kept] == "&" * kept,
                   "the note counts what was cut (%d kept + %d cut)" % (kept, shown))
        tap.ok(await ferry.await_log(r"component: <message> to alice@localhost\S* cut by \d+ "
                                  r"bytes of its body to fit max_outbound_bytes \(1024\)",
                                  5, since=mark) is not None,
               "ferry logs the cut", ferry.log_tail)
        await round_trip(tap, alice, bob, "after the cut message")
        tap.ok(ferry.count(Ferry.RECONNECTING, since=mark) == 0,
               "the link stayed up after the long message")


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(run, T, users=("alice@localhost", "eve@localhost"))
    ferry = start_ferry(tap, run, max_stanza_bytes=524288, **transport_config(
        prosody, presets=irc_presets(irc),
        extra={"component": {"max_outbound_bytes": "1024"}}))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(scenario(tap, prosody, irc, ferry), 240))


def main():
    return run_test("limits", ("prosody", "prosodyctl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
