#!/usr/bin/python3
"""Messages that must not vanish: Prosody + ngircd + ferry (prpl-irc).

The account paces its lines at 2 at once, then one a second
(ratelimit-burst 2, ratelimit-interval 1), and a message may take at most
12 lines ([workers] max_message_lines). alice@localhost writes to bob on
IRC:
- a long message of multi-byte words arrives split between words, every
  line within the IRC budget and valid UTF-8, nothing lost at the cuts;
- blank lines are not sent as empty PRIVMSGs; "/me waves" is a CTCP
  ACTION, and an ACTION from IRC reaches her as "/me ...";
- a message to a nick nobody has comes back as an error answering it
  (same id, recipient-unavailable, naming the nick), and no separate chat
  "User is not logged in" appears;
- a message over the line limit is refused (policy-violation, the count);
- a worker SIGKILLed in the middle of a message: after the relogin only
  the lines that had not gone are sent (nothing twice, nothing missing);
- a 12-line message is announced as slow; alice goes offline at once and
  every line still reaches bob, after which ferry logs her out;
- she unregisters in the middle of a message: its error, saying how many
  lines went, comes before the transport's unsubscribe, and no more lines
  go after it;
- she changes her nick (a registration update) in the middle of a
  message: the old login's last word after its logout is read, and the
  rest of the message goes under the new nick (nothing missing).
Prints TAP.
"""

import asyncio
import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from transport import start_xmpp_and_irc, IrcPeer, XmppUser, irc_presets, transport_config, worker_pids  # noqa: E402

T = "irc.localhost"
BOB = "bob@" + T
MAX_LINES = 12
# 512 - ":" nick(30) "!" user(11) "@" host(63) " PRIVMSG " "bob" " :" CRLF
BUDGET = 512 - (1 + 30 + 1 + 11 + 1 + 63 + 9 + 3 + 2 + 2)


def words_text(n_words, seed):
    """A text of distinct words with multi-byte characters."""
    return " ".join("%s-mot%d-été€" % (seed, i) for i in range(n_words))


async def lines_from(peer, nick, count, timeout):
    """Up to `count` PRIVMSG texts from `nick`, each within `timeout` of
    the one before."""
    got = []
    while len(got) < count:
        text = await peer.privmsg_from(nick, timeout=timeout)
        if text is None:
            break
        got.append(text)
    return got


async def quiet_lines(peer, nick, quiet):
    """PRIVMSG texts from `nick` until none came for `quiet` seconds."""
    return await lines_from(peer, nick, 10000, quiet)


def error_to(user, msg_id, since):
    def match(r):
        return r.kind == "message" and r.type == "error" and r.xml.get("id") == msg_id
    return user.wait_for(match, timeout=20, since=since)


def transport_chat(user, needle, since, timeout=10):
    def match(r):
        return (r.kind == "message" and r.sender == T and r.type != "error" and
                needle in (r.child_text("body") or ""))
    return user.wait_for(match, timeout=timeout, since=since)


async def connect(prosody):
    u = XmppUser("alice@localhost", "alicepw", prosody.c2s_port)
    return await u.__aenter__()


async def scenario(tap, prosody, irc, ferry):
    async with IrcPeer(irc.port, "bob") as bob:
        alice = await connect(prosody)
        m0 = alice.mark()
        r = await alice.register(T, {"username": "alice"})
        tap.ok(r.type == "result", "alice registers", str(r))
        tap.ok(await alice.transport_connected(T, since=m0) is not None and
               await bob.wait_ison("alice", True, 20), "alice is on IRC")

        # -- a long message: split between words, UTF-8 safe, nothing lost
        text = words_text(60, "a")  # ~1.1 kB: 3 lines
        alice.send_message(BOB, text)
        got = await lines_from(bob, "alice", 3, 15)
        tap.ok(len(got) == 3, "a 1.1 kB message arrives as 3 lines", "%d lines" % len(got))
        tap.ok(all(len(line.encode()) <= BUDGET for line in got),
               "every line fits the relay budget (%d bytes)" % BUDGET,
               str([len(line.encode()) for line in got]))
        tap.ok(" ".join(got) == text, "cut between words: the lines joined by a space are "
               "the message, no byte lost", "got %r" % got)

        # -- blank lines and /me (and the reverse)
        mark = len(bob.lines)
        alice.send_message(BOB, "one\n\n\ntwo\n \nthree")
        got = await lines_from(bob, "alice", 3, 10)
        tap.ok(got == ["one", "two", "three"], "blank lines are left out", str(got))
        empty = [ln for ln in bob.lines[mark:] if ln.endswith("PRIVMSG bob :") or
                 ln.endswith("PRIVMSG bob : ")]
        tap.ok(not empty, "no empty PRIVMSG reaches IRC", str(empty))
        alice.send_message(BOB, "/me waves")
        got = await bob.privmsg_from("alice", timeout=10)
        tap.ok(got == "\x01ACTION waves\x01", "/me waves is a CTCP ACTION", repr(got))
        m0 = alice.mark()
        bob.send("PRIVMSG alice :\x01ACTION dances\x01")
        r = await alice.message_from(BOB, since=m0)
        tap.ok(r is not None and r.child_text("body") == "/me dances",
               "an ACTION from IRC reaches XMPP as /me", str(r))

        # -- a nick nobody has: an error answering the message
        m0 = alice.mark()
        mid = alice.send_message("nosuchnick@" + T, "anyone there?")
        e = await error_to(alice, mid, m0)
        tap.ok(e is not None and e.error_condition() == "recipient-unavailable" and
               "nosuchnick is not on IRC" in (e.error_text() or ""),
               "a message to a missing nick comes back as an error with its id, "
               "naming the nick", str(e))
        # a later message round-trips, so any stray chat would be in by now
        alice.send_message(BOB, "after the missing nick")
        await bob.privmsg_from("alice", timeout=10)
        stray = [str(x) for x in alice.inbox[m0:] if x.kind == "message" and
                 x.type != "error" and x.sender == T]
        tap.ok(not stray, "no separate chat ('User is not logged in', 'No such nick')",
               str(stray))

        # -- over the line limit: refused
        m0 = alice.mark()
        mid = alice.send_message(BOB, "\n".join("line %d" % i for i in range(MAX_LINES + 1)))
        e = await error_to(alice, mid, m0)
        tap.ok(e is not None and e.error_condition() == "policy-violation" and
               "%d lines" % (MAX_LINES + 1) in (e.error_text() or ""),
               "a message of %d lines is refused (limit %d)" % (MAX_LINES + 1, MAX_LINES),
               str(e))
        got = await bob.privmsg_from("alice", timeout=2)
        tap.ok(got is None, "none of its lines went", repr(got))

        # -- a worker killed in the middle of a message: only the rest goes
        lines = ["k%d %s" % (i, words_text(3, "k")) for i in range(10)]
        alice.send_message(BOB, "\n".join(lines))
        first = await lines_from(bob, "alice", 4, 10)
        pids = worker_pids(ferry)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        rest = await lines_from(bob, "alice", 6, 15)
        rest += await quiet_lines(bob, "alice", 2)
        tap.ok(len(first) == 4 and len(pids) == 1, "4 lines went before the SIGKILL",
               "%d lines, workers %s" % (len(first), pids))
        # The line being written when the SIGKILL landed may go again (the
        # worker writes it, then says so: a duplicate rather than a loss);
        # nothing before it is sent twice and nothing is missing.
        if rest and rest[0] == first[-1]:
            tap.diag("the line written at the kill went again: %r" % rest[0])
            rest = rest[1:]
        got = first + rest
        tap.ok(got == lines, "after the relogin only the rest was sent: no line missing, "
               "none twice, in order", "got %d lines: %r" % (len(got), got))

        # -- a slow message, and alice leaves at once: every line still goes
        tap.ok(await bob.wait_ison("alice", True, 20), "alice is back on IRC")
        m0 = alice.mark()
        lines = ["s%d %s" % (i, words_text(2, "s")) for i in range(MAX_LINES)]
        alice.send_message(BOB, "\n".join(lines))
        note = await transport_chat(alice, "12 lines", m0)
        # 12 lines, 2 at once then one a second: 10 s (11 or 12 if the
        # bucket has not refilled since the last message)
        wait = re.search(r"about (\d+) seconds", note.child_text("body") or "") if note else None
        tap.ok(wait is not None and 10 <= int(wait.group(1)) <= 12,
               "a 12-line message is announced with the time it will take", str(note))
        # the PING fences never show (prpl-irc ignores a PONG it did not ask for)
        lag = [str(x) for x in alice.inbox if x.kind == "message" and x.sender == T and
               ("PING" in (x.child_text("body") or "") or
                "Lag" in (x.child_text("body") or ""))]
        tap.ok(not lag, "the PING fences are not seen by the user", str(lag))
        started = time.monotonic()
        await alice.close()
        got = await lines_from(bob, "alice", MAX_LINES, 5)
        took = time.monotonic() - started
        got += await quiet_lines(bob, "alice", 2)
        tap.ok(got == lines, "alice went offline at once, yet all 12 lines reached bob "
               "(%.1f s)" % took, "got %d: %r" % (len(got), got))
        tap.ok(await bob.wait_ison("alice", False, 15),
               "once they are sent, ferry logs her out of IRC")

        # -- unregistering in the middle of a message: its error comes first
        alice = await connect(prosody)
        tap.ok(await bob.wait_ison("alice", True, 20), "alice is on IRC again")
        m0 = alice.mark()
        lines = ["u%d %s" % (i, words_text(2, "u")) for i in range(MAX_LINES)]
        mid = alice.send_message(BOB, "\n".join(lines))
        first = await lines_from(bob, "alice", 4, 10)
        r = await alice.unregister(T)
        tap.ok(r.type == "result", "alice unregisters", str(r))
        e = await error_to(alice, mid, m0)
        rest = await quiet_lines(bob, "alice", 3)
        sent = len(first) + len(rest)
        txt = (e.error_text() or "") if e is not None else ""
        tap.ok(e is not None and ("%d of %d lines were sent" % (sent, MAX_LINES)) in txt,
               "the unfinished message comes back as an error saying how much went "
               "(%d of %d lines)" % (sent, MAX_LINES), "%s; bob got %d" % (e, sent))
        order = [x for x in alice.inbox[m0:] if
                 (x.kind == "message" and x.type == "error" and x.xml.get("id") == mid) or
                 (x.kind == "presence" and x.sender == T and x.type == "unsubscribe")]
        tap.ok(len(order) == 2 and order[0].kind == "message",
               "the error comes before the transport's unsubscribe",
               str([str(x) for x in order]))
        await alice.close()


async def privmsgs_any(peer, count, quiet):
    """Up to `count` (sender, text) PRIVMSGs from anyone, until none came for
    `quiet` seconds."""
    got = []
    while len(got) < count:
        try:
            got.append(await asyncio.wait_for(peer.privmsgs.get(), quiet))
        except asyncio.TimeoutError:
            break
    return got


async def relogin_mid_message(tap, prosody, irc, ferry):
    """Item 3 (b): a logout while a message is being paced out (here a
    registration update to a new nick, which logs the old account out and
    continues with the new one). The worker's last word on the old account
    comes after its LOGOUT -- the lines written count as sent, how far the
    message went -- and the rest must go, under the new nick."""
    async with IrcPeer(irc.port, "bob") as bob:
        alice = await connect(prosody)
        m0 = alice.mark()
        r = await alice.register(T, {"username": "alice"})
        tap.ok(r.type == "result" and await bob.wait_ison("alice", True, 20)
               and await alice.transport_connected(T, timeout=20) is not None,
               "alice is registered and on IRC", str(r))
        lines = ["r%02d %s" % (i, words_text(3, "r%d" % i)) for i in range(10)]
        alice.send_message(BOB, "\n".join(lines))
        first = await privmsgs_any(bob, 3, 10)
        r = await alice.register(T, {"username": "alice2"})
        tap.ok(r.type == "result", "alice changes her nick while the message goes out",
               str(r))
        got = first + await privmsgs_any(bob, 40, 8)
        texts = [t for _, t in got]
        missing = [x for x in lines if x not in texts]
        twice = len(texts) - len(set(texts))
        nicks = sorted(set(n for n, _ in got))
        tap.ok(not missing, "every line of the message reached bob across the relogin "
               "(%d lines, %d twice, from %s)" % (len(texts), twice, ", ".join(nicks)),
               "missing %s; log: %s" % (missing, ferry.log_tail()))
        errs = [x for x in alice.inbox[m0:] if x.kind == "message" and x.type == "error"]
        tap.ok(not errs, "and no error for it", str([str(e) for e in errs]))
        await alice.close()


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(run, T)
    presets = irc_presets(irc)
    presets.update({"ratelimit-interval": "1", "ratelimit-burst": "2"})
    ferry = start_ferry(tap, run, **transport_config(
        prosody, presets=presets,
        extra={"workers": {"max_message_lines": str(MAX_LINES)}}))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(scenario(tap, prosody, irc, ferry), 150))
        asyncio.run(asyncio.wait_for(relogin_mid_message(tap, prosody, irc, ferry), 90))


def main():
    return run_test("delivery", ("prosody", "prosodyctl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
