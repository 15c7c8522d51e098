#!/usr/bin/python3
"""End to end: prpl-jabber against a legacy Prosody with a self-signed
certificate (STARTTLS required), through ferry (issue 12 §4).

alice@localhost registers carol@legacy.localhost with the XEP-0050 command
jabber:iq:register. The certificate question is the run's next stage,
with the subject and the SHA-256 fingerprint computed here by openssl
from the certificate file: reject -> the run fails with a certificate
text, nothing stored; once -> registered, `status` shows the link
encrypted with that fingerprint, trusted for this login only; a relogin
asks again (a chat message from the transport), answered always; the
next relogin asks nothing and `status` says always accepted. Prints TAP.
"""

import asyncio
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from servers import Prosody  # noqa: E402
from transport import XmppUser, transport_config  # noqa: E402
from test_legacy_tls import (answer_question, check_question, command,  # noqa: E402
                             question_message, sha256_of, status, status_when)

XT = "xmpp.localhost"
LEGACY = "legacy.localhost"


def self_signed(d):
    crt, key = os.path.join(d, "legacy.crt"), os.path.join(d, "legacy.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=%s/O=ferry legacy test" % LEGACY,
                    "-addext", "subjectAltName=DNS:%s" % LEGACY],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o644)  # Prosody reads it
    return crt, key


async def scenario(tap, users, fp):
    async with XmppUser("alice@localhost", "alicepw", users.c2s_port) as alice:
        reg = {"username": "carol", "password": "carolpw"}
        s1 = await command(alice, "jabber:iq:register", to=XT)
        tap.ok(s1.type == "result" and "username" in s1.fields,
               "jabber:iq:register: the registration form", str(s1))
        s2 = await command(alice, "jabber:iq:register", s1, reg, to=XT)
        check_question(tap, s2, fp, "prpl-jabber, first try", subject="CN=" + LEGACY)
        s3 = await command(alice, "jabber:iq:register", s2, {"action": "reject"}, to=XT)
        tap.ok(s3.type == "error" and "certificate" in s3.text.lower(),
               "reject: the run ends with a certificate error", str(s3))
        _r, _f, registered = await alice.registration_form(XT)
        tap.ok(not registered, "reject: nothing was stored")
        s1 = await command(alice, "jabber:iq:register", to=XT)
        s2 = await command(alice, "jabber:iq:register", s1, reg, to=XT)
        check_question(tap, s2, fp, "prpl-jabber, second try", subject="CN=" + LEGACY)
        s3 = await command(alice, "jabber:iq:register", s2, {"action": "once"}, to=XT)
        tap.ok(s3.type == "result" and s3.status == "completed",
               "once: registered, signed on over TLS", str(s3))
        st = await status_when(alice, lambda st: st.value("cert_sha256") is not None, to=XT)
        tap.ok("encrypted (TLS)" in (st.value("encrypted") or "") and
               fp in (st.value("cert_sha256") or "") and
               LEGACY in (st.value("cert_subject") or "") and
               "this login only" in (st.value("cert_trust") or ""),
               "status: encrypted, the subject and fingerprint, for this login only", str(st))
        m0 = alice.mark()
        rl = asyncio.ensure_future(command(alice, "relogin", timeout=90, to=XT))
        msg, pid = await question_message(alice, m0, to=XT)
        tap.ok(pid is not None and fp in (msg.child_text("body") if msg else ""),
               "a relogin asks again, as a chat message from the transport")
        if pid is not None:
            a = await answer_question(alice, pid, "always", to=XT)
            tap.ok(a.type == "result", "answered always", str(a))
        await rl
        st = await status_when(alice, lambda st: "always" in (st.value("cert_trust") or ""),
                               to=XT)
        tap.ok(fp in (st.value("cert_sha256") or "") and
               "always accepted" in (st.value("cert_trust") or ""),
               "status: always accepted for this account", str(st))
        m0 = alice.mark()
        rl = await command(alice, "relogin", timeout=90, to=XT)
        msg, pid = await question_message(alice, m0, timeout=5, to=XT)
        st = await status_when(alice, lambda st: st.value("cert_sha256") is not None, to=XT)
        tap.ok(pid is None and "always accepted" in (st.value("cert_trust") or ""),
               "the next relogin asks nothing: the pin is checked", "%s %s" % (rl, st))


def body(tap, run):
    d = run.path("certs")
    os.makedirs(d, exist_ok=True)
    crt, key = self_signed(d)
    fp = sha256_of(crt)
    users = run.add(Prosody(run.path("prosody-users"), vhosts=["localhost"], component=XT,
                            secret="s3cret-%s" % os.urandom(6).hex()))
    users.start()
    users.register("alice", "localhost", "alicepw")
    legacy = run.add(Prosody(run.path("prosody-legacy"), vhosts=[LEGACY],
                             component="unused." + LEGACY, tls_cert=crt, tls_key=key,
                             starttls=True))
    legacy.start()
    legacy.register("carol", LEGACY, "carolpw")
    presets = {"domain": LEGACY, "connect_server": "127.0.0.1",
               "port": str(legacy.c2s_port), "connection_security": "require_tls",
               "locked": "domain;connect_server;port;connection_security"}
    ferry = start_ferry(tap, run, label="ferry",
                        **transport_config(users, jid=XT, protocol="prpl-jabber",
                                           name="Old XMPP", presets=presets,
                                           extra={"access": {"allowed_domains": "localhost"},
                                                  "limits": {"prompt_seconds": "60"}}))
    if ferry is None:
        return
    asyncio.run(asyncio.wait_for(scenario(tap, users, fp), 400))
    ferry.stop()


if __name__ == "__main__":
    sys.exit(run_test("legacy-xmpp-tls", ("prosody", "prosodyctl", "openssl"), body))
