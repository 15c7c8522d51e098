#!/usr/bin/python3
"""ferry-worker's own certificate verifier (issue 12 §4, src/worker/certs.c),
driven through tests/tools/worker_driver.py: prpl-irc against ngircd over
TLS with a self-signed certificate and with one from a test CA.

Every expected fingerprint is computed here by `openssl x509 -fingerprint
-sha256` from the certificate file, never taken from the worker. Checks:
the CERTIFICATE prompt arrives with the subject, the fingerprint, why
(self-signed / unknown authority), the choices and the hidden host, port
and sha256; reject -> the login fails with a certificate text; once ->
LINK_INFO trust ONCE before CONNECTED, and the next login asks again;
always -> trust PINNED, and a login with that pin (ferry.cert_pins) asks
nothing; a second account of the same worker is asked although the first
accepted (once or always); a changed certificate on the same host and
port asks again and says it changed; a logout while asked -> WITHDRAWN,
and a late answer UNKNOWN;
CANCEL rejects; a worker given the CA (--ca-file) trusts the CA-issued
certificate without asking (trust CA), the one without the CA asks; a
plaintext login reports LINK_INFO unencrypted (trust NONE) before
CONNECTED; nothing lands in libpurple's tls_peers pool. Prints TAP.
"""

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

from harness import builddir, run_test  # noqa: E402
from servers import Ngircd, TestCA, _read  # noqa: E402
import worker_driver as wd  # noqa: E402
from worker_driver import Prompt  # noqa: E402

TRUST_NONE, TRUST_CA, TRUST_PINNED, TRUST_ONCE = 0, 1, 2, 3


def self_signed(d, name, cn):
    """A self-signed certificate for CN (SAN DNS:CN): (cert, key) paths."""
    crt, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "2", "-subj", "/CN=%s/O=ferry self-signed %s" % (cn, name),
                    "-addext", "subjectAltName=DNS:%s" % cn],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def sha256_of(crt):
    out = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-fingerprint",
                          "-sha256"], check=True, capture_output=True, text=True,
                         timeout=30).stdout
    return out.strip().split("=", 1)[1].upper()


class Worker:
    """One ferry-worker, its log, and helpers for TLS logins to ngircd."""

    def __init__(self, run, label, args=()):
        self.dir = run.path(label)
        os.makedirs(self.dir, exist_ok=True)
        self.log_path = os.path.join(self.dir, "worker.log")
        env = dict(os.environ, TMPDIR=self.dir, HOME=self.dir, FERRY_LOG_LEVEL="debug")
        self.w = wd.Worker(os.path.join(builddir(), "src", "ferry-worker"), args=list(args),
                           env=env, stderr_path=self.log_path)
        self.w.recv_type(wd.READY)

    def login(self, acc, nick, port, ssl=True, pins=None):
        opts = {"port": str(port), "ssl": "true" if ssl else "false",
                "ratelimit-interval": "0"}
        if pins is not None:
            opts["ferry.cert_pins"] = pins
        # what is left of ACC's earlier logins is not this one's
        self.w.pending = [m for m in self.w.pending if m[1] != acc]
        self.w.send(wd.LOGIN, acc, wd.login_payload("prpl-irc", nick + "@localhost", "", opts))

    def next_of(self, acc, types, timeout=20):
        """The next message of ACC among TYPES, or None."""
        try:
            return self.w.recv_until(lambda m: m[1] == acc and m[0] in types, timeout)
        except wd.WorkerError:
            return None

    def prompt(self, acc, timeout=20):
        """The PROMPT ACC gets before it connects or fails, or None."""
        m = self.next_of(acc, (wd.PROMPT, wd.CONNECTED, wd.DISCONNECTED), timeout)
        return Prompt(m[2]) if m is not None and m[0] == wd.PROMPT else None

    def answer(self, acc, p, choice=None, action=wd.PROMPT_OK):
        values = {"action": choice} if choice is not None else {}
        self.w.send(wd.ANSWER_PROMPT, acc, wd.answer_payload(p.id, action, values))

    def result(self, acc, timeout=20):
        """What ends the login of ACC: ("connected", link_info) with the
        LINK_INFO seen before CONNECTED, or ("failed", reason, text)."""
        link = None
        while True:
            m = self.next_of(acc, (wd.LINK_INFO, wd.CONNECTED, wd.DISCONNECTED), timeout)
            if m is None:
                return None
            if m[0] == wd.LINK_INFO:
                link = m[2]
            elif m[0] == wd.CONNECTED:
                return ("connected", link)
            else:
                return ("failed", m[2][0], m[2][1])

    def logout(self, acc):
        self.w.send(wd.LOGOUT, acc, wd.payload(wd.LOGOUT, ()))
        return self.next_of(acc, (wd.DISCONNECTED,), 10)

    def peers_pool(self):
        """Files in libpurple's tls_peers pool (and ~/.purple's)."""
        return (glob.glob(os.path.join(self.dir, "ferry-worker-*", "certificates", "*", "*",
                                       "*")) +
                glob.glob(os.path.join(self.dir, ".purple", "certificates", "*", "*", "*")))

    def close(self):
        rc = self.w.close()
        return rc, _read(self.log_path)


def check_prompt(tap, p, port, fp, why, label):
    if not tap.ok(p is not None and p.kind == wd.PROMPT_KIND_CERTIFICATE,
                  "%s: a CERTIFICATE prompt" % label, repr(p)):
        return False
    f = p.field("action")
    opts = [v for v, _l in Prompt.options(f)] if f else []
    hidden = {v: (p.field(v) or {}).get("value") for v in ("host", "port", "sha256")}
    text = p.title + "\n" + p.instructions
    tap.ok(opts == ["reject", "once", "always"] and f.get("type") == "list-single",
           "%s: the choices are reject, once, always" % label, repr(f))
    tap.ok(hidden == {"host": "localhost", "port": str(port), "sha256": fp} and
           all((p.field(v) or {}).get("type") == "hidden" for v in hidden),
           "%s: hidden host, port and sha256 of the leaf" % label, repr(hidden))
    tap.ok(fp in text and "CN=localhost" in text and why in text,
           "%s: the text shows the subject, the SHA-256 fingerprint and why (%s)"
           % (label, why), text)
    return True


def check_connected(tap, r, fp, trust, label):
    link = r[1] if r is not None and r[0] == "connected" else None
    tap.ok(link is not None and link[0] is True and link[3] == fp and link[4] == trust and
           "CN=localhost" in link[1],
           "%s: connected, LINK_INFO before CONNECTED: encrypted, subject, sha256, trust %d"
           % (label, trust), repr(r))


def check_failed(tap, r, label):
    tap.ok(r is not None and r[0] == "failed" and r[1] == wd.REASON_CERTIFICATE and
           "certificate" in r[2].lower(),
           "%s: the login fails, reason CERTIFICATE, with a certificate text" % label, repr(r))


def self_signed_flows(tap, run, irc, fp1, crt2, key2, fp2):
    wk = Worker(run, "worker-a")
    port = irc.tls_port
    try:
        # reject
        wk.login(1, "alice", port)
        p = wk.prompt(1)
        if check_prompt(tap, p, port, fp1, "self-signed", "self-signed"):
            wk.answer(1, p, "reject")
            check_failed(tap, wk.result(1), "reject")
        # once, and a second account at the same time is asked all the same
        wk.login(1, "alice", port)
        p = wk.prompt(1)
        if p is not None:
            wk.answer(1, p, "once")
        check_connected(tap, wk.result(1), fp1, TRUST_ONCE, "once")
        wk.login(2, "bob", port)
        p2 = wk.prompt(2)
        tap.ok(p2 is not None and p2.kind == wd.PROMPT_KIND_CERTIFICATE,
               "another account of the worker is asked although the first accepted once")
        if p2 is not None:
            wk.answer(2, p2, action=wd.PROMPT_CANCEL)  # as on a timeout
            check_failed(tap, wk.result(2), "cancel")
        wk.logout(1)
        # the next login asks again; always
        wk.login(1, "alice", port)
        p = wk.prompt(1)
        tap.ok(p is not None, "the next login asks again after once")
        if p is not None:
            wk.answer(1, p, "always")
        check_connected(tap, wk.result(1), fp1, TRUST_PINNED, "always")
        wk.login(2, "bob", port)
        p2 = wk.prompt(2)
        tap.ok(p2 is not None,
               "another account of the worker is asked although the first always accepts it")
        if p2 is not None:
            wk.answer(2, p2, "reject")
            wk.result(2)
        wk.logout(1)
        pin = "localhost %d %s" % (port, fp1)
        # the pin passed on the next LOGIN: no question
        wk.login(1, "alice", port, pins="other.example 6697 AA:BB\n" + pin)
        r = wk.prompt(1)
        tap.ok(r is None, "with the pin in ferry.cert_pins the login asks nothing", repr(r))
        wk.logout(1)
        wk.login(1, "alice", port, pins=pin)
        check_connected(tap, wk.result(1), fp1, TRUST_PINNED, "pinned")
        wk.logout(1)
        # a pin for another port does not count
        wk.login(1, "alice", port, pins="localhost %d %s" % (port + 1, fp1))
        p = wk.prompt(1)
        tap.ok(p is not None and "CHANGED" not in p.instructions,
               "a pin for another port is not this server's: asked, nothing said of a change",
               repr(p))
        if p is not None:
            wk.answer(1, p, "reject")
            wk.result(1)
        # a changed certificate on the same host and port
        irc.stop()
        d = os.path.join(irc.workdir, "tls")
        with open(crt2) as src, open(os.path.join(d, "irc.crt"), "w") as dst:
            dst.write(src.read())
        with open(key2) as src, open(os.path.join(d, "irc.key"), "w") as dst:
            dst.write(src.read())
        irc.start()
        wk.login(1, "alice", port, pins=pin)
        p = wk.prompt(1)
        if check_prompt(tap, p, port, fp2, "self-signed", "changed"):
            tap.ok("CHANGED" in p.instructions,
                   "a changed certificate asks again and says it changed", p.instructions)
            wk.logout(1)
            try:
                closed = wk.w.recv_until(lambda m: m[0] == wd.PROMPT_CLOSED and m[1] == 1 and
                                         m[2][0] == p.id, 5)
            except wd.WorkerError:
                closed = None
            tap.ok(closed is not None and closed[2][1] == wd.PROMPT_CLOSED_WITHDRAWN,
                   "a logout while asked withdraws the question", repr(closed))
            wk.answer(1, p, "once")  # late: the connection is gone
            try:
                late = wk.w.recv_until(lambda m: m[0] == wd.PROMPT_CLOSED and m[1] == 1 and
                                       m[2][0] == p.id, 5)
            except wd.WorkerError:
                late = None
            tap.ok(late is not None and late[2][1] == wd.PROMPT_CLOSED_UNKNOWN,
                   "a late answer to the withdrawn question is refused (UNKNOWN)", repr(late))
        # a plaintext link
        wk.login(3, "carol", irc.port, ssl=False)
        r = wk.result(3)
        link = r[1] if r is not None and r[0] == "connected" else None
        tap.ok(link is not None and link[0] is False and link[4] == TRUST_NONE and
               link[3] == "",
               "a plaintext login: LINK_INFO unencrypted, trust NONE, before CONNECTED",
               repr(r))
        tap.ok(wk.peers_pool() == [], "nothing was put in libpurple's tls_peers pool",
               repr(wk.peers_pool()))
    finally:
        rc, text = wk.close()
    tap.ok(rc == 0 and "Sanitizer" not in text and "runtime error" not in text and
           "CRITICAL" not in text,
           "worker A exits cleanly (status %r), no sanitizer report or critical" % rc)
    if tap.failed:
        tap.diag("worker A log tail:\n" + text[-5000:])


def ca_flows(tap, run, ca, irc_ca, irc_self, fp_ca):
    for label, args in (("with", ["--ca-file", ca.cert]), ("without", [])):
        wk = Worker(run, "worker-ca-" + label, args)
        try:
            wk.login(1, "dave", irc_ca.tls_port)
            if label == "with":
                r = wk.result(1)
                check_connected(tap, r, fp_ca, TRUST_CA, "the test CA given")
                tap.ok(r is not None and r[1] is not None and "ferry test CA" in r[1][2],
                       "LINK_INFO names the issuer", repr(r))
                wk.logout(1)
                wk.login(2, "erin", irc_self.tls_port)
                p = wk.prompt(2)
                tap.ok(p is not None and p.kind == wd.PROMPT_KIND_CERTIFICATE,
                       "with the CA given, a self-signed certificate is still asked about")
                if p is not None:
                    wk.answer(2, p, "reject")
                    wk.result(2)
            else:
                p = wk.prompt(1)
                check_prompt(tap, p, irc_ca.tls_port, fp_ca, "unknown certificate authority",
                             "no CA given")
                if p is not None:
                    wk.answer(1, p, "reject")
                    check_failed(tap, wk.result(1), "no CA, rejected")
        finally:
            rc, text = wk.close()
        tap.ok(rc == 0, "worker (CA %s) exits cleanly" % label)
        if tap.failed:
            tap.diag("log tail:\n" + text[-3000:])


def body(tap, run):
    d = run.path("certs")
    os.makedirs(d, exist_ok=True)
    crt1, key1 = self_signed(d, "one", "localhost")
    crt2, key2 = self_signed(d, "two", "localhost")
    fp1, fp2 = sha256_of(crt1), sha256_of(crt2)
    tap.ok(fp1 != fp2, "two self-signed certificates, two fingerprints")
    ca = TestCA(run.path("ca"))
    issued = ca.issue("localhost", dns=["localhost"])
    fp_ca = sha256_of(issued["cert"])
    irc = run.add(Ngircd(run.path("ngircd"), tls_cert=crt1, tls_key=key1))
    irc.start()
    irc_ca = run.add(Ngircd(run.path("ngircd-ca"), tls_cert=issued["chain"],
                            tls_key=issued["key"]))
    irc_ca.start()
    ca_flows(tap, run, ca, irc_ca, irc, fp_ca)
    self_signed_flows(tap, run, irc, fp1, crt2, key2, fp2)


if __name__ == "__main__":
    sys.exit(run_test("worker-certs", ("ngircd", "openssl"), body))
