#!/usr/bin/python3
"""The admin side: what an administrator's mistakes meet at start.

- `ferry --check-config` refuses, each with a message naming the file/key
  and the fix: the example's `secret = change-me`, an unknown protocol
  (`prpl-ircc`), a misspelt [legacy] preset (`sever`), a key file readable
  by others, a missing worker program, a world-readable config holding the
  secret, stray arguments; a good file passes.
- A fatal start error is logged at ferry's own `error` level, in the one
  line format ferry and ferry-worker share, and ferry exits non-zero.
- A second ferry on the same database is refused, naming the database and
  the first one's pid; once the first is SIGKILLed the lock is gone.
- The key: with alice registered with a (sealed) password, a missing key
  file or a different key is refused at start, naming the key file and
  the fix; the right key starts again.
- Every line of ferry's log (the workers write to the same stderr) is one
  entry in the shared format.
- The demo, stopped with Ctrl-C, keeps its logs and prints where.
Prints TAP.
"""

import asyncio
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness import Ferry, builddir, ferry_binary, run_test, start_ferry  # noqa: E402
from servers import ProcRecord, wait_until  # noqa: E402
from transport import start_xmpp_and_irc, IrcPeer, XmppUser, irc_presets, transport_config  # noqa: E402

T = "irc.localhost"
# date time.ms program[pid] level: text -- ferry's and ferry-worker's lines
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} (ferry|ferry-worker)\[\d+\] "
                  r"(error|warning|message|info|debug): \S")


def worker_program():
    return os.path.join(builddir(), "src", "ferry-worker")


def write_config(path, groups, mode=0o600):
    with open(path, "w") as f:
        for group, kv in groups.items():
            f.write("[%s]\n" % group)
            for k, v in kv.items():
                f.write("%s = %s\n" % (k, v))
            f.write("\n")
    os.chmod(path, mode)


def good_groups(d):
    return {"component": {"jid": T, "secret": "a-real-secret-%s" % os.urandom(4).hex()},
            "legacy": {"protocol": "prpl-irc", "server": "127.0.0.1",
                       "ferry.allowed_servers": "127.0.0.1"},
            "workers": {"program": worker_program()},
            "storage": {"database": os.path.join(d, "ferry.db"),
                        "key_file": os.path.join(d, "ferry.key")}}


def check_config(*args, timeout=60):
    p = subprocess.run([ferry_binary(), "--check-config"] + list(args),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def check_config_cases(tap, run):
    d = run.path("check")
    os.makedirs(d, exist_ok=True)

    def case(label, edit, expect, mode=0o600, args=()):
        groups = good_groups(d)
        edit(groups)
        path = os.path.join(d, label + ".conf")
        write_config(path, groups, mode)
        rc, out = check_config(path, *args)
        missing = [e for e in expect if e not in out]
        tap.ok(rc != 0 and not missing,
               "--check-config refuses %s (exit %s), naming %s" % (label, rc, expect),
               "missing %s in: %s" % (missing, out))
        return out

    none = os.path.join(d, "none.conf")
    rc, out = check_config(none)
    tap.ok(rc != 0 and none in out, "--check-config of a missing file fails, naming it (exit %s)"
           % rc, out)
    good = os.path.join(d, "good.conf")
    write_config(good, good_groups(d))
    rc, out = check_config(good)
    tap.ok(rc == 0 and "OK" in out, "--check-config passes a good file", out)
    tap.ok(not os.path.exists(os.path.join(d, "ferry.key")) and
           not os.path.exists(os.path.join(d, "ferry.db")),
           "--check-config creates neither the key nor the database")

    case("change-me", lambda g: g["component"].update(secret="change-me"),
         ["change-me.conf", "[component] secret", "change-me"])
    case("prpl-ircc", lambda g: g["legacy"].update(protocol="prpl-ircc"),
         ["prpl-ircc.conf", "[legacy] protocol", "prpl-ircc", "prpl-irc"])
    case("sever", lambda g: g["legacy"].update(sever="irc.example.org"),
         ["sever.conf", "[legacy] sever", "no registration field"])
    key = os.path.join(d, "open.key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o644)
    case("open-key", lambda g: g["storage"].update(key_file=key),
         [key, "chmod 600 %s" % key])
    case("no-worker", lambda g: g["workers"].update(program=os.path.join(d, "no-such-worker")),
         ["no-worker.conf", "[workers] program", "no-such-worker"])
    out = case("readable", lambda g: None, ["readable.conf", "chmod"], mode=0o644)
    tap.ok("secret" in out, "the world-readable file's message says it holds the secret", out)
    rc, out = check_config(good, "stray")
    tap.ok(rc != 0 and "stray" in out, "--check-config refuses a stray argument (exit %s)" % rc,
           out)
    # Several mistakes at once: each reported, not only the first.
    case("several", lambda g: (g["component"].update(secret="change-me"),
                               g["legacy"].update(sever="x")),
         ["[component] secret", "[legacy] sever"])


def fatal_start_error(tap, run):
    d = run.path("fatal")
    os.makedirs(d, exist_ok=True)
    groups = good_groups(d)
    key = groups["storage"]["key_file"]
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o644)
    path = os.path.join(d, "ferry.conf")
    write_config(path, groups)
    p = subprocess.run([ferry_binary(), "--config", path], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    lines = [ln for ln in p.stderr.splitlines() if "cannot start" in ln]
    tap.ok(p.returncode != 0, "a fatal start error exits non-zero (%s)" % p.returncode)
    tap.ok(len(lines) == 1 and LINE.match(lines[0]) and
           LINE.match(lines[0]).group(1, 2) == ("ferry", "error") and key in lines[0],
           "the fatal error is one line at level error, naming the key file",
           p.stderr)


def all_lines_alike(tap, ferry, label):
    text = ferry.log_text()
    bad = [ln for ln in text.splitlines() if not LINE.match(ln)]
    workers = [ln for ln in text.splitlines() if " ferry-worker[" in ln]
    tap.diag("%s: %d lines carry an escaped newline" % (label, text.count("\\n")))
    tap.ok(text and not bad, "%s: every log line is one entry in the shared format" % label,
           "\n".join(bad[:10]))
    tap.ok(workers, "%s: the workers' lines are there, named ferry-worker[pid]" % label)


def lock(tap, run, prosody):
    a = start_ferry(tap, run, label="locked", level="info", **transport_config(prosody))
    if a is None:
        return
    # Same directory, so the same (relative, default) database.
    b = run.add(Ferry(run.path("locked"), name="second", level="info",
                      **transport_config(prosody)))
    b.start()
    wait_until(lambda: not b.running(), 30)
    text = b.log_text()
    tap.ok(not b.running() and b.returncode() != 0,
           "a second ferry on the same database exits non-zero (%s)" % b.returncode(),
           text)
    tap.ok(run.path("locked", "ferry.db") in text and "pid %d" % a.popen.pid in text,
           "its message names the database and the first ferry's pid", text)
    tap.ok(a.running(), "the first ferry runs on")
    # A crashed first instance must not lock the database for ever.
    a.refresh_pids()
    for r in a.records:
        r.signal(signal.SIGKILL)
    wait_until(lambda: not any(r.alive() for r in a.records), 10)
    mark = b.mark()
    b.start()
    tap.ok(b.wait_for_log(Ferry.ONLINE, 30, since=mark) is not None,
           "after a SIGKILL of the first, the second starts (the lock went with it)",
           b.log_tail)
    b.stop()


async def register_alice(tap, prosody, password):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        r = await alice.register(T, {"username": "alice", "password": password})
        ok = tap.ok(r.type == "result", "alice registers with a server password", str(r))
    # A nick the IRC server refuses: its error text comes from ngircd in
    # two lines ("Disconnected.\nERROR :..."), which the logs must keep as
    # one entry.
    async with XmppUser("eve@localhost", "evepw", prosody.c2s_port) as eve:
        r = await eve.register(T, {"username": "zo\u00eb", "password": password})
        tap.ok(r.type == "error", "eve's registration with a nick IRC refuses fails", str(r))
    return ok


async def alice_online(tap, prosody, irc, password, label):
    async with IrcPeer(irc.port, "bob", password=password) as bob, \
            XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        # Directed: her broadcast presence reaches the transport only once
        # the subscription made at registration is through.
        alice.send_presence(to=T)
        tap.ok(await bob.wait_ison("alice", True, 30),
               "%s: alice's session logs in to IRC with her sealed password" % label)


def keys(tap, run, prosody, irc, password):
    cfg = transport_config(prosody, presets=irc_presets(irc))
    ferry = start_ferry(tap, run, label="keyed", level="debug", **cfg)
    if ferry is None:
        return
    key = run.path("keyed", "ferry.key")
    db = run.path("keyed", "ferry.db")
    ok = asyncio.run(asyncio.wait_for(register_alice(tap, prosody, password), 90))
    ferry.stop()
    all_lines_alike(tap, ferry, "after a registration")
    if not ok:
        return
    with open(key, "rb") as f:
        original = f.read()

    def refused(label, expect):
        mark = ferry.mark()
        ferry.start()
        wait_until(lambda: not ferry.running(), 30)
        text = ferry.log_text()[mark:]
        missing = [e for e in expect if e.lower() not in text.lower()]
        tap.ok(not ferry.running() and ferry.returncode() != 0 and not missing,
               "%s: refused at start (exit %s), naming %s" % (label, ferry.returncode(),
                                                               expect),
               "missing %s; running %s; log:\n%s" % (missing, ferry.running(), text))
        if ferry.running():
            ferry.stop()
        # --check-config meets what the start met, and changes nothing
        before = os.path.exists(key)
        rc, out = check_config(ferry.cfg_path)
        tap.ok(rc == 1 and key in out and "restore" in out.lower()
               and os.path.exists(key) == before,
               "%s: --check-config refuses it too (exit %s)" % (label, rc), out)

    # a database from before the check value: the right key opens its
    # sealed rows, so it starts and the check value is written
    con = sqlite3.connect(db)
    con.execute("DELETE FROM meta")
    con.commit()
    con.close()
    mark = ferry.mark()
    ferry.start()
    tap.ok(ferry.wait_for_log(Ferry.ONLINE, 30, since=mark) is not None,
           "a database without a key check value starts with the key that opens it",
           ferry.log_tail)
    ferry.stop()
    con = sqlite3.connect(db)
    rows = con.execute("SELECT count(*) FROM meta").fetchone()[0]
    con.close()
    tap.ok(rows == 1, "... and its check value is written then (%d row)" % rows)

    os.unlink(key)
    refused("a missing key file", [key, db, "restore"])
    tap.ok(not os.path.exists(key), "no new key was made over the existing database")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o600)
    refused("a different key", [key, db, "restore"])
    con = sqlite3.connect(db)
    con.execute("DELETE FROM meta")
    con.commit()
    con.close()
    refused("a different key over a database without a check value",
            [key, db, "none of its", "restore"])
    with open(key, "wb") as f:
        f.write(original)
    rc, out = check_config(ferry.cfg_path)
    tap.ok(rc == 0, "the original key: --check-config passes (exit %s)" % rc, out)
    mark = ferry.mark()
    ferry.start()
    tap.ok(ferry.wait_for_log(Ferry.ONLINE, 30, since=mark) is not None,
           "the original key starts again", ferry.log_tail)
    asyncio.run(asyncio.wait_for(alice_online(tap, prosody, irc, password, "right key"), 60))
    ferry.stop()


def demo(tap, run):
    env = dict(os.environ, FERRY_BUILDDIR=builddir())
    env["TMPDIR"] = run.path("demo-tmp")
    os.makedirs(env["TMPDIR"], exist_ok=True)
    script = os.path.join(HERE, "..", "..", "tools", "demo.py")
    out_path = run.path("demo.out")
    with open(out_path, "w") as out:
        p = subprocess.Popen([sys.executable, script], stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, env=env, start_new_session=True)
    rec = ProcRecord(p.pid)

    def output():
        with open(out_path, errors="replace") as f:
            return f.read()
    try:
        up = wait_until(lambda: "Stop with Ctrl-C" in output() or p.poll() is not None, 90)
        tap.ok(up and p.poll() is None, "the demo starts", output())
        p.send_signal(signal.SIGINT)  # what Ctrl-C sends
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            rec.signal(signal.SIGKILL)
            p.wait(timeout=10)
    text = output()
    m = re.search(r"logs are kept in (\S+)", text)
    kept = m.group(1) if m else None
    log = os.path.join(kept, "ferry.log") if kept else None
    tap.ok(p.returncode == 0 and log and os.path.isfile(log) and
           "component: online as" in open(log, errors="replace").read(),
           "after Ctrl-C the demo keeps ferry's log and prints where", text)
    tap.ok(kept and os.path.isfile(os.path.join(kept, "prosody.log")) and
           os.path.isfile(os.path.join(kept, "ngircd.log")),
           "the servers' logs are kept too", str(os.listdir(kept) if kept else None))
    if kept and kept.startswith(env["TMPDIR"]):
        shutil.rmtree(kept, ignore_errors=True)


def body(tap, run):
    check_config_cases(tap, run)
    fatal_start_error(tap, run)
    password = "Irc-Pa55-%s" % os.urandom(8).hex()
    prosody, irc = start_xmpp_and_irc(run, T, ("alice@localhost", "eve@localhost"), password)
    lock(tap, run, prosody)
    keys(tap, run, prosody, irc, password)
    irc.stop()
    prosody.stop()
    demo(tap, run)


def main():
    return run_test("admin", ("prosody", "prosodyctl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
