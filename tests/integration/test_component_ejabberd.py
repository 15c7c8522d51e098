#!/usr/bin/python3
"""Integration test: ferry as an XEP-0114 component of ejabberd 23.01.

ejabberd runs privately (ejabberdctl foreground, own config/spool/logs,
own epmd port and cookie) with an ejabberd_service listener for the
component.  A slixmpp user checks disco#info/#items, jabber:iq:version,
ping and unknown-namespace errors on the component; ejabberd is restarted
on the same ports and ferry must reattach by itself; a ferry with a wrong
secret must report not-authorized, retry, and never log the secret.
Prints TAP.
"""

import os
import sys
import traceback

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TestRun, preflight, run_component_suite  # noqa: E402
from servers import Ejabberd  # noqa: E402
from tap import Tap  # noqa: E402


def main():
    tap = Tap()
    preflight(tap, "ejabberdctl", "epmd", "erl")
    run = TestRun("ejabberd", tap)
    try:
        secret = "s3cret-%s" % os.urandom(6).hex()
        ej = run.add(Ejabberd(run.path("ejabberd"), hosts=["localhost"],
                              components=[{"hosts": {"irc.localhost": secret}}]))
        ej.start()
        ej.register("alice", "localhost", "alicepw")
        run_component_suite(tap, run, ej, "alice@localhost/test", "alicepw",
                            jid="irc.localhost")
    except Exception:
        tap.fail("no unexpected exception", traceback.format_exc())
        run.dump_logs()
    problems = run.cleanup()
    tap.ok(not problems, "everything stopped cleanly, no leftover processes",
           "\n".join(problems))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
