#!/usr/bin/python3
"""Group chats in ferry-worker alone (issue 11): the worker driven through
tests/tools/worker_driver.py against a real ngircd, raw IRC peers (bob,
who creates every channel and so is its operator, carol, dave) on the
other side.

Checks the worker protocol's chat contract (worker_protocol.h,
briefs' spec): join answers (occupants with flags, then CHAT_JOINED with
the topic and who set it; a channel without topic), a repeated JOIN_CHAT
resyncs without a second IRC JOIN, messages both ways (the echo with its
seq exactly once and before the IMS_SENT covering it, `<` `&` non-ASCII
intact, one IRC line per line, /me <-> CTCP ACTION, a channel NOTICE as a
NOTICE, mIRC bold as <B>, a 404 as a failed IM_RESULT), join failures with
their reasons within the bound (+k missing/wrong, +l, +b, +i, a bad name),
renames (another's, ours, ours refused), part/quit reasons, kicks (another,
us, then a rejoin), +o/-o, topics both ways (refused by +t), invitations
both ways, the room list and PROBE_ROOM, and LEAVE_CHAT. Prints TAP.
"""

import asyncio
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

from harness import builddir, run_test  # noqa: E402
from servers import Ngircd, Prosody, _read, free_ports  # noqa: E402
from transport import FakeIrc, IrcPeer, XmppUser  # noqa: E402
import worker_driver as wd  # noqa: E402

ACC = 1
LOG = [None]  # the worker's log file
JOIN_BOUND = 35.0  # the worker answers every JOIN_CHAT within 30 s

# worker_protocol.h's enums
FAIL_OTHER, FAIL_KEY, FAIL_BANNED, FAIL_INVITE, FAIL_FULL, FAIL_NICK, FAIL_NO_ROOM, \
    FAIL_NETWORK = range(8)
FLAG_OP = 0x4
LEFT_PART, LEFT_QUIT, LEFT_KICK = 0, 1, 2
OP_TOPIC, OP_NICK, OP_INVITE = 1, 2, 3
ROOM_ROOM, ROOM_NOT_ROOM = 1, 2


def pl(t, *v):
    return wd.payload(t, tuple(v))


# The events that name a room as libpurple spells it: prpl-irc keeps the
# name of its JOIN line (ngircd echoes the client's "#Ferry"); IRC names
# compare case-insensitively, so the checks see them lower-cased.
NAMED = None


def norm(m):
    global NAMED
    if NAMED is None:
        NAMED = {wd.CHAT_JOINED, wd.CHAT_OCCUPANT, wd.CHAT_OCCUPANT_LEFT, wd.CHAT_RENAMED,
                 wd.CHAT_MESSAGE, wd.CHAT_TOPIC, wd.CHAT_LEFT, wd.CHAT_ERROR, wd.NOTICE}
    if m is None or m[0] not in NAMED:
        return m
    return (m[0], m[1], (m[2][0].lower(),) + tuple(m[2][1:]))


class Chat:
    """The worker and what it sent, with async waits (the driver blocks:
    it runs in a thread, so the IRC peers keep reading)."""

    def __init__(self, w):
        self.w = w

    async def recv(self, t, where=None, timeout=15.0):
        w = (lambda v: where(norm((t, ACC, v))[2])) if where else None
        try:
            return norm(await asyncio.to_thread(self.w.recv_type, t, ACC, timeout, w))
        except wd.WorkerError:
            return None

    async def until(self, pred, timeout=15.0):
        """Every message up to and including the first satisfying PRED
        (None at the end when it did not come)."""
        got = []
        while self.w.pending:
            got.append(norm(self.w.pending.pop(0)))
            if pred(got[-1]):
                return got

        def match(m):
            got.append(norm(m))
            return pred(got[-1])
        try:
            await asyncio.to_thread(self.w.recv_until, match, timeout)
        except wd.WorkerError:
            got.append(None)
        # recv_until keeps the non-matching ones pending: they are in GOT
        self.w.pending = []
        return got

    async def drain(self, timeout=1.0):
        return [norm(m) for m in await asyncio.to_thread(self.w.drain, timeout)]

    def send(self, t, *v):
        self.w.send(t, ACC, pl(t, *v))


async def line_seen(peer, regex, since=0, timeout=10.0):
    """The first line of PEER from index SINCE matching REGEX, or None."""
    rx = re.compile(regex, re.I)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in peer.lines[since:]:
            if rx.search(line):
                return line
        await asyncio.sleep(0.05)
    return None


def is_joined(room):
    return lambda m: m is not None and m[0] == wd.CHAT_JOINED and m[2][0].lower() == room.lower()


async def scenario(tap, irc, chat):
    c = chat
    async with IrcPeer(irc.port, "bob") as bob, IrcPeer(irc.port, "carol") as carol:
        bob.send("JOIN #ferry")
        bob.send("TOPIC #ferry :hello topic")
        bob.send("JOIN #empty")
        await line_seen(bob, r" 366 bob #empty ")

        # ---- join: occupants with flags, then CHAT_JOINED with the topic
        c.send(wd.JOIN_CHAT, "#Ferry", "", "")
        got = await c.until(is_joined("#ferry"), JOIN_BOUND)
        joined = got[-1]
        occ = {m[2][1]: m[2][2] for m in got[:-1] if m and m[0] == wd.CHAT_OCCUPANT}
        tap.ok(joined is not None and joined[2][:5] == ("#ferry", "#Ferry", "alice",
                                                        "hello topic", "bob"),
               "join: CHAT_JOINED (the room, asked, our nick, topic, its setter)",
               [wd.fmt(m) for m in got if m])
        tap.ok(occ == {"bob": FLAG_OP, "alice": 0},
               "join: every occupant came before CHAT_JOINED, bob as op, ourselves once",
               repr(occ))
        tap.ok(all(m[2][4] == m[2][1] for m in got[:-1] if m and m[0] == wd.CHAT_OCCUPANT),
               "join: an IRC occupant's pm name is its nick")
        # WHO replies re-fire chat_update_user unchanged: no repeats
        later = await c.drain(2.0)
        tap.ok(not any(m[0] == wd.CHAT_OCCUPANT for m in later),
               "join: the WHO replies after the join repeat no occupant",
               [wd.fmt(m) for m in later])

        c.send(wd.JOIN_CHAT, "#empty", "", "")
        got = await c.until(is_joined("#empty"), JOIN_BOUND)
        tap.ok(got[-1] is not None and got[-1][2][3] == "" and got[-1][2][4] == "",
               "join: a channel without topic is joined with topic ''",
               got[-1] and wd.fmt(got[-1]))

        # ---- resync: the whole state again, no second IRC JOIN
        await line_seen(bob, r":alice!\S+ JOIN :?#empty")
        mark = len(bob.lines)
        c.send(wd.JOIN_CHAT, "#ferry", "", "")
        got = await c.until(is_joined("#ferry"), 10)
        occ2 = {m[2][1] for m in got[:-1] if m and m[0] == wd.CHAT_OCCUPANT}
        tap.ok(got[-1] is not None and occ2 == {"bob", "alice"},
               "resync: a second JOIN_CHAT gets every occupant, then CHAT_JOINED",
               [wd.fmt(m) for m in got if m])
        tap.ok(await line_seen(bob, r":alice!\S+ JOIN", mark, 1.5) is None,
               "resync: no second JOIN on IRC")

        # ---- messages to IRC: echo once with its seq, before its IMS_SENT
        mark = len(bob.lines)
        c.send(wd.SEND_CHAT, 1, "#ferry", "a &lt; b &amp; c \u00fcn\u00ef", 0)
        got = await c.until(lambda m: m is None or (m[0] == wd.IMS_SENT and m[2][0] >= 1), 10)
        echoes = [m for m in got if m and m[0] == wd.CHAT_MESSAGE and m[2][4] == 1]
        line = await line_seen(bob, r"PRIVMSG #ferry :", mark)
        tap.ok(line is not None and line.endswith(":a < b & c \u00fcn\u00ef"),
               "to IRC: < & and non-ASCII arrive intact", repr(line))
        tap.ok(len(echoes) == 1 and echoes[0][2][:3] == ("#ferry", "alice",
                                                          "a &lt; b &amp; c \u00fcn\u00ef")
               and got[-1] is not None,
               "to IRC: one echo (CHAT_MESSAGE seq 1, the text as sent) before IMS_SENT",
               [wd.fmt(m) for m in got if m])
        later = await c.drain(1.0)
        tap.ok(not any(m[0] == wd.CHAT_MESSAGE for m in later),
               "to IRC: no second copy of our line", [wd.fmt(m) for m in later])

        mark = len(bob.lines)
        c.send(wd.SEND_CHAT, 2, "#ferry", "l1\nl2\nl3", 0)
        await c.recv(wd.CHAT_MESSAGE, lambda v: v[4] == 2, 10)
        await line_seen(bob, r"PRIVMSG #ferry :l3", mark)
        lines = [ln.split(" :", 1)[1] for ln in bob.lines[mark:] if " PRIVMSG #ferry :" in ln]
        tap.ok(lines == ["l1", "l2", "l3"], "to IRC: three lines, three PRIVMSGs", repr(lines))

        mark = len(bob.lines)
        c.send(wd.SEND_CHAT, 3, "#ferry", "/me waves", 0)
        e = await c.recv(wd.CHAT_MESSAGE, lambda v: v[4] == 3, 10)
        line = await line_seen(bob, r"PRIVMSG #ferry :", mark)
        tap.ok(line is not None and line.endswith(":\x01ACTION waves\x01") and e is not None
               and e[2][2] == "/me waves", "to IRC: /me is a CTCP ACTION, echoed as /me",
               repr(line))

        # ---- messages from IRC
        bob.send("PRIVMSG #ferry :hi <there> & \u00fc")
        m = await c.recv(wd.CHAT_MESSAGE, lambda v: v[1] == "bob")
        tap.ok(m is not None and m[2][2] == "hi &lt;there&gt; &amp; \u00fc" and m[2][4] == 0,
               "from IRC: a line arrives as HTML with seq 0", m and wd.fmt(m))
        bob.send("PRIVMSG #ferry :\x01ACTION dances\x01")
        m = await c.recv(wd.CHAT_MESSAGE, lambda v: v[1] == "bob")
        tap.ok(m is not None and m[2][2] == "/me dances", "from IRC: an ACTION arrives as /me",
               m and wd.fmt(m))
        bob.send("NOTICE #ferry :a notice")
        bob.send("PRIVMSG #ferry :\x02bold\x02 text")
        got = await c.until(lambda m: m is None or (m[0] == wd.CHAT_MESSAGE and
                                                    "bold" in m[2][2]), 10)
        notices = [m for m in got if m and m[0] == wd.NOTICE]
        tap.ok(got[-1] is not None and "<B>bold</B>" in got[-1][2][2],
               "from IRC: mIRC bold arrives as libpurple's <B>", got[-1] and wd.fmt(got[-1]))
        tap.ok(len(notices) == 1 and notices[0][2][0] == "#ferry" and
               "a notice" in notices[0][2][1] and
               not any(m and m[0] == wd.CHAT_MESSAGE and "notice" in m[2][2] for m in got),
               "from IRC: a channel NOTICE is a NOTICE (title: the room), no CHAT_MESSAGE",
               [wd.fmt(m) for m in got if m])

        # ---- bounds: libpurple's per-conversation history is cleared
        # (the core writes "x entered/left the room" there, and keeps it)
        async with IrcPeer(irc.port, "eve") as eve:
            for i in range(40):
                eve.send("JOIN #ferry")
                eve.send("PART #ferry :p%d" % i)
            m = await c.recv(wd.CHAT_OCCUPANT_LEFT, lambda v: v[4] == "p39", 30)
        cleared = [int(x) for x in re.findall(r"#ferry: history cleared \((\d+) entries\)",
                                              _read(LOG[0]), re.I)]
        tap.ok(m is not None and cleared and max(cleared) >= 1,
               "bounds: the room's history (%r entries) is cleared every 64 lines" % cleared)

        # ---- join failures
        bob.send("JOIN #keyed")
        bob.send("MODE #keyed +k sesame")
        bob.send("JOIN #full")
        bob.send("MODE #full +l 1")
        bob.send("JOIN #banned")
        bob.send("MODE #banned +b alice!*@*")
        bob.send("JOIN #invite")
        bob.send("MODE #invite +i")
        await line_seen(bob, r"MODE #invite \+i")
        cases = [("#keyed", "", FAIL_KEY, "a missing key"),
                 ("#keyed", "wrong", FAIL_KEY, "a wrong key"),
                 ("#full", "", FAIL_FULL, "a full channel (+l)"),
                 ("#banned", "", FAIL_BANNED, "a ban (+b)"),
                 ("#invite", "", FAIL_INVITE, "invite only (+i)"),
                 ("nochannel", "", FAIL_NO_ROOM, "a name that is no channel")]
        for room, key, reason, what in cases:
            t0 = time.monotonic()
            c.send(wd.JOIN_CHAT, room, key, "")
            got = await c.until(lambda m: m is None or (m[0] in (wd.CHAT_JOIN_FAILED,
                                                                 wd.CHAT_JOINED)), JOIN_BOUND)
            m = got[-1]
            took = time.monotonic() - t0
            tap.ok(m is not None and m[0] == wd.CHAT_JOIN_FAILED and m[2][0] == room and
                   m[2][1] == reason and m[2][2] != "",
                   "join failure: %s -> reason %d with the server's text (%.1f s)"
                   % (what, reason, took), m and wd.fmt(m))
        c.send(wd.JOIN_CHAT, "#keyed", "sesame", "")
        got = await c.until(is_joined("#keyed"), JOIN_BOUND)
        tap.ok(got[-1] is not None, "join: the right key joins")

        # ---- injection: a line break (or, on IRC, a space, comma or BEL in
        # a channel name) never reaches the server as a line of its own
        mark = len(bob.lines)
        inj = "\r\nPRIVMSG bob :INJ"
        joins = [("#inj" + inj + "1", "", FAIL_NO_ROOM, "a room name with CR LF"),
                 ("#inj\nPRIVMSG bob :INJ2", "", FAIL_NO_ROOM, "a room name with LF"),
                 ("#keyed", "k" + inj + "3", FAIL_OTHER, "a key with CR LF"),
                 ("#a,#inj4", "", FAIL_NO_ROOM, "a room name with a comma"),
                 ("#a #inj5", "", FAIL_NO_ROOM, "a room name with a space"),
                 ("#a\x07b", "", FAIL_NO_ROOM, "a room name with BEL")]
        for room, key, reason, what in joins:
            c.send(wd.JOIN_CHAT, room, key, "")
            m = await c.recv(wd.CHAT_JOIN_FAILED, lambda v, r=room: v[0] == r, 10)
            tap.ok(m is not None and m[2][1] == reason and m[2][2] != "",
                   "injection: %s is refused (reason %d)" % (what, reason), m and wd.fmt(m))
        c.send(wd.SET_CHAT_TOPIC, "#ferry", "t" + inj + "6")
        m = await c.recv(wd.CHAT_ERROR, lambda v: v[1] == OP_TOPIC, 10)
        tap.ok(m is not None and "line break" in m[2][2],
               "injection: a topic with CR LF is CHAT_ERROR TOPIC", m and wd.fmt(m))
        c.send(wd.CHAT_INVITE, "#ferry", "bob" + inj + "7", "")
        c.send(wd.CHAT_INVITE, "#ferry", "bob", "why" + inj + "8")
        got = await c.until(lambda m: m is None or (m[0] == wd.CHAT_ERROR and
                                                    m[2][1] == OP_INVITE and
                                                    "line break" in m[2][2]), 10)
        tap.ok(got[-1] is not None, "injection: an invitation with CR LF is CHAT_ERROR INVITE",
               [wd.fmt(m) for m in got if m])
        await c.drain(1.0)
        tap.ok(await line_seen(bob, r"INJ|:alice!\S+ JOIN :?#(inj|a)", mark, 3.0) is None,
               "injection: the IRC peer saw no injected command", repr(bob.lines[mark:]))

        # ---- renames
        carol.send("JOIN #ferry")
        m = await c.recv(wd.CHAT_OCCUPANT, lambda v: v[1] == "carol")
        tap.ok(m is not None and m[2][0] == "#ferry", "a joiner is a CHAT_OCCUPANT",
               m and wd.fmt(m))
        carol.send("NICK carol2")
        m = await c.recv(wd.CHAT_RENAMED, lambda v: v[1] == "carol")
        tap.ok(m is not None and m[2] == ("#ferry", "carol", "carol2"),
               "rename: another's NICK is CHAT_RENAMED", m and wd.fmt(m))
        c.send(wd.SET_CHAT_NICK, "#ferry", "alice2")
        got = await c.until(lambda m: m is None or (m[0] == wd.CHAT_RENAMED and
                                                    m[2][0] == "#keyed"), 10)
        renamed = {m[2][0]: m[2][1:] for m in got if m and m[0] == wd.CHAT_RENAMED}
        tap.ok(renamed.get("#ferry") == ("alice", "alice2") and
               renamed.get("#empty") == ("alice", "alice2") and
               renamed.get("#keyed") == ("alice", "alice2"),
               "rename: ours is a CHAT_RENAMED in every room", repr(renamed))
        c.send(wd.SET_CHAT_NICK, "#ferry", "bob")
        m = await c.recv(wd.CHAT_ERROR, timeout=10)
        tap.ok(m is not None and m[2][0] == "" and m[2][1] == OP_NICK and "bob" in m[2][2],
               "rename: ours refused (433) is CHAT_ERROR('', NICK, text)", m and wd.fmt(m))

        # ---- part, quit
        carol.send("PART #ferry :see you")
        m = await c.recv(wd.CHAT_OCCUPANT_LEFT, lambda v: v[1] == "carol2")
        tap.ok(m is not None and m[2][2:] == (LEFT_PART, "", "see you"),
               "part: CHAT_OCCUPANT_LEFT PART with the reason", m and wd.fmt(m))
        carol.send("JOIN #ferry")
        await c.recv(wd.CHAT_OCCUPANT, lambda v: v[1] == "carol2")
        carol.send("QUIT :gone fishing")
        m = await c.recv(wd.CHAT_OCCUPANT_LEFT, lambda v: v[1] == "carol2")
        tap.ok(m is not None and m[2][2] == LEFT_QUIT and "gone fishing" in m[2][4],
               "quit: CHAT_OCCUPANT_LEFT QUIT with the reason", m and wd.fmt(m))

        # ---- modes
        bob.send("MODE #ferry +o alice2")
        m = await c.recv(wd.CHAT_OCCUPANT, lambda v: v[1] == "alice2")
        tap.ok(m is not None and m[2][2] == FLAG_OP, "mode +o: CHAT_OCCUPANT with OP",
               m and wd.fmt(m))

        # ---- topics
        bob.send("TOPIC #ferry :from bob")
        m = await c.recv(wd.CHAT_TOPIC)
        tap.ok(m is not None and m[2] == ("#ferry", "bob", "from bob"),
               "topic from IRC: CHAT_TOPIC with who", m and wd.fmt(m))
        mark = len(bob.lines)
        c.send(wd.SET_CHAT_TOPIC, "#ferry", "from alice")
        m = await c.recv(wd.CHAT_TOPIC)
        tap.ok(m is not None and m[2][2] == "from alice" and
               await line_seen(bob, r"TOPIC #ferry :from alice", mark) is not None,
               "topic to IRC: TOPIC sent, echoed as CHAT_TOPIC", m and wd.fmt(m))
        bob.send("MODE #ferry -o alice2")
        m = await c.recv(wd.CHAT_OCCUPANT, lambda v: v[1] == "alice2")
        tap.ok(m is not None and m[2][2] == 0, "mode -o: CHAT_OCCUPANT without OP",
               m and wd.fmt(m))
        bob.send("MODE #ferry +t")
        await line_seen(bob, r"MODE #ferry \+t")
        c.send(wd.SET_CHAT_TOPIC, "#ferry", "refused")
        m = await c.recv(wd.CHAT_ERROR)
        tap.ok(m is not None and m[2][:2] == ("#ferry", OP_TOPIC) and m[2][2] != "",
               "topic refused (+t, not op): CHAT_ERROR(room, TOPIC, text)", m and wd.fmt(m))

        # ---- 404: a moderated channel refuses our line
        bob.send("MODE #ferry +m")
        await line_seen(bob, r"MODE #ferry \+m")
        await asyncio.sleep(0.3)
        c.send(wd.SEND_CHAT, 4, "#ferry", "muted", 0)
        got = await c.until(lambda m: m is None or (m[0] in (wd.IM_RESULT, wd.IMS_SENT) and
                                                    m[2][0] >= 4), 10)
        tap.ok(got[-1] is not None and got[-1][0] == wd.IM_RESULT and not got[-1][2][1] and
               not any(m and m[0] == wd.CHAT_MESSAGE and m[2][4] == 4 for m in got),
               "404: IM_RESULT sent=false and no echo", [wd.fmt(m) for m in got if m])
        bob.send("MODE #ferry -m")

        # ---- invitations
        bob.send("INVITE alice2 #invite")
        m = await c.recv(wd.CHAT_INVITED)
        tap.ok(m is not None and m[2][:2] == ("#invite", "bob"),
               "invite from IRC: CHAT_INVITED(room, inviter)", m and wd.fmt(m))
        async with IrcPeer(irc.port, "dave") as dave:
            mark = len(dave.lines)
            c.send(wd.CHAT_INVITE, "#ferry", "dave", "")
            tap.ok(await line_seen(dave, r"INVITE dave :?#ferry", mark) is not None,
                   "invite to IRC: CHAT_INVITE is an INVITE", repr(dave.lines[mark:]))
            dave.send("JOIN #ferry")
            await c.recv(wd.CHAT_OCCUPANT, lambda v: v[1] == "dave")
            # ---- kicks
            bob.send("KICK #ferry dave :out you go")
            m = await c.recv(wd.CHAT_OCCUPANT_LEFT, lambda v: v[1] == "dave")
            tap.ok(m is not None and m[2][2:] == (LEFT_KICK, "bob", "out you go"),
                   "kick of another: CHAT_OCCUPANT_LEFT KICK (actor, reason)", m and wd.fmt(m))
        bob.send("KICK #ferry alice2 :you too")
        m = await c.recv(wd.CHAT_LEFT)
        tap.ok(m is not None and m[2] == ("#ferry", LEFT_KICK, "bob", "you too"),
               "kick of us: CHAT_LEFT KICK (actor, reason)", m and wd.fmt(m))
        later = await c.drain(1.0)
        tap.ok(not any(m[0] == wd.CHAT_OCCUPANT_LEFT for m in later),
               "kick of us: no occupant events after CHAT_LEFT", [wd.fmt(m) for m in later])
        c.send(wd.JOIN_CHAT, "#ferry", "", "")
        got = await c.until(is_joined("#ferry"), JOIN_BOUND)
        occ = {m[2][1] for m in got[:-1] if m and m[0] == wd.CHAT_OCCUPANT}
        tap.ok(got[-1] is not None and occ == {"bob", "alice2"} and
               not any(m and m[0] == wd.CHAT_OCCUPANT_LEFT for m in got),
               "kick of us: a rejoin works, with the current occupants only",
               [wd.fmt(m) for m in got if m])

        # ---- room list and probes
        c.send(wd.LIST_ROOMS)
        got = await c.until(lambda m: m is None or (m[0] == wd.ROOM_LIST and m[2][1]), 30)
        rooms = {}
        for m in got:
            if m and m[0] == wd.ROOM_LIST:
                rooms.update(m[2][0])
        tap.ok(got[-1] is not None and got[-1][2][2] and
               rooms.get("#ferry", "").split("\t") == ["2", "from alice"],
               "room list: ROOM_LIST done and complete, '#ferry' -> 'USERS\\tTOPIC'",
               repr(rooms))
        c.send(wd.PROBE_ROOM, "#ferry")
        c.send(wd.PROBE_ROOM, "bob")
        a = await c.recv(wd.ROOM_INFO, lambda v: v[0] == "#ferry")
        b = await c.recv(wd.ROOM_INFO, lambda v: v[0] == "bob")
        tap.ok(a is not None and a[2][1] == ROOM_ROOM and b is not None and
               b[2][1] == ROOM_NOT_ROOM, "probe: '#ferry' is a room, 'bob' is not")

        # ---- leaving
        mark = len(bob.lines)
        c.send(wd.LEAVE_CHAT, "#ferry")
        m = await c.recv(wd.CHAT_LEFT)
        tap.ok(m is not None and m[2][:2] == ("#ferry", LEFT_PART) and
               await line_seen(bob, r":alice2!\S+ PART #ferry", mark) is not None,
               "leave: PART on IRC and CHAT_LEFT PART", m and wd.fmt(m))
        c.send(wd.SEND_CHAT, 5, "#ferry", "gone", 0)
        m = await c.recv(wd.IM_RESULT, lambda v: v[0] == 5)
        tap.ok(m is not None and not m[2][1], "after leaving: SEND_CHAT fails (IM_RESULT)",
               m and wd.fmt(m))


async def fake_scenario(tap, w):
    """A server that joins us by itself and sends no NAMES, and one that
    never answers a JOIN."""
    fake = wd_fake = FakeIrc()
    port = free_ports(1)[0]
    server = await asyncio.start_server(fake.serve, "127.0.0.1", port)
    try:
        opts = {"port": str(port), "ssl": "false", "ratelimit-interval": "0"}
        w.send(wd.LOGIN, 3, wd.login_payload("prpl-irc", "zed@127.0.0.1", "", opts))
        m = await asyncio.to_thread(w.recv_type, wd.CONNECTED, 3, 30)
        tap.ok(m is not None, "fake server: zed signs on")
        await wd_fake.send(":zed!u@h JOIN :#forced")
        t0 = time.monotonic()
        got = []
        m = await asyncio.to_thread(
            w.recv_until, lambda x: got.append(x) or (x[1] == 3 and x[0] == wd.CHAT_JOINED), 15)
        took = time.monotonic() - t0
        occ = [x[2][1] for x in got if x[1] == 3 and x[0] == wd.CHAT_OCCUPANT]
        tap.ok(m[2][:3] == ("#forced", "", "zed") and 4 <= took <= 8 and occ == ["zed"],
               "forced JOIN, no NAMES: CHAT_JOINED (asked '') with ourselves, after "
               "%.1f s (bound 5 s)" % took, "%s %r" % (wd.fmt(m), occ))
        w.pending = []

        async def line_read(text):
            for _ in range(200):
                if any(text in x for x in fake.received):
                    return True
                await asyncio.sleep(0.05)
            return False

        def chat_error(op):
            return lambda x: x[1] == 3 and x[0] == wd.CHAT_ERROR and x[2][1] == op
        # refusals prpl-irc does not know: 438 for a nick, 477 for a topic
        w.send(wd.SET_CHAT_NICK, 3, pl(wd.SET_CHAT_NICK, "#forced", "zed2"))
        if await line_read(b"NICK zed2"):
            await fake.send(":fake 438 zed zed2 :Nick change too fast")
        m = await asyncio.to_thread(w.recv_until, chat_error(OP_NICK), 10)
        tap.ok(m[2][0] == "" and "too fast" in m[2][2],
               "nick refused by 438: CHAT_ERROR('', NICK, the server's text)", wd.fmt(m))
        w.send(wd.SET_CHAT_TOPIC, 3, pl(wd.SET_CHAT_TOPIC, "#forced", "t1"))
        if await line_read(b"TOPIC #forced :t1"):
            await fake.send(":fake 477 zed #forced :You need a registered nick")
        m = await asyncio.to_thread(w.recv_until, chat_error(OP_TOPIC), 10)
        tap.ok(m[2][0] == "#forced" and "registered" in m[2][2],
               "topic refused by 477: CHAT_ERROR(room, TOPIC, the server's text)", wd.fmt(m))
        # no answer at all: to a JOIN, a NICK and a TOPIC (all bound at 30 s)
        w.pending = []
        t0 = time.monotonic()
        w.send(wd.JOIN_CHAT, 3, pl(wd.JOIN_CHAT, "#silent", "", ""))
        w.send(wd.SET_CHAT_NICK, 3, pl(wd.SET_CHAT_NICK, "#forced", "zed3"))
        w.send(wd.SET_CHAT_TOPIC, 3, pl(wd.SET_CHAT_TOPIC, "#forced", "t2"))
        m = await asyncio.to_thread(w.recv_type, wd.CHAT_JOIN_FAILED, 3, JOIN_BOUND)
        took = time.monotonic() - t0
        tap.ok(m[2] == ("#silent", FAIL_NETWORK, "no answer from the server") and
               28 <= took <= JOIN_BOUND,
               "no answer to a JOIN: CHAT_JOIN_FAILED NETWORK after %.1f s (bound 30 s)"
               % took, wd.fmt(m))
        n = await asyncio.to_thread(w.recv_until, chat_error(OP_NICK), 10)
        t = await asyncio.to_thread(w.recv_until, chat_error(OP_TOPIC), 10)
        took = time.monotonic() - t0
        tap.ok(n[2] == ("", OP_NICK, "no answer from the server") and
               t[2] == ("#forced", OP_TOPIC, "no answer from the server") and
               took <= JOIN_BOUND + 5,
               "no answer to a NICK nor a TOPIC: CHAT_ERROR NICK and TOPIC 'no answer from "
               "the server' (%.1f s, bound 30 s)" % took, "%s %s" % (wd.fmt(n), wd.fmt(t)))
        w.send(wd.LOGOUT, 3, pl(wd.LOGOUT))
        await asyncio.to_thread(w.recv_type, wd.DISCONNECTED, 3, 10)
    finally:
        server.close()


class MucProsody(Prosody):
    """Prosody with a MUC component, conference.localhost (rooms unlocked
    at creation: no configuration form to submit first; public: listed)."""

    def _write_config(self):
        super()._write_config()
        with open(self.cfg_path, "a") as f:
            f.write('Component "conference.localhost" "muc"\n'
                    "    muc_room_locking = false\n"
                    "    muc_room_default_public = true\n")


MUC = "room@conference.localhost"


async def jabber_scenario(tap, run, w):
    """prpl-jabber against Prosody's MUC: probes, join, messages both ways
    with the reflection as echo, subject, leave."""
    prosody = run.add(MucProsody(run.path("prosody")))
    prosody.start()
    prosody.register("carol", "localhost", "carolpw")
    prosody.register("bob", "localhost", "bobpw")
    prosody.register("dave", "localhost", "davepw")
    opts = {"connect_server": "127.0.0.1", "port": str(prosody.c2s_port),
            "connection_security": "opportunistic_tls", "auth_plain_in_clear": "true"}
    async with XmppUser("bob@localhost", "bobpw", prosody.c2s_port) as bob:
        bob.xmpp.send_raw("<presence to='%s/bob'><x xmlns='%s'/></presence>"
                          % (MUC, "http://jabber.org/protocol/muc"))
        await bob.presence_from(MUC, None, timeout=10)
        w.send(wd.LOGIN, 4, wd.login_payload("prpl-jabber", "carol@localhost/ferry",
                                             "carolpw", opts))
        m = await asyncio.to_thread(w.recv_type, wd.CONNECTED, 4, 30)
        tap.ok(m is not None, "prpl-jabber: carol signs on")
        for room, kind, what in ((MUC, ROOM_ROOM, "a room"),
                                 ("nothere@conference.localhost", 3, "a missing room"),
                                 ("localhost", ROOM_NOT_ROOM, "a server")):
            w.send(wd.PROBE_ROOM, 4, pl(wd.PROBE_ROOM, room))
            m = await asyncio.to_thread(w.recv_type, wd.ROOM_INFO, 4, 15,
                                        lambda v, r=room: v[0] == r)
            tap.ok(m[2][1] == kind, "prpl-jabber probe: %s -> kind %d" % (what, kind),
                   wd.fmt(m))
        # a probe's answer counts only from the probed JID, and its id is
        # not guessable: bob (probed) keeps quiet, dave answers for him
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath
        asked = []
        bob.xmpp.remove_handler("Disco Info")
        bob.xmpp.register_handler(Callback(
            "test: silent disco#info",
            MatchXPath("{jabber:client}iq/{http://jabber.org/protocol/disco#info}query"),
            lambda iq: asked.append(iq["id"])))
        target = bob.xmpp.boundjid.full
        async with XmppUser("dave@localhost", "davepw", prosody.c2s_port) as dave:
            for i in range(2):
                w.send(wd.PROBE_ROOM, 4, pl(wd.PROBE_ROOM, target))
                t0 = time.monotonic()
                while len(asked) <= i and time.monotonic() - t0 < 10:
                    await asyncio.sleep(0.05)
                if len(asked) > i:
                    dave.xmpp.send_raw(
                        "<iq type='result' id='%s' to='carol@localhost/ferry'><query xmlns="
                        "'http://jabber.org/protocol/disco#info'><identity category="
                        "'conference' type='text' name='spoof'/></query></iq>" % asked[i])
                m = await asyncio.to_thread(w.recv_type, wd.ROOM_INFO, 4, 15,
                                            lambda v: v[0] == target)
            tap.ok(len(asked) == 2 and m[2][1] == 0,
                   "prpl-jabber probe: an answer from another JID than the probed one is "
                   "ignored (UNKNOWN at the timeout, not ROOM)", "%s %r" % (wd.fmt(m), asked))
            ids = [re.fullmatch(r"ferry-probe-\d+-([0-9a-f]{16})", x) for x in asked]
            tap.ok(all(ids) and ids[0].group(1) != ids[1].group(1),
                   "prpl-jabber probe: ids carry 64 random bits", repr(asked))
        got = []
        w.send(wd.JOIN_CHAT, 4, pl(wd.JOIN_CHAT, MUC, "", "carolnick"))
        m = await asyncio.to_thread(
            w.recv_until, lambda x: got.append(x) or (x[1] == 4 and x[0] == wd.CHAT_JOINED),
            JOIN_BOUND)
        occ = {x[2][1]: x[2] for x in got if x[1] == 4 and x[0] == wd.CHAT_OCCUPANT}
        tap.ok(m[2][0] == MUC and m[2][2] == "carolnick" and set(occ) == {"bob", "carolnick"}
               and occ["bob"][4] == MUC + "/bob",
               "prpl-jabber join: occupants (pm room/nick) then CHAT_JOINED as the nick asked",
               "%s %r" % (wd.fmt(m), occ))
        w.pending = []
        mark = bob.mark()
        w.send(wd.SEND_CHAT, 4, pl(wd.SEND_CHAT, 10, MUC, "hello &amp; bye", 0))
        m = await asyncio.to_thread(w.recv_type, wd.CHAT_MESSAGE, 4, 10)
        r = await bob.message_from(MUC, since=mark)
        tap.ok(m[2][1] == "carolnick" and m[2][4] == 10 and r is not None and
               r.child_text("body") == "hello & bye",
               "prpl-jabber message out: bob reads it, the reflection is the echo (seq 10)",
               wd.fmt(m))
        mark = bob.mark()
        w.send(wd.SEND_CHAT, 4, pl(wd.SEND_CHAT, 11, MUC, "/me waves", 0))
        got = await asyncio.to_thread(
            w.recv_until, lambda x: x[1] == 4 and x[0] in (wd.CHAT_MESSAGE, wd.IM_RESULT), 10)
        r = await bob.message_from(MUC, since=mark)
        tap.ok(got[0] == wd.CHAT_MESSAGE and got[2][4] == 11 and r is not None and
               r.child_text("body") == "/me waves",
               "prpl-jabber /me: sent as '/me waves' in the body (XEP-0245), echoed (seq 11)",
               wd.fmt(got))
        bob.send_message(MUC, "from bob <3", mtype="groupchat")
        m = await asyncio.to_thread(w.recv_type, wd.CHAT_MESSAGE, 4, 10,
                                    lambda v: v[1] == "bob")
        tap.ok(m[2][2] == "from bob &lt;3" and m[2][4] == 0,
               "prpl-jabber message in: CHAT_MESSAGE from bob, seq 0", wd.fmt(m))
        bob.xmpp.send_raw("<message to='%s' type='groupchat'><subject>new subject</subject>"
                          "</message>" % MUC)
        m = await asyncio.to_thread(w.recv_type, wd.CHAT_TOPIC, 4, 10)
        tap.ok(m[2][1:] == ("bob", "new subject"), "prpl-jabber subject: CHAT_TOPIC from bob",
               wd.fmt(m))
        # join failures: a nick in use, a password room
        bob.xmpp.send_raw("<presence to='other@conference.localhost/bob'><x xmlns='%s'/>"
                          "</presence>" % "http://jabber.org/protocol/muc")
        await bob.presence_from("other@conference.localhost", None, timeout=10)
        locked = "locked@conference.localhost"
        bob.xmpp.send_raw("<presence to='%s/bob'><x xmlns='%s'/></presence>"
                          % (locked, "http://jabber.org/protocol/muc"))
        await bob.presence_from(locked, None, timeout=10)
        form = ("<query xmlns='http://jabber.org/protocol/muc#owner'>"
                "<x xmlns='jabber:x:data' type='submit'>"
                "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig"
                "</value></field>"
                "<field var='muc#roomconfig_passwordprotectedroom'><value>1</value></field>"
                "<field var='muc#roomconfig_roomsecret'><value>sesame</value></field>"
                "</x></query>")
        r = await bob.iq(locked, form, itype="set")
        tap.ok(r is not None and r.type == "result", "prpl-jabber: bob makes a password room",
               str(r))
        w.send(wd.JOIN_CHAT, 4, pl(wd.JOIN_CHAT, locked, "", "carolnick"))
        m = await asyncio.to_thread(w.recv_until, lambda x: x[1] == 4 and x[0] in (
            wd.CHAT_JOINED, wd.CHAT_JOIN_FAILED), JOIN_BOUND)
        tap.ok(m[0] == wd.CHAT_JOIN_FAILED and m[2][:2] == (locked, FAIL_KEY),
               "prpl-jabber join failure: no password -> KEY", wd.fmt(m))
        w.send(wd.JOIN_CHAT, 4, pl(wd.JOIN_CHAT, "other@conference.localhost", "", "bob"))
        m = await asyncio.to_thread(w.recv_until, lambda x: x[1] == 4 and x[0] in (
            wd.CHAT_JOINED, wd.CHAT_JOIN_FAILED), JOIN_BOUND)
        tap.ok(m[0] == wd.CHAT_JOIN_FAILED and m[2][1] == FAIL_NICK,
               "prpl-jabber join failure: a nick in use -> NICK_IN_USE", wd.fmt(m))
        w.send(wd.JOIN_CHAT, 4, pl(wd.JOIN_CHAT, locked, "sesame", "carolnick"))
        m = await asyncio.to_thread(w.recv_until, lambda x: x[1] == 4 and x[0] in (
            wd.CHAT_JOINED, wd.CHAT_JOIN_FAILED), JOIN_BOUND)
        tap.ok(m[0] == wd.CHAT_JOINED and m[2][0] == locked,
               "prpl-jabber: the right password joins", wd.fmt(m))
        # a moderated room: carol joins as a visitor, the room refuses her
        # line with a <message type='error'/>; with voice the next one goes
        mod = "mod@conference.localhost"
        bob.xmpp.send_raw("<presence to='%s/bob'><x xmlns='%s'/></presence>"
                          % (mod, "http://jabber.org/protocol/muc"))
        await bob.presence_from(mod, None, timeout=10)
        form = ("<query xmlns='http://jabber.org/protocol/muc#owner'>"
                "<x xmlns='jabber:x:data' type='submit'>"
                "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig"
                "</value></field>"
                "<field var='muc#roomconfig_moderatedroom'><value>1</value></field>"
                "<field var='muc#roomconfig_roomname'><value>Moderated talk</value></field>"
                "</x></query>")
        r = await bob.iq(mod, form, itype="set")
        w.send(wd.JOIN_CHAT, 4, pl(wd.JOIN_CHAT, mod, "", "carolnick"))
        m = await asyncio.to_thread(w.recv_until, lambda x: x[1] == 4 and x[0] in (
            wd.CHAT_JOINED, wd.CHAT_JOIN_FAILED), JOIN_BOUND)
        tap.ok(r is not None and r.type == "result" and m[0] == wd.CHAT_JOINED,
               "prpl-jabber: carol joins bob's moderated room", wd.fmt(m))
        w.pending = []
        w.send(wd.SEND_CHAT, 4, pl(wd.SEND_CHAT, 20, mod, "muted", 0))
        m = await asyncio.to_thread(w.recv_until, lambda x: x[1] == 4 and (
            x[0] == wd.IM_RESULT and x[2][0] == 20 or x[0] == wd.CHAT_MESSAGE), 10)
        tap.ok(m[0] == wd.IM_RESULT and not m[2][1] and m[2][2] == 0 and m[2][3] != "",
               "prpl-jabber moderated room: a visitor's line is IM_RESULT sent=false "
               "(WORKER_IM_FAILED, the room's text)", wd.fmt(m))
        r = await bob.iq(mod, "<query xmlns='http://jabber.org/protocol/muc#admin'>"
                         "<item nick='carolnick' role='participant'/></query>", itype="set")
        await asyncio.sleep(0.5)
        w.pending = []
        w.send(wd.SEND_CHAT, 4, pl(wd.SEND_CHAT, 21, mod, "voiced", 0))
        m = await asyncio.to_thread(w.recv_type, wd.CHAT_MESSAGE, 4, 10,
                                    lambda v: v[0] == mod and v[1] == "carolnick")
        tap.ok(r is not None and r.type == "result" and m[2][2] == "voiced" and m[2][4] == 21,
               "prpl-jabber moderated room: with voice the next line is echoed with its own "
               "seq (21): the echo FIFO did not shift", wd.fmt(m))
        # the room list: rooms by their JID, the disco name as topic
        w.pending = []
        w.send(wd.LIST_ROOMS, 4, pl(wd.LIST_ROOMS))
        rooms, m = {}, None
        for _ in range(50):
            m = await asyncio.to_thread(w.recv_type, wd.ROOM_LIST, 4, 30)
            rooms.update(m[2][0])
            if m[2][1]:
                break
        tap.ok(m[2][1] and m[2][2] and MUC in rooms and "room" not in rooms and
               rooms.get(mod, "").split("\t")[1:] == ["Moderated talk"],
               "prpl-jabber room list: rooms by JID (room@server), the disco name as topic",
               "%r %s" % (rooms, wd.fmt(m)))
        # the bound on the list reached inside prpl-jabber's loop (a second
        # worker whose bound is lowered to 2): cut there, cleanly
        d2 = run.path("worker2")
        os.makedirs(d2, exist_ok=True)
        log2 = os.path.join(d2, "worker.log")
        env2 = dict(os.environ, TMPDIR=d2, HOME=d2, FERRY_LOG_LEVEL="debug",
                    FERRY_WORKER_TEST_ROOM_LIST_MAX="2")
        with wd.Worker(os.path.join(builddir(), "src", "ferry-worker"), env=env2,
                       stderr_path=log2) as w2:
            await asyncio.to_thread(w2.recv_type, wd.READY)
            opts2 = dict(opts)
            w2.send(wd.LOGIN, 5, wd.login_payload("prpl-jabber", "carol@localhost/cut",
                                                  "carolpw", opts2))
            await asyncio.to_thread(w2.recv_type, wd.CONNECTED, 5, 30)
            w2.send(wd.LIST_ROOMS, 5, pl(wd.LIST_ROOMS))
            cut = {}
            for _ in range(50):
                m2 = await asyncio.to_thread(w2.recv_type, wd.ROOM_LIST, 5, 30)
                cut.update(m2[2][0])
                if m2[2][1]:
                    break
            await asyncio.sleep(0.5)
            w2.send(wd.LOGOUT, 5, pl(wd.LOGOUT))
            await asyncio.to_thread(w2.recv_type, wd.DISCONNECTED, 5, 10)
            rc2 = w2.close()
        text2 = _read(log2)
        bad = [ln for ln in text2.splitlines() if re.search(r"critical|assertion|Sanitizer",
                                                            ln, re.I)]
        tap.ok(m2[2][1] and not m2[2][2] and len(cut) == 2 and rc2 == 0 and not bad,
               "prpl-jabber room list cut at the bound (2 of %d rooms): done, not complete, "
               "no g_critical" % len(rooms), "%r %s %r" % (cut, wd.fmt(m2), bad[:5]))
        # leave and join again at once: the join waits for the part's end
        w.pending = []
        t0 = time.monotonic()
        w.send(wd.LEAVE_CHAT, 4, pl(wd.LEAVE_CHAT, mod))
        w.send(wd.JOIN_CHAT, 4, pl(wd.JOIN_CHAT, mod, "", "carolnick"))
        got = []
        m = await asyncio.to_thread(w.recv_until, lambda x: got.append(x) or (
            x[1] == 4 and x[0] in (wd.CHAT_JOINED, wd.CHAT_JOIN_FAILED) and x[2][0] == mod),
            JOIN_BOUND)
        took = time.monotonic() - t0
        tap.ok(m[0] == wd.CHAT_JOINED and took < 10 and
               any(x[0] == wd.CHAT_LEFT and x[2][0] == mod for x in got),
               "prpl-jabber: LEAVE_CHAT then JOIN_CHAT at once: CHAT_LEFT, then CHAT_JOINED "
               "(%.1f s)" % took, wd.fmt(m))
        w.pending = []
        w.send(wd.LEAVE_CHAT, 4, pl(wd.LEAVE_CHAT, MUC))
        m = await asyncio.to_thread(w.recv_type, wd.CHAT_LEFT, 4, 10, lambda v: v[0] == MUC)
        tap.ok(m[2][:2] == (MUC, LEFT_PART), "prpl-jabber leave: CHAT_LEFT PART", wd.fmt(m))
        w.send(wd.LOGOUT, 4, pl(wd.LOGOUT))
        await asyncio.to_thread(w.recv_type, wd.DISCONNECTED, 4, 10)


def body(tap, run):
    irc = run.add(Ngircd(run.path("ngircd")))
    irc.start()
    d = run.path("worker")
    os.makedirs(d, exist_ok=True)
    binary = os.path.join(builddir(), "src", "ferry-worker")
    env = dict(os.environ, TMPDIR=d, HOME=d, FERRY_LOG_LEVEL="debug")
    log = os.path.join(d, "worker.log")
    LOG[0] = log
    opts = {"port": str(irc.port), "ssl": "false", "ratelimit-interval": "0"}
    with wd.Worker(binary, env=env, stderr_path=log) as w:
        w.recv_type(wd.READY)
        chat = Chat(w)
        # a test login reports no chat
        w.send(wd.LOGIN, 2, wd.login_payload("prpl-irc", "tester@127.0.0.1", "", opts,
                                             wd.LOGIN_TEST))
        w.recv_type(wd.CONNECTED, account=2, timeout=30)
        w.send(wd.JOIN_CHAT, 2, pl(wd.JOIN_CHAT, "#ferry", "", ""))
        w.send(wd.LOGIN, ACC, wd.login_payload("prpl-irc", "alice@127.0.0.1", "", opts))
        m = w.recv_type(wd.CONNECTED, account=ACC, timeout=30)
        tap.ok(m is not None, "alice signs on")
        try:
            asyncio.run(asyncio.wait_for(scenario(tap, irc, chat), 400))
            asyncio.run(asyncio.wait_for(fake_scenario(tap, w), 120))
            asyncio.run(asyncio.wait_for(jabber_scenario(tap, run, w), 180))
        finally:
            # group-chat events (CHAT_JOINED ...); the prompt and link
            # events of protocol 4 come after them and are a login's own
            seen = [x for x in w.log if x[1] == 2 and wd.CHAT_JOINED <= x[0] < wd.PROMPT]
            tap.ok(not seen, "a test login sends no chat events", repr(seen))
            rc = w.close()
            text = _read(log)
            tap.ok(rc == 0 and "Sanitizer" not in text and "runtime error" not in text,
                   "the worker exits cleanly (status %r), no sanitizer report" % rc)
            if tap.failed:
                tap.diag("worker log tail:\n" + text[-4000:])


if __name__ == "__main__":
    sys.exit(run_test("worker-chats", ("ngircd", "prosody"), body))
