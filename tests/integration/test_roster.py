#!/usr/bin/python3
"""Legacy contacts in the user's roster, both ways ferry does it.

carol@legacy.localhost (the legacy account, prpl-jabber) already has erin
in her legacy contact list. When alice@localhost registers carol:
- with Prosody's mod_privilege (XEP-0356, urn:xmpp:privilege:2) ferry
  pushes erin into alice's roster with subscription 'both': no request;
- without it, erin asks alice once with a 'subscribe', and never again on
  later logins.
Prints TAP.
"""

import asyncio
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from servers import Prosody  # noqa: E402
from transport import XmppUser, legacy_xmpp_config  # noqa: E402

T = "xmpp.localhost"
ERIN = "erin\\40legacy.localhost@" + T


async def befriend(port, erin):
    """erin and carol subscribe to each other on the legacy server."""
    async with XmppUser("carol@legacy.localhost", "carolpw", port) as carol:
        erin.send_presence(to="carol@legacy.localhost", ptype="subscribe")
        ok = await carol.presence_from("erin@legacy.localhost", None, timeout=15)
        return ok is not None


async def roster_item(user, jid):
    await user.xmpp.get_roster(timeout=10)
    items = user.xmpp.client_roster
    return items[jid]["subscription"] if jid in items else None


async def scenario(tap, prosody, privileged):
    label = "privileged" if privileged else "unprivileged"
    port = prosody.c2s_port
    async with XmppUser("erin@legacy.localhost", "erinpw", port) as erin:
        tap.ok(await befriend(port, erin),
               "%s: erin and carol are legacy contacts" % label)
        await alice_registers(tap, port, privileged)


async def alice_registers(tap, port, privileged):
    label = "privileged" if privileged else "unprivileged"
    async with XmppUser("alice@localhost", "alicepw", port) as alice:
        r = await alice.register(T, {"username": "carol", "password": "carolpw"})
        tap.ok(r.type == "result", "%s: carol registered" % label, str(r))
        if privileged:
            p = await alice.presence_from(ERIN, None, timeout=30)
            tap.ok(p is not None, "privileged: erin's presence reaches alice")
            sub = await roster_item(alice, ERIN)
            tap.ok(sub == "both", "privileged: erin is in alice's roster with "
                   "subscription 'both', pushed by ferry", "subscription: %s" % sub)
            asked = [x for x in alice.inbox if x.kind == "presence" and
                     x.sender == ERIN and x.type == "subscribe"]
            tap.ok(not asked, "privileged: no subscription request was needed",
                   str([str(a) for a in asked]))
        else:
            req = await alice.presence_from(ERIN, "subscribe", timeout=30)
            tap.ok(req is not None, "unprivileged: erin asks alice once with subscribe")


async def scenario_rest(tap, port, privileged):
    if privileged:
        return
    # Log in again: the request must not come back.
    async with XmppUser("alice@localhost", "alicepw", port, approve=False) as alice:
        online = await alice.presence_from(T, None, timeout=30, where=lambda p:
                                           "Connected" in (p.child_text("status") or ""))
        tap.ok(online is not None, "unprivileged: the session is back on the next login")
        again = await alice.presence_from(ERIN, "subscribe", timeout=8)
        tap.ok(again is None, "unprivileged: no second subscription request on a new login",
               str(again))


def body(tap, run):
    for privileged in (True, False):
        label = "privileged" if privileged else "unprivileged"
        prosody = run.add(Prosody(
            run.path("prosody-" + label), vhosts=["localhost", "legacy.localhost"],
            component=T, secret="s3cret-%s" % os.urandom(6).hex(),
            privileges={"roster": "both", "message": "outgoing"} if privileged else None))
        prosody.start()
        for user, host, pw in (("alice", "localhost", "alicepw"),
                               ("carol", "legacy.localhost", "carolpw"),
                               ("erin", "legacy.localhost", "erinpw")):
            prosody.register(user, host, pw)
        ferry = start_ferry(tap, run, label="ferry-" + label,
                            **legacy_xmpp_config(prosody, T))
        if ferry is not None:
            if privileged:
                tap.ok(ferry.wait_for_log(r"roster: localhost grants roster access "
                                          r"\(urn:xmpp:privilege:2\)", 10) is not None,
                       "privileged: ferry sees Prosody's roster grant", ferry.log_tail)
            asyncio.run(asyncio.wait_for(scenario(tap, prosody, privileged), 180))
            asyncio.run(asyncio.wait_for(scenario_rest(tap, prosody.c2s_port, privileged),
                                         60))
            ferry.stop()
        prosody.stop()


def main():
    return run_test("roster", ("prosody", "prosodyctl"), body)

if __name__ == "__main__":
    sys.exit(main())
