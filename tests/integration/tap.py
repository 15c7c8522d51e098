"""A tiny TAP (Test Anything Protocol) producer for ferry's integration tests.

automake's tap-driver.sh reads what this prints on stdout:
    ok 1 - description
    not ok 2 - description
    # diagnostic line
    Bail out! reason
    1..N                      (the plan, printed by done() at the end)
    1..0 # SKIP reason        (skip_all: nothing can run here)
The process exit status is nonzero if any test failed, if the test bailed
out, or if done() was never reached (an exception escaped).
"""

import sys


class Tap:
    """Collects results and prints TAP lines as they happen."""

    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.count = 0
        self.failed = 0
        self.planned = None

    def _emit(self, line):
        self.out.write(line + "\n")
        self.out.flush()

    def plan(self, n):
        """Announce the number of tests up front (optional; see done())."""
        self.planned = n
        self._emit("1..%d" % n)

    def diag(self, text):
        """Print diagnostics, one '# ' line per line of text."""
        for line in str(text).rstrip("\n").split("\n"):
            self._emit("# " + line)

    def ok(self, cond, desc, diag=None):
        """Report one test; on failure also print `diag` (str or callable).

        Returns bool(cond), so callers can branch on the outcome.
        """
        self.count += 1
        desc = desc.replace("\n", " ")
        if cond:
            self._emit("ok %d - %s" % (self.count, desc))
        else:
            self.failed += 1
            self._emit("not ok %d - %s" % (self.count, desc))
            if diag is not None:
                self.diag(diag() if callable(diag) else diag)
        return bool(cond)

    def fail(self, desc, diag=None):
        return self.ok(False, desc, diag)

    def skip(self, desc, reason):
        """A test that was not run for a stated reason (counts as passed)."""
        self.count += 1
        self._emit("ok %d - %s # SKIP %s" % (self.count, desc, reason))

    def skip_all(self, reason):
        """Nothing can run on this machine (e.g. a server is missing)."""
        self._emit("1..0 # SKIP %s" % reason)
        sys.exit(0)

    def bail_out(self, reason):
        """Abort the whole test; tap-driver reports it as an ERROR."""
        self._emit("Bail out! %s" % reason.replace("\n", " "))
        sys.exit(2)

    def exit_code(self):
        if self.failed:
            return 1
        if self.planned is not None and self.planned != self.count:
            return 1
        return 0

    def done(self):
        """Print the trailing plan (unless planned already); exit status."""
        if self.planned is None:
            self._emit("1..%d" % self.count)
        elif self.planned != self.count:
            self.diag("planned %d tests but ran %d" % (self.planned, self.count))
        if self.failed:
            self.diag("%d of %d tests failed" % (self.failed, self.count))
        return self.exit_code()
