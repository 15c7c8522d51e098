#!/usr/bin/python3
"""Bounds on what one user (or a stranger) can make the transport do
(Prosody + ngircd + ferry), issue 10 items 6, 7, 8 and two Lows:

- injection: a line break in any registration field (the nick, the
  ident, the realname; CR LF or U+2028) is refused with not-acceptable
  naming the field, and an IRC user never sees a command smuggled in it;
  a stored bad value (a database written by an older ferry or by hand) is
  refused at login with a log line;
- per-user bounds: messages past [limits] max_outbox while IRC is down
  are bounced with resource-constraint (the ids), the outbox rows capped;
  subscriptions past max_contacts refused; probes to many contacts leave
  a bounded number of presence states;
- login amplification: ten quick registrations hold at most two IRC
  connections; past the per-user registration rate, resource-constraint;
- a register set without a <query/> gets bad-request (ferry runs with
  G_DEBUG=fatal-criticals); a privilege grant from another domain is
  ignored.
Prints TAP.
"""

import asyncio
import glob
import os
import sqlite3
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from transport import (start_xmpp_and_irc, irc_presets, IrcPeer, XmppUser,  # noqa: E402
                       transport_config)

T = "irc.localhost"


def err_text(reply):
    e = reply.find("{jabber:client}error") if reply.type == "error" else None
    t = e.find("{urn:ietf:params:xml:ns:xmpp-stanzas}text") if e is not None else None
    return None if t is None else (t.text or "")


def err_condition(reply):
    return reply.condition


def database(ferry):
    paths = glob.glob(os.path.join(ferry.workdir, "ferry.db"))
    return paths[0] if paths else None


def injected(peer):
    """Lines PEER got that carry a smuggled text."""
    return [ln for ln in peer.lines if "injected" in ln]


async def quiet(peer, seconds):
    """Lets PEER read for a while (ngircd relays what came in meanwhile)."""
    await asyncio.sleep(seconds)


# ---- item 6: line breaks in registration fields ----------------------------------------

async def injection(tap, prosody, irc, ferry):
    async with IrcPeer(irc.port, "bob") as bob, \
            XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        cases = [
            ("realname", {"username": "alice", "realname":
                          "x\r\nNICK evil1\r\nPRIVMSG bob :injected-by-realname"}),
            ("option_username", {"username": "alice", "option_username":
                                 "x\r\nNICK evil2\r\nPRIVMSG bob :injected-by-ident"}),
            ("username", {"username": "alice\r\nPRIVMSG bob :injected-by-nick"}),
            ("realname", {"username": "alice", "realname":
                          "x\u2028PRIVMSG bob :injected-by-separator"}),
            ("realname", {"username": "alice", "realname":
                          "x\u0085PRIVMSG bob :injected-by-nel"}),
        ]
        for field, values in cases:
            r = await alice.register(T, values, timeout=30)
            text = err_text(r)
            tap.ok(r.type == "error" and err_condition(r) == "not-acceptable"
                   and text is not None and ("'%s'" % field) in text
                   and "injected" not in text,
                   "a line break in %s is refused with not-acceptable naming the field "
                   "(%r)" % (field, list(values.values())[-1][:12]),
                   "%s %r" % (r, text))
        # the legacy <username/> field takes the same check
        r = await alice.iq(T, "<query xmlns='jabber:iq:register'><username>alice&#13;&#10;"
                           "PRIVMSG bob :injected-by-legacy-field</username></query>",
                           itype="set", timeout=30)
        tap.ok(r.type == "error" and err_condition(r) == "not-acceptable",
               "a line break in the legacy <username/> is refused", str(r))
        await quiet(bob, 2)
        tap.ok(not injected(bob), "bob never receives a smuggled line", str(injected(bob)))

        # a stored bad value is refused at the next login, with a log line
        r = await alice.register(T, {"username": "alice", "realname": "Alice A"}, timeout=60)
        tap.ok(r.type == "result", "alice registers with a clean realname", str(r))
        tap.ok(await alice.transport_connected(T, timeout=30) is not None,
               "alice's session is up")
    async with IrcPeer(irc.port, "bob2") as bob2:
        tap.ok(await bob2.wait_ison("alice", False, 20), "alice left IRC when she went offline")
        db = database(ferry)
        con = sqlite3.connect(db, timeout=10)
        with con:
            n = con.execute("UPDATE user_settings SET value = ? WHERE key = 'realname'",
                            ("x\r\nNICK evil3\r\nPRIVMSG bob2 :injected-by-stored",)).rowcount
        con.close()
        tap.ok(n == 1, "the stored realname is changed behind ferry's back", "rows: %d" % n)
        mark = ferry.mark()
        async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
            line = await ferry.await_log(r"session: alice@localhost: not logging in: the stored "
                                         r"value of 'realname'", 20, since=mark)
            tap.ok(line is not None, "the login is refused with a log line naming the field",
                   ferry.log_tail(15))
            err = await alice.error_from(T, timeout=10)
            tap.ok(err is not None and "register again" in (err.error_text() or ""),
                   "alice is told to register again", str(err))
            await quiet(bob2, 3)
            tap.ok(not injected(bob2) and not await bob2.ison("alice"),
                   "nothing of the stored value reaches IRC", str(injected(bob2)))
            # clean up for the later parts: a good registration again
            r = await alice.register(T, {"username": "alice", "realname": "Alice A"},
                                     timeout=60)
            tap.ok(r.type == "result", "alice registers again", str(r))


# ---- the run ----------------------------------------------------------------------------

async def scenario(tap, prosody, irc, ferry):
    await injection(tap, prosody, irc, ferry)


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(
        run, T, ["%s@localhost" % u for u in ("alice", "carl", "dora", "eve")])
    presets = irc_presets(irc)
    presets["locked"] = "server, port"
    presets["ferry.fields"] = "realname, option_username"
    cfg = transport_config(prosody, presets=presets)
    ferry = start_ferry(tap, run, **cfg)
    if ferry is None:
        return
    t0 = time.monotonic()
    asyncio.run(asyncio.wait_for(scenario(tap, prosody, irc, ferry), 300))
    tap.diag("scenario took %.1f s" % (time.monotonic() - t0))
    ferry.stop()


def main():
    return run_test("bounds", ("prosody", "prosodyctl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
