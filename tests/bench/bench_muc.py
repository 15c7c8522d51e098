#!/usr/bin/python3
"""ferry's group-chat benchmark: one IRC channel, U gateway users, side by side.

For every U in --users (1, 50, 500), each run on its own fresh Prosody +
ngircd on 127.0.0.1 (servers and gateways from bench.py's Env):

  muc       the Prosody MUC floor: U XMPP users + an XMPP observer in one
            room of Prosody's own mod_muc (no gateway, no IRC)
  bib-off   Biboumi, record_history = false (nothing stored per message)
  bib-on    Biboumi, record_history = true (its default: every message of
            every user's bridge is a row in its SQLite database)
  ferry     ferry with prpl-irc; the users join #bench@irc.localhost

U gateway users join one IRC channel (#bench) in which a raw IRC client,
the observer, also sits.  Figures, per run:

  1. fan-out latency, observer -> every joined user: for each message the
     time until the last of the U users has it (p50, p95), paced at
     --rate msg/s, at most --deliveries-per-s deliveries a second;
  2. XMPP user -> IRC latency (users in turn -> the observer), p50;
  3. burst: --burst messages from the observer at once, time until every
     user has every one of them, and the gateway's CPU per delivered message
     (utime+stime summed; ferry = ferry + its workers; servers separately);
  4. PSS/RSS of the gateway's processes idle, after the logins and with U
     users joined; per joined user = (joined - idle) / U;
  5. writes to files per group message: an extra burst (--db-burst) with
     strace attached to every gateway process, counting write/pwrite/fsync
     calls on regular files (the database, its journal), plus the rows the
     database gained (sqlite3, read-only).
  6. --big N (default 5000, 0 = off; bench_muc_big.py): one channel with N
     raw IRC occupants (one child process, selectors); a ferry user (then a
     Biboumi user) joins it: time from the join presence to the
     self-presence (110), and the gateway's longest stall meanwhile: a second
     client pings the gateway's domain every 50 ms and the largest gap
     between answers is taken.

A benchmark: asserts nothing; exits non-zero with a message if a phase
cannot complete.  `make check` never runs it.

    FERRY_BUILDDIR=_build /usr/bin/python3 tests/bench/bench_muc.py [--quick]
"""

import argparse
import asyncio
import datetime
import json
import os
import sqlite3
import statistics
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import bench  # noqa: E402
import bench_trace  # noqa: E402
from bench import (BIB_JID, FERRY_JID, NS_COMMANDS, NS_DATA, BenchError,  # noqa: E402
                   Biboumi, Env, cpu_seconds, log, machine, memory_kib, pct)
import harness  # noqa: E402
from harness import Ferry  # noqa: E402
from servers import Ngircd, Prosody  # noqa: E402
from transport import irc_presets, transport_config  # noqa: E402
from lean import LeanIrc, LeanXmpp, child, child_text, iq_error_condition  # noqa: E402

KINDS = ("muc", "bib-off", "bib-on", "ferry")
LABELS = {"muc": "Prosody MUC", "bib-off": "Biboumi h-off", "bib-on": "Biboumi h-on",
          "ferry": "ferry"}
MUC_JID = "conference.localhost"
CHAN = "#bench"
NS_MUC = "http://jabber.org/protocol/muc"
NS_PING = "urn:xmpp:ping"


def status_codes(el):
    """The muc#user status codes of a presence (lean elements: no namespaces)."""
    out = set()
    for x in el:
        if x.tag == "x":
            for s in x:
                if s.tag == "status" and s.get("code"):
                    out.add(s.get("code"))
    return out


class ProsodyMuc(Prosody):
    """Prosody with its own mod_muc on conference.localhost: the floor.
    Rooms are created unlocked (no configuration step) and keep no history,
    so that a join costs what it costs on a gateway that has none."""

    def _write_config(self):
        super()._write_config()
        with open(self.cfg_path, "a") as f:
            f.write('Component "%s" "muc"\n' % MUC_JID)
            f.write("    muc_room_locking = false\n")
            f.write("    restrict_room_creation = false\n")
            f.write("    muc_room_default_history_length = 0\n")
            f.write("    max_history_messages = 0\n")


class ChanIrc(LeanIrc):
    """LeanIrc that also notices the end of a NAMES list (366)."""

    def __init__(self, nick):
        super().__init__(nick)
        self.names_end = asyncio.get_running_loop().create_future()
        self._tail = b""

    def data_received(self, data):
        if not self.names_end.done():
            chunk = self._tail + data
            if b" 366 " in chunk:
                self.names_end.set_result(True)
            self._tail = chunk[-16:]
        super().data_received(data)

    async def join(self, chan, timeout=30.0):
        self.send("JOIN %s" % chan)
        await asyncio.wait_for(asyncio.shield(self.names_end), timeout)


class FanPhase:
    """Deliveries of one phase: body 'bench PHASE SEQ T_NS SRC'; receivers
    are client indexes (-1: the observer)."""

    def __init__(self, pid, n, receivers):
        self.pid = str(pid)
        self.n = n
        self.receivers = set(receivers)
        self.expected = n * len(self.receivers)
        self.sent = {}
        self.first, self.last, self.count = {}, {}, {}
        self.seen = set()
        self.total = 0
        self.dups = 0
        self.last_t = None
        self.done = asyncio.get_running_loop().create_future()

    def got(self, idx, body, t):
        parts = body.split()
        if len(parts) != 5 or parts[1] != self.pid or idx not in self.receivers:
            return
        seq = int(parts[2])
        key = (idx << 24) | seq
        if key in self.seen:
            self.dups += 1
            return
        self.seen.add(key)
        self.sent.setdefault(seq, int(parts[3]))
        self.first.setdefault(seq, t)
        self.last[seq] = t
        self.count[seq] = self.count.get(seq, 0) + 1
        self.total += 1
        self.last_t = t
        if self.total >= self.expected and not self.done.done():
            self.done.set_result(True)

    def complete_ms(self):
        """Per message whose fan-out completed: sent -> last receiver (ms)."""
        want = len(self.receivers)
        return [(self.last[s] - self.sent[s]) / 1e6 for s in self.last
                if self.count[s] == want]


class MucEnv(Env):
    """One (kind, U) of the group-chat benchmark on bench.Env's servers."""

    def __init__(self, kind, users, args):
        super().__init__({"muc": "xmpp", "bib-off": "biboumi", "bib-on": "biboumi",
                          "ferry": "ferry"}[kind], users, args)
        self.mkind = kind
        self.fan = None

    # -- addresses
    def room(self):
        if self.mkind == "muc":
            return "bench@" + MUC_JID
        if self.kind == "biboumi":
            return "%s%%127.0.0.1@%s" % (CHAN, BIB_JID)
        return "%s@%s" % (CHAN, FERRY_JID)

    # -- receive
    def _on_group(self, client, el, t):
        if self.fan is None or el.get("type") != "groupchat":
            return
        body = child_text(el, "body")
        if body and body.startswith("bench "):
            self.fan.got(client.idx, body, t)

    def _on_obs_privmsg(self, client, sender, text, t):
        if self.fan is not None and text.startswith("bench "):
            self.fan.got(-1, text, t)

    # -- setup
    def start_servers(self):
        a = self.args
        comp = {"xmpp": "unused.localhost", "biboumi": BIB_JID, "ferry": FERRY_JID}[self.kind]
        cls = ProsodyMuc if self.mkind == "muc" else Prosody
        self.prosody = self.run.add(cls(
            self.run.path("prosody"), vhosts=["localhost"], component=comp,
            secret="bench-%s" % os.urandom(4).hex(), auth="internal_plain",
            log_level="warn"))
        accounts = {n: "pw" for n in self.unick}
        accounts["obs"] = "pw"
        self.prosody.write_accounts("localhost", accounts)
        self.prosody.start()
        if self.mkind == "muc":
            return
        self.irc = self.run.add(Ngircd(self.run.path("ngircd")))
        self.irc.start()
        if self.kind == "biboumi":
            self.gw = self.run.add(Biboumi(self.run.path("biboumi"),
                                           self.prosody.component_port,
                                           self.prosody.secret))
        else:
            cfg = transport_config(self.prosody, presets=irc_presets(self.irc),
                                   extra=a.ferry_extra)
            self.gw = self.run.add(Ferry(self.run.path("ferry"), level=a.ferry_level, **cfg))

    async def connect_users(self):
        async def one(i, u):
            c = await LeanXmpp.connect("%s@localhost" % u, "pw", self.prosody.c2s_port,
                                       timeout=60)
            c.idx = i
            c.on_message = self._on_group
            return c
        return await self.gather_limited([one(i, u) for i, u in enumerate(self.unick)],
                                         16, "XMPP logins")

    async def join_room(self, c, nick, timeout=120.0):
        """Sends the MUC join, waits for the self-presence (status 110)."""
        fut = asyncio.get_running_loop().create_future()
        room = self.room().lower()

        def on_presence(client, el):
            frm = (el.get("from") or "").lower()
            if frm.split("/")[0] != room or fut.done():
                return
            if el.get("type") == "error" or "110" in status_codes(el):
                fut.set_result(el)
        c.on_presence = on_presence
        c.presence(to="%s/%s" % (self.room(), nick),
                   extra="<x xmlns='%s'><history maxstanzas='0'/></x>" % NS_MUC)
        try:
            el = await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise BenchError("%s: %s got no self-presence from %s in %.0fs"
                             % (self.mkind, c.user, self.room(), timeout)) from None
        finally:
            c.on_presence = None
        if el.get("type") == "error":
            raise BenchError("%s: joining %s as %s failed: %s"
                             % (self.mkind, self.room(), nick, iq_error_condition(el)))

    async def ferry_seed(self, nreg):
        """ferry takes at most 60 registrations a minute from all users
        together (registration.c), 500 would take 8 minutes: the users past
        the first nreg get the rows a registration writes (users,
        user_settings: those of user 0 with its nick replaced) while ferry is
        stopped; ferry is started again and the users say they are online
        (directed presence), as after a restart."""
        rc, killed = self.gw.stop()
        path = self.db_path()
        tmpl = self.unick[0]
        db = sqlite3.connect(path, timeout=10)
        try:
            row = db.execute("SELECT id, password, created FROM users WHERE jid = ?",
                             ("%s@localhost" % tmpl,)).fetchone()
            if row is None or row[1] is not None:
                raise BenchError("ferry.db: no password-less row for %s to copy" % tmpl)
            settings = db.execute("SELECT key, value FROM user_settings WHERE user_id = ?",
                                  (row[0],)).fetchall()
            with db:
                for nick in self.unick[nreg:]:
                    cur = db.execute("INSERT INTO users (jid, password, created) "
                                     "VALUES (?, NULL, ?)", ("%s@localhost" % nick, row[2]))
                    db.executemany("INSERT INTO user_settings (user_id, key, value) "
                                   "VALUES (?, ?, ?)",
                                   [(cur.lastrowid, k, nick if v == tmpl else v)
                                    for k, v in settings])
        finally:
            db.close()
        log("  ferry.db: %d users seeded after %d registrations (settings %s)"
            % (self.U - nreg, nreg, ", ".join(k for k, _ in settings)))
        self.gw.start()
        probe = self.left[0]
        t0 = time.monotonic()
        for _ in range(600):  # bounded: at most 30 s
            r = await probe.iq("<ping xmlns='%s'/>" % NS_PING, to=FERRY_JID, timeout=10)
            if r.get("type") == "result":
                break
            if time.monotonic() - t0 > 30:
                raise BenchError("ferry did not come back within 30s:\n%s"
                                 % self.gw.log_tail())
            await asyncio.sleep(0.05)
        for c in self.left:
            c.presence(to=FERRY_JID)

    async def biboumi_history(self, c, on):
        """Biboumi's global (per-user) options: record_history on or off."""
        r = await c.iq("<command xmlns='%s' node='configure' action='execute'/>"
                       % NS_COMMANDS, to=BIB_JID, itype="set", timeout=60)
        cmd = child(r, "command")
        if r.get("type") != "result" or cmd is None:
            raise BenchError("biboumi global configure failed for %s: %s"
                             % (c.user, iq_error_condition(r)))
        form = ("<x xmlns='%s' type='submit'>"
                "<field var='record_history'><value>%s</value></field>"
                "<field var='max_history_length'><value>20</value></field></x>"
                % (NS_DATA, "true" if on else "false"))
        r = await c.iq("<command xmlns='%s' node='configure' sessionid='%s'>%s</command>"
                       % (NS_COMMANDS, cmd.get("sessionid"), form),
                       to=BIB_JID, itype="set", timeout=60)
        cmd = child(r, "command")
        if r.get("type") != "result" or cmd is None or cmd.get("status") != "completed":
            raise BenchError("biboumi global configure submit failed for %s: %s"
                             % (c.user, iq_error_condition(r)))

    async def setup(self):
        U = self.U
        t0 = time.monotonic()
        if self.mkind == "muc":
            self.observer = await LeanXmpp.connect("obs@localhost", "pw",
                                                   self.prosody.c2s_port, timeout=60)
            self.observer.idx = -1
            self.observer.on_message = self._on_group
            await self.join_room(self.observer, "obs")
        else:
            self.observer = await ChanIrc.connect(self.irc.port, "obs", timeout=60)
            self.observer.on_privmsg = self._on_obs_privmsg
            await self.observer.join(CHAN)
        self.left = await self.connect_users()
        log("  observer + %d XMPP users online in %.1fs" % (U, time.monotonic() - t0))
        t1 = time.monotonic()
        if self.kind == "ferry":
            nreg = min(U, self.args.ferry_register)
            await self.gather_limited([self.ferry_register(c) for c in self.left[:nreg]], 8,
                                      "ferry registrations")
            if U > nreg:
                await self.ferry_seed(nreg)
            await self.wait_ison(self.unick, True, timeout=120 + U * 0.5)
            log("  registered and on IRC in %.1fs" % (time.monotonic() - t1))
        elif self.kind == "biboumi":
            await self.gather_limited([self.biboumi_configure(c) for c in self.left], 16,
                                      "biboumi ad-hoc configure")
            await self.gather_limited([self.biboumi_history(c, self.mkind == "bib-on")
                                       for c in self.left], 16, "biboumi history option")
        self.add("login_s", time.monotonic() - t0)
        if self.gw is not None:
            await asyncio.sleep(self.args.settle)
            self.memory("online")
        t2 = time.monotonic()
        await self.gather_limited([self.join_room(c, c.user, timeout=120 + U * 0.5)
                                   for c in self.left], 8, "joins")
        took = time.monotonic() - t2
        self.add("join_all_s", took)
        log("  %d users joined %s in %.1fs" % (U, self.room(), took))

    # -- sending
    def send_obs(self, body):
        if self.mkind == "muc":
            self.observer.message(self.room(), body, mtype="groupchat")
        else:
            self.observer.privmsg(CHAN, body)

    def new_fan(self, n, receivers):
        self.phase_no += 1
        self.fan = FanPhase(self.phase_no, n, receivers)
        return self.fan

    async def wait_fan(self, ph, timeout):
        try:
            await asyncio.wait_for(asyncio.shield(ph.done), timeout)
        except asyncio.TimeoutError:
            pass
        self.fan = None
        if ph.total < ph.expected:
            # a figure, not a failure: a gateway that cannot keep up loses
            # messages (ngircd drops connections whose send queue overflows)
            log("  phase %s: %d of %d deliveries missing"
                % (ph.pid, ph.expected - ph.total, ph.expected))

    def burst_n(self):
        """Burst messages: --burst, fewer at large U so that a burst is at
        most --burst-deliveries deliveries (and stays within ngircd's
        per-client send queue for a gateway that keeps up)."""
        a = self.args
        return max(10, min(a.burst, a.burst_deliveries // self.U))

    def paced_rate(self):
        a = self.args
        return min(a.rate, a.deliveries_per_s / self.U)

    # -- 1. fan-out latency
    async def fanout(self):
        a = self.args
        n, rate = a.fan_msgs, self.paced_rate()
        ph = self.new_fan(n, range(self.U))
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        for k in range(n):
            delay = t0 + k / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self.send_obs("bench %s %d %d -1" % (ph.pid, k, time.monotonic_ns()))
        await self.wait_fan(ph, a.drain)
        ms = ph.complete_ms()
        firsts = [(ph.first[s] - ph.sent[s]) / 1e6 for s in ph.first] or [None]
        self.add("fan_lost", ph.expected - ph.total)
        self.add("fan_dups", ph.dups)
        if ms:
            self.add("fan_p50_ms", pct(ms, 50))
            self.add("fan_p95_ms", pct(ms, 95))
        if firsts[0] is not None:
            self.add("fan_first_p50_ms", pct(firsts, 50))
        await asyncio.sleep(a.settle)

    # -- 2. XMPP user -> IRC
    async def upstream(self):
        a = self.args
        n, rate = a.fan_msgs, self.paced_rate()
        ph = self.new_fan(n, [-1])
        loop = asyncio.get_running_loop()
        t0 = loop.time() + 0.05
        for k in range(n):
            delay = t0 + k / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            i = k % self.U
            self.left[i].message(self.room(), "bench %s %d %d %d"
                                 % (ph.pid, k, time.monotonic_ns(), i), mtype="groupchat")
        await self.wait_fan(ph, a.drain)
        ms = [(ph.last[s] - ph.sent[s]) / 1e6 for s in ph.last]
        if ms:
            self.add("up_p50_ms", pct(ms, 50))
        self.add("up_lost", n - ph.total)
        # the other users get these too: let that fan-out drain
        await asyncio.sleep(a.settle + self.U / 500.0)

    # -- 3. burst
    async def burst(self, n, label, strace=False):
        a = self.args
        ph = self.new_fan(n, range(self.U))
        tracer = bench_trace.start_strace(self.gateway_pids(), self.run.root) \
            if strace else None
        profiler = bench_trace.start_perf(self.gateway_pids(), self.run.root) \
            if label == "burst" and self.mkind in a.perf else None
        db0 = bench_trace.db_state(self.db_path())
        gw0, srv0 = cpu_seconds(self.gateway_pids()), cpu_seconds(self.server_pids())
        main0 = cpu_seconds(self.gateway_pids()[:1])
        t0 = time.monotonic_ns()
        for k in range(n):
            self.send_obs("bench %s %d %d -1" % (ph.pid, k, time.monotonic_ns()))
            if k % 16 == 15:
                await asyncio.sleep(0)
        await self.wait_fan(ph, max(30.0, n * self.U / 1000.0))
        gw1, srv1 = cpu_seconds(self.gateway_pids()), cpu_seconds(self.server_pids())
        main1 = cpu_seconds(self.gateway_pids()[:1])
        got = ph.total
        secs = (ph.last_t - t0) / 1e9 if got else 0.0
        if tracer is not None:
            await asyncio.sleep(0.5)  # the gateway may write after the last delivery
            counts = bench_trace.stop_strace(tracer)
            if counts is not None:
                self.add("file_writes_per_msg", sum(counts.values()) / n)
                self.figures.setdefault("file_writes_by_file", []).append(counts)
        if profiler is not None:
            self.figures.setdefault("perf_top", []).append(bench_trace.stop_perf(profiler))
        db1 = bench_trace.db_state(self.db_path())
        if label == "burst":
            self.add("burst_n", n)
            self.add("burst_all_s", secs)
            self.add("burst_deliv_per_s", got / secs if secs > 0 else 0)
            self.add("burst_lost", ph.expected - got)
            self.add("burst_dups", ph.dups)
            if self.gw is not None and got:
                self.add("cpu_us_per_deliv", (gw1 - gw0) / got * 1e6)
            if self.kind == "ferry" and got:
                self.add("cpu_main_us_per_deliv", (main1 - main0) / got * 1e6)
            if got:
                self.add("srv_cpu_us_per_deliv", (srv1 - srv0) / got * 1e6)
        if db0 is not None and db1 is not None:
            self.add("%s_db_rows_per_msg" % label, (db1[0] - db0[0]) / n)
            self.add("%s_db_file_changed" % label, int(db1[1] != db0[1]))
        await asyncio.sleep(a.settle)

    # -- 5. writes to files
    def db_path(self):
        if self.gw is None:
            return None
        if self.kind == "biboumi":
            return os.path.join(self.gw.workdir, "biboumi.sqlite")
        return os.path.join(self.gw.workdir, "ferry.db")

    # -- 4. memory
    def memory(self, label):
        rss, pss = memory_kib(self.gateway_pids())
        self.add("mem_%s_rss_kib" % label, rss)
        self.add("mem_%s_pss_kib" % label, pss)
        if self.kind == "ferry":
            self.add("ferry_workers_%s" % label, len(self.gateway_pids()) - 1)
            self.add("mem_%s_main_pss_kib" % label, memory_kib(self.gateway_pids()[:1])[1])

    # -- all of it
    async def measure(self):
        a = self.args
        if self.gw is not None:
            self.start_gateway()
            await asyncio.sleep(a.settle + 1)
            self.memory("idle")
        await self.setup()
        await asyncio.sleep(a.settle + 1)
        if self.gw is not None:
            self.memory("joined")
            idle = self.figures["mem_idle_pss_kib"][-1]
            self.add("pss_per_joined_kib", (self.figures["mem_joined_pss_kib"][-1] - idle)
                     / self.U)
            self.add("pss_join_only_kib", (self.figures["mem_joined_pss_kib"][-1]
                                           - self.figures["mem_online_pss_kib"][-1]) / self.U)
            if self.kind == "ferry":
                f = self.figures
                self.add("pss_join_main_kib", (f["mem_joined_main_pss_kib"][-1]
                                               - f["mem_online_main_pss_kib"][-1]) / self.U)
        for r in range(a.repeats):
            await self.fanout()
            await self.upstream()
            await self.burst(self.burst_n(), "burst")
            log("  repeat %d/%d: fan-out p50 %.2f ms p95 %.2f ms, up p50 %.2f ms, "
                "burst %.2f s"
                % (r + 1, a.repeats, self.figures.get("fan_p50_ms", [-1])[-1],
                   self.figures.get("fan_p95_ms", [-1])[-1],
                   self.figures.get("up_p50_ms", [-1])[-1],
                   self.figures["burst_all_s"][-1]))
        if self.gw is not None and a.db_burst > 0:
            # strace slows the gateway down: a smaller burst (at most 5000
            # deliveries), and apart from the measured one
            await self.burst(max(5, min(a.db_burst, 5000 // self.U)), "db", strace=True)
        if self.gw is not None:
            self.memory("after")
        if self.kind == "ferry":
            text = self.gw.log_text()
            self.add("ferry_log_warnings", sum(1 for ln in text.splitlines()
                                                if "WARNING" in ln or "CRITICAL" in ln
                                                or "ERROR" in ln))


def run_env(kind, users, args):
    env = MucEnv(kind, users, args)
    err = bench.run_guarded(env, "%s U=%d" % (LABELS[kind], users), env.measure, args)
    return env.figures, err, bench.ferry_log_problems(env)


# ---- output ----------------------------------------------------------------------

ROWS = [
    ("fan-out IRC -> every user p50 ms", "fan_p50_ms"),
    ("fan-out IRC -> every user p95 ms", "fan_p95_ms"),
    ("  first user p50 ms", "fan_first_p50_ms"),
    ("XMPP user -> IRC p50 ms", "up_p50_ms"),
    ("burst: all users have all, s", "burst_all_s"),
    ("burst deliveries/s", "burst_deliv_per_s"),
    ("gw CPU us / delivered msg", "cpu_us_per_deliv"),
    ("  of which ferry main", "cpu_main_us_per_deliv"),
    ("servers CPU us / deliv (sep.)", "srv_cpu_us_per_deliv"),
    ("idle PSS MiB", "mem_idle_pss_mib"),
    ("PSS KiB per joined user", "pss_per_joined_kib"),
    ("  of which the join", "pss_join_only_kib"),
    ("    of that, ferry main", "pss_join_main_kib"),
    ("ferry workers with U joined", "ferry_workers_joined"),
    ("RSS MiB with U joined", "mem_joined_rss_mib"),
    ("file writes per group msg", "file_writes_per_msg"),
    ("db rows per group msg", "burst_db_rows_per_msg"),
    ("burst msgs from the observer", "burst_n"),
    ("lost deliveries: paced, burst", "lost"),
    ("duplicates: paced, burst", "dups"),
    ("U joins took s", "join_all_s"),
]


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return bench.fmt_num(round(v, 3) if abs(v) < 10 else v)


def cell(f, key):
    if key in ("lost", "dups"):
        if "fan_%s" % key not in f:
            return None
        return "%d, %d" % (sum(f["fan_" + key]), sum(f.get("burst_" + key, [0])))
    if key.endswith("_mib"):
        v = f.get(key.replace("_mib", "_kib"))
        return statistics.median(v) / 1024.0 if v else None
    v = f.get(key)
    if not v or not all(isinstance(x, (int, float)) for x in v):
        return None
    return statistics.median(v)


def table(result):
    out = []
    m = result["machine"]
    c = result["config"]
    out.append("ferry group-chat benchmark  %s" % result["date"])
    out.append("machine: %s, %s CPUs, %s GiB RAM, Linux %s"
               % (m["cpu"], m["nproc"], m["ram_gib"], m["kernel"]))
    out.append("one channel, U gateway users + 1 raw IRC observer (floor: XMPP observer); "
               "paced %d msgs at min(%g, %g/U) msg/s; burst min(%d, %d/U) msgs; %d repeat(s), "
               "medians" % (c["fan_msgs"], c["rate"], c["deliveries_per_s"], c["burst"],
                            c.get("burst_deliveries", 0), c["repeats"]))
    kinds = [k for k in KINDS if k in c["runs"]]
    for u in c["users"]:
        u = str(u)
        out.append("")
        out.append("U = %s" % u)
        out.append("%-34s" % "" + "".join("%15s" % LABELS[k] for k in kinds))
        for label, key in ROWS:
            vals = [cell(result["raw"].get(k, {}).get(u, {}), key) for k in kinds]
            if all(v is None for v in vals):
                continue
            out.append("%-34s" % label + "".join("%15s" % fmt(v) for v in vals))
    big = result.get("big")
    if big:
        out.append("")
        f = big.get("figures", {})
        occ = f.get("big_occupants", ["?"])[0]
        out.append("join of a channel with %s raw IRC occupants (crowd joined in %ss):"
                   % (occ, fmt(f.get("big_crowd_setup_s", [None])[0])))
        for kind, r in (f.get("big") or {}).items():
            out.append("  %-8s join -> self-presence %.2f s; longest gap between pings "
                       "(every 50 ms) %.3f s; main process busy without a break at most "
                       "%.3f s; %d occupant presences; %.2f CPU s; PSS %.1f MiB"
                       % (kind, r["join_s"], r["max_gap_s"] or -1, r.get("main_busy_s", -1),
                          r["occupant_presences"], r["cpu_s"], r["pss_kib"] / 1024.0))
    files = {}
    for k in kinds:
        for u, f in result["raw"].get(k, {}).items():
            for d in f.get("file_writes_by_file", []):
                if d:
                    files["%s U=%s" % (LABELS[k], u)] = d
    if files:
        out.append("")
        out.append("file writes during the %d-message strace burst, by file:"
                   % c["db_burst"])
        for k, d in files.items():
            out.append("  %s: %s" % (k, ", ".join("%s %d" % kv for kv in sorted(d.items()))))
    for k in kinds:
        for u, f in result["raw"].get(k, {}).items():
            for lines in f.get("perf_top", []):
                out.append("")
                out.append("perf (burst, %s U=%s; its burst figures are perturbed):"
                           % (LABELS[k], u))
                out += ["  " + ln[:150] for ln in lines]
    if result["errors"]:
        out.append("")
        out.append("FAILED PHASES:")
        out += ["  " + e for e in result["errors"]]
    if result.get("ferry_log_notes"):
        out.append("")
        out.append("ferry log warnings (first lines per run):")
        for k, lines in result["ferry_log_notes"].items():
            for ln in lines[:5]:
                out.append("  %s: %s" % (k, ln[:200]))
    return "\n".join(out)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", default=None, help="comma-separated U list (1,50,500)")
    ap.add_argument("--quick", action="store_true", help="U=1,50, --big 1000")
    ap.add_argument("--runs", default=",".join(KINDS),
                    help="which runs, comma-separated from %s" % ",".join(KINDS))
    ap.add_argument("--repeats", type=int, default=1, help="repeats of phases 1-3 (1)")
    ap.add_argument("--rate", type=float, default=20.0, help="paced msg/s at most (20)")
    ap.add_argument("--deliveries-per-s", type=float, default=2000.0,
                    help="paced deliveries/s at most: rate = min(rate, this/U) (2000)")
    ap.add_argument("--fan-msgs", type=int, default=40, help="paced msgs per direction")
    ap.add_argument("--burst", type=int, default=200, help="burst msgs from the observer")
    ap.add_argument("--burst-deliveries", type=int, default=20000,
                    help="at most this many deliveries per burst: burst msgs = "
                         "min(burst, this/U) (20000)")
    ap.add_argument("--db-burst", type=int, default=50,
                    help="msgs of the strace'd burst (0 = none)")
    ap.add_argument("--drain", type=float, default=20.0,
                    help="s to wait for the last paced deliveries")
    ap.add_argument("--settle", type=float, default=1.0, help="s of quiet between phases")
    ap.add_argument("--big", type=int, default=None,
                    help="occupants of the big channel (5000; 0 = skip)")
    ap.add_argument("--big-runs", default="ferry,biboumi",
                    help="who joins the big channel (ferry,biboumi)")
    ap.add_argument("--big-timeout", type=int, default=300,
                    help="s allowed from the big join to the self-presence")
    ap.add_argument("--perf", default="",
                    help="runs whose gateway is profiled (perf record -g) in the burst, "
                         "e.g. ferry,bib-off; slows that burst: its figures are marked")
    ap.add_argument("--ferry-register", type=int, default=50,
                    help="users registered through ferry's form; the rest are seeded "
                         "into ferry.db (ferry takes 60 registrations a minute) (50)")
    ap.add_argument("--ferry-config", action="append", default=[], metavar="GROUP.KEY=VALUE")
    ap.add_argument("--ferry-level", default="message", help="ferry [logging] level")
    ap.add_argument("--json", default="bench-muc-results.json", help="JSON output file")
    ap.add_argument("--env-timeout", type=int, default=600, help="s allowed for one (run, U)")
    ap.add_argument("--keep-going", action="store_true")
    ap.add_argument("--from-json", metavar="FILE", help="only print an earlier run's table")
    a = ap.parse_args(argv)
    if a.users is None:
        a.users = "1,50" if a.quick else "1,50,500"
    if a.big is None:
        a.big = 1000 if a.quick else 5000
    a.users = [int(x) for x in a.users.split(",") if x.strip()]
    a.runs = [r.strip() for r in a.runs.split(",") if r.strip()]
    a.big_runs = [r.strip() for r in a.big_runs.split(",") if r.strip()]
    a.perf = [r.strip() for r in a.perf.split(",") if r.strip()]
    if [r for r in a.runs if r not in KINDS] or [r for r in a.big_runs
                                                 if r not in ("ferry", "biboumi")]:
        ap.error("bad --runs/--big-runs")
    if not a.users or min(a.users) < 1 or a.repeats < 1 or a.burst < 1 or a.fan_msgs < 1:
        ap.error("bad --users/--repeats/--burst/--fan-msgs")
    a.ferry_extra = {g: dict(kv) for g, kv in bench.FERRY_BENCH_CONFIG.items()}
    for kv in a.ferry_config:
        key, sep, val = kv.partition("=")
        group, dot, name = key.partition(".")
        if not sep or not dot or not group or not name:
            ap.error("--ferry-config wants GROUP.KEY=VALUE, got %r" % kv)
        a.ferry_extra.setdefault(group, {})[name] = val
    return a


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.from_json:
        with open(args.from_json) as f:
            print(table(json.load(f)))
        return 0
    if os.geteuid() != 0:
        sys.exit("bench_muc.py: needs root (ngircd switches users, like the tests)")
    missing = [p for p in ("prosody", "ngircd") if harness.missing_programs(p)]
    if any(k.startswith("bib") for k in args.runs) or "biboumi" in args.big_runs:
        if not os.access("/usr/bin/biboumi", os.X_OK):
            missing.append("/usr/bin/biboumi (tools/install-deps.sh --bench)")
    if "ferry" in args.runs + args.big_runs and not os.access(harness.ferry_binary(), os.X_OK):
        missing.append(harness.ferry_binary() + " (set FERRY_BUILDDIR)")
    if missing:
        sys.exit("bench_muc.py: missing: %s" % ", ".join(missing))
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # ngircd inherits this: it holds the big channel's N connections + ours
    want = min(hard, max(soft, 8 * max(args.users) + 2 * args.big + 512))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    started = time.monotonic()
    raw = {k: {} for k in args.runs}
    errors, notes = [], {}
    for u in args.users:
        for kind in args.runs:
            f, err, n = run_env(kind, u, args)
            raw[kind][str(u)] = f
            if n:
                notes["%s U=%d" % (kind, u)] = n
            if err:
                errors.append(err)
                if not args.keep_going:
                    break
        if errors and not args.keep_going:
            break
    big = None
    if args.big > 0 and (not errors or args.keep_going):
        import bench_muc_big
        f, err = bench_muc_big.run_big(args)
        big = {"figures": f}
        if err:
            errors.append(err)
    result = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(),
        "config": {"users": args.users, "repeats": args.repeats, "rate": args.rate,
                   "deliveries_per_s": args.deliveries_per_s, "fan_msgs": args.fan_msgs,
                   "burst": args.burst, "burst_deliveries": args.burst_deliveries,
                   "db_burst": args.db_burst, "runs": args.runs,
                   "big": args.big, "big_runs": args.big_runs,
                   "ferry_extra": args.ferry_extra, "ferry_binary": harness.ferry_binary()},
        "raw": raw, "big": big, "errors": errors, "ferry_log_notes": notes,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    print(table(result))
    print("\n(total %.0fs)" % result["elapsed_s"])
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print("JSON written to %s" % os.path.abspath(args.json))
    if errors:
        sys.stderr.write("bench_muc.py: %d phase(s) failed:\n  %s\n"
                         % (len(errors), "\n  ".join(errors)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
