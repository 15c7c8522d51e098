#!/usr/bin/python3
"""Records what Prosody sends to the ferry component in a realistic session.

Starts Prosody + ngircd + ferry on loopback with a TCP proxy (asyncio)
between ferry and Prosody's component port, and writes the bytes Prosody
sends to ferry (the first connection, from its stream header on) to the
output file: tests/bench/data/component-stream.xml, the input of
bench_parser. The session: USERS XMPP users register with the IRC
transport (username only: no legacy password exists to leak), come online
with caps, add IRC contacts, then round after round change presence
(show/status), send messages of varied bodies (ASCII, UTF-8, markup
characters, long lines, chat states, XHTML-IM, receipts, a multi-line one)
to IRC peers who answer, and query the transport and contacts (disco,
version, ping, vCard, the registration form), until the recording reaches
--target-kb; then they leave. The recording ends where the session does
(no </stream:stream>: ferry is still connected when it is cut).

Refuses to write the file when it holds any password or secret used in the
run, is not well-formed, or spans more than one connection. Usage (as
root, like the integration tests):

    FERRY_BUILDDIR=/tmp/pb /usr/bin/python3 tests/bench/record_stream.py \\
        [--out tests/bench/data/component-stream.xml] [--users 4] [--target-kb 500]
"""

import argparse
import asyncio
import os
import sys
import time
import xml.parsers.expat

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Ferry, TestRun, ferry_binary  # noqa: E402
from servers import Ngircd, Prosody  # noqa: E402
from tap import Tap  # noqa: E402
from transport import IrcPeer, XmppUser, irc_presets, transport_config  # noqa: E402

T = "irc.localhost"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_XHTML_IM = "http://jabber.org/protocol/xhtml-im"
NS_XHTML = "http://www.w3.org/1999/xhtml"
NS_RECEIPTS = "urn:xmpp:receipts"

USER_NAMES = ["alice", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
PEER_NICKS = ["bob", "carol", "mallory_", "Zed[away]"]

TEXTS = [
    "hi",
    "ok, see you there",
    "1 < 2 & 3 > 2, <b>not bold</b> &amp; été ✓ ünïcødé",
    "Grüße aus Köln — ça va? 日本語のテキストです 🙂👍",
    "Привет! Как дела? Всё хорошо.",
    "quotes \"double\" and 'single', a tab\there and  two  spaces",
    "https://example.org/search?q=ferry&lang=en#results <- have a look",
    "<script>alert('x')</script> should arrive as text",
    ("This is a longer line, the kind people paste when they explain something: "
     "the build failed on the CI runner because the cache key included the "
     "compiler version, and after the image update every job missed the cache, "
     "so the whole pipeline took forty minutes instead of six. Fixed by pinning "
     "the image digest; let me know if you still see slow runs after lunch."),
    "first line\nsecond line\nthird line",
    "¿Qué tal? Ελληνικά, עברית, العربية, हिन्दी",
    "/me waves",
]

SHOWS = [
    (None, None),
    ("away", "In a meeting — back at 15:00 ☕"),
    ("chat", "Free to talk"),
    ("dnd", "Focus time <deep work> & no calls"),
    ("xa", "On holiday until Monday 🏖"),
    (None, "Working from home"),
]


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def log(text):
    print("record_stream: %s" % text, file=sys.stderr, flush=True)


class Recorder:
    """A TCP proxy 127.0.0.1:port -> 127.0.0.1:upstream that keeps the
    bytes the upstream (Prosody) sends on the first connection."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.data = bytearray()
        self.connections = 0
        self.server = None
        self.port = None

    async def start(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader, writer):
        self.connections += 1
        record = self.connections == 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            writer.close()
            return

        async def pipe(src, dst, keep):
            try:
                while True:
                    chunk = await src.read(65536)
                    if not chunk:
                        break
                    if keep:
                        self.data += chunk
                    dst.write(chunk)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(up_reader, writer, record),
                             pipe(reader, up_writer, False))

    def close(self):
        if self.server is not None:
            self.server.close()


class RecUser(XmppUser):
    """An XmppUser with the plugins a desktop client has: caps on every
    presence, version, ping, chat states, receipts, XHTML-IM."""

    def configure(self, x):
        super().configure(x)
        for plugin in ("xep_0115", "xep_0092", "xep_0199", "xep_0085", "xep_0184",
                       "xep_0071", "xep_0054"):
            x.register_plugin(plugin)

    async def session_started(self, x):
        # The caps hash must exist before the first presence carries it.
        await x.plugin["xep_0115"].update_caps()
        await super().session_started(x)


def extras(i):
    """Varied payloads beside the body, as clients add them."""
    kinds = [
        "<active xmlns='%s'/>" % NS_CHATSTATES,
        "<active xmlns='%s'/><request xmlns='%s'/>" % (NS_CHATSTATES, NS_RECEIPTS),
        "",
        "<request xmlns='%s'/>" % NS_RECEIPTS,
    ]
    return kinds[i % len(kinds)]


def xhtml(text):
    return ("<html xmlns='%s'><body xmlns='%s'><p>Look: <strong>%s</strong> "
            "<em>and</em> <a href='https://example.org/?a=1&amp;b=2'>a link</a>"
            "</p></body></html>" % (NS_XHTML_IM, NS_XHTML, xml_escape(text)))


async def drain_markers(peer, wanted, timeout=60):
    """Reads peer's PRIVMSGs until every marker text in `wanted` arrived."""
    wanted = set(wanted)
    deadline = time.monotonic() + timeout
    while wanted:
        left = deadline - time.monotonic()
        if left <= 0:
            return wanted
        try:
            _sender, text = await asyncio.wait_for(peer.privmsgs.get(), left)
        except asyncio.TimeoutError:
            return wanted
        wanted.discard(text)
    return wanted


async def one_round(n, users, peers, names):
    for i, u in enumerate(users):
        show, status = SHOWS[(n + i) % len(SHOWS)]
        u.send_presence(show=show, status=status)
    for i, u in enumerate(users):
        for j, p in enumerate(peers):
            to = "%s@%s" % (p.nick, T)
            k = n * 7 + i * 3 + j
            # typing, then the message, sometimes a pause in between
            u.send_message(to, None, extra="<composing xmlns='%s'/>" % NS_CHATSTATES)
            if k % 3 == 0:
                u.send_message(to, None, extra="<paused xmlns='%s'/>" % NS_CHATSTATES)
            text = TEXTS[k % len(TEXTS)]
            u.send_message(to, text, extra=extras(k) + (xhtml(text) if k % 5 == 0 else ""))
            if k % 4 == 1:
                u.send_message(to, TEXTS[(k + 5) % len(TEXTS)], extra=extras(k + 1))
    # the other way: IRC peers talk to the XMPP users
    for j, p in enumerate(peers):
        for i, name in enumerate(names):
            p.send("PRIVMSG %s :%s" % (name, TEXTS[(n + i + j) % len(TEXTS)].split("\n")[0]))
    # queries clients make
    for i, u in enumerate(users):
        contact = "%s@%s" % (peers[(n + i) % len(peers)].nick, T)
        await u.iq(T, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
        await u.iq(T, "<ping xmlns='urn:xmpp:ping'/>")
        await u.iq(contact, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
        if (n + i) % 2 == 0:
            await u.iq(T, "<query xmlns='http://jabber.org/protocol/disco#items'/>")
            await u.iq(T, "<query xmlns='jabber:iq:version'/>")
        if (n + i) % 3 == 0:
            await u.iq(contact, "<vCard xmlns='vcard-temp'/>")
            await u.iq(T, "<query xmlns='jabber:iq:register'/>")
    # the end of the round: one marker per user to each peer
    for i, u in enumerate(users):
        for p in peers:
            u.send_message("%s@%s" % (p.nick, T), "round %d from %s" % (n, names[i]),
                           extra="<active xmlns='%s'/>" % NS_CHATSTATES)
    for p in peers:
        missing = await drain_markers(p, ["round %d from %s" % (n, name) for name in names])
        if missing:
            raise RuntimeError("%s did not get: %s" % (p.nick, sorted(missing)))


async def session(args, prosody, irc, ferry, rec, passwords):
    names = USER_NAMES[:args.users]
    peers = []
    for nick in PEER_NICKS:
        peers.append(await IrcPeer(irc.port, nick).__aenter__())
    users = []
    try:
        for name in names:
            users.append(await RecUser("%s@localhost" % name, passwords[name],
                                       prosody.c2s_port, timeout=60).__aenter__())
        for u in users:
            await u.disco_info(T)
            await u.registration_form(T)
        results = await asyncio.gather(*[u.register(T, {"username": name})
                                         for u, name in zip(users, names)])
        bad = [str(r) for r in results if r.type != "result"]
        if bad:
            raise RuntimeError("registration failed: %s" % bad[0])
        for u, name in zip(users, names):
            if await u.transport_connected(T, timeout=60) is None:
                raise RuntimeError("%s: the transport never said Connected" % name)
            if not await peers[0].wait_ison(name, True, 60):
                raise RuntimeError("%s never appeared on IRC" % name)
        for u in users:
            for p in peers:
                u.send_presence(to="%s@%s" % (p.nick, T), ptype="subscribe")
        await asyncio.sleep(3)
        log("%d users online, %d bytes so far" % (len(users), len(rec.data)))
        n = 0
        while len(rec.data) < args.target_kb * 1024 and n < args.max_rounds:
            await one_round(n, users, peers, names)
            n += 1
            log("round %d: %d bytes" % (n, len(rec.data)))
        # leave: unavailable with a status, then log out
        for u in users:
            u.send_presence(ptype="unavailable", status="Bye for now 👋")
        await asyncio.sleep(1)
        for u in users:
            await u.close()
        for name in names:
            await peers[0].wait_ison(name, False, 30)
        await asyncio.sleep(2)
        return bytes(rec.data)
    finally:
        for u in users:
            await u.close()
        for p in peers:
            await p.__aexit__(None, None, None)


def check(data, needles):
    """Problems with the recording: secrets, well-formedness, structure."""
    problems = []
    for label, needle in needles:
        if needle.encode() in data:
            problems.append("the recording contains %s" % label)
    depth = [0]
    count = {"stanzas": 0, "roots": 0}

    def start(name, attrs):
        if depth[0] == 0:
            count["roots"] += 1
        depth[0] += 1

    def end(name):
        depth[0] -= 1
        if depth[0] == 1:
            count["stanzas"] += 1

    p = xml.parsers.expat.ParserCreate("UTF-8")
    p.StartElementHandler, p.EndElementHandler = start, end
    try:
        p.Parse(data, False)
    except xml.parsers.expat.ExpatError as e:
        problems.append("not well-formed: %s" % e)
    if count["roots"] != 1:
        problems.append("%d stream headers" % count["roots"])
    if depth[0] not in (0, 1):
        problems.append("the recording ends inside a stanza (depth %d)" % depth[0])
    if not data.startswith(b"<?xml") and not data.startswith(b"<stream:stream"):
        problems.append("does not start with the stream header")
    return problems, count["stanzas"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "data", "component-stream.xml"))
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--target-kb", type=int, default=500)
    ap.add_argument("--max-rounds", type=int, default=200)
    args = ap.parse_args()
    if not 1 <= args.users <= len(USER_NAMES):
        ap.error("--users must be from 1 to %d" % len(USER_NAMES))
    if not os.access(ferry_binary(), os.X_OK):
        ap.error("no ferry binary at %s: set FERRY_BUILDDIR" % ferry_binary())

    secret = "s3cret-%s" % os.urandom(8).hex()
    passwords = {name: "pw-%s-%s" % (name, os.urandom(6).hex())
                 for name in USER_NAMES[:args.users]}
    run = TestRun("record-stream", Tap(out=open(os.devnull, "w")))
    try:
        prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"],
                                  component=T, secret=secret))
        prosody.start()
        for name, pw in passwords.items():
            prosody.register(name, "localhost", pw)
        irc = run.add(Ngircd(run.path("ngircd")))
        irc.start()

        async def go():
            rec = Recorder(prosody.component_port)
            await rec.start()
            cfg = transport_config(prosody, presets=irc_presets(irc))
            cfg["port"] = rec.port
            ferry = run.add(Ferry(run.path("ferry"), level="message", **cfg))
            ferry.start()
            if await ferry.await_log(Ferry.ONLINE, 30) is None:
                raise RuntimeError("ferry did not come online:\n%s" % ferry.log_tail())
            try:
                data = await asyncio.wait_for(
                    session(args, prosody, irc, ferry, rec, passwords), 900)
            finally:
                rec.close()
            if rec.connections != 1:
                raise RuntimeError("ferry connected %d times; a recording must be one "
                                   "stream" % rec.connections)
            return data
        data = asyncio.run(go())
    finally:
        problems = run.cleanup()
        if problems:
            log("cleanup: %s" % "; ".join(problems))

    needles = [("the component secret", secret)] + \
        [("%s's password" % n, pw) for n, pw in passwords.items()]
    problems, stanzas = check(data, needles)
    if problems:
        for p in problems:
            log("REFUSED: %s" % p)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.out)
    log("wrote %s: %d bytes, %d stanzas" % (args.out, len(data), stanzas))
    return 0


if __name__ == "__main__":
    sys.exit(main())
