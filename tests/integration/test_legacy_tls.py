#!/usr/bin/python3
"""TLS to the legacy network is verified, never accepted blindly.

ngircd serves TLS with a certificate from a test CA. Registering with
ssl=true through a ferry that does not trust that CA fails quickly (no
hang) with the certificate problem in the error text, and nothing is
stored; a ferry with [workers] legacy_ca_file = the test CA logs in over
TLS. Prints TAP.
"""

import asyncio
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from servers import Ngircd, Prosody, TestCA  # noqa: E402
from transport import IrcPeer, XmppUser, transport_config  # noqa: E402

T = "irc.localhost"


async def untrusted(tap, prosody):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        t0 = time.monotonic()
        r = await alice.register(T, {"username": "alice"})
        took = time.monotonic() - t0
        text = r.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}text")
        why = text.text if text is not None else ""
        tap.ok(r.type == "error" and r.condition == "not-acceptable",
               "an untrusted legacy certificate fails the registration", str(r))
        tap.ok("certificate" in why.lower(), "the error says it is the certificate", why)
        tap.ok(took < 20, "the refusal comes quickly, no hang (%.1f s)" % took)
        _r, _f, registered = await alice.registration_form(T)
        tap.ok(not registered, "nothing was stored")


async def trusted(tap, prosody, irc):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice, \
            IrcPeer(irc.port, "bob") as bob:
        r = await alice.register(T, {"username": "alice"})
        tap.ok(r.type == "result", "with legacy_ca_file the TLS login succeeds", str(r))
        tap.ok(await bob.wait_ison("alice", True, 30), "alice is on IRC over TLS")
        tap.ok(await alice.transport_connected(T) is not None,
               "the transport says it is connected")
        alice.send_message("bob@" + T, "over TLS")
        tap.ok(await bob.privmsg_from("alice") == "over TLS", "messages flow over TLS")


def body(tap, run):
    ca = TestCA(run.path("ca"))
    cert = ca.issue("localhost", dns=["localhost"], ips=["127.0.0.1"])
    prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"], component=T,
                              secret="s3cret-%s" % os.urandom(6).hex()))
    prosody.start()
    prosody.register("alice", "localhost", "alicepw")
    irc = run.add(Ngircd(run.path("ngircd"), tls_cert=cert["chain"], tls_key=cert["key"]))
    irc.start()
    presets = {"server": "localhost", "port": str(irc.tls_port), "ssl": "true",
               "locked": "server;port;ssl"}
    for label, extra in (("untrusted", {}),
                         ("trusted", {"workers": {"legacy_ca_file": ca.cert}})):
        ferry = start_ferry(tap, run, label="ferry-" + label,
                            **transport_config(prosody, presets=presets, extra=extra))
        if ferry is None:
            continue
        if label == "untrusted":
            asyncio.run(asyncio.wait_for(untrusted(tap, prosody), 120))
        else:
            asyncio.run(asyncio.wait_for(trusted(tap, prosody, irc), 120))
        ferry.stop()


def main():
    return run_test("legacy-tls", ("prosody", "prosodyctl", "ngircd", "openssl"), body)

if __name__ == "__main__":
    sys.exit(main())
