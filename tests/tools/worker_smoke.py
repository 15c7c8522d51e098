#!/usr/bin/python3
"""End-to-end check of ferry-worker against real servers on 127.0.0.1.

    /usr/bin/python3 tests/tools/worker_smoke.py BUILDDIR/src/ferry-worker [SECTION...]

Sections: describe, protocol, irc, tls, selfsigned, xmpp, memory, churn
(default: all).  ngircd (and
Prosody for xmpp) are started with private configs and free ports via
tests/integration/servers.py and stopped by PID.  Every wait is bounded.
Prints the event sequences it observed; exits 1 on the first failure.
Needs root (ngircd drops to nobody; Prosody runs as root).
"""

import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import servers  # noqa: E402
import worker_driver as wd  # noqa: E402
from gi.repository import GLib  # noqa: E402

TEXT = "1 < 2 & <b>x</b> été ?OTR:AAMGabc+/=."
QUOTES = "it's \"quoted\" <3 &amp; &#39; &lt; \\ ` ~ \u2603 <br> <a href='x'>y</a>"
# ngircd strips trailing whitespace from every line it relays, so the OTR
# whitespace tag is tested in the middle of the text here.
WHITESPACE = "tab\there  two  spaces, OTR tag: \x20\x09\x20\x20\x09\x09\x09\x09\x20\x09 end"


def esc(text):
    """What ferry sends down: plain text escaped as libpurple markup."""
    return GLib.markup_escape_text(text, -1)


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("  ok: %s" % what)


def show(msgs, indent="    "):
    for m in msgs:
        print(indent + wd.fmt(m))


# ---- a raw IRC client -----------------------------------------------------------

class IrcPeer:
    """A minimal IRC client (answers PING) that records every line it reads."""

    def __init__(self, port, nick, host="127.0.0.1", timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.lines = []
        self.nick = nick
        self.raw("NICK %s" % nick)
        self.raw("USER %s 0 * :%s" % (nick, nick))
        self.wait(lambda l: b" 376 " in l or b" 422 " in l, timeout)

    def raw(self, line):
        data = line.encode() if isinstance(line, str) else line
        self.sock.sendall(data + b"\r\n")

    def privmsg(self, target, text):
        self.raw(b"PRIVMSG " + target.encode() + b" :" + text.encode())

    def _read(self, deadline):
        while b"\r\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            data = self.sock.recv(65536)
            if not data:
                raise Failure("IRC server closed %s's connection" % self.nick)
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        if line.startswith(b"PING "):
            self.raw(b"PONG " + line[5:])
        self.lines.append(line)
        return line

    def wait(self, predicate, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            line = self._read(deadline)
            if line is None:
                raise Failure("%s: no matching IRC line within %ss" % (self.nick, timeout))
            if predicate(line):
                return line

    def close(self):
        try:
            self.raw("QUIT :bye")
        except OSError:
            pass
        self.sock.close()


def privmsg_text(line):
    """The text bytes of a 'PRIVMSG target :text' line."""
    return line.split(b" :", 1)[1]


# ---- helpers ---------------------------------------------------------------------

class Env:
    """A private HOME and TMPDIR per worker, checked after it exits."""

    def __init__(self, root, name):
        self.home = os.path.join(root, name + "-home")
        self.tmp = os.path.join(root, name + "-tmp")
        os.makedirs(self.home)
        os.makedirs(self.tmp)
        self.stderr = os.path.join(root, name + ".stderr")
        self.env = dict(os.environ, HOME=self.home, TMPDIR=self.tmp)

    def worker(self, binary, args=()):
        return wd.Worker(binary, args=args, env=self.env, stderr_path=self.stderr)

    def private_dirs(self):
        return os.listdir(self.tmp)

    def check_clean(self):
        check(os.listdir(self.home) == [], "nothing written to $HOME (%s)" % self.home)
        check(os.listdir(self.tmp) == [], "private user dir removed from $TMPDIR")


def irc_login(w, account, nick, port, extra=None, flags=0, host="127.0.0.1"):
    opts = {"port": str(port)}
    opts.update(extra or {})
    w.send(wd.LOGIN, account, wd.login_payload("prpl-irc", "%s@%s" % (nick, host), "",
                                               opts, flags))


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    data = f.read()
            except OSError:
                continue
            if int(data[data.rindex(")") + 2:].split()[1]) == pid:
                out.append(int(d))
    return out


# ---- sections ----------------------------------------------------------------------

def section_describe(binary, root):
    print("== describe")
    for proto in ("prpl-irc", "prpl-jabber"):
        env = Env(root, "describe-" + proto)
        r = subprocess.run([binary, "--describe", proto], env=env.env, capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0, "--describe %s exits 0" % proto)
        value = wd.parse_description(r.stdout)
        print("    %s" % (value,))
        check(value[0] == proto and len(value[4]) > 0, "%s parses as %s" % (proto, wd.DESCRIBE_TYPE))
        env.check_clean()
    r = subprocess.run([binary, "--describe", "prpl-nope"], capture_output=True, text=True,
                       timeout=30)
    print("    stderr: %r" % r.stderr)
    check(r.returncode == 2 and "prpl-irc" in r.stderr, "unknown protocol: exit 2, ids listed")


def section_irc(binary, root):
    print("== irc (plain)")
    ircd = servers.Ngircd(os.path.join(root, "ngircd")).start()
    env = Env(root, "irc")
    w = env.worker(binary)
    bob = None
    try:
        check(w.recv_type(wd.READY)[2][0] == wd.WORKER_PROTOCOL_VERSION, "READY")
        with open("/proc/%d/fdinfo/3" % w.pid) as f:
            flags = int([l for l in f if l.startswith("flags:")][0].split()[1], 8)
        check(flags & 0o2000000 and flags & os.O_NONBLOCK, "fd 3 is close-on-exec and non-blocking")
        bob = IrcPeer(ircd.port, "bob")

        t0 = time.monotonic()
        irc_login(w, 1, "alice", ircd.port)
        m = w.recv_type(wd.CONNECTED, 1, timeout=15)
        print("    login -> %s after %.3fs" % (wd.fmt(m), time.monotonic() - t0))
        check(m[2] == ("alice",), "CONNECTED with the nick")
        show(w.drain(0.5))

        w.send(wd.ADD_BUDDY, 1, wd.payload(wd.ADD_BUDDY, ("bob", "")))
        m = w.recv_type(wd.BUDDY_STATUS, 1, where=lambda v: v[2] == wd.STATUS_AVAILABLE)
        seq = [x for x in w.log if x[0] == wd.BUDDY_STATUS]
        print("    add buddy bob ->")
        show(seq)
        check(m[2][0] == "bob", "BUDDY_STATUS bob available")

        # ferry -> IRC
        for n, text in enumerate([TEXT, WHITESPACE, "two\nlines", QUOTES], start=1):
            w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (n, "bob", esc(text), 0)))
            r = w.recv_type(wd.IMS_SENT, 1, where=lambda v, n=n: v[0] >= n)
            check(r[2][0] == n, "IMS_SENT %d" % n)
            nlines = text.count("\n") + 1
            got = [privmsg_text(bob.wait(lambda l: b"PRIVMSG bob :" in l))
                   for _ in range(nlines)]
            print("    sent %r as %r -> IRC got %r" % (text, esc(text), got))
            if nlines == 1:
                check(got[0] == text.encode(), "IRC received exactly the typed text")
        # raw markup sent unescaped, for the record
        w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (9, "bob", TEXT, 0)))
        w.recv_type(wd.IMS_SENT, 1, where=lambda v: v[0] == 9)
        got = privmsg_text(bob.wait(lambda l: b"PRIVMSG bob :" in l))
        print("    unescaped %r -> IRC got %r" % (TEXT, got))

        # IRC -> ferry
        incoming = [TEXT, WHITESPACE, QUOTES, "\x02bold\x02 \x1ditalic\x1d \x0304red\x03 \x1funder\x1f",
                    "http://example.org/?a=1&b=2"]
        for text in incoming:
            bob.privmsg("alice", text)
            m = w.recv_type(wd.IM_RECEIVED, 1)
            print("    IRC sent %r -> %s" % (text, wd.fmt(m)))
        check(w.log[-1][2][0] == "bob", "IM_RECEIVED from bob")
        bob.raw(b"NOTICE alice :a notice & <stuff>")
        print("    NOTICE -> %s" % wd.fmt(w.recv_type(wd.IM_RECEIVED, 1)))
        bob.raw(b"PRIVMSG alice :\x01ACTION waves & smiles\x01")
        print("    CTCP ACTION -> %s" % wd.fmt(w.recv_type(wd.IM_RECEIVED, 1)))
        ims = [m for m in w.log if m[0] == wd.IM_RECEIVED]
        check(ims[0][2][1] == esc(TEXT), "incoming IRC text arrives as markup-escaped text")

        # away status with markup characters
        w.send(wd.SET_STATUS, 1, wd.payload(wd.SET_STATUS, (wd.STATUS_AWAY, "out & <about>")))
        # libpurple's IRC rate limiter (5 lines, then one per 2 s) may hold it
        for _ in range(20):
            time.sleep(0.5)
            bob.raw("WHOIS alice")
            away = bob.wait(lambda l: b" 301 " in l or b" 318 " in l)
            if b" 301 " in away:
                break
        print("    SET_STATUS away 'out & <about>' -> WHOIS: %r" % away)
        check(away.endswith(b":out & <about>"), "away message arrives as typed")
        w.send(wd.SET_STATUS, 1, wd.payload(wd.SET_STATUS, (wd.STATUS_AVAILABLE, "")))

        # IM to a missing nick
        w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (20, "nobody", "hello", 0)))
        print("    IM to missing nick ->")
        m = w.recv_type(wd.IM_RESULT, 1, where=lambda v: v[0] == 20, timeout=15)
        show([m])
        # (seq, sent, reason, error, ...): refused, WORKER_IM_NO_RECIPIENT (1)
        check(m[2][1] is False and m[2][2] == 1 and "nobody" in m[2][3],
              "IM to a missing nick: IM_RESULT not sent, no such recipient, naming it")

        # nick clash, and a second login of the same username in this worker
        irc_login(w, 2, "alice", ircd.port)
        m = w.recv_type(wd.CONNECTED, 2, timeout=20)
        print("    second 'alice' -> %s" % wd.fmt(m))
        check(m[2][0] != "alice" and m[2][0].startswith("alice"), "nick clash: changed nick")

        # test login: only CONNECTED / DISCONNECTED
        irc_login(w, 3, "carol", ircd.port, flags=wd.LOGIN_TEST)
        check(w.recv_type(wd.CONNECTED, 3)[2] == ("carol",), "test login CONNECTED")
        bob.privmsg("carol", "hi carol")
        time.sleep(0.5)
        w.send(wd.LOGOUT, 3, wd.payload(wd.LOGOUT, ()))
        m = w.recv_type(wd.DISCONNECTED, 3)
        print("    test login logout -> %s" % wd.fmt(m))
        check(m[2][0] == wd.REASON_LOGOUT, "LOGOUT answered with DISCONNECTED LOGOUT")
        check(not [x for x in w.log if x[1] == 3 and x[0] not in
                   (wd.CONNECTED, wd.DISCONNECTED)], "test login sent nothing else")

        # remove buddy
        w.send(wd.REMOVE_BUDDY, 1, wd.payload(wd.REMOVE_BUDDY, ("bob",)))
        check(w.recv_type(wd.BUDDY_REMOVED, 1)[2] == ("bob",), "REMOVE_BUDDY -> BUDDY_REMOVED")

        # rate limiter option passes through: 8 IMs at once
        irc_login(w, 4, "dave", ircd.port, extra={"ratelimit-interval": "0"})
        w.recv_type(wd.CONNECTED, 4)
        t0 = time.monotonic()
        for n in range(8):
            w.send(wd.SEND_IM, 4, wd.payload(wd.SEND_IM, (100 + n, "bob", "burst %d" % n, 0)))
        for n in range(8):
            bob.wait(lambda l, n=n: b"burst %d" % n in l, timeout=20)
        print("    8 IMs with ratelimit-interval=0 arrived in %.2fs" % (time.monotonic() - t0))

        # the server dies
        show(w.drain(0.3))
        t0 = time.monotonic()
        ircd.refresh_pids()
        for pid in ircd.pids():
            os.kill(pid, signal.SIGKILL)
        got = {}
        while len(got) < 3:
            m = w.recv_type(wd.DISCONNECTED, timeout=10)
            got[m[1]] = m
        print("    kill -9 ngircd after %.3fs ->" % (time.monotonic() - t0))
        show(sorted(got.values(), key=lambda m: m[1]))
        check(all(m[2][0] == wd.REASON_NETWORK and m[2][2] is False for m in got.values()),
              "DISCONNECTED NETWORK, not fatal, for every account")
        show(w.drain(0.5))
        check(not children_of(w.pid), "the worker has no child processes")
        w.send(wd.SHUTDOWN, 0, wd.payload(wd.SHUTDOWN, ()))
        check(w.wait(10) == 0, "SHUTDOWN: exit status 0")
        print("    full event log of this worker (seconds since the first event):")
        for t, m in zip(w.log_times, w.log):
            print("      %6.3f %s" % (t - w.log_times[0], wd.fmt(m)))
    finally:
        if bob:
            bob.close()
        w.close()
        ircd.stop()
    env.check_clean()


def section_tls(binary, root):
    print("== irc over TLS")
    ca = servers.TestCA(os.path.join(root, "ca"))
    cert = ca.issue("localhost", dns=["localhost"])
    ircd = servers.Ngircd(os.path.join(root, "ngircd-tls"), tls_cert=cert["chain"],
                          tls_key=cert["key"]).start()
    try:
        for name, args, host, want in (
                ("untrusted", [], "localhost", wd.REASON_CERTIFICATE),
                ("trusted", ["--ca-file", ca.cert], "localhost", None),
                ("name-mismatch", ["--ca-file", ca.cert], "127.0.0.1", wd.REASON_CERTIFICATE)):
            env = Env(root, "tls-" + name)
            w = env.worker(binary, args)
            try:
                w.recv_type(wd.READY)
                t0 = time.monotonic()
                irc_login(w, 1, "tess", ircd.tls_port, extra={"ssl": "true"}, host=host)
                m = w.recv_until(lambda m: m[0] in (wd.CONNECTED, wd.DISCONNECTED), 20)
                dt = time.monotonic() - t0
                seq = w.drain(0.5)
                print("    %s (%s, tess@%s) after %.3fs:" % (name, " ".join(args) or "no --ca-file",
                                                          host, dt))
                show([x for x in w.log if x[0] != wd.READY])
                check(not children_of(w.pid), "no child processes (host name lookups)")
                if want is None:
                    check(m[0] == wd.CONNECTED, "%s: CONNECTED" % name)
                else:
                    check(m[0] == wd.DISCONNECTED and m[2][0] == want and m[2][2],
                          "%s: DISCONNECTED CERTIFICATE fatal" % name)
                    check(any(x[0] == wd.NOTICE for x in [m] + seq + w.log),
                          "%s: a NOTICE explains it" % name)
                w.send(wd.SHUTDOWN, 0, wd.payload(wd.SHUTDOWN, ()))
                check(w.wait(10) == 0, "exit 0")
            finally:
                w.close()
            env.check_clean()
    finally:
        ircd.stop()


def section_selfsigned(binary, root):
    print("== irc over TLS, self-signed certificate")
    d = os.path.join(root, "selfsigned")
    os.makedirs(d)
    key, crt = os.path.join(d, "irc.key"), os.path.join(d, "irc.crt")
    servers.TestCA._run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                         "-days", "2", "-subj", "/CN=localhost",
                         "-addext", "subjectAltName=DNS:localhost"])
    ircd = servers.Ngircd(os.path.join(root, "ngircd-ss"), tls_cert=crt, tls_key=key).start()
    try:
        for name, args in (("self-signed", []), ("self-signed, --ca-file itself", ["--ca-file", crt])):
            env = Env(root, "ss%d" % len(args))
            w = env.worker(binary, args)
            try:
                w.recv_type(wd.READY)
                t0 = time.monotonic()
                irc_login(w, 1, "sam", ircd.tls_port, extra={"ssl": "true"}, host="localhost")
                m = w.recv_until(lambda m: m[0] in (wd.CONNECTED, wd.DISCONNECTED), 20)
                print("    %s after %.3fs:" % (name, time.monotonic() - t0))
                w.drain(0.3)
                show([x for x in w.log if x[0] != wd.READY])
                if args:
                    check(m[0] == wd.CONNECTED, "trusted self-signed: CONNECTED")
                else:
                    check(m[0] == wd.DISCONNECTED and m[2][0] == wd.REASON_CERTIFICATE,
                          "self-signed: DISCONNECTED CERTIFICATE")
                w.send(wd.SHUTDOWN, 0, wd.payload(wd.SHUTDOWN, ()))
                check(w.wait(10) == 0, "exit 0")
            finally:
                w.close()
            env.check_clean()
    finally:
        ircd.stop()


def section_protocol(binary, root):
    print("== protocol edge cases")
    env = Env(root, "proto")
    w = env.worker(binary, ["--login-timeout", "2"])
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts TCP, never says anything
    try:
        w.recv_type(wd.READY)
        w.send(wd.SEND_IM, 5, wd.payload(wd.SEND_IM, (7, "x", "y", 0)))
        m = w.recv_type(wd.IM_RESULT, 5)
        print("    SEND_IM for an unknown account -> %s" % wd.fmt(m))
        check(m[2][:2] == (7, False), "IM_RESULT not sent")
        w.send(wd.LOGIN, 1, wd.login_payload("prpl-nope", "a@b"))
        m = w.recv_type(wd.DISCONNECTED, 1)
        print("    unknown protocol -> %s" % wd.fmt(m))
        check(m[2][0] == wd.REASON_INVALID and m[2][2], "DISCONNECTED INVALID fatal")
        w.send(wd.LOGIN, 2, wd.login_payload("prpl-irc", "a@127.0.0.1", "", {"port": "x"}))
        m = w.recv_type(wd.DISCONNECTED, 2)
        print("    bad option value -> %s" % wd.fmt(m))
        check(m[2][0] == wd.REASON_INVALID, "DISCONNECTED INVALID")
        w.send(wd.LOGIN, 3, wd.login_payload("prpl-irc", "a@127.0.0.1", "",
                                             {"port": str(silent.getsockname()[1]), "nonsense": "1"}))
        t0 = time.monotonic()
        m = w.recv_type(wd.DISCONNECTED, 3, timeout=10)
        print("    silent server, --login-timeout 2 -> %s after %.2fs" % (wd.fmt(m), time.monotonic() - t0))
        check(m[2][0] == wd.REASON_TIMEOUT and not m[2][2], "DISCONNECTED TIMEOUT, not fatal")
        w.send(wd.LOGIN, 4, wd.login_payload("prpl-simple", "sip@127.0.0.1", "", {}))
        m = w.recv_type(wd.PROMPT, 4, timeout=10)
        print("    prpl-simple without password -> %s" % wd.fmt(m))
        form = m[2][5]
        check(any(f.get("type") == "text-private" for f in form),
              "the password is asked (a PROMPT with a text-private field)")
        w.send(wd.ANSWER_PROMPT, 4, wd.payload(wd.ANSWER_PROMPT, (m[2][0], wd.PROMPT_CANCEL, {})))
        m = w.recv_type(wd.PROMPT_CLOSED, 4, timeout=10)
        check(m[2][1] == wd.PROMPT_CLOSED_CANCELLED, "the password prompt cancelled")
        w.send(wd.LOGOUT, 4, wd.payload(wd.LOGOUT, ()))
        w.send(wd.LOGIN, 5, wd.login_payload("prpl-jabber", "x@nothing-here.invalid/r", "pw", {}))
        t0 = time.monotonic()
        seen_children = []
        while time.monotonic() - t0 < 30 and not [m for m in w.log
                                                  if m[0] == wd.DISCONNECTED and m[1] == 5]:
            seen_children += children_of(w.pid)
            w.drain(0.05)
        m = [m for m in w.log if m[0] == wd.DISCONNECTED and m[1] == 5][0]
        print("    prpl-jabber, SRV + A lookups of an unknown domain -> %s after %.2fs"
              % (wd.fmt(m), time.monotonic() - t0))
        check(not seen_children, "no resolver child processes while looking up SRV/A records")
        w.send(wd.LOGIN, 6, wd.login_payload("prpl-irc", "b@127.0.0.1", "",
                                             {"port": str(silent.getsockname()[1])}))
        w.send(wd.LOGIN, 6, wd.login_payload("prpl-irc", "c@127.0.0.1", "",
                                             {"port": str(silent.getsockname()[1])}))
        w.send(wd.LOGOUT, 6, wd.payload(wd.LOGOUT, ()))
        print("    LOGIN, LOGIN again on the same id, LOGOUT ->")
        show([w.recv_type(wd.DISCONNECTED, 6)] + w.drain(0.5))
        print("    all events:")
        show(w.log)
        w.send_raw(b"\x00\x00\x00\x05hello")
        check(w.wait(10) == 0, "a bad frame makes the worker exit (status 0)")
        with open(env.stderr) as f:
            print("    stderr tail: %s" % f.read().strip().splitlines()[-3:])
    finally:
        silent.close()
        w.close()
    env.check_clean()


def rss(w):
    m = w.memory()
    return "RSS %.1f MB, PSS %.1f MB, anon %.1f MB" % (
        m["Rss"] / 1024, m["Pss"] / 1024, m.get("Anonymous", 0) / 1024)


def section_memory(binary, root, settle=12.0):
    print("== memory (smaps_rollup, %.0fs after the last sign-on)" % settle)
    ircd = servers.Ngircd(os.path.join(root, "ngircd-mem")).start()
    try:
        for count in (0, 1, 50):
            env = Env(root, "mem-%d" % count)
            w = env.worker(binary)
            try:
                w.recv_type(wd.READY)
                t0 = time.monotonic()
                for i in range(count):
                    irc_login(w, i + 1, "u%03d" % i, ircd.port)
                    time.sleep(0.005)  # ngircd's listen backlog is 10
                for i in range(count):
                    w.recv_type(wd.CONNECTED, i + 1, timeout=30)
                dt = time.monotonic() - t0
                time.sleep(settle)
                print("    %2d accounts (all signed on in %.2fs): %s" % (count, dt, rss(w)))
                w.send(wd.SHUTDOWN, 0, wd.payload(wd.SHUTDOWN, ()))
                t0 = time.monotonic()
                bye = [w.recv_type(wd.DISCONNECTED, i + 1) for i in range(count)]
                check(all(b[2][0] == wd.REASON_LOGOUT for b in bye), "%d DISCONNECTED LOGOUT" % count)
                check(w.wait(10) == 0, "exit 0 after %.2fs" % (time.monotonic() - t0))
            finally:
                w.close()
            env.check_clean()
    finally:
        ircd.stop()


# ---- XMPP as the legacy network (prpl-jabber against a Prosody vhost) --------------

class XmppPeer:
    """A slixmpp client on its own thread and event loop: accepts and
    returns subscriptions, records messages and chat states."""

    def __init__(self, jid, password, port, timeout=15.0):
        import asyncio
        import logging
        import queue
        import threading
        import slixmpp
        logging.getLogger("slixmpp").setLevel(logging.ERROR)
        self.events = queue.Queue()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        result = []

        def run():
            asyncio.set_event_loop(self.loop)
            x = slixmpp.ClientXMPP(jid, password)
            x.register_plugin("xep_0085")  # chat states
            x.register_plugin("xep_0203")  # delayed delivery
            x.auto_authorize = True
            x.auto_subscribe = True
            x.reconnect_max_attempts = 1

            def started(_e):
                x.send_presence()
                x.get_roster()
                result.append("ok")
                ready.set()
            x.add_event_handler("session_start", started)
            x.add_event_handler("failed_all_auth", lambda _e: (result.append("auth"), ready.set()))
            x.add_event_handler("message", lambda m: self.events.put(
                ("message", str(m["from"]), m["body"], str(m["chat_state"]) if m["chat_state"] else "")))
            for state in ("composing", "paused", "active", "inactive", "gone"):
                x.add_event_handler("chatstate_" + state, lambda m, state=state: self.events.put(
                    ("chatstate", str(m["from"]), state)))
            x.add_event_handler("presence_subscribe", lambda p: self.events.put(
                ("subscribe", str(p["from"]))))
            x.add_event_handler("presence_available", lambda p: self.events.put(
                ("available", str(p["from"]))))
            self.xmpp = x
            x.connect(address=("127.0.0.1", port), force_starttls=False, disable_starttls=True)
            self.loop.run_forever()
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        if not ready.wait(timeout) or result != ["ok"]:
            raise Failure("slixmpp %s could not log in: %s" % (jid, result))

    def call(self, fn, *args, **kwargs):
        self.loop.call_soon_threadsafe(lambda: fn(*args, **kwargs))

    def wait(self, predicate, timeout=10.0):
        import queue
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("XMPP peer: nothing matching within %ss" % timeout)
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if predicate(ev):
                return ev

    def close(self):
        import asyncio
        self.call(self.xmpp.disconnect)
        time.sleep(0.3)

        def shutdown():
            for task in asyncio.all_tasks(self.loop):
                task.cancel()
            self.loop.call_later(0.2, self.loop.stop)
        self.loop.call_soon_threadsafe(shutdown)
        self.thread.join(5)


def section_xmpp(binary, root):
    print("== xmpp (prpl-jabber as the legacy protocol, Prosody vhost legacy.localhost)")
    prosody = servers.Prosody(os.path.join(root, "prosody"), vhosts=("legacy.localhost",))
    prosody.start()
    env = Env(root, "xmpp")
    w = env.worker(binary)
    dave = None
    opts = {"connect_server": "127.0.0.1", "port": str(prosody.c2s_port),
            "connection_security": "opportunistic_tls", "auth_plain_in_clear": "true"}
    try:
        prosody.register("carol", "legacy.localhost", "carolpw")
        prosody.register("dave", "legacy.localhost", "davepw")
        w.recv_type(wd.READY)

        # wrong and missing passwords
        w.send(wd.LOGIN, 9, wd.login_payload("prpl-jabber", "carol@legacy.localhost/x", "bad", opts))
        m = w.recv_type(wd.DISCONNECTED, 9, timeout=20)
        print("    wrong password -> %s" % wd.fmt(m))
        check(m[2][0] == wd.REASON_AUTH and m[2][2], "wrong password: DISCONNECTED AUTH fatal")
        w.send(wd.LOGIN, 8, wd.login_payload("prpl-jabber", "carol@legacy.localhost/x", "", opts))
        m = w.recv_type(wd.PROMPT, 8, timeout=20)
        print("    empty password -> %s" % wd.fmt(m))
        check(any(f.get("var") == "password" for f in m[2][5]), "empty password: asked")
        w.send(wd.ANSWER_PROMPT, 8, wd.payload(wd.ANSWER_PROMPT, (m[2][0], wd.PROMPT_OK,
                                                                  {"password": "carolpw"})))
        m = w.recv_type(wd.CONNECTED, 8, timeout=20)
        print("    the password answered -> %s" % wd.fmt(m))
        check(True, "empty password: the answered password signs on")
        w.send(wd.LOGOUT, 8, wd.payload(wd.LOGOUT, ()))
        show(w.drain(1.0))

        dave = XmppPeer("dave@legacy.localhost/peer", "davepw", prosody.c2s_port)
        w.send(wd.LOGIN, 1, wd.login_payload("prpl-jabber", "carol@legacy.localhost/ferry",
                                             "carolpw", opts))
        m = w.recv_type(wd.CONNECTED, 1, timeout=20)
        print("    login -> %s" % wd.fmt(m))
        show(w.drain(1.0))

        w.send(wd.ADD_BUDDY, 1, wd.payload(wd.ADD_BUDDY, ("dave@legacy.localhost", "Dave")))
        m = w.recv_type(wd.AUTH_REQUEST, 1, timeout=15)
        print("    add buddy -> %s" % wd.fmt(m))
        w.send(wd.AUTH_REPLY, 1, wd.payload(wd.AUTH_REPLY, (m[2][0], True)))
        m = w.recv_type(wd.BUDDY_STATUS, 1, timeout=15, where=lambda v: v[2] == wd.STATUS_AVAILABLE)
        check(m[2][0] == "dave@legacy.localhost", "BUDDY_STATUS dave available")
        show([x for x in w.log if x[1] == 1])

        dave.call(dave.xmpp.send_presence, pshow="away", pstatus=TEXT)
        m = w.recv_type(wd.BUDDY_STATUS, 1, timeout=10, where=lambda v: v[2] == wd.STATUS_AWAY)
        print("    dave away with status %r -> %s" % (TEXT, wd.fmt(m)))
        dave.call(dave.xmpp.send_presence, pshow="dnd", pstatus="")
        m = w.recv_type(wd.BUDDY_STATUS, 1, timeout=10, where=lambda v: v[2] == wd.STATUS_DND)
        print("    dave dnd -> %s" % wd.fmt(m))

        w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (1, "dave@legacy.localhost", esc(TEXT), 0)))
        check(w.recv_type(wd.IMS_SENT, 1)[2] == (1,), "IMS_SENT 1")
        ev = dave.wait(lambda e: e[0] == "message" and e[2])
        print("    sent %r escaped -> XMPP body %r" % (TEXT, ev[2]))
        check(ev[2] == TEXT, "XMPP peer received exactly the typed text")
        w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (6, "dave@legacy.localhost", esc(QUOTES), 0)))
        ev = dave.wait(lambda e: e[0] == "message" and e[2])
        print("    sent %r escaped -> XMPP body %r" % (QUOTES, ev[2]))
        check(ev[2] == QUOTES, "XMPP peer received exactly the typed text (quotes)")
        w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (2, "dave@legacy.localhost", esc(WHITESPACE + "  "), 0)))
        ev = dave.wait(lambda e: e[0] == "message" and e[2])
        print("    sent %r escaped -> XMPP body %r" % (WHITESPACE + "  ", ev[2]))
        w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (3, "dave@legacy.localhost", esc("see http://example.org/?a=1&b=2"), 0)))
        ev = dave.wait(lambda e: e[0] == "message" and e[2])
        print("    sent a URL escaped -> XMPP body %r" % (ev[2],))

        w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (4, "dave@legacy.localhost", esc("line1\nline2"), 0)))
        ev = dave.wait(lambda e: e[0] == "message" and e[2])
        print("    sent 'line1\\nline2' escaped -> XMPP body %r" % (ev[2],))
        w.send(wd.SEND_IM, 1, wd.payload(wd.SEND_IM, (5, "dave@legacy.localhost", "a<br>b", 0)))
        ev = dave.wait(lambda e: e[0] == "message" and e[2])
        print("    sent 'a<br>b' (markup) -> XMPP body %r" % (ev[2],))

        for text in (TEXT, WHITESPACE + "  ", "line1\nline2", "  <br> &amp;", QUOTES):
            dave.call(dave.xmpp.send_message, mto="carol@legacy.localhost", mbody=text, mtype="chat")
            m = w.recv_type(wd.IM_RECEIVED, 1, timeout=10)
            print("    XMPP sent %r -> %s" % (text, wd.fmt(m)))

        def send_delayed():
            import datetime
            mm = dave.xmpp.make_message(mto="carol@legacy.localhost", mbody="sent in 2020",
                                        mtype="chat")
            mm["delay"]["stamp"] = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
            mm.send()
        dave.call(send_delayed)
        m = w.recv_type(wd.IM_RECEIVED, 1, timeout=10)
        print("    XMPP message with a 2020-01-01 delay stamp -> %s" % wd.fmt(m))
        check(m[2][2] == 1577836800, "IM_RECEIVED carries the message's own time")

        for state, want in (("composing", wd.TYPING_ACTIVE), ("paused", wd.TYPING_PAUSED),
                            ("active", wd.TYPING_NONE)):
            def send_state(s=state):
                mm = dave.xmpp.make_message(mto="carol@legacy.localhost", mtype="chat")
                mm["chat_state"] = s
                mm.send()
            dave.call(send_state)
            m = w.recv_type(wd.TYPING, 1, timeout=10, where=lambda v, want=want: v[1] == want)
            print("    XMPP chat state %s -> %s" % (state, wd.fmt(m)))
        w.send(wd.SEND_TYPING, 1, wd.payload(wd.SEND_TYPING, ("dave@legacy.localhost", wd.TYPING_ACTIVE)))
        ev = dave.wait(lambda e: e[0] == "chatstate" and e[2] == "composing")
        print("    SEND_TYPING active -> XMPP peer got %s" % (ev,))

        w.send(wd.SET_STATUS, 1, wd.payload(wd.SET_STATUS, (wd.STATUS_DND, "busy & <b>x</b>")))
        time.sleep(1)
        pres = dave.xmpp.client_roster.presence("carol@legacy.localhost")
        print("    SET_STATUS dnd 'busy & <b>x</b>' -> XMPP peer sees %s" % (pres,))

        w.send(wd.REMOVE_BUDDY, 1, wd.payload(wd.REMOVE_BUDDY, ("dave@legacy.localhost",)))
        check(w.recv_type(wd.BUDDY_REMOVED, 1)[2] == ("dave@legacy.localhost",), "BUDDY_REMOVED")

        w.send(wd.SHUTDOWN, 0, wd.payload(wd.SHUTDOWN, ()))
        check(w.wait(10) == 0, "exit 0")
        with open(env.stderr) as f:
            err = f.read()
        bad = [l for l in err.splitlines()
               if "CRITICAL" in l or "WARNING" in l and "closed the socket" not in l]
        check(not bad, "no warnings or criticals on stderr %s" % bad)
        check("carolpw" not in err and "bad" not in err.split() and "OTR:AAMG" not in err
              and "line1" not in err, "stderr shows no password and no message text")
        print("    full event log:")
        for t, m in zip(w.log_times, w.log):
            print("      %6.3f %s" % (t - w.log_times[0], wd.fmt(m)))
    finally:
        if dave:
            dave.close()
        w.close()
        prosody.stop()
    env.check_clean()


def section_churn(binary, root, rounds=5, count=50):
    print("== churn: %d rounds of %d IRC logins and logouts in one worker" % (rounds, count))
    ircd = servers.Ngircd(os.path.join(root, "ngircd-churn")).start()
    env = Env(root, "churn")
    w = env.worker(binary)
    try:
        w.recv_type(wd.READY)
        for r in range(rounds):
            for i in range(count):
                irc_login(w, i + 1, "c%03d" % i, ircd.port)
                time.sleep(0.005)
            for i in range(count):
                w.recv_type(wd.CONNECTED, i + 1, timeout=30)
            for i in range(count):
                w.send(wd.LOGOUT, i + 1, wd.payload(wd.LOGOUT, ()))
            for i in range(count):
                w.recv_type(wd.DISCONNECTED, i + 1, timeout=30)
            w.drain(0.5)
            print("    after round %d: %s" % (r + 1, rss(w)))
        check(not w.pending, "nothing else was sent")
        w.send(wd.SHUTDOWN, 0, wd.payload(wd.SHUTDOWN, ()))
        check(w.wait(10) == 0, "exit 0")
    finally:
        w.close()
        ircd.stop()
    env.check_clean()


SECTIONS = {"describe": section_describe, "irc": section_irc, "tls": section_tls,
            "memory": section_memory, "xmpp": section_xmpp, "selfsigned": section_selfsigned,
            "protocol": section_protocol, "churn": section_churn}


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    binary = os.path.abspath(sys.argv[1])
    wanted = sys.argv[2:] or ["describe", "protocol", "irc", "tls", "selfsigned", "xmpp",
                              "memory", "churn"]
    root = tempfile.mkdtemp(prefix="worker-smoke-")
    os.chmod(root, 0o755)
    try:
        for name in wanted:
            if name not in SECTIONS:
                print("skipping unknown section %s" % name)
                continue
            SECTIONS[name](binary, root)
    except (Failure, wd.WorkerError) as e:
        print("FAILED: %s" % e)
        for f in sorted(os.listdir(root)):
            if f.endswith(".stderr"):
                print("--- %s" % f)
                print(servers.tail(os.path.join(root, f), 30))
        return 1
    finally:
        if os.environ.get("KEEP_TMP") != "1":
            shutil.rmtree(root, ignore_errors=True)
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
