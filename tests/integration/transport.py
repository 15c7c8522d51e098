"""Helpers for the end-to-end transport tests.

- IrcPeer: a raw IRC client (asyncio) playing a legacy contact.
- XmppUser: a slixmpp user that records every message and presence it
  gets, approves subscription requests, and speaks jabber:iq:register.
- commands.py's XEP-0050 helpers (execute, command_nodes, node_info,
  Form, caps_of, verify_caps...), re-exported here.
- transport_config(): the ferry configuration for a Prosody/ejabberd +
  legacy-server setup, with storage in the ferry's work dir.
Every wait is bounded in time.
"""

import asyncio
import os
import time
import xml.etree.ElementTree as ET

from harness import NS_CLIENT, XmppClient
# XEP-0050 commands, data forms, BOB and XEP-0115 caps (commands.py)
from commands import *  # noqa: E402,F401,F403

NS_REGISTER = "jabber:iq:register"
NS_DATA = "jabber:x:data"
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"


# ---- IRC ----------------------------------------------------------------------

class IrcPeer:
    """A raw IRC client: async with IrcPeer(port, "bob") as bob: ..."""

    def __init__(self, port, nick, host="127.0.0.1", password=None):
        self.port, self.nick, self.host = port, nick, host
        self.password = password
        self.privmsgs = asyncio.Queue()   # (sender nick, text)
        self.lines = []
        self._reader = self._writer = self._task = None
        self._pending = {}                # numeric -> future

    async def __aenter__(self):
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), 10)
        welcome = asyncio.get_running_loop().create_future()
        self._pending["001"] = welcome
        self._task = asyncio.ensure_future(self._read())
        if self.password:
            self.send("PASS %s" % self.password)
        self.send("NICK %s" % self.nick)
        user = "".join(c for c in self.nick.lower() if c.isalnum()) or "peer"
        self.send("USER %s 0 * :ferry test peer" % user)
        await asyncio.wait_for(welcome, 10)
        return self

    async def __aexit__(self, *exc):
        try:
            self.send("QUIT :bye")
            await asyncio.wait_for(self._writer.drain(), 2)
        except Exception:
            pass
        self._writer.close()
        if self._task:
            self._task.cancel()
        return False

    def send(self, line):
        self._writer.write((line + "\r\n").encode("utf-8"))

    async def _read(self):
        while True:
            raw = await self._reader.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.lines.append(line)
            if line.startswith("PING"):
                self.send("PONG" + line[4:])
                continue
            parts = line.split(" ", 3)
            if len(parts) >= 2:
                fut = self._pending.get(parts[1])
                if fut is not None and not fut.done():
                    fut.set_result(line)
            if len(parts) >= 4 and parts[1] == "PRIVMSG":
                sender = parts[0][1:].split("!", 1)[0]
                text = parts[3][1:] if parts[3].startswith(":") else parts[3]
                await self.privmsgs.put((sender, text))

    async def privmsg_from(self, nick, timeout=15):
        """The next PRIVMSG text from `nick` (others are skipped), or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                sender, text = await asyncio.wait_for(self.privmsgs.get(), left)
            except asyncio.TimeoutError:
                return None
            if sender.lower() == nick.lower():
                return text

    async def ison(self, nick):
        """True if `nick` is on the network now (ISON)."""
        fut = asyncio.get_running_loop().create_future()
        self._pending["303"] = fut
        self.send("ISON %s" % nick)
        line = await asyncio.wait_for(fut, 5)
        online = line.split(" ", 3)[3].lstrip(":").split()
        return any(n.lower() == nick.lower() for n in online)

    async def wait_ison(self, nick, present=True, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.ison(nick) == present:
                return True
            await asyncio.sleep(0.3)
        return False


# ---- XMPP ------------------------------------------------------------------------

class FakeIrc:
    """A scripted IRC server for one user at a time, for what ngircd will not
    do (bytes that are not UTF-8, NUL bytes, nicks it refuses): welcomes each
    connection, answers PING and ISON (the nicks of `online` asked for),
    records every line it reads (bytes), and keeps the newest connection to
    write to. Serve it with asyncio.start_server(fake.serve, ...)."""

    def __init__(self):
        self.writer = None
        self.received = []
        self.online = set()  # nicks (bytes) ISON says are on

    async def serve(self, reader, writer):
        nick, user, welcomed = None, False, False
        while True:
            raw = await reader.readline()
            if not raw:
                return
            line = raw.rstrip(b"\r\n")
            self.received.append(line)
            words = line.split(b" ")
            cmd = words[0].upper()
            if cmd == b"NICK":
                nick = words[1]
            elif cmd == b"USER":
                user = True
            if nick and user and not welcomed:
                welcomed = True
                writer.write(b":fake 001 %s :Welcome\r\n:fake 375 %s :motd\r\n"
                             b":fake 376 %s :End\r\n" % (nick, nick, nick))
                self.writer = writer
            elif cmd == b"PING":
                writer.write(b":fake PONG fake :%s\r\n" % line.split(b" ", 1)[1].lstrip(b":"))
            elif cmd == b"ISON":
                asked = b" ".join(words[1:]).lstrip(b":").split()
                on = b" ".join(n for n in asked if n in self.online)
                writer.write(b":fake 303 %s :%s\r\n" % (nick, on))
            await writer.drain()

    async def send(self, line):
        await self.send_raw(line.encode("utf-8"))

    async def send_raw(self, line):
        self.writer.write(line + b"\r\n")
        await self.writer.drain()

    async def ison_for(self, since, nick, timeout=30):
        """True once an ISON read after index `since` asked for NICK."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for x in self.received[since:]:
                words = x.split(b" ")
                if words[0].upper() == b"ISON" and nick in b" ".join(words[1:]).lstrip(
                        b":").split():
                    return True
            await asyncio.sleep(0.1)
        return False

    async def line(self, since, wanted, timeout=15):
        """True once the exact line `wanted` (bytes) was read after index
        `since`, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if wanted in self.received[since:]:
                return True
            await asyncio.sleep(0.1)
        return False


class Received:
    def __init__(self, kind, xml):
        self.kind = kind          # "message" or "presence"
        self.xml = xml
        self.sender = xml.get("from")
        self.type = xml.get("type")

    def child_text(self, name, ns=NS_CLIENT):
        e = self.xml.find("{%s}%s" % (ns, name))
        return None if e is None else (e.text or "")

    def has(self, name, ns):
        return self.xml.find("{%s}%s" % (ns, name)) is not None

    def error_condition(self):
        err = self.xml.find("{%s}error" % NS_CLIENT)
        if err is None:
            return None
        for c in err:
            if not c.tag.endswith("}text"):
                return c.tag.split("}", 1)[1]
        return None

    def error_text(self):
        err = self.xml.find("{%s}error" % NS_CLIENT)
        if err is None:
            return None
        for c in err:
            if c.tag.endswith("}text"):
                return c.text
        return None

    def __str__(self):
        return ET.tostring(self.xml, encoding="unicode")


class XmppUser(XmppClient):
    """A slixmpp user that records inbound messages and presences.

    async with XmppUser(jid, password, port) as u: ...
    Subscription requests are approved (and answered with a subscription
    of our own) like a user clicking "allow" would, unless approve=False.
    """

    def __init__(self, jid, password, port, host="127.0.0.1", timeout=20.0,
                 approve=True, priority=None):
        super().__init__(jid, password, port, host=host, timeout=timeout)
        self.approve = approve
        self.priority = priority
        self.inbox = []
        self._event = asyncio.Event()

    def configure(self, x):
        x.register_plugin("xep_0030")
        x.auto_authorize = self.approve
        x.auto_subscribe = self.approve
        # Every <message/>: slixmpp's "message" event needs a <body>, and
        # chat states or errors come without one.
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath
        x.register_handler(Callback("ferry test: all messages",
                                    MatchXPath("{%s}message" % NS_CLIENT),
                                    lambda m: self._record("message", m)))
        x.add_event_handler("presence", lambda p: self._record("presence", p))

    async def session_started(self, x):
        x.send_presence(ppriority=self.priority)
        try:
            await x.get_roster(timeout=10)
        except Exception:
            pass

    def _record(self, kind, stanza):
        self.inbox.append(Received(kind, stanza.xml))
        self._event.set()

    async def wait_for(self, predicate, timeout=15, since=0):
        """The first Received (from index `since` on) matching predicate."""
        deadline = time.monotonic() + timeout
        while True:
            for r in self.inbox[since:]:
                if predicate(r):
                    return r
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), left)
            except asyncio.TimeoutError:
                pass

    def mark(self):
        return len(self.inbox)

    async def message_from(self, jid, body=True, timeout=15, since=0):
        def match(r):
            return (r.kind == "message" and r.sender and
                    r.sender.split("/")[0] == jid and r.type != "error" and
                    (not body or r.child_text("body") is not None))
        return await self.wait_for(match, timeout, since)

    async def presence_from(self, jid, ptype=None, timeout=15, since=0,
                            where=None):
        def match(r):
            return (r.kind == "presence" and r.sender and
                    r.sender.split("/")[0] == jid and r.type == ptype and
                    (where is None or where(r)))
        return await self.wait_for(match, timeout, since)

    async def transport_connected(self, transport, timeout=30, since=0):
        """The transport's presence saying its legacy session is up (the
        XMPP session has started: messages go straight through)."""
        return await self.presence_from(
            transport, None, timeout=timeout, since=since,
            where=lambda p: "Connected" in (p.child_text("status") or ""))

    async def error_from(self, jid, timeout=15, since=0):
        def match(r):
            return r.sender and r.sender.split("/")[0] == jid and r.type == "error"
        return await self.wait_for(match, timeout, since)

    def send_message(self, to, body=None, mtype="chat", extra=""):
        x = ET.fromstring("<message xmlns='%s' to='%s' type='%s'>%s%s</message>"
                          % (NS_CLIENT, to, mtype,
                             "" if body is None else "<body/>", extra))
        msg = self.xmpp.Message(xml=x)
        msg["id"] = self.xmpp.new_id()
        if body is not None:
            msg["body"] = body
        msg.send()
        return msg["id"]

    def send_presence(self, to=None, ptype=None, show=None, status=None,
                      priority=None):
        self.xmpp.send_presence(pto=to, ptype=ptype, pshow=show,
                                pstatus=status, ppriority=priority)

    async def register(self, transport, fields, timeout=60.0):
        """Submits the registration form with `fields` (var -> value)."""
        from xml.sax.saxutils import escape
        f = "".join("<field var='%s'><value>%s</value></field>" % (k, escape(v))
                    for k, v in fields.items())
        payload = ("<query xmlns='%s'><x xmlns='%s' type='submit'>"
                   "<field var='FORM_TYPE' type='hidden'><value>%s</value></field>"
                   "%s</x></query>" % (NS_REGISTER, NS_DATA, NS_REGISTER, f))
        return await self.iq(transport, payload, itype="set", timeout=timeout)

    async def registration_form(self, transport):
        """(reply, {var: (type, value)}, registered?)"""
        r = await self.iq(transport, "<query xmlns='%s'/>" % NS_REGISTER)
        fields = {}
        q = r.find("{%s}query" % NS_REGISTER)
        registered = q is not None and q.find("{%s}registered" % NS_REGISTER) is not None
        x = q.find("{%s}x" % NS_DATA) if q is not None else None
        if x is not None:
            for fl in x.findall("{%s}field" % NS_DATA):
                v = fl.find("{%s}value" % NS_DATA)
                fields[fl.get("var")] = (fl.get("type"),
                                         None if v is None else (v.text or ""))
        return r, fields, registered

    async def unregister(self, transport):
        return await self.iq(transport, "<query xmlns='%s'><remove/></query>"
                             % NS_REGISTER, itype="set")


async def register_on_irc(tap, user, peer, transport, nick="alice"):
    """USER registers with the IRC transport as NICK; PEER (an IrcPeer)
    sees NICK on IRC and the transport says USER is connected."""
    r = await user.register(transport, {"username": nick})
    tap.ok(r.type == "result", "%s registers" % nick, str(r))
    tap.ok(await peer.wait_ison(nick, True, 30), "%s is on IRC" % nick)
    tap.ok(await user.transport_connected(transport) is not None,
           "the transport says %s is connected" % ("it" if nick == "alice" else nick))


async def round_trip(tap, alice, bob, label, transport="irc.localhost"):
    """A message from ALICE reaches BOB on IRC, and bob's answer reaches
    her, as the contact bob@TRANSPORT."""
    contact = "bob@" + transport
    alice.send_message(contact, "ping %s" % label)
    got = await bob.privmsg_from("alice", 20)
    tap.ok(got == "ping %s" % label, "%s: XMPP -> IRC flows" % label, "got %r" % got)
    m0 = alice.mark()
    bob.send("PRIVMSG alice :pong %s" % label)
    msg = await alice.message_from(contact, since=m0, timeout=20)
    tap.ok(msg is not None and msg.child_text("body") == "pong %s" % label,
           "%s: IRC -> XMPP flows" % label, str(msg))


def transport_config(server, jid="irc.localhost", protocol="prpl-irc",
                     name="IRC Transport", presets=None, extra=None):
    """Keyword arguments for harness.Ferry: the component on `server`, the
    legacy protocol with [legacy] presets, storage in the work dir."""
    cfg = {"legacy": dict(presets or {})}
    for group, kv in (extra or {}).items():
        cfg.setdefault(group, {}).update(kv)
    return dict(port=server.component_port, secret=server.secret, jid=jid,
                protocol=protocol, legacy_name=name, extra=cfg)


def irc_presets(irc):
    """[legacy] presets pinning the IRC transport to the test ngircd, with
    libpurple's own send spacing off (ngircd's flood penalty is off too),
    and TLS off: the test ngircd is plain (ferry's form defaults to ssl)."""
    return {"server": "127.0.0.1", "port": str(irc.port), "ssl": "false",
            "ratelimit-interval": "0",
            # the server field is open: say which servers users may choose
            # (the test ngircd's loopback address, an internal one)
            "ferry.allowed_servers": "127.0.0.1"}


def legacy_xmpp_config(server, jid):
    """Keyword arguments for harness.Ferry: prpl-jabber as the legacy
    protocol, against the server's legacy.localhost virtual host."""
    return transport_config(
        server, jid=jid, protocol="prpl-jabber", name="Old XMPP",
        presets={"domain": "legacy.localhost", "connect_server": "127.0.0.1",
                 "port": str(server.c2s_port), "connection_security": "opportunistic_tls",
                 "auth_plain_in_clear": "true"},
        extra={"access": {"allowed_domains": "localhost"}})


def start_legacy_xmpp(run, component, muc=()):
    """A Prosody serving the users (localhost: alice) and the legacy XMPP
    network (legacy.localhost: carol, the user's legacy account, and dave,
    a legacy contact), with COMPONENT attached and MUC components if any;
    started, run-owned. Passwords: <user>pw."""
    from servers import Prosody
    prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost", "legacy.localhost"],
                              component=component, secret="s3cret-%s" % os.urandom(6).hex(),
                              muc=list(muc)))
    prosody.start()
    for user, host in (("alice", "localhost"), ("carol", "legacy.localhost"),
                       ("dave", "legacy.localhost")):
        prosody.register(user, host, user + "pw")
    return prosody


def files_containing(root, needle):
    """Paths under `root` whose bytes contain `needle` (bytes)."""
    hits = []
    for d, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            try:
                with open(p, "rb") as fh:
                    if needle in fh.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


def proc_contains(pid, needle):
    """True if `needle` (bytes) is in the process's cmdline or environment."""
    for part in ("cmdline", "environ"):
        try:
            with open("/proc/%d/%s" % (pid, part), "rb") as f:
                if needle in f.read():
                    return True
        except OSError:
            pass
    return False


def children_of(pid):
    """PIDs whose parent is `pid`."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid:
            out.append(int(name))
    return out


def worker_pids(ferry):
    """PIDs of the ferry-worker processes of a harness.Ferry."""
    out = []
    for pid in children_of(ferry.popen.pid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if b"ferry-worker" in f.read():
                    out.append(pid)
        except OSError:
            pass
    return out


# ---- the servers most tests need ------------------------------------------------

def start_xmpp_and_irc(run, component="irc.localhost", users=("alice@localhost",),
                       irc_password=None):
    """Prosody (a vhost per user domain, COMPONENT attached with a random
    secret; each user registered with password <name>pw) and ngircd (with
    IRC_PASSWORD as its server password, if given), started under RUN.
    Returns (prosody, irc)."""
    from servers import Ngircd, Prosody
    vhosts = []
    for user in users:
        domain = user.split("@", 1)[1]
        if domain not in vhosts:
            vhosts.append(domain)
    prosody = run.add(Prosody(run.path("prosody"), vhosts=vhosts, component=component,
                              secret="s3cret-%s" % os.urandom(6).hex()))
    prosody.start()
    for user in users:
        name, domain = user.split("@", 1)
        prosody.register(name, domain, name + "pw")
    irc = run.add(Ngircd(run.path("ngircd"), password=irc_password))
    irc.start()
    return prosody, irc


# ---- group chats (XEP-0045) ---------------------------------------------------------
# Raw stanzas rather than slixmpp's xep_0045: the tests check ids, status
# codes and the order of what a join brings.

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"
NS_MUC_ADMIN = NS_MUC + "#admin"
NS_MUC_OWNER = NS_MUC + "#owner"
NS_SID = "urn:xmpp:sid:0"
NS_CONFERENCE = "jabber:x:conference"
NS_RSM = "http://jabber.org/protocol/rsm"


def xml_escape(text):
    from xml.sax.saxutils import escape
    return escape(text, {"'": "&apos;", '"': "&quot;"})


def muc_x(r):
    """The <x xmlns='…muc#user'/> of a Received, or None."""
    return r.xml.find("{%s}x" % NS_MUC_USER)


def muc_codes(r):
    """The muc#user status codes of a Received (a set of ints)."""
    x = muc_x(r)
    if x is None:
        return set()
    out = set()
    for s in x.findall("{%s}status" % NS_MUC_USER):
        try:
            out.add(int(s.get("code")))
        except (TypeError, ValueError):
            pass
    return out


def muc_item(r):
    """{affiliation, role, nick, jid, actor, reason} of the muc#user item
    (missing keys: None), or None without one."""
    x = muc_x(r)
    item = x.find("{%s}item" % NS_MUC_USER) if x is not None else None
    if item is None:
        return None
    actor = item.find("{%s}actor" % NS_MUC_USER)
    reason = item.find("{%s}reason" % NS_MUC_USER)
    return {"affiliation": item.get("affiliation"), "role": item.get("role"),
            "nick": item.get("nick"), "jid": item.get("jid"),
            "actor": None if actor is None else actor.get("nick"),
            "reason": None if reason is None else (reason.text or "")}


def resource(jid):
    return jid.split("/", 1)[1] if jid and "/" in jid else None


def bare(jid):
    return jid.split("/", 1)[0] if jid else jid


def same(a, b):
    """JIDs (or parts) equal but for case, as servers fold them."""
    return (a or "").lower() == (b or "").lower()


def is_from(r, room, nick=None):
    """R comes from ROOM (bare), or from ROOM/NICK when NICK is given."""
    if not r.sender or not same(bare(r.sender), room):
        return False
    return nick is None or same(resource(r.sender), nick)


def groupchat(room, nick=None, body=None):
    """A matcher: a groupchat message from ROOM (/NICK), with BODY if given."""
    def match(r):
        return (r.kind == "message" and r.type == "groupchat" and is_from(r, room, nick) and
                (body is None or r.child_text("body") == body))
    return match


def count(user, pred, since=0):
    """How many of USER's stanzas since SINCE match PRED."""
    return sum(1 for r in user.inbox[since:] if pred(r))


def role(r):
    """(affiliation, role) of R's muc#user item, or None."""
    it = muc_item(r) if r is not None else None
    return None if it is None else (it["affiliation"], it["role"])


def presence(room, nick, ptype=None, codes=()):
    """A matcher: a presence of type PTYPE from ROOM/NICK with at least CODES."""
    def match(r):
        return (r.kind == "presence" and r.type == ptype and is_from(r, room, nick) and
                set(codes) <= muc_codes(r))
    return match


class JoinAnswer:
    """What a MUC join brought, in order: `stanzas` (every presence and
    message from the room from the join on, up to the self-presence and the
    subject after it), `occupants` (presences before the self-presence),
    `own` (the 110 presence), `subject` (the message with <subject/> after
    it), `error` (an error presence answering the join), `seconds`."""

    def __init__(self):
        self.stanzas, self.occupants = [], []
        self.own = self.subject = self.error = None
        self.seconds = None

    def ok(self):
        return self.own is not None and self.error is None

    def nicks(self):
        return [resource(p.sender) for p in self.occupants]

    def __str__(self):
        if self.error is not None:
            return "error: %s" % self.error
        return "; ".join(str(s)[:400] for s in self.stanzas) or "nothing"


def _is_subject(r):
    return r.kind == "message" and r.xml.find("{%s}subject" % NS_CLIENT) is not None


def muc_join_stanza(user, room, nick, password=None, jid_id=None, extra="", history=""):
    """Sends a MUC join presence (raw) from USER to ROOM/NICK; returns its id.
    HISTORY: raw XML inside the <x/> (e.g. "<history maxstanzas='20'/>")."""
    jid_id = jid_id or user.xmpp.new_id()
    pw = "" if password is None else "<password>%s</password>" % xml_escape(password)
    pw += history
    user.xmpp.send_raw("<presence xmlns='%s' to='%s/%s' id='%s'><x xmlns='%s'>%s</x>%s"
                       "</presence>" % (NS_CLIENT, xml_escape(room), xml_escape(nick),
                                        jid_id, NS_MUC, pw, extra))
    return jid_id


async def muc_join(user, room, nick, password=None, timeout=40, subject_timeout=5,
                   history=""):
    """USER joins ROOM as NICK and collects the answer (a JoinAnswer):
    until the self-presence (status 110) or an error presence with the
    join id, within TIMEOUT s; then the subject, within SUBJECT_TIMEOUT s."""
    since = user.mark()
    t0 = time.monotonic()
    jid_id = muc_join_stanza(user, room, nick, password, history=history)
    ans = JoinAnswer()
    ans.id = jid_id

    def from_room(r):
        return r.sender is not None and bare(r.sender).lower() == room.lower()

    def end(r):
        if not from_room(r):
            return False
        if r.kind == "presence" and r.type == "error":
            return True
        return r.kind == "presence" and 110 in muc_codes(r)
    last = await user.wait_for(end, timeout, since)
    ans.seconds = time.monotonic() - t0
    if last is None:
        ans.stanzas = [r for r in user.inbox[since:] if from_room(r)]
        return ans
    idx = user.inbox.index(last, since)
    ans.stanzas = [r for r in user.inbox[since:idx + 1] if from_room(r)]
    if last.type == "error":
        ans.error = last
        return ans
    ans.own = last
    ans.occupants = [r for r in ans.stanzas[:-1] if r.kind == "presence"]
    ans.subject = await user.wait_for(lambda r: from_room(r) and _is_subject(r),
                                      subject_timeout, idx + 1)
    if ans.subject is not None:
        j = user.inbox.index(ans.subject, idx + 1)
        ans.stanzas += [r for r in user.inbox[idx + 1:j + 1] if from_room(r)]
    return ans


def muc_leave(user, room, nick, status=None):
    user.xmpp.send_raw("<presence xmlns='%s' to='%s/%s' type='unavailable'>%s</presence>"
                       % (NS_CLIENT, xml_escape(room), xml_escape(nick),
                          "" if status is None else "<status>%s</status>" % xml_escape(status)))


def muc_say(user, room, body, mid=None, origin_id=None, extra=""):
    """A groupchat message (raw) with an id and an origin-id; returns
    (id, origin-id)."""
    mid = mid or user.xmpp.new_id()
    origin_id = origin_id or "origin-" + mid
    user.xmpp.send_raw("<message xmlns='%s' to='%s' type='groupchat' id='%s'>%s"
                       "<origin-id xmlns='%s' id='%s'/>%s</message>"
                       % (NS_CLIENT, xml_escape(room), mid,
                          "" if body is None else "<body>%s</body>" % xml_escape(body),
                          NS_SID, origin_id, extra))
    return mid, origin_id


def occupants_from(inbox, room, since=0):
    """The occupant nicks of ROOM as a client would build them from the
    presences in INBOX (from index SINCE): {nick: item} (lower-cased room)."""
    out = {}
    for r in inbox[since:]:
        if r.kind != "presence" or not r.sender or bare(r.sender).lower() != room.lower():
            continue
        nick = resource(r.sender)
        if nick is None or r.type == "error":
            continue
        if r.type == "unavailable":
            out.pop(nick, None)
        elif r.type is None:
            out[nick] = muc_item(r)
    return out


# ---- IRC lines ------------------------------------------------------------------------

def irc_parse(line):
    """(source nick, command, [params]) of a raw IRC line."""
    src = None
    if line.startswith(":"):
        pre, _, line = line.partition(" ")
        src = pre[1:].split("!", 1)[0]
    trailing = None
    if " :" in line:
        line, _, trailing = line.partition(" :")
    words = line.split()
    cmd = words[0].upper() if words else ""
    params = words[1:] + ([trailing] if trailing is not None else [])
    return src, cmd, params


def irc_lines(peer, since=0, cmd=None, src=None, target=None):
    """The parsed lines (src, cmd, params) PEER read from index SINCE on
    matching a command, a source nick and a first parameter (all optional,
    compared case-insensitively)."""
    out = []
    for line in peer.lines[since:]:
        s, c, p = irc_parse(line)
        if cmd is not None and c != cmd.upper():
            continue
        if src is not None and (s or "").lower() != src.lower():
            continue
        if target is not None and (not p or p[0].lower() != target.lower()):
            continue
        out.append((s, c, p))
    return out


async def irc_wait(peer, since=0, timeout=15, count=1, **match):
    """Waits until irc_lines(peer, since, **match) has COUNT lines; returns
    them (possibly fewer, after TIMEOUT s)."""
    deadline = time.monotonic() + timeout
    while True:
        got = irc_lines(peer, since, **match)
        if len(got) >= count or time.monotonic() >= deadline:
            return got
        await asyncio.sleep(0.1)


async def irc_join(peer, channel, key=None, timeout=10):
    """PEER joins CHANNEL (with KEY) and waits for the end of NAMES (366)."""
    since = len(peer.lines)
    peer.send("JOIN %s%s" % (channel, "" if key is None else " " + key))
    got = await irc_wait(peer, since, timeout, cmd="366")
    return bool(got)


async def irc_names(peer, channel, timeout=10):
    """The nicks on CHANNEL (NAMES, prefixes stripped), or None."""
    since = len(peer.lines)
    peer.send("NAMES %s" % channel)
    if not await irc_wait(peer, since, timeout, cmd="366"):
        return None
    nicks = set()
    for _s, _c, p in irc_lines(peer, since, cmd="353"):
        if p and p[-2].lower() == channel.lower():
            nicks |= {n.lstrip("@%+~&") for n in p[-1].split()}
    return nicks
