#!/usr/bin/python3
"""The workers cannot read ferry's key or database, however ferry is
started (issue 10, item 4), and neither process leaves a core (item 11).

Four runs against Prosody + ngircd, each with a fresh ferry:
  root             ferry as root: workers as ferry-worker, Landlock on
  root, no Landlock  the same with FERRY_WORKER_LANDLOCK_ABI=0 (a kernel
                   without Landlock): the user switch alone protects
  system user      ferry started as the unprivileged ferry-worker: the
                   workers are that user too; only Landlock protects
  system user, ABI 2  the same at Debian 12's Landlock ABI (kernel 6.1)
  system user, no Landlock  shows what Landlock prevents: the worker then
                   opens the key (reported, not a failure)
In each: the worker's uids and groups (/proc/<pid>/status), no new
privileges, its seccomp filter, its working directory (its private dir, owned by it, 0700),
core limit 0 (/proc/<pid>/limits) and non-dumpable (a non-dumpable
process's /proc/<pid> belongs to root), the same for ferry, the key and
database modes, and a real open() of each from inside the worker
(FERRY_WORKER_TEST_OPEN, a test-only hook: the worker opens the paths
once at start and logs the result). Then IRC messages flow both ways.

The legacy address policy (item 4's second half): a registration naming
an internal server that is not listed is refused with the reason; with
"*" (any public server) a name resolving to loopback is refused by the
worker's resolver, logged, and the user told; a worker given no list
refuses a literal loopback address at connect() and a loopback name at
resolve, and connects to the listed one; --check-config refuses an open
server field without a list, and a symlinked key or one in a directory
others may write.
Prints TAP.
"""

import asyncio
import os
import pwd
import re
import stat
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import WORKER_USER, builddir, ferry_binary, run_test, start_ferry  # noqa: E402
from transport import (irc_presets, IrcPeer, XmppUser, start_xmpp_and_irc,  # noqa: E402
                       transport_config, worker_pids)
import servers  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import worker_driver as wd  # noqa: E402
import subprocess  # noqa: E402

T = "irc.localhost"
RUNS = [  # label, user ferry runs as (None: root), Landlock ABI cap
    ("root", None, None),
    ("root-nolandlock", None, "0"),
    ("sysuser", WORKER_USER, None),
    ("sysuser-abi2", WORKER_USER, "2"),  # Debian 12's kernel (6.1): Landlock ABI 2
    ("sysuser-nolandlock", WORKER_USER, "0"),
]


def status_fields(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def core_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max core file size"):
                return line.split()[4:6]
    return None


def check_process(tap, label, what, pid, uid, confined_as_root_owner):
    """Core limit 0 and, where it shows (the process is not root),
    non-dumpable: its /proc/<pid> then belongs to root."""
    lim = core_limit(pid)
    tap.ok(lim == ["0", "0"], "%s: %s has core limit 0 (soft and hard)" % (label, what),
           str(lim))
    if confined_as_root_owner:
        owner = os.stat("/proc/%d/status" % pid).st_uid
        tap.ok(owner == 0, "%s: %s (uid %d) is not dumpable: /proc/%d/status belongs to root"
               % (label, what, uid, pid), "owner %d" % owner)


async def messages_flow(tap, label, prosody, irc, nick):
    async with IrcPeer(irc.port, "bob" + nick[-1], password=None) as bob, \
            XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        r = await alice.register(T, {"username": nick})
        tap.ok(r.type == "result", "%s: registration (a test login) works" % label, str(r))
        tap.ok(await bob.wait_ison(nick, True, 30), "%s: alice is on IRC" % label)
        online = await alice.presence_from(T, None, timeout=20, where=lambda p:
                                           "Connected" in (p.child_text("status") or ""))
        tap.ok(online is not None, "%s: the transport says it is connected" % label)
        alice.send_message("%s@%s" % (bob.nick, T), "to irc " + label)
        got = await bob.privmsg_from(nick)
        tap.ok(got == "to irc " + label, "%s: XMPP -> IRC flows" % label, repr(got))
        m0 = alice.mark()
        bob.send("PRIVMSG %s :to xmpp %s" % (nick, label))
        msg = await alice.message_from("%s@%s" % (bob.nick, T), since=m0)
        body = msg.child_text("body") if msg else None
        tap.ok(body == "to xmpp " + label, "%s: IRC -> XMPP flows" % label, repr(body))
        await alice.unregister(T)


def one_run(tap, run, prosody, irc, label, run_as, abi, index):
    workdir = run.path(label)
    key, db = os.path.join(workdir, "ferry.key"), os.path.join(workdir, "ferry.db")
    env = {"FERRY_WORKER_TEST_OPEN": "%s:%s" % (key, db)}
    if abi is not None:
        env["FERRY_WORKER_LANDLOCK_ABI"] = abi
    ferry = start_ferry(tap, run, label=label, env=env, run_as=run_as,
                        **transport_config(prosody, presets=irc_presets(irc)))
    if ferry is None:
        return
    wuid = pwd.getpwnam(WORKER_USER).pw_uid
    ferry_uid = 0 if run_as is None else pwd.getpwnam(run_as).pw_uid
    pids = []
    servers.wait_until(lambda: bool(pids.extend(worker_pids(ferry)) or pids), 20)
    if not tap.ok(len(pids) >= 1, "%s: a worker runs" % label, ferry.log_tail):
        return
    pid = pids[0]
    # the worker confines itself first thing; its test opens come right
    # after: read its state once they are logged
    ferry.wait_for_log(r"ferry-worker\[%d\] message: sandbox: test open of %s"
                       % (pid, re.escape(db)), 20)
    st = status_fields(pid)
    tap.ok(st["Uid"] == [str(wuid)] * 4 and st["Gid"][0] != "0" and
           "0" not in st["Gid"] and st.get("Groups", []) == [],
           "%s: the worker runs as %s (uid %d), no root group, no supplementary groups"
           % (label, WORKER_USER, wuid),
           "Uid %s Gid %s Groups %s" % (st["Uid"], st["Gid"], st.get("Groups")))
    tap.ok(st.get("NoNewPrivs") == ["1"], "%s: the worker has no new privileges" % label,
           str(st.get("NoNewPrivs")))
    # A build without libseccomp (it is optional in configure) is not a
    # pass: it is a skip, and a failure where everything is required (CI).
    built_without = ferry.count(r"sandbox: built without libseccomp") > 0
    if built_without and os.environ.get("FERRY_REQUIRE_ALL") != "1":
        tap.skip("%s: the worker runs under its seccomp filter" % label,
                 "ferry-worker was built without libseccomp")
    else:
        tap.ok(st.get("Seccomp") == ["2"], "%s: the worker runs under its seccomp filter"
               % label, "Seccomp %s%s" % (st.get("Seccomp"), " (built without libseccomp)"
                                          if built_without else ""))
    # ferry kills the whole group when the worker dies or is stopped, so
    # nothing the worker forked outlives it in its private dir
    pgid = os.getpgid(pid)
    tap.ok(pgid == pid and pgid != os.getpgid(ferry.popen.pid),
           "%s: the worker leads a process group of its own" % label,
           "pgid %d, ferry's %d" % (pgid, os.getpgid(ferry.popen.pid)))
    cwd = os.readlink("/proc/%d/cwd" % pid)
    cst = os.stat(cwd)
    tap.ok(cwd.startswith(os.path.join(workdir, "tmp", "ferry-worker-")) and
           cst.st_uid == wuid and stat.S_IMODE(cst.st_mode) == 0o700,
           "%s: the worker's working directory is its private dir (0700, its own)" % label,
           "%s uid %d mode %o" % (cwd, cst.st_uid, cst.st_mode))
    for path in (key, db):
        fst = os.stat(path)
        tap.ok(fst.st_uid == ferry_uid and stat.S_IMODE(fst.st_mode) == 0o600,
               "%s: %s is ferry's (uid %d), mode 0600" % (label, os.path.basename(path),
                                                        ferry_uid),
               "uid %d mode %o" % (fst.st_uid, fst.st_mode))
    check_process(tap, label, "the worker", pid, wuid, True)
    check_process(tap, label, "ferry", ferry.popen.pid, ferry_uid, ferry_uid != 0)

    # what the worker itself could open
    for path in (key, db):
        rx = (r"ferry-worker\[%d\] message: sandbox: test open of %s: (\S+)"
              % (pid, re.escape(path)))
        m = ferry.wait_for_log(rx, 10)
        result = m.group(1) if m else None
        if label == "sysuser-nolandlock":
            tap.ok(result == "opened",
                   "%s: without Landlock a worker of ferry's own user opens %s: what "
                   "Landlock prevents in the run before" % (label, os.path.basename(path)),
                   str(result))
        else:
            tap.ok(result == "refused:",
                   "%s: the worker cannot open %s" % (label, os.path.basename(path)),
                   str(m.group(0) if m else ferry.log_tail()))
    if abi == "0" and run_as is not None:
        tap.ok(ferry.count(r"sandbox: no Landlock in this kernel: the worker may read") >= 1,
               "%s: the worker says it is not confined" % label)
    elif abi is None:
        tap.ok(ferry.count(r"sandbox: Landlock ABI \d+") >= 1,
               "%s: the worker entered Landlock" % label, ferry.log_tail)
    elif abi != "0":
        tap.ok(ferry.count(r"sandbox: Landlock ABI %s:" % abi) >= 1,
               "%s: the worker entered Landlock at ABI %s" % (label, abi), ferry.log_tail)

    asyncio.run(asyncio.wait_for(
        messages_flow(tap, label, prosody, irc, "alice%d" % index), 120))
    ferry.stop()


async def registration_refused(tap, prosody, server, label, expect):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        r = await alice.register(T, {"username": "pol", "server": server})
        tap.ok(r.type == "error" and expect[0] in (None, r.condition) and expect[1] in str(r),
               "%s: registering with server %s is refused (%s) with the reason"
               % (label, server, expect[0] or "an error"), str(r))


def policy_runs(tap, run, prosody, irc):
    # the preset server 127.0.0.1 listed (irc_presets): 127.0.0.2 is not
    ferry = start_ferry(tap, run, label="policy-listed",
                        **transport_config(prosody, presets=irc_presets(irc)))
    if ferry is None:
        return
    asyncio.run(asyncio.wait_for(registration_refused(
        tap, prosody, "127.0.0.2", "listed",
        ("not-acceptable", "'127.0.0.2' is not a server this transport connects to; it "
                           "connects to: 127.0.0.1")), 60))
    ferry.stop()
    # "*": any public server; localhost is a name, let through the form, and
    # the worker finds only loopback addresses for it
    presets = irc_presets(irc)
    presets["ferry.allowed_servers"] = "*"
    ferry = start_ferry(tap, run, label="policy-any",
                        **transport_config(prosody, presets=presets))
    if ferry is None:
        return
    asyncio.run(asyncio.wait_for(registration_refused(
        tap, prosody, "localhost", "any",
        (None, "localhost resolves only to internal addresses")), 60))
    tap.ok(ferry.count(r"policy: localhost resolves to 127\.0\.0\.1, a loopback address: "
                       r"refused; ferry connects to internal addresses only when the admin "
                       r"lists them in \[legacy\] ferry\.allowed_servers") >= 1,
           "any: the worker logs the refused loopback address of localhost", ferry.log_tail)
    asyncio.run(asyncio.wait_for(registration_refused(
        tap, prosody, "127.0.0.2", "any",
        ("not-acceptable", "'127.0.0.2' is not a server this transport connects to")), 60))
    ferry.stop()


def worker_policy(tap, run, irc):
    """The worker alone (worker_driver): what its resolver and connect()
    refuse, and that the listed address still connects."""
    d = run.path("worker-policy")
    os.makedirs(d, exist_ok=True)
    binary = os.path.join(builddir(), "src", "ferry-worker")
    env = dict(os.environ, TMPDIR=d, HOME=d, FERRY_LOG_LEVEL="info")
    log = os.path.join(d, "worker.log")
    port = {"port": str(irc.port)}
    with wd.Worker(binary, ["--deny-internal"], env=env, stderr_path=log) as w:
        w.recv_type(wd.READY)
        w.send(wd.LOGIN, 1, wd.login_payload("prpl-irc", "pol1@127.0.0.2", "", port))
        m = w.recv_type(wd.DISCONNECTED, account=1, timeout=30)
        text = servers._read(log)
        tap.ok(m is not None and "policy: connect to 127.0.0.2 port %d refused: a loopback "
               "address" % irc.port in text,
               "worker: a literal loopback address is refused at connect(), logged",
               "%s / %s" % (m and wd.fmt(m), text[-800:]))
        w.send(wd.LOGIN, 2, wd.login_payload("prpl-irc", "pol2@localhost", "", port))
        m = w.recv_type(wd.DISCONNECTED, account=2, timeout=30)
        tap.ok(m is not None and "localhost resolves only to internal addresses" in m[2][1],
               "worker: a name with only loopback addresses is refused at resolve, with the "
               "reason", str(m and wd.fmt(m)))
    with wd.Worker(binary, ["--allow-server=127.0.0.1"], env=env, stderr_path=log) as w:
        w.recv_type(wd.READY)
        w.send(wd.LOGIN, 3, wd.login_payload("prpl-irc", "pol3@127.0.0.1", "", port))
        m = w.recv_until(lambda x: x[1] == 3 and x[0] in (wd.CONNECTED, wd.DISCONNECTED),
                         timeout=30)
        tap.ok(m is not None and m[0] == wd.CONNECTED,
               "worker: the listed address connects", str(m and wd.fmt(m)))
        w.send(wd.LOGOUT, 3, wd.payload(wd.LOGOUT, ()))


def check_config_policy(tap, run):
    d = run.path("check")
    os.makedirs(d, exist_ok=True)
    base = ("[component]\njid = %s\nsecret = a-real-secret\n[workers]\nprogram = %s\n"
            "[storage]\ndatabase = %s/ferry.db\nkey_file = %s/ferry.key\n[legacy]\n"
            "server = 127.0.0.1\n" % (T, os.path.join(builddir(), "src", "ferry-worker"),
                                     d, d))
    for label, extra, refused in (("open", "", True),
                                  ("listed", "ferry.allowed_servers = 127.0.0.1\n", False),
                                  ("locked", "locked = server\n", False)):
        path = os.path.join(d, label + ".conf")
        with open(path, "w") as f:
            f.write(base + extra)
        os.chmod(path, 0o600)
        p = subprocess.run([ferry_binary(), "--check-config", path], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        out = p.stdout + p.stderr
        says = "ferry.allowed_servers does not say which they may" in out
        if refused:
            tap.ok(p.returncode != 0 and says,
                   "--check-config refuses an open server field with no allowed_servers",
                   out)
        else:
            tap.ok(p.returncode == 0 and not says,
                   "--check-config passes the server field %s" % label, out)


def check_config_key(tap, run):
    """--check-config meets the key file as a start would: a symlink in its
    place, and a directory others may write, are refused."""
    d = run.path("keycheck")
    os.makedirs(d, exist_ok=True)
    real = os.path.join(d, "real.key")
    with open(real, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(real, 0o600)
    link_dir = os.path.join(d, "link")
    open_dir = os.path.join(d, "open")
    for sub in (link_dir, open_dir):
        os.makedirs(sub, exist_ok=True)
    os.symlink(real, os.path.join(link_dir, "ferry.key"))
    with open(os.path.join(open_dir, "ferry.key"), "wb") as f:
        f.write(os.urandom(32))
    os.chmod(os.path.join(open_dir, "ferry.key"), 0o600)
    os.chmod(open_dir, 0o777)
    for label, sub, expect in (("a symlinked key", link_dir, "is a symbolic link"),
                               ("a key in a world-writable directory", open_dir,
                                "may be written by group or others")):
        path = os.path.join(sub, "ferry.conf")
        with open(path, "w") as f:
            f.write("[component]\njid = %s\nsecret = a-real-secret\n[workers]\nprogram = %s\n"
                    "[storage]\ndatabase = %s/ferry.db\nkey_file = %s/ferry.key\n[legacy]\n"
                    "server = 127.0.0.1\nlocked = server\n"
                    % (T, os.path.join(builddir(), "src", "ferry-worker"), sub, sub))
        os.chmod(path, 0o600)
        p = subprocess.run([ferry_binary(), "--check-config", path], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        out = p.stdout + p.stderr
        tap.ok(p.returncode != 0 and expect in out and "[storage] key_file" in out,
               "--check-config refuses %s" % label, out)


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(run, T)
    check_config_key(tap, run)
    check_config_policy(tap, run)
    worker_policy(tap, run, irc)
    policy_runs(tap, run, prosody, irc)
    for index, (label, run_as, abi) in enumerate(RUNS):
        one_run(tap, run, prosody, irc, label, run_as, abi, index)


def main():
    return run_test("isolation", ("prosody", "prosodyctl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
