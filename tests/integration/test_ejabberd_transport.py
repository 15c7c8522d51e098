#!/usr/bin/python3
"""The transport on ejabberd 23.01: registration through the form and a
message round trip with IRC (ngircd). ejabberd grants XEP-0356 roster
access but its roster set fails in 23.01, so ferry must fall back to one
subscription request per contact. Prints TAP.
"""

import asyncio
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from servers import Ejabberd, Ngircd  # noqa: E402
from transport import irc_presets, IrcPeer, XmppUser, transport_config  # noqa: E402

T = "irc.localhost"
TEXT = "ejabberd <-> IRC: 1 < 2 & ünïcødé ?OTR:AAMG+/=."


async def scenario(tap, ej, irc, ferry):
    async with XmppUser("alice@localhost", "alicepw", ej.c2s_port) as alice, \
            IrcPeer(irc.port, "bob") as bob:
        r = await alice.register(T, {"username": "alice"})
        tap.ok(r.type == "result", "registration through the form on ejabberd", str(r))
        tap.ok(await bob.wait_ison("alice", True, 30), "alice appears on IRC")
        tap.ok(await alice.transport_connected(T) is not None,
               "the transport says it is connected")
        alice.send_message("bob@" + T, TEXT)
        got = await bob.privmsg_from("alice", 20)
        tap.ok(got == TEXT, "XMPP -> IRC through ejabberd arrives exactly", repr(got))
        m0 = alice.mark()
        bob.send("PRIVMSG alice :%s" % TEXT)
        msg = await alice.message_from("bob@" + T, since=m0, timeout=20)
        tap.ok(msg is not None and msg.child_text("body") == TEXT,
               "IRC -> XMPP through ejabberd arrives exactly", str(msg))
        # bob wrote first, so he is a contact now: in the roster one way or another.
        m0 = alice.mark()
        alice.send_presence(to="bob@" + T, ptype="subscribe")
        p = await alice.presence_from("bob@" + T, None, since=m0, timeout=30)
        tap.ok(p is not None, "bob's presence shows after alice adds him")


def body(tap, run):
    secret = "s3cret-%s" % os.urandom(6).hex()
    ej = run.add(Ejabberd(run.path("ejabberd"), hosts=["localhost"],
                          components=[{"hosts": {T: secret}}],
                          privileges={"roster": "both", "message": "outgoing"}))
    ej.start()
    ej.register("alice", "localhost", "alicepw")
    irc = run.add(Ngircd(run.path("ngircd")))
    irc.start()
    ferry = start_ferry(tap, run, **transport_config(
        ej, presets=irc_presets(irc)))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(scenario(tap, ej, irc, ferry), 180))


def main():
    return run_test("ejabberd-transport", ("ejabberdctl", "epmd", "erl", "ngircd"), body)

if __name__ == "__main__":
    sys.exit(main())
