#!/usr/bin/python3
"""Signing up: the registration form, the nick check and its errors, and
the first messages (Prosody + ngircd with a server password + ferry).

- the form shows what a user needs (nick, password labelled as the server
  password, SASL and its login name), the field the admin lists with
  `ferry.fields`, and nothing pinned (server, port, and "Use SSL" with
  them) nor libpurple's tuning options;
- a nick another IRC user holds is refused with `conflict` naming it (no
  silent `bob1`); re-registering while one's own session holds the nick
  keeps that session (no `carol1`), and a re-registration that fails its
  check leaves the old session on;
- at a later login that gets another nick, the user is told by a chat
  message from the transport;
- error texts: a non-ASCII nick, a too-long nick, a wrong server password,
  each one line about what the user typed, with the network's reason;
- a message an IRC user sends the new nick between the registration's
  check login and the session taking it over is delivered; past the
  worker's bound (200), the user is told how many were lost.
Prints TAP.
"""

import asyncio
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from transport import start_xmpp_and_irc, irc_presets, IrcPeer, XmppUser, transport_config  # noqa: E402

T = "irc.localhost"


async def synced(peer, timeout=10):
    """Waits until ngircd has handled everything PEER sent before: its
    answer to a PING comes after them."""
    fut = asyncio.get_running_loop().create_future()
    peer._pending["PONG"] = fut
    peer.send("PING :sync-%d" % time.monotonic_ns())
    try:
        await asyncio.wait_for(fut, timeout)
        return True
    except asyncio.TimeoutError:
        return False


class SilentUser(XmppUser):
    """An XmppUser that sends no presence until told: its session on the
    transport waits for it."""

    async def session_started(self, x):
        try:
            await x.get_roster(timeout=10)
        except Exception:
            pass


def one_line(text):
    return text is not None and "\n" not in text and text.strip() == text and text != ""


async def form(tap, prosody):
    async with XmppUser("dave@localhost", "davepw", prosody.c2s_port) as dave:
        r, fields, registered = await dave.registration_form(T)
        tap.ok(r.type == "result" and not registered, "the form is answered", str(r))
        tap.ok(set(fields) - {"FORM_TYPE"} == {"username", "password", "sasl", "saslname",
                                              "realname"},
               "the form has the nick, the password, SASL and its login name, and the "
               "field ferry.fields lists; nothing pinned or tuning",
               "fields: %s" % sorted(fields))
        labels = {}
        x = r.find("{jabber:iq:register}query/{jabber:x:data}x")
        for fl in (x if x is not None else []):
            if fl.get("var"):
                labels[fl.get("var")] = fl.get("label") or ""
        tap.ok("server password" in labels.get("password", "").lower(),
               "the password's label says it is the IRC server password",
               repr(labels.get("password")))
        tap.ok(not any(k in fields for k in ("ssl", "port", "server")),
               "'Use SSL' follows the pinned server: not in the form", str(sorted(fields)))


async def errors(tap, prosody, password):
    async with XmppUser("erin@localhost", "erinpw", prosody.c2s_port) as erin:
        r = await erin.register(T, {"username": "ünïcødé", "password": password})
        text = r.text
        tap.diag("non-ASCII nick: %s %r" % (r.condition if r.type == "error" else r.type,
                                            text))
        tap.ok(r.type == "error" and one_line(text) and "ünïcødé" in text
               and "Invalid user name" not in text and "Disconnected" not in text,
               "a non-ASCII nick is refused in one line naming the nick, not the ident",
               "%s %r" % (r, text))
        long_nick = "n" + "x" * 40
        r = await erin.register(T, {"username": long_nick, "password": password})
        text = r.text
        tap.diag("too-long nick: %r" % text)
        tap.ok(r.type == "error" and one_line(text) and long_nick in text
               and "too long" in text.lower() and "invalid characters" not in text,
               "a too-long nick is refused in one line saying it is too long",
               "%s %r" % (r, text))
        r = await erin.register(T, {"username": "erin", "password": "wrong-" + password})
        text = r.text
        tap.diag("wrong server password: %r" % text)
        tap.ok(r.type == "error" and r.condition == "not-authorized" and one_line(text)
               and "Bad password" in text,
               "a refused server password gets not-authorized with the network's reason",
               "%s %s %r" % (r, getattr(r, "condition", None), text))


async def nicks(tap, prosody, irc, password):
    async with IrcPeer(irc.port, "bob", password=password) as bob_irc, \
            XmppUser("bob@localhost", "bobpw", prosody.c2s_port) as bob:
        # -- someone else's nick
        r = await bob.register(T, {"username": "bob", "password": password})
        text = r.text
        tap.ok(r.type == "error" and r.condition == "conflict" and text is not None
               and "bob" in text,
               "a nick another IRC user holds is refused with conflict, naming it",
               "%s %s %r" % (r, getattr(r, "condition", None), text))
        r, fields, registered = await bob.registration_form(T)
        tap.ok(not registered, "nothing is stored for the refused nick", str(r))
        tap.ok(await bob_irc.wait_ison("bob1", False, 10),
               "the check login does not stay on IRC as bob1")

    async with IrcPeer(irc.port, "zed", password=password) as zed, \
            SilentUser("carol@localhost", "carolpw", prosody.c2s_port) as carol:
        # -- a message between the check login and the session taking over
        m0 = carol.mark()
        r = await carol.register(T, {"username": "carol", "password": password})
        tap.ok(r.type == "result", "carol registers", str(r))
        zed.send("PRIVMSG carol :early bird")
        tap.ok(await synced(zed), "ngircd has relayed zed's message to carol's nick")
        carol.send_presence()
        sub = await carol.presence_from(T, "subscribe", since=m0, timeout=10)
        tap.ok(sub is not None, "the transport asks for carol's subscription")
        tap.ok(await carol.transport_connected(T, since=m0) is not None,
               "carol's session takes over the check login")
        msg = await carol.message_from("zed@" + T, since=m0, timeout=15)
        tap.ok(msg is not None and msg.child_text("body") == "early bird",
               "the message sent before the session took over is delivered",
               str(msg))

        # -- re-registering one's own nick keeps the session
        m1 = carol.mark()
        r = await carol.register(T, {"username": "carol", "password": password,
                                     "realname": "Carol C"})
        tap.ok(r.type == "result", "carol re-registers her own nick", str(r))
        tap.ok(await zed.ison("carol") and not await zed.ison("carol1"),
               "carol keeps her nick; no carol1 appears on IRC")
        again = [x for x in carol.inbox[m1:] if x.kind == "presence" and x.sender == T
                 and "carol1" in (x.child_text("status") or "")]
        tap.ok(not again, "the transport does not become carol1", str(again))
        zed.send("PRIVMSG carol :still there?")
        msg = await carol.message_from("zed@" + T, since=m1, timeout=15)
        tap.ok(msg is not None and msg.child_text("body") == "still there?",
               "carol's session goes on after the re-registration", str(msg))

        # -- new settings that fail their check leave the old session on
        m2 = carol.mark()
        r = await carol.register(T, {"username": "carol", "password": "bad-" + password})
        tap.ok(r.type == "error", "a re-registration with a wrong password is refused",
               str(r))
        zed.send("PRIVMSG carol :and now?")
        msg = await carol.message_from("zed@" + T, since=m2, timeout=15)
        tap.ok(msg is not None and msg.child_text("body") == "and now?"
               and await zed.ison("carol"),
               "the old session goes on after a failed re-registration", str(msg))
        await carol.close()
    # -- a later login that falls back to another nick tells the user
    async with IrcPeer(irc.port, "watcher", password=password) as watcher:
        tap.ok(await watcher.wait_ison("carol", False, 20), "carol is off IRC")
        async with IrcPeer(irc.port, "carol", password=password), \
                XmppUser("carol@localhost", "carolpw", prosody.c2s_port) as carol:
            note = await carol.wait_for(
                lambda x: x.kind == "message" and x.sender == T and x.type != "error"
                and "carol1" in (x.child_text("body") or ""), timeout=30)
            tap.ok(note is not None and "carol" in note.child_text("body")
                   and "taken" in note.child_text("body"),
                   "a later login as carol1 is told by a message from the transport",
                   str(note))


HELD_MAX = 200  # frames a test login holds for KEEP (src/worker/accounts.c)


async def flood_before_takeover(tap, prosody, irc, password):
    """More messages than the worker holds for a check login: the first
    HELD_MAX arrive in order, and the user is told how many were lost."""
    extra = 5
    async with IrcPeer(irc.port, "flooder", password=password) as fl, \
            SilentUser("frank@localhost", "frankpw", prosody.c2s_port) as frank:
        m0 = frank.mark()
        r = await frank.register(T, {"username": "frank", "password": password})
        tap.ok(r.type == "result", "frank registers", str(r))
        for i in range(HELD_MAX + extra):
            fl.send("PRIVMSG frank :flood %d" % i)
        tap.ok(await synced(fl, 30), "ngircd has relayed %d messages" % (HELD_MAX + extra))
        frank.send_presence()
        note = await frank.wait_for(
            lambda x: x.kind == "message" and x.sender == T and
            "lost" in (x.child_text("body") or ""), since=m0, timeout=30)
        tap.ok(note is not None and ("%d events" % extra) in note.child_text("body"),
               "the user is told how many held messages were lost", str(note))
        last = await frank.wait_for(
            lambda x: x.kind == "message" and (x.child_text("body") or "") ==
            "flood %d" % (HELD_MAX - 1), since=m0, timeout=30)
        got = [x.child_text("body") for x in frank.inbox[m0:]
               if x.kind == "message" and (x.sender or "").startswith("flooder@")]
        tap.ok(last is not None and got == ["flood %d" % i for i in range(HELD_MAX)],
               "the first %d held messages arrive, in order" % HELD_MAX,
               "got %d: %s ... %s" % (len(got), got[:2], got[-2:]))


async def scenario(tap, prosody, irc, password):
    await form(tap, prosody)
    await errors(tap, prosody, password)
    await nicks(tap, prosody, irc, password)
    await flood_before_takeover(tap, prosody, irc, password)


def body(tap, run):
    password = "Irc-Pa55-%s" % os.urandom(8).hex()
    prosody, irc = start_xmpp_and_irc(
        run, T, ["%s@localhost" % u for u in ("bob", "carol", "dave", "erin", "frank")],
        password)
    presets = irc_presets(irc)
    presets["locked"] = "server, port"
    presets["ferry.fields"] = "realname"
    ferry = start_ferry(tap, run, **transport_config(prosody, presets=presets))
    if ferry is None:
        return
    t0 = time.monotonic()
    asyncio.run(asyncio.wait_for(scenario(tap, prosody, irc, password), 240))
    tap.diag("scenario took %.1f s" % (time.monotonic() - t0))
    ferry.stop()


def main():
    return run_test("signup", ("prosody", "prosodyctl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
