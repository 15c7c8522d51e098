#!/usr/bin/python3
"""bench_muc.py's part 6: the join of one IRC channel with N occupants.

A child process (this file with --crowd PORT,N,CHANNEL) opens N raw IRC
connections to ngircd with one selectors loop and joins them all to the
channel; then one ferry user, and one Biboumi user against its own Prosody,
join it: time from the join presence to the self-presence (110), and the
longest gap between the answers to XEP-0199 pings a second client sends the
gateway's domain every 50 ms meanwhile.  ngircd sends every JOIN to every
occupant: building the channel costs it O(N^2) lines (5 000: ~5 minutes).
"""

import asyncio
import os
import selectors
import socket
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

from bench import (BIB_JID, FERRY_JID, BenchError, Biboumi, _cpu_one, cpu_seconds, log,  # noqa: E402
                   memory_kib, run_guarded)
from bench_muc import NS_MUC, NS_PING, ChanIrc, MucEnv, status_codes  # noqa: E402
from servers import Prosody  # noqa: E402
from lean import LeanXmpp, iq_error_condition  # noqa: E402

def crowd_main(port, n, chan):
    """Child process: n raw IRC clients in `chan` on 127.0.0.1:port, one
    selectors loop.  Prints 'ready N SECONDS' (N joined) on stdout, then
    answers PINGs and discards the rest until stdin closes or 1 h passes."""
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    state = {}          # fd -> [sock, phase, buf]; phase 0 registering, 1 joining, 2 in
    pending = list(range(n))
    inflight = 0
    joined = 0
    failed = 0

    def connect(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        nick = "c%04d" % i
        state[s.fileno()] = [s, 0, b"", ("NICK %s\r\nUSER %s 0 * :crowd\r\n"
                                         % (nick, nick)).encode()]
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)

    def close(fd):
        st = state.pop(fd, None)
        if st is not None:
            sel.unregister(st[0])
            st[0].close()

    sel.register(sys.stdin, selectors.EVENT_READ)
    deadline = t0 + 3600
    ready_sent = False
    while time.monotonic() < deadline:
        # at most 16 connections registering or joining at once
        while pending and inflight < 16:
            connect(pending.pop(0))
            inflight += 1
        if not ready_sent and joined + failed >= n:
            sys.stdout.write("ready %d %.1f\n" % (joined, time.monotonic() - t0))
            sys.stdout.flush()
            ready_sent = True
        if not ready_sent and time.monotonic() - t0 > 900:
            sys.stdout.write("ready %d %.1f (gave up on the rest)\n"
                             % (joined, time.monotonic() - t0))
            sys.stdout.flush()
            ready_sent = True
            pending = []
        for key, ev in sel.select(1.0):
            if key.fileobj is sys.stdin:
                if not os.read(sys.stdin.fileno(), 4096):
                    return 0
                continue
            fd = key.fd
            st = state.get(fd)
            if st is None:
                continue
            s = st[0]
            if ev & selectors.EVENT_WRITE and st[3]:
                try:
                    k = s.send(st[3])
                    st[3] = st[3][k:]
                except BlockingIOError:
                    pass
                except OSError:
                    close(fd)
                    inflight -= 1
                    failed += 1
                    continue
                if not st[3]:
                    sel.modify(s, selectors.EVENT_READ)
            if not ev & selectors.EVENT_READ:
                continue
            try:
                data = s.recv(262144)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                if st[1] < 2:
                    inflight -= 1
                    failed += 1
                close(fd)
                continue
            if st[1] == 2 and b"PING" not in data:
                continue  # the common case: JOIN lines of the others, discarded
            buf = st[2] + data
            lines = buf.split(b"\n")
            st[2] = lines.pop()[-512:]
            out = b""
            for line in lines:
                if line.startswith(b"PING"):
                    out += b"PONG" + line[4:].rstrip(b"\r") + b"\r\n"
                    continue
                p = line.split(b" ", 3)
                if len(p) < 2:
                    continue
                if st[1] == 0 and p[1] == b"001":
                    st[1] = 1
                    out += ("JOIN %s\r\n" % chan).encode()
                elif st[1] == 0 and p[1] in (b"433", b"432", b"465") or p[0] == b"ERROR":
                    if st[1] < 2:
                        inflight -= 1
                        failed += 1
                    st[1] = 3
                elif st[1] == 1 and p[1] == b"366":
                    st[1] = 2
                    inflight -= 1
                    joined += 1
            if st[1] == 3:
                close(fd)
                continue
            if out:
                try:
                    s.send(out)
                except OSError:
                    pass
    return 0


class BusySampler(threading.Thread):
    """The longest stretch a process ran without a break (its main loop
    stalled in one callback at least that long), GLib-free: every 5 ms its
    CPU time (/proc/PID/sched) against the wall clock; an interval in which
    it ran >= 90 % of the time is busy, consecutive busy intervals add up."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.longest = 0.0

    def run(self):
        t_prev, c_prev = time.monotonic(), _cpu_one(self.pid)
        run = 0.0
        for _ in range(200 * 600):  # bounded: 10 minutes at 5 ms
            if self.stop.wait(0.005):
                break
            t, c = time.monotonic(), _cpu_one(self.pid)
            dt = t - t_prev
            if dt > 0 and (c - c_prev) >= 0.9 * dt:
                run += dt
                self.longest = max(self.longest, run)
            else:
                run = 0.0
            t_prev, c_prev = t, c


class BigEnv(MucEnv):
    """Prosody + ngircd + N crowd occupants in #big; ferry, then Biboumi."""

    def __init__(self, args):
        super().__init__("ferry", 1, args)
        self.crowd = None
        self.unick = ["u000", "pinger"]

    def room_of(self, kind):
        if kind == "biboumi":
            return "#big%%127.0.0.1@%s" % BIB_JID
        return "#big@%s" % FERRY_JID

    def start_crowd(self, n):
        self.crowd = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--crowd",
             "%d,%d,#big" % (self.irc.port, n)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        line = self.crowd.stdout.readline().split()
        if len(line) < 3 or line[0] != "ready":
            raise BenchError("crowd did not start: %r" % line)
        return int(line[1]), float(line[2])

    def stop_crowd(self):
        if self.crowd is not None and self.crowd.poll() is None:
            self.crowd.stdin.close()
            try:
                self.crowd.wait(30)
            except subprocess.TimeoutExpired:
                self.crowd.kill()
                self.crowd.wait(5)

    async def measure_join(self, kind, user, pinger, nick):
        """Join #big; pings every 50 ms meanwhile.  Returns (join s, largest
        gap between ping answers s, occupants seen)."""
        room = self.room_of(kind).lower()
        domain = BIB_JID if kind == "biboumi" else FERRY_JID
        loop = asyncio.get_running_loop()
        answers = []
        occupants = [0]
        self_fut = loop.create_future()

        def on_presence(client, el):
            frm = (el.get("from") or "").lower()
            if frm.split("/")[0] != room:
                return
            if el.get("type") == "error":
                if not self_fut.done():
                    self_fut.set_exception(BenchError("%s: join of %s failed: %s" % (
                        kind, room, iq_error_condition(el))))
                return
            occupants[0] += 1
            if "110" in status_codes(el) and not self_fut.done():
                self_fut.set_result(time.monotonic())
        user.on_presence = on_presence
        stop = [False]

        async def ping_loop():
            for _ in range(20 * 600):  # bounded: 10 minutes at 50 ms
                if stop[0]:
                    return
                f = pinger.iq_nowait("<ping xmlns='%s'/>" % NS_PING, to=domain)
                f.add_done_callback(lambda f: answers.append(time.monotonic()))
                await asyncio.sleep(0.05)
        pinging = asyncio.ensure_future(ping_loop())
        await asyncio.sleep(1.0)
        t0 = time.monotonic()
        user.presence(to="%s/%s" % (self.room_of(kind), nick),
                      extra="<x xmlns='%s'><history maxstanzas='0'/></x>" % NS_MUC)
        try:
            t_self = await asyncio.wait_for(asyncio.shield(self_fut), self.args.big_timeout)
        except asyncio.TimeoutError:
            raise BenchError("%s: no self-presence from %s within %ds (%d occupants seen)"
                             % (kind, room, self.args.big_timeout, occupants[0])) from None
        await asyncio.sleep(2.0)
        stop[0] = True
        await pinging
        user.on_presence = None
        during = [t for t in answers if t >= t0 - 0.05]
        gaps = [b - a for a, b in zip([t0] + during, during)]
        return t_self - t0, max(gaps) if gaps else None, occupants[0]

    async def big(self):
        a = self.args
        got, secs = await asyncio.get_running_loop().run_in_executor(
            None, self.start_crowd, a.big)
        log("  crowd: %d of %d occupants joined #big in %.1fs" % (got, a.big, secs))
        self.add("big_occupants", got)
        self.add("big_crowd_setup_s", secs)
        res = {}
        for kind in a.big_runs:
            if kind == "ferry":
                self.start_gateway()
                user = await LeanXmpp.connect("u000@localhost", "pw", self.prosody.c2s_port)
                pinger = await LeanXmpp.connect("pinger@localhost", "pw",
                                                self.prosody.c2s_port)
                await self.ferry_register(user)
                self.observer = await ChanIrc.connect(self.irc.port, "obs", timeout=60)
                await self.wait_ison(["u000"], True, timeout=60)
                nick = "u000"
            else:
                self.gw = self.run.add(Biboumi(self.run.path("biboumi"),
                                               self.bprosody.component_port,
                                               self.bprosody.secret))
                self.kind = "biboumi"
                self.start_gateway()
                user = await LeanXmpp.connect("u000@localhost", "pw", self.bprosody.c2s_port)
                pinger = await LeanXmpp.connect("pinger@localhost", "pw",
                                                self.bprosody.c2s_port)
                await self.biboumi_configure(user)
                await self.biboumi_history(user, False)
                nick = "b000"
            await asyncio.sleep(1.0)
            cpu0 = cpu_seconds(self.gateway_pids())
            sampler = BusySampler(self.gateway_pids()[0])
            sampler.start()
            try:
                join_s, gap, occ = await self.measure_join(kind, user, pinger, nick)
            finally:
                sampler.stop.set()
                sampler.join(5)
            cpu1 = cpu_seconds(self.gateway_pids())
            rss, pss = memory_kib(self.gateway_pids())
            res[kind] = {"join_s": join_s, "max_gap_s": gap, "occupant_presences": occ,
                         "cpu_s": cpu1 - cpu0, "pss_kib": pss, "main_busy_s": sampler.longest}
            log("  %s: self-presence %.2fs after the join, longest ping gap %.3fs, "
                "main process busy at most %.3fs at a stretch, %d occupant presences"
                % (kind, join_s, gap or -1, sampler.longest, occ))
            for c in (user, pinger):
                c.transport.abort()
            if kind == "ferry":
                self.gw.stop()
        self.figures["big"] = res

    def start_servers(self):
        super().start_servers()
        self.prosody.write_accounts("localhost", {"u000": "pw", "pinger": "pw"})
        if "biboumi" in self.args.big_runs:
            self.bprosody = self.run.add(Prosody(
                self.run.path("prosody-b"), vhosts=["localhost"], component=BIB_JID,
                secret="bench-%s" % os.urandom(4).hex(), auth="internal_plain",
                log_level="warn"))
            self.bprosody.write_accounts("localhost", {"u000": "pw", "pinger": "pw"})
            self.bprosody.start()


def run_big(args):
    env = BigEnv(args)
    err = run_guarded(env, "join of a channel with %d occupants" % args.big, env.big, args,
                      tail=15, finish=lambda e: e.stop_crowd())
    return env.figures, err


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--crowd":
        port, n, chan = sys.argv[2].split(",")
        sys.exit(crowd_main(int(port), int(n), chan))
    sys.exit("usage: bench_muc_big.py --crowd PORT,N,CHANNEL (run by bench_muc.py --big N)")
