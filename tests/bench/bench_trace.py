"""bench_muc.py's probes of a gateway under load: which files it writes
(strace), what its SQLite database gained, and where its CPU goes (perf).
Each takes the PIDs or paths it needs; nothing here asserts anything."""

import os
import signal
import sqlite3
import subprocess
import time

from bench import log


def db_state(path):
    """(rows in all tables, (size, mtime_ns) of the db and its -wal/-journal)."""
    if path is None or not os.path.exists(path):
        return None
    stamp = []
    for suffix in ("", "-wal", "-journal"):
        try:
            st = os.stat(path + suffix)
            stamp.append((suffix, st.st_size, st.st_mtime_ns))
        except OSError:
            pass
    rows = 0
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
        try:
            tables = [r[0] for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")]
            for t in tables:
                rows += db.execute('SELECT count(*) FROM "%s"' % t.replace('"', '""')
                                   ).fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as e:
        log("  sqlite3 on %s: %s" % (path, e))
        return None
    return rows, tuple(stamp)


def start_strace(pids, workdir):
    if not pids or not os.access("/usr/bin/strace", os.X_OK):
        return None
    out = os.path.join(workdir, "strace", "writes.txt")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    argv = ["/usr/bin/strace", "-qq", "-f", "-y", "-o", out,
            "-e", "trace=write,pwrite64,writev,pwritev,pwritev2,fsync,fdatasync"]
    for p in pids:
        argv += ["-p", str(p)]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attaching
    return p, out


def stop_strace(tracer):
    """{file name: write/fsync calls} seen by the tracer, or None."""
    p, out = tracer
    p.send_signal(signal.SIGINT)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
    counts = {}
    try:
        with open(out, errors="replace") as f:
            for line in f:
                # "PID pwrite64(7</path/ferry.db-journal>, ..."
                lt = line.find("(")
                lb = line.find("<", lt)
                rb = line.find(">", lb)
                if lt < 0 or lb < 0 or rb < 0:
                    continue
                target = line[lb + 1:rb]
                if target.startswith(("socket:", "pipe:", "anon_inode:", "/dev/")) \
                        or not target.startswith("/"):
                    continue
                name = os.path.basename(target)
                if name.endswith(".log") or name.startswith("biboumi-own"):
                    continue  # the gateway's own log file, not its database
                counts[name] = counts.get(name, 0) + 1
    except OSError:
        return None
    return counts


def start_perf(pids, workdir):
    if not pids or not os.access("/usr/bin/perf", os.X_OK):
        return None
    out = os.path.join(workdir, "perf", "perf.data")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    p = subprocess.Popen(["/usr/bin/perf", "record", "-q", "-g", "-F", "2000", "-o", out,
                          "-p", ",".join(str(x) for x in pids)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return p, out


def stop_perf(profiler):
    """The top of perf report: by process and library, then by symbol."""
    p, out = profiler
    p.send_signal(signal.SIGINT)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)
    lines = []
    for sort, limit in (("comm,dso", "2"), ("comm,dso,sym", "1")):
        try:
            r = subprocess.run(["/usr/bin/perf", "report", "-i", out, "--stdio",
                                "--no-children", "--sort", sort, "-g", "none",
                                "--percent-limit", limit],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=120)
            lines += ["-- by %s:" % sort] + [
                ln for ln in r.stdout.splitlines()
                if ln.strip() and not ln.startswith("#")][:30]
        except (OSError, subprocess.TimeoutExpired) as e:
            lines.append("perf report failed: %r" % e)
    return lines
