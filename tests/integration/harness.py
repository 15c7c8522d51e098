"""Shared plumbing for ferry's integration tests.

- TestRun: a private temp dir, a registry of things to stop (servers,
  ferry processes) and a cleanup that runs in `finally`, at exit and on
  SIGTERM/SIGINT.  The temp dir is removed unless FERRY_KEEP_TMP=1.
- Ferry: writes a ferry config (INI, GKeyFile) and runs
  $FERRY_BUILDDIR/src/ferry --config FILE with stdout+stderr in a log file;
  wait_for_log() polls that file; stop() signals by PID.
- XmppClient: an async context that logs a slixmpp client in (bounded
  timeouts) and sends raw iqs, returning the reply (result or error).
Every wait is bounded in count and time.
"""

import asyncio
import atexit
import logging
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import servers  # noqa: E402
from servers import ProcRecord, tail  # noqa: E402

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_VERSION = "jabber:iq:version"
NS_PING = "urn:xmpp:ping"


# ---- environment -----------------------------------------------------------

def builddir():
    return os.environ.get("FERRY_BUILDDIR") or os.path.abspath(
        os.path.join(HERE, "..", ".."))


def ferry_binary():
    """Path of the ferry binary under test ($FERRY_BUILDDIR/src/ferry)."""
    return os.path.join(builddir(), "src", "ferry")


def missing_programs(*names):
    """The subset of `names` not found on PATH."""
    return [n for n in names if shutil.which(n) is None]


def preflight(tap, *programs):
    """Skip the whole test if servers are missing; bail out without ferry.

    With FERRY_REQUIRE_ALL=1 (the README's test command and CI set it) a
    missing server or missing root is a failure, never a skip."""
    strict = os.environ.get("FERRY_REQUIRE_ALL") == "1"
    give_up = tap.bail_out if strict else tap.skip_all
    missing = missing_programs(*programs)
    if missing:
        give_up("not installed: " + ", ".join(missing))
    if os.geteuid() != 0:
        give_up("needs root (ejabberdctl/ngircd switch users)")
    if not os.access(ferry_binary(), os.X_OK):
        tap.bail_out("ferry binary not found at %s (set FERRY_BUILDDIR)"
                     % ferry_binary())


class TestRun:
    """Owns the temp dir and everything started; cleans up exactly once.

    Every process started during the run inherits FERRY_TEST_RUN=<temp
    dir> in its environment; cleanup() uses that marker to find strays
    (e.g. a daemon that double-forked) besides the recorded PIDs.
    SIGTERM/SIGINT/SIGHUP raise SystemExit, so the normal unwinding (and
    the atexit hook) does the cleanup.
    """

    MARKER = "FERRY_TEST_RUN"

    def __init__(self, name, tap):
        self.tap = tap
        self.root = tempfile.mkdtemp(prefix="ferry-%s-" % name)
        os.chmod(self.root, 0o711)  # ejabberd and nobody must traverse it
        os.environ[self.MARKER] = self.root
        self.objects = []
        self._cleaned = False
        self._cleaning = False
        atexit.register(self.cleanup)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, frame):
        if self._cleaning:
            return  # let the cleanup already under way finish
        self.tap.diag("interrupted by signal %d: cleaning up" % signum)
        raise SystemExit(128 + signum)

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def add(self, obj):
        """Register an object with stop() and log_tail(); returns it."""
        self.objects.append(obj)
        return obj

    def dump_logs(self, lines=30):
        """Print the tail of every registered log as TAP diagnostics."""
        for obj in self.objects:
            self.tap.diag("---- %s log (%s) ----" % (obj.name, obj.log_path))
            self.tap.diag(obj.log_tail(lines))

    def leftovers(self):
        """Processes still alive that we started: recorded PIDs, plus any
        process carrying our FERRY_TEST_RUN marker in its environment."""
        out = []
        for obj in self.objects:
            out += [r for r in getattr(obj, "records", []) if r.alive()]
        known = {r.pid for r in out} | {os.getpid()}
        marker = ("%s=%s" % (self.MARKER, self.root)).encode()
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) in known:
                continue
            try:
                with open("/proc/%s/environ" % name, "rb") as f:
                    env = f.read().split(b"\0")
            except OSError:
                continue
            if marker in env:
                r = ProcRecord(int(name))
                if r.alive():
                    out.append(r)
        return out

    def cleanup(self):
        """Stop everything (reverse order), SIGKILL leftovers, remove the
        temp dir.  Returns a list of problems (empty = clean); safe to call
        twice (the second call does nothing)."""
        if self._cleaned:
            return []
        self._cleaned = self._cleaning = True
        problems = []
        for obj in reversed(self.objects):
            try:
                res = obj.stop()
                killed = res[1] if isinstance(res, tuple) else res
                if killed:
                    problems.append("%s needed SIGKILL: %s" % (obj.name, killed))
            except Exception as e:  # keep going: stop the others too
                problems.append("stopping %s failed: %r" % (obj.name, e))
        # A sanitizer build writes its reports to ferry's log (the workers
        # share ferry's stderr): any report is a failure of the run.
        for obj in self.objects:
            text = obj.log_text() if hasattr(obj, "log_text") else ""
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                           "runtime error:"):
                if marker in text:
                    i = text.index(marker)
                    problems.append("%s log has a sanitizer report:\n%s"
                                    % (obj.name, text[max(0, i - 200):i + 3000]))
                    break
        left = self.leftovers()
        for r in left:
            r.signal(signal.SIGKILL)
        if left:
            problems.append("leftover processes SIGKILLed: %s" % left)
        if os.environ.get("FERRY_KEEP_TMP") == "1":
            self.tap.diag("kept temp dir %s" % self.root)
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        return problems


# ---- ferry -----------------------------------------------------------------

WORKER_USER = "ferry-worker"


def ensure_worker_user():
    """As root, ferry runs its workers as [workers] user, by default
    ferry-worker: create that system user when it is missing."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(WORKER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", WORKER_USER], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Ferry:
    """One ferry process with its own config file and log file.

    Keyword arguments map to config keys: jid, host, port, secret, tls,
    tls_ca_file, tls_server_name, max_stanza_bytes, protocol, legacy_name,
    level.  `extra` = {"group": {"key": "value"}} adds or overrides keys.
    """

    ONLINE = r"component: online as (\S+)"
    REFUSED = (r"component: the server refused the handshake \(not-authorized\)"
               r": check \[component\] secret")
    # "component: reconnecting in 2 s", also with a reason in between:
    # "component: link down (…); reconnecting in 0.6 s"
    RECONNECTING = r"component: (?:[^\n]*; )?reconnecting in ([0-9.]+) s"
    TLS_FAILED = r"component: TLS certificate verification failed"

    def __init__(self, workdir, port, secret, name="ferry", jid="irc.localhost",
                 host="127.0.0.1", tls=False, tls_ca_file=None,
                 tls_server_name=None, max_stanza_bytes=524288,
                 protocol="prpl-irc", legacy_name="IRC Transport",
                 level="debug", extra=None, env=None, run_as=None):
        self.name = name
        # extra environment variables; run_as: a user to start ferry as
        # (its work dir is given to that user)
        self.extra_env, self.run_as = dict(env or {}), run_as
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.jid, self.secret = jid, secret
        self.cfg_path = os.path.join(workdir, name + ".conf")
        self.log_path = os.path.join(workdir, name + ".log")
        comp = {"jid": jid, "host": host, "port": str(port), "secret": secret,
                "tls": "true" if tls else "false",
                "max_stanza_bytes": str(max_stanza_bytes)}
        if tls_ca_file:
            comp["tls_ca_file"] = tls_ca_file
        if tls_server_name:
            comp["tls_server_name"] = tls_server_name
        self.config = {"component": comp,
                       "legacy": {"protocol": protocol, "name": legacy_name},
                       "logging": {"level": level}}
        for group, kv in (extra or {}).items():
            self.config.setdefault(group, {}).update(kv)
        with open(self.cfg_path, "w") as f:
            for group, kv in self.config.items():
                f.write("[%s]\n" % group)
                for k, v in kv.items():
                    f.write("%s = %s\n" % (k, v))
                f.write("\n")
        os.chmod(self.cfg_path, 0o600)
        ensure_worker_user()
        self.popen = None
        self.records = []

    def _env(self):
        """ferry's environment: HOME and XDG dirs private to this run, so
        nothing (GIO's dconf cache, libpurple's ~/.purple) lands in /root."""
        env = dict(os.environ)
        home = os.path.join(self.workdir, "home")
        dirs = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
                "XDG_CACHE_HOME": os.path.join(home, ".cache"),
                "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
                "XDG_RUNTIME_DIR": os.path.join(self.workdir, "run"),
                "TMPDIR": os.path.join(self.workdir, "tmp")}
        for k, d in dirs.items():
            os.makedirs(d, mode=0o700, exist_ok=True)
            env[k] = d
        # the workers' private dirs are made in TMPDIR: as root, ferry runs
        # them as WORKER_USER, who must be able to walk into them
        os.chmod(dirs["TMPDIR"], 0o711)
        env.update(self.extra_env)
        return env

    def start(self):
        logf = open(self.log_path, "ab")
        env = self._env()
        who = {}
        if self.run_as is not None:
            servers.chown_tree(self.workdir, self.run_as)
            pw = pwd.getpwnam(self.run_as)
            who = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[])
        try:
            self.popen = subprocess.Popen(
                [ferry_binary(), "--config", self.cfg_path],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                cwd=self.workdir, env=env, start_new_session=True, **who)
        finally:
            logf.close()
        self.records.append(ProcRecord(self.popen.pid))
        return self

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def returncode(self):
        return None if self.popen is None else self.popen.poll()

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def mark(self):
        """Current log length: pass as `since` to only look at newer lines."""
        return len(self.log_text())

    def count(self, regex, since=0):
        return len(re.findall(regex, self.log_text()[since:]))

    def _check(self, regex, count, since):
        found = list(re.finditer(regex, self.log_text()[since:]))
        return found[count - 1] if len(found) >= count else None

    def wait_for_log(self, regex, timeout, count=1, since=0):
        """Poll the log until `regex` has matched `count` times after
        offset `since`; returns the last match or None.  Gives up early
        (after one last look) if ferry has exited."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.1) + 2):
            m = self._check(regex, count, since)
            if m or not self.running() or time.monotonic() >= deadline:
                return m or self._check(regex, count, since)
            time.sleep(0.1)
        return self._check(regex, count, since)

    async def await_log(self, regex, timeout, count=1, since=0):
        """Async twin of wait_for_log (keeps slixmpp clients alive)."""
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.1) + 2):
            m = self._check(regex, count, since)
            if m or not self.running() or time.monotonic() >= deadline:
                return m or self._check(regex, count, since)
            await asyncio.sleep(0.1)
        return self._check(regex, count, since)

    def stop(self, timeout=10.0):
        """SIGTERM, bounded wait, SIGKILL.  Returns (exit status, killed)."""
        if self.popen is None:
            return None, False
        killed = False
        self.refresh_pids()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                killed = True
                self.popen.kill()
                self.popen.wait(timeout=5)
        # helper processes ferry spawned (workers) must follow it shortly
        if not servers.wait_until(
                lambda: not any(r.alive() for r in self.records), 5.0):
            for r in self.records:
                if r.alive():
                    r.signal(signal.SIGKILL)
                    killed = True
        rc = self.popen.returncode
        return rc, killed

    def log_tail(self, lines=40):
        return tail(self.log_path, lines)

    def refresh_pids(self):
        """Record ferry's children (e.g. workers) so stop() can reap them."""
        if self.running():
            known = {r.pid for r in self.records}
            for pid in servers.descendants(self.popen.pid):
                if pid not in known:
                    self.records.append(ProcRecord(pid))


# ---- slixmpp client --------------------------------------------------------

class ClientError(Exception):
    pass


class Reply:
    """An iq reply: type ('result', 'error' or 'timeout'), the raw element,
    and for errors the defined condition (e.g. 'service-unavailable') and
    the <text/> (None without one)."""

    def __init__(self, itype, xml=None):
        self.type = itype
        self.xml = xml
        self.condition = None
        self.text = None
        self.sender = xml.get("from") if xml is not None else None
        if xml is not None and itype == "error":
            err = xml.find("{%s}error" % NS_CLIENT)
            if err is not None:
                for child in err:
                    if child.tag == "{%s}text" % NS_STANZAS:
                        self.text = child.text or ""
                    elif child.tag.startswith("{%s}" % NS_STANZAS):
                        self.condition = child.tag.split("}", 1)[1]

    def find(self, path):
        return None if self.xml is None else self.xml.find(path)

    def __str__(self):
        if self.xml is None:
            return "<%s>" % self.type
        return ET.tostring(self.xml, encoding="unicode")


class XmppClient:
    """async with XmppClient(jid, password, port) as c: ... (slixmpp 1.8).

    Logs in over plain TCP on 127.0.0.1:port (no STARTTLS), with plugins
    xep_0030, xep_0092 and xep_0199.  Raises ClientError if the session
    does not start within `timeout` seconds.
    """

    def __init__(self, jid, password, port, host="127.0.0.1", timeout=15.0):
        self.jid, self.password = jid, password
        self.address = (host, port)
        self.timeout = timeout
        self.xmpp = None

    def configure(self, x):
        """Subclass hook: plugins and handlers on the new ClientXMPP."""
        for plugin in ("xep_0030", "xep_0092", "xep_0199"):
            x.register_plugin(plugin)

    async def session_started(self, x):
        """Subclass hook: run once the session is up, before __aenter__
        returns (e.g. send initial presence)."""

    async def __aenter__(self):
        import slixmpp
        logging.getLogger("slixmpp").setLevel(logging.CRITICAL)
        x = slixmpp.ClientXMPP(self.jid, self.password)
        self.configure(x)
        x.reconnect_max_attempts = 1
        done = asyncio.get_running_loop().create_future()

        def finish(result):
            if not done.done():
                done.set_result(result)

        async def on_start(_e):
            await self.session_started(x)
            finish("ok")
        x.add_event_handler("session_start", on_start)
        x.add_event_handler("failed_all_auth",
                            lambda _e: finish("authentication failed"))
        x.add_event_handler("connection_failed",
                            lambda e: finish("connection failed: %s" % e))
        x.add_event_handler("disconnected",
                            lambda e: finish("disconnected: %s" % e))
        self.xmpp = x
        x.connect(address=self.address, force_starttls=False,
                  disable_starttls=True)
        try:
            result = await asyncio.wait_for(done, self.timeout)
        except asyncio.TimeoutError:
            result = "no session after %.0f s" % self.timeout
        if result != "ok":
            self._abort()
            raise ClientError("%s: %s" % (self.jid, result))
        return self

    def _abort(self):
        if self.xmpp is not None:
            self.xmpp.cancel_connection_attempt()
            self.xmpp.abort()

    async def __aexit__(self, *exc):
        await self.close()
        return False

    async def close(self):
        """Log out (bounded), then drop the connection."""
        if self.xmpp is None:
            return
        try:
            await asyncio.wait_for(self.xmpp.disconnect(wait=1.0), 5)
        except (asyncio.TimeoutError, Exception):
            pass
        self._abort()
        self.xmpp = None

    async def iq(self, to, payload, itype="get", timeout=5.0):
        """Send <iq type=itype to=to>payload</iq>; payload is an XML
        string (may be empty).  Returns a Reply, never raises on errors."""
        from slixmpp.exceptions import IqError, IqTimeout
        xml = ET.fromstring("<iq xmlns='%s' type='%s' to='%s'>%s</iq>"
                            % (NS_CLIENT, itype, to, payload))
        iq = self.xmpp.Iq(xml=xml)
        iq["id"] = self.xmpp.new_id()
        try:
            reply = await iq.send(timeout=timeout)
            return Reply(reply["type"], reply.xml)
        except IqError as e:
            return Reply("error", e.iq.xml)
        except IqTimeout:
            return Reply("timeout")

    async def disco_info(self, to, timeout=5.0):
        """Reply plus (identities [(cat, type, name)], features set)."""
        r = await self.iq(to, "<query xmlns='%s'/>" % NS_DISCO_INFO,
                          timeout=timeout)
        ids, feats = [], set()
        q = r.find("{%s}query" % NS_DISCO_INFO)
        if r.type == "result" and q is not None:
            for i in q.findall("{%s}identity" % NS_DISCO_INFO):
                ids.append((i.get("category"), i.get("type"), i.get("name")))
            feats = {f.get("var") for f in q.findall("{%s}feature" % NS_DISCO_INFO)}
        return r, ids, feats


async def disco_until_ok(jid, password, port, target, timeout):
    """Log in and retry disco#info on `target` until it answers 'result'
    (used after a server restart).  Returns (ok, last_note)."""
    deadline = time.monotonic() + timeout
    note = "not tried"
    for _ in range(int(timeout) + 2):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            async with XmppClient(jid, password, port,
                                  timeout=min(10.0, max(left, 1.0))) as c:
                r, _ids, _f = await c.disco_info(target,
                                                 timeout=min(5.0, max(left, 1.0)))
                note = "disco#info -> %s %s" % (r.type, r.condition or "")
                if r.type == "result":
                    return True, note
        except ClientError as e:
            note = str(e)
        await asyncio.sleep(min(1.0, max(deadline - time.monotonic(), 0)))
    return False, note


# ---- checks shared by the Prosody and ejabberd component tests -------------

def _fmt(reply):
    return "reply: %s" % reply


async def check_component_basics(tap, client, jid, legacy_type="irc",
                                  legacy_name="IRC Transport"):
    """disco#info/items, version, ping and unknown-namespace iqs on `jid`.

    Emits 9 TAP results.  Returns True if disco#info answered at all.
    """
    r, ids, feats = await client.disco_info(jid)
    tap.ok(r.type == "result" and r.sender == jid,
           "disco#info on %s answered with a result from %s" % (jid, jid),
           lambda: _fmt(r))
    tap.ok(("gateway", legacy_type, legacy_name) in ids,
           "disco#info identity gateway/%s named '%s'" % (legacy_type, legacy_name),
           lambda: "identities: %s" % ids)
    want = {NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION, NS_PING}
    tap.ok(want <= feats, "disco#info features include disco#info, "
           "disco#items, jabber:iq:version, urn:xmpp:ping",
           lambda: "missing: %s; got: %s" % (sorted(want - feats), sorted(feats)))

    r2 = await client.iq(jid, "<query xmlns='%s'/>" % NS_DISCO_ITEMS)
    tap.ok(r2.type == "result" and
           r2.find("{%s}query" % NS_DISCO_ITEMS) is not None,
           "disco#items answered with a result <query/>", lambda: _fmt(r2))

    r3 = await client.iq(jid, "<query xmlns='%s'/>" % NS_VERSION)
    name = r3.find("{%s}query/{%s}name" % (NS_VERSION, NS_VERSION))
    ver = r3.find("{%s}query/{%s}version" % (NS_VERSION, NS_VERSION))
    tap.ok(r3.type == "result" and name is not None and name.text == "ferry"
           and ver is not None and (ver.text or "").strip() != "",
           "jabber:iq:version says name 'ferry' and a non-empty version",
           lambda: _fmt(r3))

    r4 = await client.iq(jid, "<ping xmlns='%s'/>" % NS_PING)
    tap.ok(r4.type == "result", "urn:xmpp:ping answered with a result",
           lambda: _fmt(r4))

    r6 = await client.iq(jid, "<vCard xmlns='vcard-temp'/>")
    fn = r6.find("{vcard-temp}vCard/{vcard-temp}FN")
    desc = r6.find("{vcard-temp}vCard/{vcard-temp}DESC")
    tap.ok(r6.type == "result" and fn is not None and fn.text == legacy_name and
           desc is not None and "transport" in (desc.text or ""),
           "the transport's vCard names the service (FN '%s', a DESC)" % legacy_name,
           lambda: _fmt(r6))

    for itype in ("get", "set"):
        r5 = await client.iq(jid, "<query xmlns='urn:example:ferry:unknown'/>",
                             itype=itype)
        tap.ok(r5.type == "error" and r5.condition == "service-unavailable"
               and r5.sender == jid,
               "iq %s with an unknown namespace -> error service-unavailable "
               "from %s" % (itype, jid), lambda: _fmt(r5))

    return r.type == "result"


def run_component_suite(tap, run, server, user, password, jid="irc.localhost"):
    """The whole Prosody/ejabberd component scenario (TAP results).

    `server` is started, has `user@localhost` registered, has
    .component_port, .c2s_port, .secret (the component secret), .stop()
    and .start() (restart on the same ports).
    """
    ferry = run.add(Ferry(run.path("ferry"), server.component_port,
                          server.secret, jid=jid))
    ferry.start()
    m = ferry.wait_for_log(Ferry.ONLINE, 30)
    if not tap.ok(m is not None and m.group(1) == jid,
                  "ferry logs 'component: online as %s'" % jid):
        tap.diag("ferry %s; log:\n%s" % (
            "is running" if ferry.running() else
            "exited with %s" % ferry.returncode(), ferry.log_tail()))
        tap.diag("server log:\n" + server.log_tail(20))

    async def basics():
        async with XmppClient(user, password, server.c2s_port) as c:
            await check_component_basics(tap, c, jid)
    try:
        asyncio.run(basics())
    except ClientError as e:
        tap.fail("client login for the basic checks", str(e))

    # -- restart the server under ferry's feet
    mark = ferry.mark()
    killed = server.stop()
    tap.ok(not killed and not server.pids(),
           "%s stopped by PID (no SIGKILL, nothing left)" % server.name,
           "SIGKILLed: %s, alive: %s" % (killed, server.pids()))
    tap.ok(ferry.wait_for_log(Ferry.RECONNECTING, 10, since=mark) is not None,
           "ferry notices the lost link: 'component: reconnecting in N s'",
           ferry.log_tail)
    server.start()
    t0 = time.monotonic()
    m = ferry.wait_for_log(Ferry.ONLINE, 30, since=mark)
    tap.ok(m is not None, "ferry reattaches by itself after the %s restart"
           % server.name, ferry.log_tail)
    left = max(30 - (time.monotonic() - t0), 3)
    ok, note = asyncio.run(disco_until_ok(user, password, server.c2s_port,
                                          jid, left))
    tap.ok(ok, "disco#info works again within 30 s of the restart", note)
    tap.ok(ferry.running(), "ferry is still running",
           "exit status %s" % ferry.returncode())
    tap.ok(server.secret not in ferry.log_text(),
           "the component secret appears nowhere in ferry's log")
    rc, killed = ferry.stop()
    tap.ok(not killed, "ferry exits within 10 s of SIGTERM",
           "exit status %s" % rc)
    tap.diag("ferry exit status after SIGTERM: %s" % rc)

    # -- wrong secret: reported, retried, never logged
    bad = "wrong-%s" % os.urandom(8).hex()
    fb = run.add(Ferry(run.path("ferry-bad"), server.component_port, bad,
                       name="ferry-bad", jid=jid))
    fb.start()
    m = fb.wait_for_log(Ferry.REFUSED, 30, count=2)
    tap.ok(m is not None, "wrong secret: the not-authorized line is logged "
           "at least twice (ferry retries)", fb.log_tail)
    tap.ok(fb.count(Ferry.ONLINE) == 0, "wrong secret: never 'online as'",
           fb.log_tail)
    tap.ok(bad not in fb.log_text(),
           "wrong secret: the secret string appears nowhere in the log")
    tap.ok(fb.running(), "wrong secret: ferry keeps running (retrying)",
           "exit status %s" % fb.returncode())
    fb.stop()


# ---- test programs -----------------------------------------------------------

def run_test(name, programs, body):
    """The frame of an integration test program: TAP, preflight for
    PROGRAMS, a TestRun, body(tap, run), a clean-stop check. Returns the
    exit code."""
    from tap import Tap
    tap = Tap()
    preflight(tap, *programs)
    run = TestRun(name, tap)
    try:
        body(tap, run)
    except Exception:
        import traceback
        tap.fail("no unexpected exception", traceback.format_exc())
        run.dump_logs()
    problems = run.cleanup()
    tap.ok(not problems, "everything stopped cleanly", "\n".join(problems))
    return tap.done()


def start_ferry(tap, run, label="ferry", timeout=30, **kwargs):
    """Starts a Ferry (kwargs as for Ferry) in run.path(label) and checks it
    attaches; returns it, or None (after printing its log) if it did not."""
    ferry = run.add(Ferry(run.path(label), name=label, **kwargs))
    ferry.start()
    if tap.ok(ferry.wait_for_log(Ferry.ONLINE, timeout) is not None,
              "%s starts and attaches" % label, ferry.log_tail):
        return ferry
    return None
