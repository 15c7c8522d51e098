#!/usr/bin/python3
"""Legacy names as contact JIDs through real Prosody, and libpurple's
notices that name no account.

ngircd refuses every nick that is not ASCII (432 Erroneous nickname, for
"ａlice", "café" and bytes that are not UTF-8 alike), so a scripted IRC
server plays a network that allows them: ferry (prpl-irc in a worker)
logs alice in there. A message from "bob" comes from bob@irc.localhost; one
from the fullwidth "ｂob" (which Prosody's nodeprep would fold to bob)
comes from a JID of its own, bob~<8 hex digits>, as Prosody delivers it,
with a chat from the transport saying so; replies to each reach the exact
nick, also after ferry restarts (the address is the same). Two peers whose
nicks are the bytes "b\\xffb" (not UTF-8) and "b\\xc3\\xbfb" (the UTF-8 of
"b\u00ffb", which prpl-irc would read the first one as) come from two
different JIDs, and a reply to each reaches exactly its bytes. A 404 numeric
("Cannot send to channel", which prpl-irc reports through a notify call
without an account) reaches alice as a chat from the transport instead of
vanishing. Prints TAP.
"""

import asyncio
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Ferry, run_test, start_ferry  # noqa: E402
from servers import Prosody, free_ports  # noqa: E402
from transport import FakeIrc, XmppUser, transport_config  # noqa: E402

T = "irc.localhost"
LOOKALIKE = "\uff42ob"  # fullwidth b, then "ob"
MARKED = re.compile(r"^bob~[0-9a-f]{8}@" + re.escape(T) + "$")


def bare(jid):
    return jid.split("/", 1)[0] if jid else None


async def from_nick(tap, fake, alice, nick, text):
    """The fake network delivers TEXT from NICK; returns the message as
    alice got it (or None)."""
    m0 = alice.mark()
    await fake.send(":%s!u@h PRIVMSG alice :%s" % (nick, text))
    return await alice.wait_for(lambda x: x.kind == "message" and x.type != "error" and
                                x.child_text("body") == text, 15, m0)


async def from_raw_nick(fake, alice, nick, text):
    """As from_nick(), NICK given as bytes, sent as they are."""
    m0 = alice.mark()
    await fake.send_raw(b":%s!u@h PRIVMSG alice :%s" % (nick, text.encode()))
    return await alice.wait_for(lambda x: x.kind == "message" and x.type != "error" and
                                x.child_text("body") == text, 15, m0)


async def reply_reaches(tap, fake, alice, jid, nick, text, what):
    seen = len(fake.received)
    alice.send_message(jid, text)
    nick = nick if isinstance(nick, bytes) else nick.encode()
    tap.ok(await fake.line(seen, b"PRIVMSG %s :%s" % (nick, text.encode())),
           what, repr(fake.received[seen:]))


async def not_utf8(tap, fake, alice):
    """Nicks that are not UTF-8 keep a JID of their own (irc_bytes.c)."""
    raw, utf8 = b"b\xffb", "b\u00ffb".encode()
    msg_raw = await from_raw_nick(fake, alice, raw, "from the bytes")
    msg_utf8 = await from_raw_nick(fake, alice, utf8, "from the UTF-8")
    jid_raw = bare(msg_raw.sender) if msg_raw is not None else None
    jid_utf8 = bare(msg_utf8.sender) if msg_utf8 is not None else None
    tap.ok(jid_raw is not None and jid_utf8 is not None and jid_raw != jid_utf8,
           "the nicks %r and %r come from two different JIDs" % (raw, utf8),
           "%s / %s" % (jid_raw, jid_utf8))
    if jid_raw is None or jid_utf8 is None:
        return
    await reply_reaches(tap, fake, alice, jid_raw, raw, "to the bytes",
                        "a reply to %s reaches the nick %r" % (jid_raw, raw))
    await reply_reaches(tap, fake, alice, jid_utf8, utf8, "to the UTF-8",
                        "a reply to %s reaches the nick %r" % (jid_utf8, utf8))
    # ISON asks for the bytes, and only its answer (303) for them makes
    # that contact available
    fake.online = {raw}
    seen, m0 = len(fake.received), alice.mark()
    alice.send_presence(to=jid_utf8, ptype="subscribe")
    asked = await fake.ison_for(seen, utf8)
    await asyncio.sleep(1)
    p = await alice.presence_from(jid_utf8, None, timeout=0, since=m0)
    tap.ok(asked and p is None, "ISON asks for %r, not on: %s is not available" %
           (utf8, jid_utf8), "%s / %s" % (asked, p))
    seen, m0 = len(fake.received), alice.mark()
    alice.send_presence(to=jid_raw, ptype="subscribe")
    asked = await fake.ison_for(seen, raw)
    p = await alice.presence_from(jid_raw, None, timeout=30, since=m0)
    tap.ok(asked and p is not None, "ISON asks for %r, on: %s is available" % (raw, jid_raw),
           "%s / %s" % (asked, p))
    fake.online = set()


async def scenario(tap, run, prosody, fake, ferry):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        r = await alice.register(T, {"username": "alice"})
        tap.ok(r.type == "result", "alice registers on the scripted IRC network", str(r))
        connected = await alice.transport_connected(T, timeout=40)
        tap.ok(connected is not None and fake.writer is not None, "alice's session is up")
        if connected is None or fake.writer is None:
            return

        msg = await from_nick(tap, fake, alice, "bob", "from bob")
        tap.ok(msg is not None and bare(msg.sender) == "bob@" + T,
               "a message from bob comes from bob@" + T, str(msg))

        m0 = alice.mark()
        msg = await from_nick(tap, fake, alice, LOOKALIKE, "from the look-alike")
        marked = bare(msg.sender) if msg is not None else None
        tap.ok(marked is not None and MARKED.match(marked) is not None,
               "a message from %r comes from a JID of its own (bob~digits), "
               "not bob@%s, as Prosody delivers it" % (LOOKALIKE, T), str(msg))
        note = await alice.wait_for(lambda x: x.kind == "message" and x.sender == T and
                                    LOOKALIKE in (x.child_text("body") or ""), 10, m0)
        tap.ok(note is not None and marked is not None and marked in note.child_text("body"),
               "the transport tells alice which address the look-alike has", str(note))
        if marked is None:
            return
        await reply_reaches(tap, fake, alice, marked, LOOKALIKE, "who are you?",
                            "a reply to %s reaches the exact nick %r" % (marked, LOOKALIKE))
        await reply_reaches(tap, fake, alice, "bob@" + T, "bob", "hi bob",
                            "a reply to bob@%s reaches bob" % T)

        await not_utf8(tap, fake, alice)

        # -- a notice libpurple gives without an account
        m0 = alice.mark()
        await fake.send(":fake 404 alice #x :Cannot send to channel")
        note = await alice.wait_for(lambda x: x.kind == "message" and x.sender == T and
                                    "Cannot send to channel" in (x.child_text("body") or ""),
                                    10, m0)
        tap.ok(note is not None, "prpl-irc's account-less notice (404) reaches alice",
               str(note))

        # -- the same address after a restart
        m1 = alice.mark()
        rc, killed = ferry.stop()
        mark = ferry.mark()
        fake.writer = None
        ferry.start()
        tap.ok(ferry.wait_for_log(Ferry.ONLINE, 20, since=mark) is not None, "ferry restarts")
        deadline = time.monotonic() + 40
        while fake.writer is None and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await alice.transport_connected(T, timeout=20, since=m1)
        await asyncio.sleep(1)
        msg = await from_nick(tap, fake, alice, LOOKALIKE, "after the restart")
        tap.ok(msg is not None and bare(msg.sender) == marked,
               "after a restart the look-alike has the same address", str(msg))
        await reply_reaches(tap, fake, alice, marked, LOOKALIKE, "still you?",
                            "and a reply to it still reaches %r" % LOOKALIKE)


def body(tap, run):
    prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"], component=T,
                              secret="s3cret-%s" % os.urandom(6).hex()))
    prosody.start()
    prosody.register("alice", "localhost", "alicepw")
    port = free_ports(1)[0]
    fake = FakeIrc()

    async def main():
        server = await asyncio.start_server(fake.serve, "127.0.0.1", port)
        try:
            ferry = start_ferry(tap, run, **transport_config(
                prosody, presets={"server": "127.0.0.1", "port": str(port), "ssl": "false",
                                  "ratelimit-interval": "0"}))
            if ferry is not None:
                await scenario(tap, run, prosody, fake, ferry)
                ferry.stop()
        finally:
            server.close()
    asyncio.run(asyncio.wait_for(main(), 240))


def main():
    return run_test("names", ("prosody", "prosodyctl"), body)


if __name__ == "__main__":
    sys.exit(main())
