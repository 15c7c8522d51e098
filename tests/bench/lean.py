"""Lean asyncio clients for the benchmarks: XMPP (c2s) and raw IRC.

Made so that the driver is not the bottleneck with hundreds of users in one
process: asyncio.Protocol callbacks, no per-stanza tasks, incoming XML
parsed incrementally with xml.parsers.expat into small xml.etree elements
(no namespace processing: tags are plain names, attributes as sent).

LeanXmpp: plain TCP to a Prosody c2s port (no TLS), stream header, SASL
PLAIN, resource bind, optional session, initial presence; send messages,
presences and iqs (a future per iq id); answers subscription requests with
`subscribed` (auto_approve); calls on_message(client, element, t_ns) for
every <message/> and on_presence(client, element) for other presences.

LeanIrc: NICK/USER, waits for 001, PING -> PONG, on_privmsg(client,
sender_nick, text, t_ns), ISON with a FIFO of futures (replies come in
order).

Every wait is bounded (asyncio.wait_for with a timeout).
"""

import asyncio
import base64
import itertools
import time
import xml.etree.ElementTree as ET
import xml.parsers.expat
from xml.sax.saxutils import escape, quoteattr

NS_CLIENT = "jabber:client"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"

_ids = itertools.count(1)


class LeanError(Exception):
    pass


def child(el, name):
    """First child element whose tag is `name` (no namespaces), or None."""
    for c in el:
        if c.tag == name:
            return c
    return None


def child_text(el, name):
    c = child(el, name)
    return None if c is None else (c.text or "")


class _StreamParser:
    """Incremental expat parser: reports depth-1 elements to `on_element`."""

    def __init__(self, on_header, on_element, on_end):
        self.p = xml.parsers.expat.ParserCreate()
        self.p.buffer_text = True
        try:
            self.p.SetReparseDeferralEnabled(False)
        except AttributeError:  # older expat bindings
            pass
        self.p.StartElementHandler = self._start
        self.p.EndElementHandler = self._end
        self.p.CharacterDataHandler = self._chars
        self.on_header, self.on_element, self.on_end = on_header, on_element, on_end
        self.stack = []
        self.header_seen = False

    def feed(self, data):
        self.p.Parse(data, False)

    def _start(self, name, attrs):
        if not self.header_seen:
            self.header_seen = True
            self.on_header()
            return
        el = ET.Element(name, attrs)
        if self.stack:
            self.stack[-1].append(el)
        self.stack.append(el)

    def _end(self, name):
        if not self.stack:
            self.on_end()
            return
        el = self.stack.pop()
        if not self.stack:
            self.on_element(el)

    def _chars(self, data):
        if self.stack:
            top = self.stack[-1]
            if len(top):
                last = top[-1]
                last.tail = (last.tail or "") + data
            else:
                top.text = (top.text or "") + data


class LeanXmpp(asyncio.Protocol):
    """One XMPP c2s session.  await LeanXmpp.connect(...) returns it online."""

    def __init__(self, jid, password, domain):
        self.jid = jid
        self.user = jid.split("@", 1)[0]
        self.domain = domain
        self.password = password
        self.full_jid = None
        self.transport = None
        self.parser = None
        self.pending = {}            # iq id -> future
        self.stream_q = asyncio.Queue()  # non-stanza stream elements (login)
        self.on_message = None       # f(client, el, t_ns)
        self.on_presence = None      # f(client, el)
        self.auto_approve = True
        self.closed = asyncio.get_running_loop().create_future()
        self.errors = []

    # -- asyncio.Protocol
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        t = time.monotonic_ns()
        self._t = t
        try:
            self.parser.feed(data)
        except xml.parsers.expat.ExpatError as e:
            self.errors.append("XML error: %s" % e)
            self.transport.close()

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(exc)
        for f in self.pending.values():
            if not f.done():
                f.set_exception(LeanError("%s: connection lost" % self.jid))
        self.pending.clear()

    # -- stream
    def _new_stream(self):
        self.parser = _StreamParser(lambda: None, self._element, self._stream_end)
        self.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' to=%s "
                  "version='1.0'>" % quoteattr(self.domain))

    def _stream_end(self):
        if self.transport:
            self.transport.close()

    def _element(self, el):
        tag = el.tag
        if tag == "message":
            if self.on_message:
                self.on_message(self, el, self._t)
        elif tag == "presence":
            ptype = el.get("type")
            if ptype == "subscribe" and self.auto_approve:
                self.send("<presence to=%s type='subscribed'/>" % quoteattr(el.get("from")))
            elif self.on_presence:
                self.on_presence(self, el)
        elif tag == "iq":
            f = self.pending.pop(el.get("id"), None)
            if f is not None:
                if not f.done():
                    f.set_result(el)
            elif el.get("type") in ("get", "set"):
                # nobody here serves iqs: answer like a client would
                self.send("<iq type='error' to=%s id=%s><error type='cancel'>"
                          "<service-unavailable xmlns='urn:ietf:params:xml:ns:"
                          "xmpp-stanzas'/></error></iq>"
                          % (quoteattr(el.get("from") or self.domain),
                             quoteattr(el.get("id") or "")))
        else:
            self.stream_q.put_nowait(el)

    async def _next(self, timeout):
        return await asyncio.wait_for(self.stream_q.get(), timeout)

    def send(self, text):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(text.encode("utf-8"))

    @classmethod
    async def connect(cls, jid, password, port, host="127.0.0.1", timeout=30.0,
                      presence=True, resource="bench"):
        loop = asyncio.get_running_loop()
        domain = jid.split("@", 1)[1]
        _, self = await asyncio.wait_for(loop.create_connection(
            lambda: cls(jid, password, domain), host, port), timeout)
        try:
            await asyncio.wait_for(self._login(resource, timeout), timeout)
        except BaseException:
            self.transport.close()
            raise
        if presence:
            self.send("<presence/>")
        return self

    async def _login(self, resource, timeout):
        self._new_stream()
        feats = await self._next(timeout)
        mechs = [m.text for m in child(feats, "mechanisms") or []]
        if "PLAIN" not in mechs:
            raise LeanError("%s: no SASL PLAIN offered (%s)" % (self.jid, mechs))
        token = base64.b64encode(("\0%s\0%s" % (self.user, self.password)).encode()).decode()
        self.send("<auth xmlns='%s' mechanism='PLAIN'>%s</auth>" % (NS_SASL, token))
        r = await self._next(timeout)
        if r.tag != "success":
            raise LeanError("%s: SASL failed: %s" % (self.jid, ET.tostring(r, "unicode")))
        self._new_stream()
        feats = await self._next(timeout)
        res = await self.iq("<bind xmlns='%s'><resource>%s</resource></bind>"
                            % (NS_BIND, escape(resource)), itype="set",
                            timeout=timeout)
        jid_el = child(child(res, "bind") or ET.Element("x"), "jid")
        if res.get("type") != "result" or jid_el is None:
            raise LeanError("%s: bind failed: %s" % (self.jid, ET.tostring(res, "unicode")))
        self.full_jid = jid_el.text
        sess = child(feats, "session")
        if sess is not None and child(sess, "optional") is None:
            await self.iq("<session xmlns='%s'/>" % NS_SESSION, itype="set",
                          timeout=timeout)

    # -- stanzas
    def iq_nowait(self, payload, to=None, itype="get"):
        """Send an iq; returns the future of its reply element."""
        iid = "b%d" % next(_ids)
        f = asyncio.get_running_loop().create_future()
        self.pending[iid] = f
        self.send("<iq type='%s' id='%s'%s>%s</iq>"
                  % (itype, iid, "" if to is None else " to=%s" % quoteattr(to), payload))
        return f

    async def iq(self, payload, to=None, itype="get", timeout=30.0):
        f = self.iq_nowait(payload, to, itype)
        try:
            return await asyncio.wait_for(f, timeout)
        except asyncio.TimeoutError:
            raise LeanError("%s: no reply to iq %s to %s within %ss"
                            % (self.jid, payload[:60], to, timeout)) from None

    def message(self, to, body, mtype="chat"):
        self.send("<message to=%s type='%s'><body>%s</body></message>"
                  % (quoteattr(to), mtype, escape(body)))

    def presence(self, to=None, ptype=None, extra=""):
        self.send("<presence%s%s>%s</presence>"
                  % ("" if to is None else " to=%s" % quoteattr(to),
                     "" if ptype is None else " type='%s'" % ptype, extra))

    async def close(self, timeout=2.0):
        if self.transport is None or self.transport.is_closing():
            return
        self.send("<presence type='unavailable'/></stream:stream>")
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except asyncio.TimeoutError:
            pass
        self.transport.close()


def iq_error_condition(el):
    err = child(el, "error")
    if err is None:
        return None
    for c in err:
        if c.tag != "text":
            return c.tag
    return "?"


class LeanIrc(asyncio.Protocol):
    """One raw IRC client.  await LeanIrc.connect(port, nick) returns it
    registered (after 001)."""

    def __init__(self, nick):
        self.nick = nick
        self.transport = None
        self.buf = b""
        self.welcome = asyncio.get_running_loop().create_future()
        self.ison_q = []             # FIFO of futures for 303 replies
        self.on_privmsg = None       # f(client, sender, text, t_ns)
        self.closed = asyncio.get_running_loop().create_future()
        self.errors = []

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(exc)
        for f in [self.welcome] + self.ison_q:
            if not f.done():
                f.set_exception(LeanError("IRC %s: connection lost" % self.nick))
        self.ison_q = []

    def data_received(self, data):
        t = time.monotonic_ns()
        self.buf += data
        if b"\n" not in data:
            return
        *lines, self.buf = self.buf.split(b"\n")
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if line.startswith("PING"):
                self.send("PONG" + line[4:])
                continue
            parts = line.split(" ", 3)
            if len(parts) < 2:
                continue
            cmd = parts[1]
            if cmd == "PRIVMSG" and len(parts) == 4:
                if self.on_privmsg:
                    text = parts[3][1:] if parts[3].startswith(":") else parts[3]
                    self.on_privmsg(self, parts[0][1:].split("!", 1)[0], text, t)
            elif cmd == "303":
                if self.ison_q:
                    f = self.ison_q.pop(0)
                    if not f.done():
                        f.set_result(parts[3].lstrip(":").split() if len(parts) == 4 else [])
            elif cmd == "001":
                if not self.welcome.done():
                    self.welcome.set_result(line)
            elif cmd in ("433", "432", "465") or parts[0] == "ERROR":
                self.errors.append(line)
                if not self.welcome.done():
                    self.welcome.set_exception(LeanError("IRC %s: %s" % (self.nick, line)))

    def send(self, line):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write((line + "\r\n").encode("utf-8"))

    @classmethod
    async def connect(cls, port, nick, host="127.0.0.1", timeout=30.0):
        loop = asyncio.get_running_loop()
        _, self = await asyncio.wait_for(loop.create_connection(
            lambda: cls(nick), host, port), timeout)
        self.send("NICK %s" % nick)
        self.send("USER %s 0 * :bench peer" % nick)
        try:
            await asyncio.wait_for(asyncio.shield(self.welcome), timeout)
        except BaseException:
            self.transport.close()
            raise
        return self

    def privmsg(self, to, text):
        self.send("PRIVMSG %s :%s" % (to, text))

    async def ison(self, nicks, timeout=10.0):
        """Set of nicks (lower case) among `nicks` online now, in batches."""
        futs = []
        batch, size = [], 0
        for n in list(nicks) + [None]:
            if n is None or size + len(n) + 1 > 400:
                if batch:
                    f = asyncio.get_running_loop().create_future()
                    self.ison_q.append(f)
                    # one trailing parameter: ngircd reads at most 15 parameters
                    self.send("ISON :" + " ".join(batch))
                    futs.append(f)
                batch, size = [], 0
            if n is not None:
                batch.append(n)
                size += len(n) + 1
        online = set()
        for f in futs:
            online.update(x.lower() for x in await asyncio.wait_for(f, timeout))
        return online

    async def close(self, timeout=2.0):
        if self.transport is None or self.transport.is_closing():
            return
        self.send("QUIT :bye")
        try:
            await asyncio.wait_for(asyncio.shield(self.closed), timeout)
        except asyncio.TimeoutError:
            pass
        self.transport.close()
