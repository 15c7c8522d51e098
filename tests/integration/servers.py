"""Start and stop real servers on 127.0.0.1 for ferry's integration tests.

Classes: Prosody, Ejabberd, Ngircd and TestCA (a throwaway certificate
authority driven by the openssl CLI).  Every server binds 127.0.0.1 only, on
ports picked by binding port 0, keeps its config, data and logs under a
private directory, records the PIDs it started and stops exactly those
(SIGTERM, a bounded wait, then SIGKILL).  Nothing here touches system
services: ejabberd gets a private epmd (ERL_EPMD_PORT), a private Erlang
cookie and a private ejabberdctl.cfg.  Every wait loop is bounded.
"""

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time

LOCALHOST = "127.0.0.1"


# ---- small helpers ---------------------------------------------------------

def free_ports(count=1):
    """Return `count` distinct TCP ports that were free on 127.0.0.1."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOCALHOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_accepts(port, host=LOCALHOST, timeout=0.5):
    """True if a TCP connect to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _proc_stat(pid):
    """(ppid, starttime, state, comm) of a live process, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[1]), int(rest[19]), rest[0], comm


def descendants(root):
    """PIDs of all live descendants of `root` (not including root)."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _proc_stat(int(name))
            if st:
                children.setdefault(st[0], []).append(int(name))
    out, todo = [], [root]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class ProcRecord:
    """A PID plus its start time, so a recycled PID is never signalled."""

    def __init__(self, pid):
        st = _proc_stat(pid)
        self.pid = pid
        self.start = st[1] if st else None
        self.comm = st[3] if st else "?"

    def alive(self):
        st = _proc_stat(self.pid)
        return bool(st) and st[1] == self.start and st[2] != "Z"

    def signal(self, sig):
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:  # exited just now
                pass

    def __repr__(self):
        return "%s[%d]" % (self.comm, self.pid)


def wait_until(predicate, timeout, interval=0.1):
    """Poll `predicate` until true or `timeout` s; bounded in count too."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 2):
        if predicate():
            return True
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    return bool(predicate())


def tail(path, lines=40):
    """Last `lines` lines of a file (for diagnostics), or a note."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)\n" % (path, e)


def _read(path):
    with open(path) as f:
        return f.read()


def chown_tree(path, user):
    pw = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for n in filenames:
            os.chown(os.path.join(dirpath, n), pw.pw_uid, pw.pw_gid)


def make_traversable(path):
    """Let unprivileged server users (ejabberd, nobody) walk into `path`.

    Adds o+x to `path` and to its parent (the test's private temp dir);
    refuses to touch any directory further up.
    """
    own = [path, os.path.dirname(path)]
    for d in own:
        os.chmod(d, os.stat(d).st_mode & 0o777 | 0o711)
    d = os.path.dirname(own[1])
    while d not in ("/", ""):
        if not os.stat(d).st_mode & 0o001:
            raise RuntimeError("%s is not traversable by other users; set "
                               "TMPDIR to a directory such as /tmp" % d)
        d = os.path.dirname(d)


# ---- base class ------------------------------------------------------------

class ManagedServer:
    """A server process tree started by us; subclasses fill in the rest.

    Attributes: name, workdir, log_path (read it on failure), records
    (every ProcRecord we started or saw under our child).
    """

    stop_timeout = 10.0

    def __init__(self, name, workdir):
        self.name = name
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.log_path = os.path.join(workdir, name + ".log")
        self.popen = None
        self.records = []

    # -- process bookkeeping
    def _spawn(self, argv, env=None, cwd=None, log_path=None):
        logf = open(log_path or self.log_path, "ab")
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                 stderr=subprocess.STDOUT, env=env,
                                 cwd=cwd or self.workdir,
                                 start_new_session=True)
        finally:
            logf.close()
        self.records.append(ProcRecord(p.pid))
        return p

    def refresh_pids(self):
        """Record descendants of our children that appeared since start."""
        known = {r.pid for r in self.records if r.alive()}
        for r in list(self.records):
            if r.alive():
                for pid in descendants(r.pid):
                    if pid not in known:
                        self.records.append(ProcRecord(pid))
                        known.add(pid)

    def pids(self):
        return [r.pid for r in self.records if r.alive()]

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def _main_records(self):
        """Records to SIGTERM first (default: our direct child)."""
        return [r for r in self.records if self.popen and r.pid == self.popen.pid]

    def _reap(self):
        """Collect exit statuses of our direct children (no zombies)."""
        for p in (self.popen, getattr(self, "epmd", None)):
            if p is not None:
                p.poll()

    def _terminate(self, first, group):
        """SIGTERM `first`, wait (bounded) until every record in `group`
        is gone, SIGKILL survivors.  Returns the PIDs that needed SIGKILL."""
        for r in first:
            r.signal(signal.SIGTERM)

        def gone():
            self._reap()
            return not any(r.alive() for r in group)
        killed = []
        if not wait_until(gone, self.stop_timeout):
            for r in group:
                if r.alive():
                    killed.append(r.pid)
                    r.signal(signal.SIGKILL)
            wait_until(gone, 5.0)
        return killed

    def stop(self):
        """SIGTERM the server, wait (bounded), SIGKILL what is left.

        Returns the list of PIDs that had to be SIGKILLed (empty = clean).
        Safe to call again (e.g. from a cleanup after an interruption).
        """
        self.refresh_pids()
        killed = self._terminate(self._main_records(), list(self.records))
        self.popen = None
        self.records = [r for r in self.records if r.alive()]
        return killed

    def log_tail(self, lines=40):
        return tail(self.log_path, lines)

    def _wait_ports(self, ports, timeout):
        def ready():
            if not self.running():
                raise RuntimeError("%s exited during start-up (rc %s); log:\n%s"
                                   % (self.name, self.popen.returncode,
                                      self.log_tail()))
            return all(port_accepts(p) for p in ports)
        if not wait_until(ready, timeout, 0.2):
            raise RuntimeError("%s: ports %s not accepting after %ss; log:\n%s"
                               % (self.name, ports, timeout, self.log_tail()))


# ---- Prosody ---------------------------------------------------------------

def _lua_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


class Prosody(ManagedServer):
    """Prosody 0.12 in the foreground, as root (run_as_root = true).

    vhosts: list of VirtualHost names.  component/secret: the XEP-0114
    component.  privileges: dict for mod_privilege (e.g. {"roster": "both",
    "message": "outgoing"}) or None.  tls_cert/tls_key: enable Direct TLS
    via net_multiplex + ssl_ports on self.tls_port; that certificate is the
    global `ssl` one, which Prosody serves without SNI and for SNI equal to
    any configured host (VirtualHost or Component).
    muc: names of mod_muc components to add (rooms created by anyone,
    unlocked at once: no configuration form needed), e.g.
    ["conference.legacy.localhost"].
    starttls: with tls_cert/tls_key, also offer STARTTLS on c2s (mod_tls,
    that certificate for every VirtualHost): a legacy XMPP server for
    prpl-jabber.
    vhost_lines: {vhost: [Lua lines]} added under those VirtualHosts, e.g.
    'disable_sasl_mechanisms = { "SCRAM-SHA-1" }'.
    auth: Prosody's `authentication` ("internal_hashed" by default;
    "internal_plain" lets write_accounts() create accounts in bulk before
    start).  log_level: minimum level of the debug log file ("debug").
    """

    def __init__(self, workdir, vhosts=("localhost",), component="irc.localhost",
                 secret="s3cret", privileges=None, tls_cert=None, tls_key=None,
                 c2s_port=None, auth="internal_hashed", log_level="debug", muc=(),
                 starttls=False, vhost_lines=None):
        super().__init__("prosody", workdir)
        self.vhost_lines = dict(vhost_lines or {})
        self.starttls = starttls and tls_cert is not None
        self.muc = list(muc)
        self.auth = auth
        self.log_level = log_level
        self.vhosts = list(vhosts)
        self.component = component
        self.secret = secret
        self.privileges = privileges
        self.tls_cert, self.tls_key = tls_cert, tls_key
        ports = free_ports(3)
        self.c2s_port, self.component_port = c2s_port or ports[0], ports[1]
        self.tls_port = ports[2] if tls_cert else None
        self.cfg_path = os.path.join(workdir, "prosody.cfg.lua")
        self.console_log = os.path.join(workdir, "prosody-console.log")
        for d in ("data", "certs"):
            os.makedirs(os.path.join(workdir, d), exist_ok=True)
        self._write_config()

    def _write_config(self):
        w = self.workdir
        mods = ["roster", "saslauth", "disco", "ping", "version", "register",
                "presence"]
        if self.privileges:
            mods.append("privilege")
        if self.tls_cert:
            mods.append("net_multiplex")
        if self.starttls:
            mods.append("tls")
        lines = [
            "run_as_root = true",
            "pidfile = %s" % _lua_str(os.path.join(w, "prosody.pid")),
            "data_path = %s" % _lua_str(os.path.join(w, "data")),
            "certificates = %s" % _lua_str(os.path.join(w, "certs")),
            'log = { { levels = { min = %s }, to = "file", filename = %s },'
            ' { levels = { min = "info" }, to = "console" } }'
            % (_lua_str(self.log_level), _lua_str(self.log_path)),
            'interfaces = { "127.0.0.1" }',
            'local_interfaces = { "127.0.0.1" }',
            "c2s_ports = { %d }" % self.c2s_port,
            "c2s_direct_tls_ports = { }",
            "component_ports = { %d }" % self.component_port,
            'component_interfaces = { "127.0.0.1" }',
            "modules_enabled = { %s }" % ", ".join(_lua_str(m) for m in mods),
            'modules_disabled = { "s2s", "offline" }',
            "c2s_require_encryption = false",
            "allow_unencrypted_plain_auth = true",
            "allow_registration = false",
            "authentication = %s" % _lua_str(self.auth),
            'storage = "internal"',
        ]
        if self.tls_cert:
            lines += [
                "ssl_ports = { %d }" % self.tls_port,
                'ssl_interfaces = { "127.0.0.1" }',
                "ssl = { certificate = %s, key = %s }"
                % (_lua_str(self.tls_cert), _lua_str(self.tls_key)),
            ]
        for vh in self.vhosts:
            lines.append("VirtualHost %s" % _lua_str(vh))
            lines += ["    " + line for line in self.vhost_lines.get(vh, ())]
            if self.starttls:
                lines.append("    ssl = { certificate = %s, key = %s }"
                             % (_lua_str(self.tls_cert), _lua_str(self.tls_key)))
            if self.privileges:
                perms = "; ".join("%s = %s" % (k, _lua_str(v))
                                  for k, v in self.privileges.items())
                lines.append("    privileged_entities = { [%s] = { %s } }"
                             % (_lua_str(self.component), perms))
        lines.append("Component %s" % _lua_str(self.component))
        lines.append("    component_secret = %s" % _lua_str(self.secret))
        if self.privileges:
            lines.append('    modules_enabled = { "privilege" }')
        for host in self.muc:
            lines += ["Component %s %s" % (_lua_str(host), _lua_str("muc")),
                      "    muc_room_locking = false",
                      "    restrict_room_creation = false"]
        with open(self.cfg_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=20.0):
        """Start (or restart on the same ports) and wait for the ports."""
        self.popen = self._spawn(["prosody", "--config", self.cfg_path, "-F"],
                                 log_path=self.console_log)
        ports = [self.c2s_port, self.component_port]
        if self.tls_port:
            ports.append(self.tls_port)
        self._wait_ports(ports, timeout)
        self.refresh_pids()
        return self

    def register(self, user, host, password):
        """Create an account with prosodyctl (works while running)."""
        r = subprocess.run(["prosodyctl", "--config", self.cfg_path, "register",
                            user, host, password], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("prosodyctl register %s@%s failed: %s%s"
                               % (user, host, r.stdout, r.stderr))

    def write_accounts(self, host, accounts):
        """Create accounts {user: password} by writing Prosody's internal
        storage files directly (fast; for many users).  Needs
        auth="internal_plain"; call it before start()."""
        if self.auth != "internal_plain":
            raise RuntimeError("write_accounts needs Prosody(auth='internal_plain')")

        def enc(s):  # Prosody's datamanager: every non-alphanumeric byte -> %xx
            return "".join(c if c.isascii() and c.isalnum() else
                           "".join("%%%02x" % b for b in c.encode()) for c in s)
        d = os.path.join(self.workdir, "data", enc(host), "accounts")
        os.makedirs(d, exist_ok=True)
        for user, password in accounts.items():
            with open(os.path.join(d, enc(user) + ".dat"), "w") as f:
                f.write("return {\n\t[\"password\"] = %s;\n};\n" % _lua_str(password))

    def deluser(self, user, host):
        """Delete an account with prosodyctl (works while running)."""
        r = subprocess.run(["prosodyctl", "--config", self.cfg_path, "deluser",
                            "%s@%s" % (user, host)], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise RuntimeError("prosodyctl deluser %s@%s failed: %s%s"
                               % (user, host, r.stdout, r.stderr))

    def log_tail(self, lines=40):
        return tail(self.log_path, lines) + tail(self.console_log, 10)


# ---- ejabberd --------------------------------------------------------------

class Ejabberd(ManagedServer):
    """ejabberd 23.01 via `ejabberdctl foreground`, fully private.

    hosts: list of XMPP hosts.  components: list of dicts, one per
    ejabberd_service listener: {"hosts": {"irc.localhost": "secret"},
    "certfile": None or a PEM with cert + key (+ chain) => `tls: true`}.
    Their ports are self.component_ports (same order).  privileges: dict for
    mod_privilege, e.g. {"roster": "both", "message": "outgoing"}, granted
    to the first component's hosts, or None.

    A private epmd (our own foreground process) listens on a free port, and
    ERL_EPMD_PORT points beam and every ejabberdctl call at it; the cookie
    is random; the Erlang distribution listens on 127.0.0.1 only.
    """

    USER = "ejabberd"
    stop_timeout = 15.0

    def __init__(self, workdir, hosts=("localhost",), components=None,
                 privileges=None):
        super().__init__("ejabberd", workdir)
        self.hosts = list(hosts)
        self.components = components or [{"hosts": {"irc.localhost": "s3cret"}}]
        self.privileges = privileges
        ports = free_ports(2 + len(self.components))
        self.c2s_port, self.epmd_port = ports[0], ports[1]
        self.component_ports = ports[2:]
        self.component_port = self.component_ports[0]
        self.node = "ferrytest%d%s@localhost" % (os.getpid(),
                                                  secrets.token_hex(3))
        self.cookie = secrets.token_hex(16)
        self.conf_dir = os.path.join(workdir, "conf")
        self.spool_dir = os.path.join(workdir, "spool")
        self.logs_dir = os.path.join(workdir, "logs")
        self.log_path = os.path.join(self.logs_dir, "ejabberd.log")
        self.console_log = os.path.join(workdir, "ejabberdctl-console.log")
        self.epmd = None
        for d in (self.conf_dir, self.spool_dir, self.logs_dir,
                  os.path.join(workdir, "modules")):
            os.makedirs(d, exist_ok=True)
        make_traversable(workdir)
        self._write_config()
        chown_tree(workdir, self.USER)

    @property
    def secret(self):
        """Password of the first host of the first component listener."""
        return next(iter(self.components[0]["hosts"].values()))

    def _write_config(self):
        y = ["hosts:"] + ['  - "%s"' % h for h in self.hosts]
        y += ["loglevel: info", "log_rotate_count: 0", "acme:", "  auto: false",
              "auth_method: internal", "auth_password_format: plain",
              "s2s_use_starttls: false", "s2s_access: none", "listen:",
              "  - port: %d" % self.c2s_port, '    ip: "127.0.0.1"',
              "    module: ejabberd_c2s", "    max_stanza_size: 262144",
              "    access: c2s"]
        for port, comp in zip(self.component_ports, self.components):
            y += ["  - port: %d" % port, '    ip: "127.0.0.1"',
                  "    module: ejabberd_service", "    hosts:"]
            for h, pw in comp["hosts"].items():
                y += ['      "%s":' % h, '        password: "%s"' % pw]
            if comp.get("certfile"):
                cf = os.path.join(self.conf_dir, "service-%d.pem" % port)
                shutil.copyfile(comp["certfile"], cf)
                y += ["    tls: true", '    certfile: "%s"' % cf]
        acl = ["acl:", "  local:", '    user_regexp: ""']
        rules = ["access_rules:", "  local:", "    allow: local",
                 "  c2s:", "    allow: all"]
        mods = ["modules:", "  mod_disco: {}", "  mod_ping: {}",
                "  mod_roster: {}", "  mod_version: {}"]
        if self.privileges:
            acl += ["  transport:", "    server:"]
            acl += ['      - "%s"' % h for h in self.components[0]["hosts"]]
            rules += ["  transport_rule:", "    allow: transport"]
            mods.append("  mod_privilege:")
            for k, v in self.privileges.items():
                mods += ["    %s:" % k, "      %s: transport_rule" % v]
        y += acl + rules + mods
        y += ["api_permissions:", '  "console commands":', "    from:",
              "      - ejabberd_ctl", "    who: all", '    what: "*"']
        self.yml_path = os.path.join(self.conf_dir, "ejabberd.yml")
        with open(self.yml_path, "w") as f:
            f.write("\n".join(y) + "\n")
        with open(os.path.join(self.conf_dir, "inetrc"), "w") as f:
            f.write('{lookup,["file","native"]}.\n'
                    '{host,{127,0,0,1}, ["localhost"]}.\n')
        self.ctl_cfg = os.path.join(self.conf_dir, "ejabberdctl.cfg")
        with open(self.ctl_cfg, "w") as f:
            f.write("\n".join([
                'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0 -setcookie %s'
                ' -start_epmd false -kernel inet_dist_use_interface {127,0,0,1}"'
                % self.cookie,
                "EJABBERD_CONFIG_PATH=%s" % self.yml_path,
                "EJABBERD_PID_PATH=%s" % os.path.join(self.workdir, "ejabberd.pid"),
                "CONTRIB_MODULES_PATH=%s" % os.path.join(self.workdir, "modules"),
                "CONTRIB_MODULES_CONF_DIR=%s" % os.path.join(self.workdir, "modules"),
                "ERL_EPMD_ADDRESS=127.0.0.1",
                "EJABBERD_BYPASS_WARNINGS=true", ""]))

    def _env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ERL_", "EJABBERD"))}
        env["ERL_EPMD_PORT"] = str(self.epmd_port)
        env["ERL_EPMD_ADDRESS"] = LOCALHOST
        return env

    def _ctl_argv(self, *args):
        return ["ejabberdctl", "--node", self.node, "--config-dir", self.conf_dir,
                "--config", self.yml_path, "--ctl-config", self.ctl_cfg,
                "--spool", self.spool_dir, "--logs", self.logs_dir] + list(args)

    def start(self, timeout=40.0):
        """Start epmd + ejabberd (or restart on the same ports); wait."""
        if self.epmd is None or self.epmd.poll() is not None:
            self.epmd = self._spawn(["epmd", "-port", str(self.epmd_port),
                                     "-address", LOCALHOST],
                                    env=self._env(), log_path=self.console_log)
            if not wait_until(lambda: port_accepts(self.epmd_port), 10):
                raise RuntimeError("private epmd did not start: "
                                   + tail(self.console_log))
        self.popen = self._spawn(self._ctl_argv("foreground"), env=self._env(),
                                 cwd=self.spool_dir, log_path=self.console_log)
        self._wait_ports([self.c2s_port] + self.component_ports, timeout)
        self.refresh_pids()
        return self

    def _main_records(self):
        # beam.smp handles SIGTERM as init:stop(); su and the shell follow.
        beams = [r for r in self.records if r.comm == "beam.smp" and r.alive()]
        if beams:
            return beams
        return [r for r in self.records
                if self.popen and r.pid == self.popen.pid]

    def stop(self, keep_epmd=False):
        """Stop beam (and, unless keep_epmd, our epmd) by recorded PID."""
        self.refresh_pids()
        epmd = [r for r in self.records if self.epmd and r.pid == self.epmd.pid]
        rest = [r for r in self.records if r not in epmd]
        killed = self._terminate(self._main_records(), rest)
        if not keep_epmd:
            killed += self._terminate(epmd, epmd)
            self._reap()
            self.epmd = None
        self.popen = None
        self.records = [r for r in self.records if r.alive()]
        return killed

    def ctl(self, *args, timeout=60):
        """Run an ejabberdctl command against this node; returns the result."""
        return subprocess.run(self._ctl_argv(*args), env=self._env(),
                              cwd=self.spool_dir, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)

    def register(self, user, host, password):
        r = self.ctl("register", user, host, password)
        if r.returncode != 0:
            raise RuntimeError("ejabberdctl register %s@%s failed (rc %d): %s%s"
                               % (user, host, r.returncode, r.stdout, r.stderr))

    def log_tail(self, lines=40):
        return tail(self.log_path, lines) + tail(self.console_log, 15)


# ---- ngircd ----------------------------------------------------------------

class Ngircd(ManagedServer):
    """ngircd 26 in the foreground (-n); it drops to `nobody` by itself.

    tls_cert/tls_key: also listen with TLS on self.tls_port.
    """

    def __init__(self, workdir, name="irc.test.local", tls_cert=None,
                 tls_key=None, password=None):
        super().__init__("ngircd", workdir)
        self.password = password
        ports = free_ports(2)
        self.port = ports[0]
        self.tls_port = ports[1] if tls_cert else None
        self.server_name = name
        rundir = os.path.join(workdir, "run")
        os.makedirs(rundir, exist_ok=True)
        os.makedirs(os.path.join(workdir, "ngircd.conf.d"), exist_ok=True)
        self.pid_file = os.path.join(rundir, "ngircd.pid")
        lines = ["[Global]", "\tName = %s" % name, "\tInfo = ferry test IRC",
                 "\tListen = 127.0.0.1", "\tPorts = %d" % self.port,
                 "\tPidFile = %s" % self.pid_file, '\tMotdPhrase = "ferry test"',
                 ] + (["\tPassword = %s" % password] if password else []) + [
                 "[Limits]", "\tMaxConnections = 0", "\tMaxConnectionsIP = 0",
                 "\tMaxJoins = 0", "\tMaxNickLength = 30", "\tMaxPenaltyTime = 0",
                 "[Options]", "\tDNS = no", "\tIdent = no", "\tPAM = no",
                 "\tIncludeDir = %s" % os.path.join(workdir, "ngircd.conf.d")]
        if tls_cert:
            d = os.path.join(workdir, "tls")
            os.makedirs(d, exist_ok=True)
            shutil.copyfile(tls_cert, os.path.join(d, "irc.crt"))
            shutil.copyfile(tls_key, os.path.join(d, "irc.key"))
            os.chmod(os.path.join(d, "irc.key"), 0o600)
            lines += ["[SSL]", "\tCertFile = %s" % os.path.join(d, "irc.crt"),
                      "\tKeyFile = %s" % os.path.join(d, "irc.key"),
                      "\tPorts = %d" % self.tls_port]
        self.cfg_path = os.path.join(workdir, "ngircd.conf")
        self._lines = lines
        self.rewrite_port()
        make_traversable(workdir)
        chown_tree(rundir, "nobody")

    def rewrite_port(self):
        """(Re)writes the config, e.g. after choosing another self.port."""
        lines = [("\tPorts = %d" % self.port) if l.startswith("\tPorts = ") and
                 not l.endswith(str(self.tls_port)) else l for l in self._lines]
        with open(self.cfg_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout=15.0):
        self.popen = self._spawn(["ngircd", "-n", "-f", self.cfg_path])
        ports = [self.port] + ([self.tls_port] if self.tls_port else [])
        self._wait_ports(ports, timeout)
        self.refresh_pids()
        return self


# ---- TestCA ----------------------------------------------------------------

class TestCA:
    """A throwaway CA (EC P-256) that issues server certificates.

    issue(name, dns=[...], ips=[...]) returns a dict with paths: cert,
    key, chain (cert + CA), combined (cert + key + CA, for ejabberd).
    """

    def __init__(self, workdir, cn="ferry test CA"):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.key = os.path.join(workdir, "ca.key")
        self.cert = os.path.join(workdir, "ca.pem")
        self._run(["openssl", "req", "-x509", "-newkey", "ec",
                   "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                   "-keyout", self.key, "-out", self.cert, "-days", "2",
                   "-subj", "/CN=%s" % cn,
                   "-addext", "basicConstraints=critical,CA:TRUE",
                   "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    @staticmethod
    def _run(argv):
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError("%s failed: %s" % (" ".join(argv[:3]), r.stderr))

    def issue(self, name, dns=(), ips=()):
        base = os.path.join(self.dir, name)
        key, csr, crt = base + ".key", base + ".csr", base + ".crt"
        ext = base + ".ext"
        san = ",".join(["DNS:%s" % d for d in dns] + ["IP:%s" % i for i in ips])
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth\n")
            if san:
                f.write("subjectAltName=%s\n" % san)
        self._run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                   "-out", csr, "-subj", "/CN=%s" % name])
        self._run(["openssl", "x509", "-req", "-in", csr, "-CA", self.cert,
                   "-CAkey", self.key, "-CAcreateserial", "-days", "2",
                   "-out", crt, "-extfile", ext])
        c, k, ca = (_read(p) for p in (crt, key, self.cert))
        paths = {"cert": crt, "key": key, "chain": base + ".chain.pem",
                 "combined": base + ".combined.pem"}
        for which, text in (("chain", c + ca), ("combined", c + k + ca)):
            fd = os.open(paths[which], os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                         0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
        return paths
