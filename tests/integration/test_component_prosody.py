#!/usr/bin/python3
"""Integration test: ferry as an XEP-0114 component of Prosody 0.12.

A slixmpp user on localhost checks disco#info/#items, jabber:iq:version,
ping and unknown-namespace errors on the component; Prosody is restarted
(stopped by PID, started on the same ports) and ferry must reattach by
itself; a second ferry with a wrong secret must report not-authorized,
retry, and never log the secret.  Prints TAP.
"""

import os
import sys
import traceback

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import TestRun, preflight, run_component_suite  # noqa: E402
from servers import Prosody  # noqa: E402
from tap import Tap  # noqa: E402


def main():
    tap = Tap()
    preflight(tap, "prosody", "prosodyctl")
    run = TestRun("prosody", tap)
    try:
        secret = "s3cret-%s" % os.urandom(6).hex()
        prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"],
                                  component="irc.localhost", secret=secret))
        prosody.start()
        prosody.register("alice", "localhost", "alicepw")
        run_component_suite(tap, run, prosody, "alice@localhost/test",
                            "alicepw", jid="irc.localhost")
    except Exception:
        tap.fail("no unexpected exception", traceback.format_exc())
        run.dump_logs()
    problems = run.cleanup()
    tap.ok(not problems, "everything stopped cleanly, no leftover processes",
           "\n".join(problems))
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
