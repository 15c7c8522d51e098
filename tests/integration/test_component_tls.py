#!/usr/bin/python3
"""Integration test: ferry's Direct TLS component link and its checks.

A throwaway CA issues a certificate for "localhost" (SAN DNS:localhost and
IP:127.0.0.1) and one for "wrong.example".  One ejabberd 23.01 runs two
`tls: true` ejabberd_service listeners, one per certificate (ejabberd
serves a listener's certfile whatever SNI the client sends).  Checks:
  - tls_ca_file = CA, tls_server_name = localhost: online, disco works;
  - the wrong.example certificate: "TLS certificate verification failed"
    and never "online as";
  - no tls_ca_file (system store): the test CA is refused.
Prosody 0.12 Direct TLS (net_multiplex + ssl_ports, the good certificate
as the global `ssl` one, which Prosody serves with no SNI or with SNI equal
to a configured host, and refuses other SNI with unrecognized_name):
  - tls_server_name = localhost: online, disco works;
  - no tls_server_name, host = 127.0.0.1: ferry must check the IP SAN and
    send no SNI (Prosody would refuse SNI "127.0.0.1").
Prints TAP.
"""

import asyncio
import os
import sys
import traceback

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Ferry, TestRun, XmppClient, ClientError,  # noqa: E402
                     preflight)
from servers import Ejabberd, Prosody, TestCA  # noqa: E402
from tap import Tap  # noqa: E402

JID = "irc.localhost"
USER, PASSWORD = "alice@localhost/test", "alicepw"


def expect_online(tap, run, name, server, port, label, **tls):
    """Start a TLS ferry, expect 'online as' and a disco#info answer."""
    f = run.add(Ferry(run.path(name), port, server.secret, name=name, jid=JID,
                      tls=True, **tls)).start()
    m = f.wait_for_log(Ferry.ONLINE, 15)
    tap.ok(m is not None, "%s: ferry logs 'online as %s'" % (label, JID),
           f.log_tail)
    tap.ok(f.count(Ferry.TLS_FAILED) == 0,
           "%s: no certificate verification failure" % label, f.log_tail)

    async def disco():
        async with XmppClient(USER, PASSWORD, server.c2s_port) as c:
            return await c.disco_info(JID)
    try:
        r, ids, _feats = asyncio.run(disco())
        tap.ok(r.type == "result" and any(i[0] == "gateway" for i in ids),
               "%s: a client gets disco#info from the component" % label,
               "reply: %s" % r)
    except ClientError as e:
        tap.fail("%s: a client gets disco#info from the component" % label,
                 str(e))
    tap.ok(server.secret not in f.log_text(),
           "%s: the secret is not in ferry's log" % label)
    f.stop()


def expect_refused(tap, run, name, server, port, label, **tls):
    """Start a TLS ferry, expect the verification-failed line, no online."""
    f = run.add(Ferry(run.path(name), port, server.secret, name=name, jid=JID,
                      tls=True, **tls)).start()
    m = f.wait_for_log(Ferry.TLS_FAILED, 15)
    tap.ok(m is not None, "%s: ferry logs 'TLS certificate verification "
           "failed'" % label, f.log_tail)
    tap.ok(f.count(Ferry.ONLINE) == 0, "%s: ferry never logs 'online as'"
           % label, f.log_tail)
    f.stop()


def main():
    tap = Tap()
    preflight(tap, "ejabberdctl", "epmd", "erl", "prosody", "prosodyctl",
              "openssl")
    run = TestRun("tls", tap)
    try:
        ca = TestCA(run.path("ca"))
        good = ca.issue("localhost", dns=["localhost"], ips=["127.0.0.1"])
        wrong = ca.issue("wrong.example", dns=["wrong.example"])
        secret = "s3cret-%s" % os.urandom(6).hex()

        ej = run.add(Ejabberd(run.path("ejabberd"), components=[
            {"hosts": {JID: secret}, "certfile": good["combined"]},
            {"hosts": {JID: secret}, "certfile": wrong["combined"]}]))
        ej.start()
        ej.register("alice", "localhost", "alicepw")
        good_port, wrong_port = ej.component_ports
        expect_online(tap, run, "ferry-ej-good", ej, good_port,
                      "ejabberd, good cert", tls_ca_file=ca.cert,
                      tls_server_name="localhost")
        expect_refused(tap, run, "ferry-ej-wrong", ej, wrong_port,
                       "ejabberd, cert for wrong.example",
                       tls_ca_file=ca.cert, tls_server_name="localhost")
        expect_refused(tap, run, "ferry-ej-noca", ej, good_port,
                       "ejabberd, no tls_ca_file (system store)",
                       tls_server_name="localhost")
        killed = ej.stop()
        tap.ok(not killed, "ejabberd stopped by PID", "SIGKILLed %s" % killed)

        pr = run.add(Prosody(run.path("prosody"), component=JID, secret=secret,
                             tls_cert=good["cert"], tls_key=good["key"]))
        pr.start()
        pr.register("alice", "localhost", "alicepw")
        expect_online(tap, run, "ferry-pr-sni", pr, pr.tls_port,
                      "Prosody Direct TLS, SNI localhost",
                      tls_ca_file=ca.cert, tls_server_name="localhost")
        expect_online(tap, run, "ferry-pr-ip", pr, pr.tls_port,
                      "Prosody Direct TLS, host 127.0.0.1, no SNI",
                      tls_ca_file=ca.cert)
        expect_refused(tap, run, "ferry-pr-name", pr, pr.tls_port,
                       "Prosody Direct TLS, tls_server_name not in the cert",
                       tls_ca_file=ca.cert, tls_server_name=JID)
    except Exception:
        tap.fail("no unexpected exception", traceback.format_exc())
        run.dump_logs()
    problems = run.cleanup()
    tap.ok(not problems, "everything stopped cleanly, no leftover processes",
           "\n".join(problems))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
