#!/usr/bin/python3
"""The inbound size limit (issue 10 item 1) on ejabberd 23.01 and ngircd.

ejabberd's component listener has no stanza limit unless max_stanza_size
is set (its default is infinity), so what reaches ferry is bounded only by
the c2s limit of the sender's server (262144 here) grown by escaping. eve,
not registered with the transport, sends 200 000 '"' to a contact JID;
ferry (max_stanza_bytes 512 KiB) skips the stanza, eve gets
policy-violation with her message id, the link stays up and alice's round
trip works right after. Prints TAP.
"""

import asyncio
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Ferry, run_test, start_ferry  # noqa: E402
from servers import Ejabberd, Ngircd  # noqa: E402
from transport import irc_presets, IrcPeer, XmppUser, transport_config, register_on_irc, round_trip  # noqa: E402
from test_limits import T, oversized_from_stranger  # noqa: E402


async def scenario(tap, ej, irc, ferry):
    async with XmppUser("alice@localhost", "alicepw", ej.c2s_port) as alice, \
            XmppUser("eve@localhost", "evepw", ej.c2s_port) as eve, \
            IrcPeer(irc.port, "bob") as bob:
        await register_on_irc(tap, alice, bob, T)
        await round_trip(tap, alice, bob, "before")
        mark = ferry.mark()
        await oversized_from_stranger(tap, eve, ferry, mark, 1)
        await round_trip(tap, alice, bob, "right after the oversized message")
        tap.ok(ferry.count(Ferry.RECONNECTING, since=mark) == 0 and
               ferry.count(r"link down", since=mark) == 0,
               "the component link stayed up (no reconnect in ferry's log)")


def body(tap, run):
    secret = "s3cret-%s" % os.urandom(6).hex()
    ej = run.add(Ejabberd(run.path("ejabberd"), hosts=["localhost"],
                          components=[{"hosts": {T: secret}}],
                          privileges={"roster": "both", "message": "outgoing"}))
    ej.start()
    ej.register("alice", "localhost", "alicepw")
    ej.register("eve", "localhost", "evepw")
    irc = run.add(Ngircd(run.path("ngircd")))
    irc.start()
    ferry = start_ferry(tap, run, max_stanza_bytes=524288, **transport_config(
        ej, presets=irc_presets(irc)))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(scenario(tap, ej, irc, ferry), 240))


def main():
    return run_test("limits-ejabberd", ("ejabberdctl", "epmd", "erl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
