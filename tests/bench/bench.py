#!/usr/bin/python3
"""ferry's benchmark suite: ferry vs Biboumi vs the direct floors.

Runs, each on its own fresh Prosody + ngircd on 127.0.0.1 (ports picked by
the harness), for every U in --users:

  irc      IRC client -> ngircd -> IRC client (the IRC floor)
  xmpp     XMPP client -> Prosody -> XMPP client (the XMPP floor)
  biboumi  Biboumi (/usr/bin/biboumi), one channel per user, throttle off
  ferry    ferry with prpl-irc, presets from transport.irc_presets()

and measures
  1. one-way latency p50/p99 both ways at a steady paced aggregate rate
     (--rate msg/s round-robin over the U pairs, --latency-msgs a repeat);
  2. burst throughput both ways (--burst messages, at most --window in
     flight per pair so that ngircd's send queue of 32 KiB per client is
     never exceeded), and the gateway's CPU seconds per 1000 messages
     (utime+stime of its processes; ferry = ferry + all its workers);
  3. RSS/PSS (smaps_rollup) of the gateway's processes summed: idle
     (attached, no users) and with U users online; per-user increment;
  4. restart storm: gateway process start -> all U nicks on IRC again
     (ISON polling).  ferry restores its sessions itself; Biboumi does
     not, so its figure is restart + every client re-joining at once;
  5. the parser micro-benchmark ($FERRY_BUILDDIR/tests/bench/bench_parser).

Every figure is a median over --repeats with [min-max].  Prints a table
and writes JSON (--json).  A benchmark: asserts nothing, but exits
non-zero with a message if a phase cannot complete.

    FERRY_BUILDDIR=_build /usr/bin/python3 tests/bench/bench.py [--quick]
"""

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from harness import Ferry, TestRun  # noqa: E402
from servers import ManagedServer, Ngircd, Prosody, descendants  # noqa: E402
from tap import Tap  # noqa: E402
from transport import irc_presets, transport_config  # noqa: E402
from lean import LeanError, LeanIrc, LeanXmpp, child, child_text, iq_error_condition  # noqa: E402

FERRY_JID = "irc.localhost"
BIB_JID = "biboumi.localhost"
BIB_SERVER = "127.0.0.1@" + BIB_JID
NS_REGISTER = "jabber:iq:register"
NS_DATA = "jabber:x:data"
NS_COMMANDS = "http://jabber.org/protocol/commands"
CLK_TCK = os.sysconf("SC_CLK_TCK")
KINDS = ("irc", "xmpp", "biboumi", "ferry")
# ferry's login pace for the benchmark's own ngircd, which has no connection
# limits (MaxConnectionsIP = 0) but a listen backlog of 10: at most 10 at
# once, 100 a second. ferry's defaults (5/s, 10 at once) are for public
# networks. --ferry-config overrides these.
FERRY_BENCH_CONFIG = {"workers": {"login_rate": "100", "login_burst": "10"},
                      # U = 500 register within a minute (the default takes 60)
                      "limits": {"registrations_all_per_minute": "100000"}}
LABELS = {"irc": "direct IRC", "xmpp": "direct XMPP", "biboumi": "Biboumi",
          "ferry": "ferry"}


class BenchError(Exception):
    """A phase could not complete: the run stops with this message."""


def log(msg):
    sys.stderr.write("[%s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ---- /proc --------------------------------------------------------------------

def _cpu_one(pid):
    """CPU seconds of one process: /proc/PID/sched's se.sum_exec_runtime
    (nanosecond accounting, printed in ms) when the kernel has it, else
    utime+stime from /proc/PID/stat (clock ticks, 10 ms)."""
    try:
        with open("/proc/%d/sched" % pid) as f:
            for line in f:
                if line.startswith("se.sum_exec_runtime"):
                    return float(line.split(":", 1)[1]) / 1000.0
    except (OSError, ValueError):
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def cpu_seconds(pids):
    return sum(_cpu_one(pid) for pid in pids)


def memory_kib(pids):
    """(RSS, PSS) in KiB summed over pids, from smaps_rollup."""
    rss = pss = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
    except OSError:
        mem_kib = 0
    return {"cpu": model, "nproc": os.cpu_count(), "ram_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release(), "python": platform.python_version()}


def pct(values, p):
    """Nearest-rank percentile of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


# ---- Biboumi as a managed server ----------------------------------------------

class Biboumi(ManagedServer):
    """/usr/bin/biboumi CONFIG in the foreground (logs to its log_file)."""

    def __init__(self, workdir, component_port, secret, log_level=1):
        super().__init__("biboumi", workdir)
        self.cfg_path = os.path.join(workdir, "biboumi.cfg")
        self.biboumi_log = os.path.join(workdir, "biboumi-own.log")
        policy = os.path.join(workdir, "policy")
        os.makedirs(policy, exist_ok=True)
        cfg = {"hostname": BIB_JID, "password": secret,
               "xmpp_server_ip": "127.0.0.1", "port": str(component_port),
               "identd_port": "0", "db_name": os.path.join(workdir, "biboumi.sqlite"),
               "log_level": str(log_level), "log_file": self.biboumi_log,
               "policy_directory": policy, "realname_customization": "true",
               "realname_from_jid": "false"}
        with open(self.cfg_path, "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in cfg.items()))
        os.chmod(self.cfg_path, 0o600)

    def start(self):
        self.popen = self._spawn(["/usr/bin/biboumi", self.cfg_path])
        return self

    def log_text(self):
        try:
            with open(self.biboumi_log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, lines=40):
        return "".join(self.log_text().splitlines(True)[-lines:])


# ---- one measured environment ---------------------------------------------------

class Phase:
    """Messages of one measured phase: bodies 'bench PHASE SEQ T_NS PAIR'."""

    def __init__(self, pid, expected):
        self.pid = str(pid)
        self.expected = expected
        self.deltas = []
        self.seen = set()
        self.dups = 0
        self.last_t = None
        self.on_recv = None
        self.done = asyncio.get_running_loop().create_future()

    def got(self, body, t):
        parts = body.split()
        if len(parts) != 5 or parts[1] != self.pid:
            return
        seq = int(parts[2])
        if seq in self.seen:
            self.dups += 1
            return
        self.seen.add(seq)
        self.deltas.append(t - int(parts[3]))
        self.last_t = t
        if self.on_recv:
            self.on_recv(int(parts[4]))
        if len(self.seen) >= self.expected and not self.done.done():
            self.done.set_result(True)


class Env:
    """Fresh servers + gateway for one (kind, U); left = XMPP side (or the
    first client of a direct pair), right = IRC side."""

    def __init__(self, kind, users, args):
        self.kind, self.U, self.args = kind, users, args
        self.tap = Tap(out=open(os.devnull, "w"))
        self.run = TestRun("bench-%s-%d" % (kind, users), self.tap)
        self.prosody = self.irc = self.gw = None
        self.left, self.right = [], []
        self.observer = None
        self.phase = None
        self.phase_no = 0
        self.figures = {}
        w = 3 if users <= 1000 else 4
        self.unick = ["u%0*d" % (w, i) for i in range(users)]
        self.pnick = ["p%0*d" % (w, i) for i in range(users)]

    def add(self, name, value):
        self.figures.setdefault(name, []).append(value)

    # -- receive
    def _on_xmpp_message(self, client, el, t):
        body = child_text(el, "body")
        if body and body.startswith("bench ") and self.phase is not None:
            self.phase.got(body, t)

    def _on_irc_privmsg(self, client, sender, text, t):
        if text.startswith("bench ") and self.phase is not None:
            self.phase.got(text, t)

    # -- processes
    def gateway_pids(self):
        if self.kind == "ferry":
            if not self.gw.running():
                return []
            return [self.gw.popen.pid] + descendants(self.gw.popen.pid)
        if self.kind == "biboumi":
            return [self.gw.popen.pid] if self.gw.running() else []
        return []

    def server_pids(self):
        out = []
        for s in (self.prosody, self.irc):
            if s is not None:
                s.refresh_pids()
                out += s.pids()
        return out

    # -- setup
    def start_servers(self):
        a = self.args
        if self.kind in ("xmpp", "biboumi", "ferry"):
            comp = BIB_JID if self.kind == "biboumi" else FERRY_JID
            self.prosody = self.run.add(Prosody(
                self.run.path("prosody"), vhosts=["localhost"], component=comp,
                secret="bench-%s" % os.urandom(4).hex(), auth="internal_plain",
                log_level="warn"))
            accounts = {}
            if self.kind == "xmpp":
                for i in range(self.U):
                    accounts["x%03d" % i] = accounts["y%03d" % i] = "pw"
            else:
                accounts = {n: "pw" for n in self.unick}
            self.prosody.write_accounts("localhost", accounts)
            self.prosody.start()
        if self.kind in ("irc", "biboumi", "ferry"):
            self.irc = self.run.add(Ngircd(self.run.path("ngircd")))
            self.irc.start()
        if self.kind == "biboumi":
            self.gw = self.run.add(Biboumi(self.run.path("biboumi"),
                                           self.prosody.component_port,
                                           self.prosody.secret))
        elif self.kind == "ferry":
            cfg = transport_config(self.prosody, presets=irc_presets(self.irc),
                                   extra=a.ferry_extra)
            self.gw = self.run.add(Ferry(self.run.path("ferry"), level=a.ferry_level, **cfg))

    def start_gateway(self, timeout=30):
        if self.kind == "ferry":
            # the binary may be being rebuilt: wait (bounded) for it
            harness.servers.wait_until(lambda: os.access(harness.ferry_binary(), os.X_OK), 60, 1)
            self.gw.start()
            if self.gw.wait_for_log(Ferry.ONLINE, timeout) is None:
                raise BenchError("ferry did not attach within %ds; log:\n%s"
                                 % (timeout, self.gw.log_tail()))
        elif self.kind == "biboumi":
            mark = len(self.gw.log_text())
            self.gw.start()
            ok = harness.servers.wait_until(
                lambda: "Authenticated with the XMPP server" in self.gw.log_text()[mark:]
                or not self.gw.running(), timeout)
            if not ok or not self.gw.running():
                raise BenchError("biboumi did not attach within %ds; log:\n%s"
                                 % (timeout, self.gw.log_tail()))

    async def gather_limited(self, coros, limit, what):
        sem = asyncio.Semaphore(limit)

        async def one(c):
            async with sem:
                return await c
        try:
            return await asyncio.gather(*[one(c) for c in coros])
        except (LeanError, asyncio.TimeoutError, OSError) as e:
            raise BenchError("%s (%s) failed: %r" % (what, self.kind, e)) from e

    async def connect_irc(self, nicks):
        async def one(n):
            c = await LeanIrc.connect(self.irc.port, n, timeout=60)
            c.on_privmsg = self._on_irc_privmsg
            return c
        return await self.gather_limited([one(n) for n in nicks], 8,
                                         "IRC connects")

    async def connect_xmpp(self, users):
        async def one(u):
            c = await LeanXmpp.connect("%s@localhost" % u, "pw", self.prosody.c2s_port,
                                       timeout=60)
            c.on_message = self._on_xmpp_message
            return c
        return await self.gather_limited([one(u) for u in users], 16,
                                         "XMPP logins")

    async def wait_ison(self, nicks, present=True, timeout=60.0, interval=0.1):
        """Seconds until every nick is (or no nick is) on IRC; raises
        BenchError with the stragglers on timeout."""
        t0 = time.monotonic()
        want = {n.lower() for n in nicks}
        left = want
        for _ in range(int(timeout / interval) + 2):
            online = await self.observer.ison(want)
            left = (want - online) if present else (want & online)
            if not left:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                break
            await asyncio.sleep(interval)
        raise BenchError("%s U=%d: %d nicks still %s on IRC after %.0fs (e.g. %s)"
                         % (self.kind, self.U, len(left),
                            "missing" if present else "present", timeout,
                            sorted(left)[:5]))

    async def setup(self):
        U = self.U
        t0 = time.monotonic()
        if self.kind == "irc":
            self.left = await self.connect_irc(["a%03d" % i for i in range(U)])
            self.right = await self.connect_irc(self.pnick)
            return
        if self.kind == "xmpp":
            self.left = await self.connect_xmpp(["x%03d" % i for i in range(U)])
            self.right = await self.connect_xmpp(["y%03d" % i for i in range(U)])
            return
        self.observer = (await self.connect_irc(["obs"]))[0]
        self.right = await self.connect_irc(self.pnick)
        self.left = await self.connect_xmpp(self.unick)
        log("  %d XMPP users and %d IRC peers connected in %.1fs"
            % (U, U, time.monotonic() - t0))
        t1 = time.monotonic()
        if self.kind == "ferry":
            await self.gather_limited([self.ferry_register(c) for c in self.left], 8,
                                      "ferry registrations")
            log("  registered in %.1fs" % (time.monotonic() - t1))
            took = await self.wait_ison(self.unick, True, timeout=120 + U * 0.5)
        else:
            await self.gather_limited([self.biboumi_configure(c) for c in self.left], 16,
                                      "biboumi ad-hoc configure")
            await self.gather_limited([self.biboumi_join(c) for c in self.left], 8,
                                      "biboumi joins")
            took = await self.wait_ison(self.unick, True, timeout=60)
        log("  all %d users on IRC %.1fs after the logins (%.1fs for the rest)"
            % (U, time.monotonic() - t1, took))

    async def ferry_register(self, c):
        form = ("<query xmlns='%s'><x xmlns='%s' type='submit'>"
                "<field var='FORM_TYPE' type='hidden'><value>%s</value></field>"
                "<field var='username'><value>%s</value></field></x></query>"
                % (NS_REGISTER, NS_DATA, NS_REGISTER, c.user))
        r = await c.iq(form, to=FERRY_JID, itype="set", timeout=120)
        if r.get("type") != "result":
            raise BenchError("ferry refused registration of %s: %s"
                             % (c.user, iq_error_condition(r)))

    async def biboumi_configure(self, c):
        r = await c.iq("<command xmlns='%s' node='configure' action='execute'/>"
                       % NS_COMMANDS, to=BIB_SERVER, itype="set", timeout=60)
        cmd = child(r, "command")
        if r.get("type") != "result" or cmd is None:
            raise BenchError("biboumi configure failed for %s: %s"
                             % (c.user, iq_error_condition(r)))
        form = ("<x xmlns='%s' type='submit'>"
                "<field var='ports'><value>%d</value></field>"
                "<field var='tls_ports'/>"
                "<field var='throttle_limit'><value>-1</value></field></x>"
                % (NS_DATA, self.irc.port))
        r = await c.iq("<command xmlns='%s' node='configure' sessionid='%s'>%s</command>"
                       % (NS_COMMANDS, cmd.get("sessionid"), form),
                       to=BIB_SERVER, itype="set", timeout=60)
        cmd = child(r, "command")
        if r.get("type") != "result" or cmd is None or cmd.get("status") != "completed":
            raise BenchError("biboumi configure submit failed for %s: %s"
                             % (c.user, iq_error_condition(r)))

    def room(self, c):
        return "#b%s%%127.0.0.1@%s" % (c.user, BIB_JID)

    def biboumi_send_join(self, c):
        c.presence(to="%s/%s" % (self.room(c), c.user),
                   extra="<x xmlns='http://jabber.org/protocol/muc'/>")

    async def biboumi_join(self, c):
        fut = asyncio.get_running_loop().create_future()
        room = self.room(c)

        def on_presence(client, el):
            if (el.get("from") or "").split("/")[0] == room and not fut.done():
                fut.set_result(el)
        c.on_presence = on_presence
        self.biboumi_send_join(c)
        try:
            el = await asyncio.wait_for(fut, 60)
        except asyncio.TimeoutError:
            raise BenchError("biboumi: %s got no presence from %s in 60s"
                             % (c.user, room)) from None
        finally:
            c.on_presence = None
        if el.get("type") == "error":
            raise BenchError("biboumi: joining %s failed: %s"
                             % (room, iq_error_condition(el)))

    # -- sending
    def send(self, direction, i, body):
        k = self.kind
        if direction == "x2i":      # left -> right
            if k == "irc":
                self.left[i].privmsg(self.pnick[i], body)
            elif k == "xmpp":
                self.left[i].message("y%03d@localhost" % i, body)
            elif k == "ferry":
                self.left[i].message("%s@%s" % (self.pnick[i], FERRY_JID), body)
            else:
                self.left[i].message("%s%%127.0.0.1@%s" % (self.pnick[i], BIB_JID), body)
        else:                       # right -> left
            if k == "irc":
                self.right[i].privmsg("a%03d" % i, body)
            elif k == "xmpp":
                self.right[i].message("x%03d@localhost" % i, body)
            else:
                self.right[i].privmsg(self.unick[i], body)

    def new_phase(self, expected):
        self.phase_no += 1
        self.phase = Phase(self.phase_no, expected)
        return self.phase

    # -- 1. latency
    async def latency(self, direction):
        a = self.args
        n = a.latency_msgs
        ph = self.new_phase(n)
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        for k in range(n):
            delay = t0 + k / a.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            i = k % self.U
            self.send(direction, i, "bench %s %d %d %d" % (ph.pid, k, time.monotonic_ns(), i))
        try:
            await asyncio.wait_for(asyncio.shield(ph.done), a.drain)
        except asyncio.TimeoutError:
            pass
        self.phase = None
        got = len(ph.seen)
        if got == 0:
            raise BenchError("%s U=%d latency %s: not one of %d messages arrived"
                             % (self.kind, self.U, direction, n))
        ms = [d / 1e6 for d in ph.deltas]
        self.add("lat_%s_p50_ms" % direction, pct(ms, 50))
        self.add("lat_%s_p99_ms" % direction, pct(ms, 99))
        self.add("lat_%s_lost" % direction, n - got)

    # -- 2. burst
    async def burst(self, direction):
        a = self.args
        n, U = a.burst, self.U
        quota = [n // U + (1 if i < n % U else 0) for i in range(U)]
        sent = [0] * U
        seq = [0]
        ph = self.new_phase(n)

        def send_one(i):
            if sent[i] < quota[i]:
                sent[i] += 1
                s = seq[0]
                seq[0] += 1
                self.send(direction, i, "bench %s %d %d %d"
                          % (ph.pid, s, time.monotonic_ns(), i))

        if a.window > 0:
            ph.on_recv = send_one
        gw0, srv0 = cpu_seconds(self.gateway_pids()), cpu_seconds(self.server_pids())
        main0 = cpu_seconds(self.gateway_pids()[:1])
        t0 = time.monotonic_ns()
        first = min(a.window, n) if a.window > 0 else n
        for r in range(first):
            for i in range(U):
                if r < quota[i]:
                    send_one(i)
            if r % 16 == 15:
                await asyncio.sleep(0)
        timeout = max(30.0, n / 100.0)
        try:
            await asyncio.wait_for(asyncio.shield(ph.done), timeout)
        except asyncio.TimeoutError:
            pass
        gw1, srv1 = cpu_seconds(self.gateway_pids()), cpu_seconds(self.server_pids())
        main1 = cpu_seconds(self.gateway_pids()[:1])
        self.phase = None
        got = len(ph.seen)
        if got == 0:
            raise BenchError("%s U=%d burst %s: not one of %d messages arrived"
                             % (self.kind, self.U, direction, n))
        secs = (ph.last_t - t0) / 1e9
        self.add("burst_%s_msgs_per_s" % direction, got / secs if secs > 0 else 0)
        self.add("burst_%s_lost" % direction, n - got)
        if self.kind in ("biboumi", "ferry"):
            self.add("cpu_%s_s_per_1000" % direction, (gw1 - gw0) / got * 1000)
        if self.kind == "ferry":  # of which ferry's main process (the rest: workers)
            self.add("cpu_main_%s_s_per_1000" % direction, (main1 - main0) / got * 1000)
        self.add("srv_cpu_%s_s_per_1000" % direction, (srv1 - srv0) / got * 1000)
        await asyncio.sleep(a.settle)

    # -- 3. memory
    def memory(self, label):
        rss, pss = memory_kib(self.gateway_pids())
        self.add("mem_%s_rss_kib" % label, rss)
        self.add("mem_%s_pss_kib" % label, pss)
        if self.kind == "ferry":
            self.add("ferry_workers_%s" % label, len(self.gateway_pids()) - 1)

    async def memory_samples(self, label, repeats):
        for r in range(repeats):
            if r:
                await asyncio.sleep(0.5)
            self.memory(label)

    # -- 4. restart storm
    async def restart_storm(self):
        U = self.U
        if self.kind == "ferry":
            rc, killed = self.gw.stop()
            if killed:
                log("  ferry needed SIGKILL on stop (rc %s)" % rc)
            await self.wait_ison(self.unick, False, timeout=60)
            await asyncio.sleep(0.5)
            harness.servers.wait_until(lambda: os.access(harness.ferry_binary(), os.X_OK), 60, 1)
            t0 = time.monotonic()
            self.gw.start()
            await self.wait_ison(self.unick, True, timeout=max(60.0, U * 0.5))
            took = time.monotonic() - t0
            self.add("restart_s", took)
            return took
        # Biboumi: restart, then every client re-joins its channel at once
        self.gw.stop()
        await self.wait_ison(self.unick, False, timeout=60)
        await asyncio.sleep(0.5)
        t0 = time.monotonic()
        self.gw.start()
        probe = self.left[0]
        for _ in range(600):
            r = await probe.iq("<query xmlns='http://jabber.org/protocol/disco#info'/>",
                               to=BIB_JID, timeout=10)
            if r.get("type") == "result":
                break
            if time.monotonic() - t0 > 30:
                raise BenchError("biboumi did not come back within 30s:\n%s"
                                 % self.gw.log_tail())
            await asyncio.sleep(0.05)
        t_attached = time.monotonic() - t0
        for c in self.left:
            self.biboumi_send_join(c)
        await self.wait_ison(self.unick, True, timeout=max(60.0, U * 0.5))
        took = time.monotonic() - t0
        self.add("restart_attach_s", t_attached)
        self.add("restart_s", took)
        return took

    # -- all of it
    async def measure(self):
        a = self.args
        gw = self.kind in ("biboumi", "ferry")
        if gw:
            self.start_gateway()
            await asyncio.sleep(a.settle + 1)
            await self.memory_samples("idle", a.repeats)
        t0 = time.monotonic()
        await self.setup()
        self.add("setup_s", time.monotonic() - t0)
        if gw:
            await asyncio.sleep(a.settle + 1)
            await self.memory_samples("online", a.repeats)
        for r in range(a.repeats):
            for d in ("x2i", "i2x"):
                await self.latency(d)
            for d in ("x2i", "i2x"):
                await self.burst(d)
            log("  repeat %d/%d: p50 %.2f/%.2f ms, burst %.0f/%.0f msg/s"
                % (r + 1, a.repeats, self.figures["lat_x2i_p50_ms"][-1],
                   self.figures["lat_i2x_p50_ms"][-1],
                   self.figures["burst_x2i_msgs_per_s"][-1],
                   self.figures["burst_i2x_msgs_per_s"][-1]))
        if gw:
            self.memory("after_traffic")
            for r in range(a.repeats):
                took = await self.restart_storm()
                log("  restart storm %d/%d: %.2fs" % (r + 1, a.repeats, took))
                await asyncio.sleep(a.settle)
        if self.kind == "ferry":
            text = self.gw.log_text()
            self.add("ferry_log_warnings", sum(1 for l in text.splitlines()
                                                if "WARNING" in l or "CRITICAL" in l
                                                or "ERROR" in l))

    async def close(self):
        for c in self.left + self.right + ([self.observer] if self.observer else []):
            try:
                c.transport.abort()
            except Exception:
                pass


def run_guarded(env, label, measure, args, tail=25, finish=None):
    """Starts ENV's servers, runs the coroutine MEASURE() within
    args.env_timeout and closes ENV; FINISH(ENV), if given, then the run's
    cleanup, always. Returns the error text, or None. One place for what
    every benchmark environment (1:1, group chats, the big channel) does."""
    log("%s: starting" % label)
    t0 = time.monotonic()
    err = None
    try:
        env.start_servers()

        async def go():
            try:
                await asyncio.wait_for(measure(), args.env_timeout)
            finally:
                await env.close()
        asyncio.run(go())
    except (BenchError, asyncio.TimeoutError, LeanError, RuntimeError, OSError) as e:
        err = "%s: %s" % (label, e or "timed out")
        if isinstance(e, asyncio.TimeoutError):
            err += " (whole run over %ds)" % args.env_timeout
        log("FAILED: " + err)
        for obj in env.run.objects:
            log("---- %s log tail ----\n%s" % (obj.name, obj.log_tail(tail)))
        if getattr(args, "verbose", False):
            traceback.print_exc()
    finally:
        if finish is not None:
            finish(env)
        for p in env.run.cleanup():
            log("cleanup: " + p)
    log("%s: done in %.0fs" % (label, time.monotonic() - t0))
    return err


def ferry_log_problems(env):
    """The first 20 warning/critical/error lines of the gateway's log, for a
    ferry environment (else [])."""
    if env.kind != "ferry" or env.gw is None:
        return []
    return [ln for ln in env.gw.log_text().splitlines()
            if "WARNING" in ln or "CRITICAL" in ln or "ERROR" in ln][:20]


def run_env(kind, users, args):
    env = Env(kind, users, args)
    err = run_guarded(env, "%s U=%d" % (LABELS[kind], users), env.measure, args)
    return env.figures, err, ferry_log_problems(env)


# ---- parser micro-benchmark ----------------------------------------------------

def run_parser(args):
    exe = os.path.join(harness.builddir(), "tests", "bench", "bench_parser")
    if not os.access(exe, os.X_OK):
        return {"missing": "%s not found (not built?)" % exe}
    out = os.path.join(args.tmp, "bench-parser-%d.json" % os.getpid())
    try:
        r = subprocess.run([exe, "--json", out], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            return {"error": "bench_parser exited %d: %s" % (r.returncode,
                                                              (r.stderr or r.stdout)[-500:])}
        with open(out) as f:
            data = json.load(f)
        return {"results": data, "stdout": r.stdout}
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        return {"error": "bench_parser failed: %r" % e}
    finally:
        try:
            os.unlink(out)
        except OSError:
            pass


# ---- output ----------------------------------------------------------------------

def summary(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values)}


def fmt_num(v):
    if v is None:
        return "-"
    a = abs(v)
    if float(v).is_integer():
        return "%d" % v
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3f" % v


def fmt_cell(s):
    if s is None:
        return "-"
    if s["min"] == s["max"]:
        return fmt_num(s["median"])
    return "%s [%s-%s]" % (fmt_num(s["median"]), fmt_num(s["min"]), fmt_num(s["max"]))


ROWS = [
    ("1. latency (ms), paced", [
        ("XMPP->IRC p50", "lat_x2i_p50_ms"), ("XMPP->IRC p99", "lat_x2i_p99_ms"),
        ("IRC->XMPP p50", "lat_i2x_p50_ms"), ("IRC->XMPP p99", "lat_i2x_p99_ms"),
        ("lost XMPP->IRC", "lat_x2i_lost"), ("lost IRC->XMPP", "lat_i2x_lost")]),
    ("2. burst throughput (msg/s) and CPU", [
        ("XMPP->IRC msg/s", "burst_x2i_msgs_per_s"), ("IRC->XMPP msg/s", "burst_i2x_msgs_per_s"),
        ("lost XMPP->IRC", "burst_x2i_lost"), ("lost IRC->XMPP", "burst_i2x_lost"),
        ("gw CPU s/1000 XMPP->IRC", "cpu_x2i_s_per_1000"),
        ("gw CPU s/1000 IRC->XMPP", "cpu_i2x_s_per_1000"),
        ("  ferry main X->I", "cpu_main_x2i_s_per_1000"),
        ("  ferry main I->X", "cpu_main_i2x_s_per_1000"),
        ("servers CPU s/1000 X->I", "srv_cpu_x2i_s_per_1000"),
        ("servers CPU s/1000 I->X", "srv_cpu_i2x_s_per_1000")]),
    ("3. memory (KiB, gateway processes summed)", [
        ("idle RSS", "mem_idle_rss_kib"), ("idle PSS", "mem_idle_pss_kib"),
        ("online RSS", "mem_online_rss_kib"), ("online PSS", "mem_online_pss_kib"),
        ("PSS per user", "pss_per_user_kib"),
        ("after traffic RSS", "mem_after_traffic_rss_kib"),
        ("after traffic PSS", "mem_after_traffic_pss_kib"),
        ("ferry workers idle", "ferry_workers_idle"),
        ("ferry workers online", "ferry_workers_online")]),
    ("4. restart storm (s)", [
        ("start -> all on IRC", "restart_s"),
        ("  (biboumi: attached)", "restart_attach_s")]),
    ("setup", [("users online (s)", "setup_s"), ("ferry log WARNING+ lines", "ferry_log_warnings")]),
]

RATIO_LOWER_IS_BETTER = {"lat_x2i_p50_ms", "lat_x2i_p99_ms", "lat_i2x_p50_ms",
                         "lat_i2x_p99_ms", "cpu_x2i_s_per_1000", "cpu_i2x_s_per_1000",
                         "pss_per_user_kib", "mem_idle_pss_kib", "mem_online_pss_kib",
                         "restart_s", "burst_x2i_msgs_per_s", "burst_i2x_msgs_per_s"}
FLOOR_RATIO = {"lat_x2i_p50_ms", "lat_x2i_p99_ms", "lat_i2x_p50_ms", "lat_i2x_p99_ms"}


def derive(figs):
    """Per-user PSS increment from the medians of idle and online."""
    for kind, by_u in figs.items():
        for u, f in by_u.items():
            if f.get("mem_online_pss_kib") and f.get("mem_idle_pss_kib"):
                idle = statistics.median(f["mem_idle_pss_kib"])
                f["pss_per_user_kib"] = [(v - idle) / int(u) for v in f["mem_online_pss_kib"]]


def table(result):
    out = []
    m = result["machine"]
    out.append("ferry benchmark  %s" % result["date"])
    out.append("machine: %s, %s CPUs, %s GiB RAM, Linux %s"
               % (m["cpu"], m["nproc"], m["ram_gib"], m["kernel"]))
    c = result["config"]
    out.append("repeats %d; paced %d msgs at %g msg/s; burst %d msgs, window %d per pair; "
               "ferry config %s" % (c["repeats"], c["latency_msgs"], c["rate"], c["burst"],
                                    c["window"], c["ferry_extra"] or "-"))
    out.append("cells: median [min-max] over repeats; direct floors: both directions "
               "are client->server->client of one protocol; ratio ferry/floor = ferry "
               "/ slower floor")
    out.append("Biboumi's restart storm = restart + every client re-joining its channel "
               "at once (it does not restore sessions); ferry's = restart only")
    S = result["summary"]
    for u in result["config"]["users"]:
        u = str(u)
        out.append("")
        out.append("=" * 118)
        out.append("U = %s" % u)
        hdr = "%-26s" % "" + "".join(" %21s" % LABELS[k] for k in KINDS) + "%7s%8s" % (
            "f/B", "f/floor")
        for group, rows in ROWS:
            header_done = False
            for label, key in rows:
                cells = {k: (S.get(k, {}).get(u, {}) or {}).get(key) for k in KINDS}
                if all(v is None for v in cells.values()):
                    continue
                if not header_done:
                    out += ["-- " + group, hdr]
                    header_done = True
                line = "%-26s" % label + "".join(" %21s" % fmt_cell(cells[k]) for k in KINDS)
                fb = ff = ""
                if key in RATIO_LOWER_IS_BETTER and cells["ferry"] and cells["biboumi"] \
                        and cells["biboumi"]["median"]:
                    fb = "%.2f" % (cells["ferry"]["median"] / cells["biboumi"]["median"])
                if key in FLOOR_RATIO and cells["ferry"] and cells["irc"] and cells["xmpp"]:
                    floor = max(cells["irc"]["median"], cells["xmpp"]["median"])
                    if floor:
                        ff = "%.2f" % (cells["ferry"]["median"] / floor)
                out.append(line + "%7s%8s" % (fb, ff))
    out.append("")
    out.append("-- 5. parser micro-benchmark (bench_parser)")
    p = result["parser"]
    if "results" in p:
        r = p["results"]

        def mbps(k):
            return "%.1f MB/s [%.1f-%.1f]" % (r[k]["median_mbps"], r[k]["min_mbps"],
                                              r[k]["max_mbps"])
        out.append("  %d bytes, %d stanzas per pass (%s), %d-byte reads, %d samples"
                   % (r["bytes"], r["stanzas_per_pass"], os.path.basename(r["file"]),
                      r["chunk_bytes"], r["samples"]))
        out.append("  ferry xml_stream   %s" % mbps("ferry"))
        out.append("  bare expat         %s" % mbps("expat"))
        out.append("  ratio ferry/expat  %.3f (target >= 0.8)" % r["ratio_ferry_expat"])
    else:
        out.append("NOT RUN: " + p.get("missing", p.get("error", "?")))
    if result["errors"]:
        out.append("")
        out.append("FAILED PHASES:")
        out += ["  " + e for e in result["errors"]]
    if result.get("ferry_log_notes"):
        out.append("")
        out.append("ferry log warnings (first lines per run):")
        for k, lines in result["ferry_log_notes"].items():
            for l in lines[:5]:
                out.append("  %s: %s" % (k, l[:200]))
    return "\n".join(out)


# ---- main ------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", default=None, help="comma-separated U list (1,50,500)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per figure (3)")
    ap.add_argument("--quick", action="store_true", help="U=1,50 and 1 repeat")
    ap.add_argument("--runs", default=",".join(KINDS),
                    help="which runs, comma-separated from %s" % ",".join(KINDS))
    ap.add_argument("--rate", type=float, default=50.0, help="paced aggregate msg/s")
    ap.add_argument("--latency-msgs", type=int, default=250, help="paced msgs per direction")
    ap.add_argument("--burst", type=int, default=2000, help="burst msgs per direction")
    ap.add_argument("--window", type=int, default=100,
                    help="max msgs in flight per pair in a burst (0 = no limit)")
    ap.add_argument("--drain", type=float, default=10.0,
                    help="s to wait for the last paced messages")
    ap.add_argument("--settle", type=float, default=1.0, help="s of quiet between phases")
    ap.add_argument("--ferry-config", action="append", default=[], metavar="GROUP.KEY=VALUE",
                    help="extra ferry config key (repeatable), e.g. workers.login_rate=200")
    ap.add_argument("--ferry-level", default="message", help="ferry [logging] level")
    ap.add_argument("--json", default="bench-results.json", help="JSON output file")
    ap.add_argument("--no-parser", action="store_true", help="skip bench_parser")
    ap.add_argument("--env-timeout", type=int, default=900,
                    help="s allowed for one (run, U)")
    ap.add_argument("--keep-going", action="store_true",
                    help="after a failed phase, go on with the other runs")
    ap.add_argument("--from-json", metavar="FILE",
                    help="only print the table of an earlier run's JSON")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    if a.users is None:
        a.users = "1,50" if a.quick else "1,50,500"
    if a.repeats is None:
        a.repeats = 1 if a.quick else 3
    a.users = [int(x) for x in a.users.split(",") if x.strip()]
    a.runs = [r.strip() for r in a.runs.split(",") if r.strip()]
    bad = [r for r in a.runs if r not in KINDS]
    if bad or not a.users or min(a.users) < 1 or a.repeats < 1:
        ap.error("bad --runs/--users/--repeats")
    a.ferry_extra = {g: dict(kv) for g, kv in FERRY_BENCH_CONFIG.items()}
    for kv in a.ferry_config:
        key, sep, val = kv.partition("=")
        group, dot, name = key.partition(".")
        if not sep or not dot or not group or not name:
            ap.error("--ferry-config wants GROUP.KEY=VALUE, got %r" % kv)
        a.ferry_extra.setdefault(group, {})[name] = val
    a.tmp = os.environ.get("TMPDIR", "/tmp")
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.from_json:
        with open(args.from_json) as f:
            print(table(json.load(f)))
        return 0
    if os.geteuid() != 0:
        sys.exit("bench.py: needs root (ngircd switches users, like the integration tests)")
    need = {"irc": ["ngircd"], "xmpp": ["prosody"], "biboumi": ["prosody", "ngircd"],
            "ferry": ["prosody", "ngircd"]}
    missing = sorted({p for r in args.runs for p in need[r] if harness.missing_programs(p)})
    if "biboumi" in args.runs and not os.access("/usr/bin/biboumi", os.X_OK):
        missing.append("/usr/bin/biboumi")
    if "ferry" in args.runs and not os.access(harness.ferry_binary(), os.X_OK):
        for _ in range(30):  # it may be being rebuilt
            time.sleep(2)
            if os.access(harness.ferry_binary(), os.X_OK):
                break
        else:
            missing.append(harness.ferry_binary() + " (set FERRY_BUILDDIR)")
    if missing:
        sys.exit("bench.py: missing: %s" % ", ".join(missing))
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 8 * max(args.users) + 256))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 4 * max(args.users) + 64:
        sys.exit("bench.py: open-file limit %d too low for U=%d" % (want, max(args.users)))

    started = time.monotonic()
    figs = {k: {} for k in args.runs}
    errors, notes = [], {}
    for u in args.users:
        for kind in args.runs:
            f, err, n = run_env(kind, u, args)
            figs[kind][str(u)] = f
            if n:
                notes["%s U=%d" % (kind, u)] = n
            if err:
                errors.append(err)
                if not args.keep_going:
                    break
        if errors and not args.keep_going:
            break
    parser = {"skipped": True} if args.no_parser else run_parser(args)
    derive(figs)
    result = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {"users": args.users, "repeats": args.repeats, "rate": args.rate,
                   "latency_msgs": args.latency_msgs, "burst": args.burst,
                   "window": args.window, "runs": args.runs,
                   "ferry_extra": args.ferry_extra, "ferry_level": args.ferry_level,
                   "ferry_binary": harness.ferry_binary()},
        "raw": figs,
        "summary": {k: {u: {name: summary(v) for name, v in f.items()}
                        for u, f in by_u.items()} for k, by_u in figs.items()},
        "parser": parser,
        "errors": errors,
        "ferry_log_notes": notes,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    if "skipped" in parser:
        result["parser"] = {"missing": "skipped (--no-parser)"}
    text = table(result)
    print(text)
    print("\n(total %.0fs)" % result["elapsed_s"])
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print("JSON written to %s" % os.path.abspath(args.json))
    if errors:
        sys.stderr.write("bench.py: %d phase(s) failed:\n  %s\n" % (len(errors),
                                                                  "\n  ".join(errors)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
