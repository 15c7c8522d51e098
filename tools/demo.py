#!/usr/bin/python3
"""ferry's demo: a throwaway XMPP server and IRC network on loopback, with
ferry attached as the IRC transport.

Starts Prosody (c2s on 127.0.0.1:5222 when that port is free) and ngircd
(127.0.0.1:6667 when free), creates a user, writes a ferry configuration
that pins the transport to that IRC server, and runs ferry from the build
tree.
Prints how to log in with an XMPP client (Gajim, Dino, profanity...), then
waits; Ctrl-C stops every process it started (by PID), keeps the logs of
ferry, Prosody and ngircd in a directory of their own (printed, to attach
to a bug report) and removes the rest of the temporary directory.  Run it
through tools/demo.sh, which builds first.
"""

import os
import secrets
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from harness import Ferry  # noqa: E402
from servers import Ngircd, Prosody, port_accepts  # noqa: E402

DOMAIN = "localhost"
TRANSPORT = "irc.localhost"


def keep_logs(started, work):
    """Copies the log files of the STARTED objects (log_path, and a
    console_log when there is one) into a new directory beside WORK;
    returns its path, or None if there was nothing to keep."""
    logs = []
    for p in started:
        for attr in ("log_path", "console_log"):
            path = getattr(p, attr, None)
            if path and os.path.isfile(path):
                logs.append(path)
    if not logs:
        return None
    kept = tempfile.mkdtemp(prefix="ferry-demo-logs-", dir=os.path.dirname(work))
    for path in logs:
        shutil.copy2(path, os.path.join(kept, os.path.basename(path)))
    return kept


def main():
    work = tempfile.mkdtemp(prefix="ferry-demo-")
    # as root, ferry runs its workers as ferry-worker (harness.Ferry creates
    # that user), whose private dirs are made in here
    os.chmod(work, 0o711)
    started = []
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        c2s = None if port_accepts(5222) else 5222
        secret = secrets.token_hex(16)
        prosody = Prosody(os.path.join(work, "prosody"), vhosts=[DOMAIN],
                          component=TRANSPORT, secret=secret, c2s_port=c2s)
        prosody.start()
        started.append(prosody)
        password = secrets.token_urlsafe(9)
        prosody.register("alice", DOMAIN, password)
        irc = Ngircd(os.path.join(work, "ngircd"), name="irc.demo.local")
        if not port_accepts(6667):
            irc.port = 6667
            irc.rewrite_port()
        irc.start()
        started.append(irc)
        ferry = Ferry(os.path.join(work, "ferry"), prosody.component_port, secret,
                      jid=TRANSPORT, legacy_name="IRC Transport", level="info",
                      extra={"legacy": {"server": "127.0.0.1", "port": str(irc.port),
                                        "ssl": "false",  # the demo ngircd is plain
                                        "locked": "server;port;ssl"},
                             # so that the admin commands can be tried too
                             "access": {"admins": "alice@" + DOMAIN}})
        ferry.start()
        started.append(ferry)
        ferry.wait_for_log(Ferry.ONLINE, 30)
        print("""
ferry is running, attached to a throwaway Prosody on loopback.

  Log in with any XMPP client on this machine:
    account   alice@%(domain)s
    password  %(password)s
    server    127.0.0.1, port %(port)d (plain connection, no TLS: loopback only)
  (Gajim: "Add account" -> "Advanced", set host 127.0.0.1, the port, and
  connection type PLAIN; answer "Connect Anyway" to its insecure-connection
  warning -- the demo server has no certificate.)

  Then, in the client:
    1. Register with the IRC transport, one of three ways:
       - Gajim: Accounts -> Discover Services, select "IRC Transport", then
         "Register" (a form) or "Command" -> Register;
       - any client (Dino, Conversations...): start a chat with
         %(transport)s and type "help", then "register": the transport asks
         one question per message (`-` keeps the default, `abort` stops).
         Dino wants an address with "@" there: run
         dino-im 'xmpp:%(transport)s?message' instead;
       - the link xmpp:%(transport)s?register in a client that opens it.
       Choose a nickname, leave the password empty. ferry logs in to IRC
       once to check, then asks to be added to your contacts: accept.
       (Gajim then opens "Add Contact" for the transport itself: confirm it
       as it is; add IRC users later through a new "Add Contact", so they
       keep their own names.) "status", "contacts", "settings", "relogin"
       and "unregister" work the same ways (Gajim: right-click the
       transport -> Execute Command); alice is an admin here, so "stats"
       and the XEP-0133 admin commands are listed too.
    2. Your nickname is now on the demo IRC network at 127.0.0.1:%(irc)d.
       Connect any IRC client there (e.g. `irssi -c 127.0.0.1 -p %(irc)d`)
       and talk to yourself: an IRC user "bob" is bob@%(transport)s in XMPP
       (add it to your contacts to see bob online and to chat).
    3. IRC channels are group chats: join #ferry@%(transport)s (any channel
       name works; a channel key goes in the room password). The channels
       on the network are listed in the services of %(transport)s.

  ferry's log:   %(log)s
  Stop with Ctrl-C (the logs are kept; the path is printed then).
""" % {"domain": DOMAIN, "password": password, "port": prosody.c2s_port,
       "transport": TRANSPORT, "log": ferry.log_path, "irc": irc.port})
        sys.stdout.flush()
        while not stop["now"] and ferry.running():
            time.sleep(0.5)
        if not ferry.running():
            print("ferry exited; its log:\n" + ferry.log_tail(), file=sys.stderr)
            return 1
        return 0
    finally:
        for p in reversed(started):
            p.stop()
        # The logs outlive the demo: what a bug report needs.
        kept = keep_logs(started, work)
        shutil.rmtree(work, ignore_errors=True)
        if kept:
            print("\nferry's, Prosody's and ngircd's logs are kept in %s\n"
                  "(attach them to a bug report; remove the directory when done)" % kept)
            sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
