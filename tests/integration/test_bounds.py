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
  six users registering at once get their check logins at login_rate;
- a register set without a <query/> gets bad-request (ferry runs with
  G_DEBUG=fatal-criticals); a stranger's error replies are rate-limited
  (a privilege grant from another domain being ignored is a unit test,
  test_roster: Prosody here serves one domain).
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


def database(ferry):
    paths = glob.glob(os.path.join(ferry.workdir, "ferry.db"))
    return paths[0] if paths else None


def injected(peer):
    """Lines PEER got that carry a smuggled text."""
    return [ln for ln in peer.lines if "injected" in ln]


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
            text = r.text
            tap.ok(r.type == "error" and r.condition == "not-acceptable"
                   and text is not None and ("'%s'" % field) in text
                   and "injected" not in text,
                   "a line break in %s is refused with not-acceptable naming the field "
                   "(%r)" % (field, list(values.values())[-1][:12]),
                   "%s %r" % (r, text))
        # the legacy <username/> field takes the same check
        r = await alice.iq(T, "<query xmlns='jabber:iq:register'><username>alice&#13;&#10;"
                           "PRIVMSG bob :injected-by-legacy-field</username></query>",
                           itype="set", timeout=30)
        tap.ok(r.type == "error" and r.condition == "not-acceptable",
               "a line break in the legacy <username/> is refused", str(r))
        await asyncio.sleep(2)  # bob reads what ngircd relays meanwhile
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
            await asyncio.sleep(3)  # bob2 reads what ngircd relays meanwhile
            tap.ok(not injected(bob2) and not await bob2.ison("alice"),
                   "nothing of the stored value reaches IRC", str(injected(bob2)))
            # clean up for the later parts: a good registration again
            r = await alice.register(T, {"username": "alice", "realname": "Alice A"},
                                     timeout=60)
            tap.ok(r.type == "result", "alice registers again", str(r))


# ---- the Low: a register set without <query/> ---------------------------------------------

async def no_query(tap, prosody, ferry):
    async with XmppUser("eve@localhost", "evepw", prosody.c2s_port) as eve:
        r = await eve.iq(T, "<foo xmlns='jabber:iq:register'/>", itype="set", timeout=10)
        tap.ok(r.type == "error" and r.condition == "bad-request",
               "a register set with <foo/> instead of <query/> gets bad-request", str(r))
        r = await eve.iq(T, "<query xmlns='http://jabber.org/protocol/disco#info'/>",
                         timeout=10)
        tap.ok(r.type == "result" and ferry.running(),
               "ferry (G_DEBUG=fatal-criticals) is still up", str(r))


STRANGER_BURST = 20  # address.c: error replies to one stranger at once, then one per 2 s


async def stranger_errors(tap, prosody, ferry):
    """Item 8: the error replies to a stranger (eve is not registered) are
    rate-limited; others are still answered."""
    async with XmppUser("eve@localhost", "evepw", prosody.c2s_port) as eve, \
            XmppUser("dora@localhost", "dorapw", prosody.c2s_port) as dora:
        mark, m0 = ferry.mark(), eve.mark()
        for i in range(2 * STRANGER_BURST):
            eve.send_message("bob@" + T, "hello %d" % i)
        await asyncio.sleep(3)
        errors = [x for x in eve.inbox[m0:] if x.kind == "message" and x.type == "error"]
        tap.ok(0 < len(errors) <= STRANGER_BURST + 2,
               "a stranger's %d messages get %d error replies (burst %d, then one per 2 s)"
               % (2 * STRANGER_BURST, len(errors), STRANGER_BURST))
        tap.ok(ferry.count(r"not answering eve@localhost: over the rate of error replies to "
                           r"strangers", since=mark) >= 1,
               "ferry logs the replies it does not send", ferry.log_tail())
        r = await dora.iq(T, "<query xmlns='http://jabber.org/protocol/disco#info'/>",
                          timeout=10)
        tap.ok(r.type == "result", "another user is still answered", str(r))


# ---- item 8: login amplification ---------------------------------------------------------

async def irc_users(peer):
    """The number of users ngircd counts (LUSERS), or -1."""
    fut = asyncio.get_running_loop().create_future()
    peer._pending["251"] = fut
    peer.send("LUSERS")
    try:
        line = await asyncio.wait_for(fut, 5)
    except asyncio.TimeoutError:
        return -1
    words = line.split(":")[-1].split()
    return int(words[2]) if len(words) > 2 and words[2].isdigit() else -1


class Silent(XmppUser):
    """No presence: the registrations' logins are never taken by a session."""

    async def session_started(self, x):
        try:
            await x.get_roster(timeout=10)
        except Exception:
            pass


async def amplification(tap, prosody, irc, ferry):
    async with IrcPeer(irc.port, "counter") as counter, \
            Silent("eve@localhost", "evepw", prosody.c2s_port) as eve:
        await asyncio.sleep(1)
        base = await irc_users(counter)
        peak, results = 0, []
        t0 = time.monotonic()
        for i in range(10):
            r = await eve.register(T, {"username": "eve%d" % i}, timeout=60)
            results.append(r)
            peak = max(peak, await irc_users(counter) - base)
        took = time.monotonic() - t0
        ok = [r for r in results if r.type == "result"]
        limited = [r for r in results if r.type == "error" and r.condition ==
                   "resource-constraint" and "try again in" in (r.text or "")]
        tap.diag("10 registrations in %.1f s: %d stored, %d rate-limited; eve's IRC "
                 "connections at most %d" % (took, len(ok), len(limited), peak))
        tap.ok(len(ok) == 5 and len(limited) == 5,
               "five registrations a minute; the rest get resource-constraint with when "
               "to retry", "%s" % [(r.type, r.condition, r.text) for r in results])
        tap.ok(0 < peak <= 2, "eve never holds more than two IRC connections (at most %d)"
               % peak)
        await asyncio.sleep(1)
        left = await irc_users(counter) - base
        tap.ok(left <= 1, "one kept login is left for eve's session (%d)" % left)


async def paced_checks(tap, prosody, ferry):
    """Registrations of many users at once are paced like logins (the
    pacer's first lane): at [workers] login_rate, not all at once."""
    await asyncio.sleep(2.0)  # the bucket full again
    users = [Silent("%s@localhost" % u, "%spw" % u, prosody.c2s_port) for u in PACED]
    for u in users:
        await u.__aenter__()
    try:
        mark = ferry.mark()
        results = await asyncio.gather(*[u.register(T, {"username": n}, timeout=60)
                                         for u, n in zip(users, PACED)])
        import re
        stamps = []
        for m in re.finditer(r"(\d\d):(\d\d):(\d\d\.\d+) ferry\[\d+\] info: registration: "
                             r"\S+: checking", ferry.log_text()[mark:]):
            stamps.append(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)))
        spread = max(stamps) - min(stamps) if stamps else 0
        need = (len(PACED) - LOGIN_BURST) / LOGIN_RATE
        tap.diag("%d registrations at once: check logins started over %.2f s (login_rate %d, "
                 "burst %d)" % (len(PACED), spread, LOGIN_RATE, LOGIN_BURST))
        tap.ok(all(r.type == "result" for r in results) and len(stamps) == len(PACED),
               "every registration is answered", str([r.type for r in results]))
        tap.ok(spread >= need - 0.3,
               "their check logins go at the login pace (%.2f s >= %.1f s)" % (spread, need))
    finally:
        for u in users:
            await u.__aexit__(None, None, None)


# ---- item 7: per-user bounds ---------------------------------------------------------------

async def connect(tap, user, nick):
    r = await user.register(T, {"username": nick}, timeout=60)
    tap.ok(r.type == "result", "%s registers" % nick, str(r))
    tap.ok(await user.transport_connected(T, timeout=30) is not None,
           "%s's session is up" % nick)


def rows(ferry, sql, *args):
    con = sqlite3.connect(database(ferry), timeout=10)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


async def contacts(tap, prosody, ferry):
    async with XmppUser("dora@localhost", "dorapw", prosody.c2s_port) as dora:
        await connect(tap, dora, "dora")
        m = dora.mark()
        mark = ferry.mark()
        for i in range(MAX_CONTACTS + 1):
            dora.send_presence(to="s%d@%s" % (i, T), ptype="subscribe")
        over = "s%d@%s" % (MAX_CONTACTS, T)
        refused = await dora.wait_for(
            lambda x: x.kind == "presence" and (x.sender or "").split("/")[0] == over
            and x.type in ("error", "unsubscribed"), since=m, timeout=20)
        line = await ferry.await_log(r"contacts: dora@localhost: %d contacts, the most "
                                     r"allowed; not adding 's%d'" % (MAX_CONTACTS, MAX_CONTACTS),
                                     10, since=mark)
        stored = rows(ferry, "SELECT count(*) FROM contacts AS c JOIN users AS u ON "
                      "u.id = c.user_id WHERE u.jid = ?", "dora@localhost")
        tap.ok(refused is not None and line is not None and stored == MAX_CONTACTS,
               "a subscription past max_contacts (%d) is refused; %d stored"
               % (MAX_CONTACTS, stored), str(refused))

        # probes to many contacts outside the roster: state bounded
        mark = ferry.mark()
        for i in range(PROBES):
            dora.send_presence(to="p%d@%s" % (i, T), ptype="probe")
        await ferry.await_log(r"contacts: dora@localhost: \d+ contacts outside the roster in "
                              r"memory \(bound %d\); %d forgotten so far"
                              % (MAX_PROBES, (PROBES - MAX_PROBES) // 256 * 256), 60,
                              since=mark)
        import re
        counts = [int(x) for x in re.findall(
            r"contacts: dora@localhost: (\d+) contacts outside the roster in memory",
            ferry.log_text()[mark:])]
        tap.diag("%d probes: reports of the contacts held: %s" % (PROBES, counts))
        tap.ok(len(counts) >= (PROBES - MAX_PROBES) // 256 and counts
               and max(counts) <= MAX_PROBES,
               "%d probes to distinct contacts leave at most %d contacts' state"
               % (PROBES, MAX_PROBES), str(counts))


async def outbox(tap, prosody, irc, ferry):
    async with XmppUser("carl@localhost", "carlpw", prosody.c2s_port) as carl:
        await connect(tap, carl, "carl")
        mark = ferry.mark()
        irc.stop()
        line = await ferry.await_log(r"session: carl@localhost: (disconnected|.*retrying)",
                                     30, since=mark)
        tap.ok(line is not None, "carl's session notices IRC is gone", ferry.log_tail(10))
        m = carl.mark()
        ids = [carl.send_message("bob@" + T, "queued %d" % i) for i in range(SENT)]
        bounced = []
        deadline = time.monotonic() + 30
        while len(bounced) < SENT - MAX_OUTBOX and time.monotonic() < deadline:
            await carl.wait_for(lambda x: x.kind == "message" and x.type == "error"
                                and x.xml.get("id") not in bounced, since=m, timeout=5)
            bounced = [x.xml.get("id") for x in carl.inbox[m:]
                       if x.kind == "message" and x.type == "error"]
        errs = [x for x in carl.inbox[m:] if x.kind == "message" and x.type == "error"]
        conds = {x.error_condition() for x in errs}
        n = rows(ferry, "SELECT count(*) FROM outbox AS o JOIN users AS u ON "
                 "u.id = o.user_id WHERE u.jid = ?", "carl@localhost")
        tap.diag("%d messages while IRC is down: %d rows, %d bounced (%s)"
                 % (SENT, n, len(errs), conds))
        tap.ok(n == MAX_OUTBOX, "the outbox holds max_outbox (%d) rows" % MAX_OUTBOX,
               "rows: %d" % n)
        tap.ok(sorted(bounced) == sorted(ids[MAX_OUTBOX:]) and conds == {"resource-constraint"},
               "the messages past it come back with resource-constraint, with their ids",
               "bounced %s" % bounced)


# ---- the run ----------------------------------------------------------------------------

LOGIN_RATE = 2
LOGIN_BURST = 2
PACED = ["u%d" % i for i in range(1, 7)]
MAX_CONTACTS = 5
MAX_PROBES = 50
PROBES = 1000
MAX_OUTBOX = 20
SENT = 30


async def scenario(tap, prosody, irc, ferry):
    await injection(tap, prosody, irc, ferry)
    await no_query(tap, prosody, ferry)
    await stranger_errors(tap, prosody, ferry)
    await amplification(tap, prosody, irc, ferry)
    await paced_checks(tap, prosody, ferry)
    await contacts(tap, prosody, ferry)
    await outbox(tap, prosody, irc, ferry)


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(
        run, T, ["%s@localhost" % u for u in ["alice", "carl", "dora", "eve"] + PACED])
    presets = irc_presets(irc)
    presets["locked"] = "server, port"
    presets["ferry.fields"] = "realname, option_username"
    cfg = transport_config(prosody, presets=presets, extra={"limits": {
        "max_contacts": str(MAX_CONTACTS), "max_pending_probes": str(MAX_PROBES),
        "max_outbox": str(MAX_OUTBOX)},
        "workers": {"login_rate": str(LOGIN_RATE), "login_burst": str(LOGIN_BURST)}})
    # a GLib critical anywhere in ferry aborts it
    os.environ["G_DEBUG"] = "fatal-criticals"
    try:
        ferry = start_ferry(tap, run, **cfg)
    finally:
        del os.environ["G_DEBUG"]
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
