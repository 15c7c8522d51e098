#!/usr/bin/python3
"""prpl-jabber's plaintext-authentication question is refused and explained
(issue 12 §4).

A legacy Prosody without TLS that offers only SASL PLAIN: prpl-jabber
(connection_security opportunistic_tls, auth_plain_in_clear off) asks
whether to send the password in the clear. ferry never asks the user that
(it would put their password on the wire unencrypted): the worker takes
the refusing answer, the user is told why, the registration fails and
nothing is stored; no authentication reached the legacy server. Prints TAP.
"""

import asyncio
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from servers import Prosody  # noqa: E402
from transport import XmppUser, transport_config, execute, NS_REGISTER  # noqa: E402

XT = "xmpp.localhost"
LEGACY = "legacy.localhost"


async def scenario(tap, prosody):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        m0 = alice.mark()
        first = await execute(alice, XT, NS_REGISTER)
        if not tap.ok(first.ok() and first.form is not None, "the register command's form",
                      str(first)):
            return
        values = {"username": "carol"}
        if "password" in first.form.fields:
            values["password"] = "carolpw"
        second = await execute(alice, XT, NS_REGISTER, sessionid=first.sessionid,
                               form=values, timeout=60)
        text = (second.note_text() or "") + " " + str(second)
        tap.ok(second.type == "error" or not second.ok("completed"),
               "the registration does not complete", str(second))
        await asyncio.sleep(1)
        said = [r for r in alice.inbox[m0:]
                if r.kind == "message" and "refused to send your password" in
                (r.child_text("body") or "")]
        tap.ok("refused to send your password" in text or said,
               "the user is told that ferry refused to send the password in the clear",
               "%s %s" % (text, [str(r) for r in alice.inbox[m0:]]))
        questions = [r for r in alice.inbox[m0:]
                     if r.kind == "message" and "prompt/" in (r.child_text("body") or "")]
        tap.ok(not questions, "the user is never asked to send the password in the clear",
               str([str(q) for q in questions]))
        _r, _f, registered = await alice.registration_form(XT)
        tap.ok(not registered, "nothing was stored")
    log = open(prosody.log_path, errors="replace").read()
    tap.ok("Authenticated as carol@" + LEGACY not in log and
           "carol@" + LEGACY + " authenticated" not in log.lower(),
           "carol's password never authenticated at the legacy server")


def body(tap, run):
    prosody = run.add(Prosody(
        run.path("prosody"), vhosts=["localhost", LEGACY], component=XT,
        secret="s3cret-%s" % os.urandom(6).hex(),
        vhost_lines={LEGACY: ['disable_sasl_mechanisms = { "SCRAM-SHA-1", '
                              '"SCRAM-SHA-1-PLUS", "DIGEST-MD5" }']}))
    prosody.start()
    prosody.register("alice", "localhost", "alicepw")
    prosody.register("carol", LEGACY, "carolpw")
    kw = transport_config(
        prosody, jid=XT, protocol="prpl-jabber", name="Old XMPP",
        presets={"domain": LEGACY, "connect_server": "127.0.0.1",
                 "port": str(prosody.c2s_port), "connection_security": "opportunistic_tls",
                 "auth_plain_in_clear": "false",
                 "locked": "domain;connect_server;port;connection_security;"
                           "auth_plain_in_clear"},
        extra={"access": {"allowed_domains": "localhost"}})
    ferry = start_ferry(tap, run, **kw)
    if ferry is None:
        return
    asyncio.run(asyncio.wait_for(scenario(tap, prosody), 150))
    log = ferry.log_tail(400)
    tap.ok("plaintext authentication refused" in log,
           "ferry's log names the refused plaintext authentication")


def main():
    return run_test("legacy-xmpp-plain", ("prosody", "prosodyctl"), body)


if __name__ == "__main__":
    sys.exit(main())
