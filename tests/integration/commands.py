"""XEP-0050 ad-hoc command helpers for the integration tests (re-exported
by transport.py): execute a command (node, action, session id, a
submitted form), list command nodes (disco#items on the commands node),
disco#info of a node, parse data forms (XEP-0004) and BOB data
(XEP-0231) out of a reply, and read and verify the XEP-0115 caps of a
presence (the ver recomputed from disco#info). Every wait is bounded.
"""

import base64
import hashlib
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_ADMIN = "http://jabber.org/protocol/admin"
NS_CAPS = "http://jabber.org/protocol/caps"
NS_BOB = "urn:xmpp:bob"
NS_MEDIA = "urn:xmpp:media-element"
NS_XDATA = "jabber:x:data"
_NS_CLIENT = "jabber:client"
_NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
_NS_INFO = "http://jabber.org/protocol/disco#info"
_NS_ITEMS = "http://jabber.org/protocol/disco#items"


def _q(ns, name):
    return "{%s}%s" % (ns, name)


class Field:
    def __init__(self, el):
        self.var = el.get("var")
        self.type = el.get("type") or "text-single"
        self.label = el.get("label")
        self.values = [v.text or "" for v in el.findall(_q(NS_XDATA, "value"))]
        self.options = [(o.get("label"), (o.findtext(_q(NS_XDATA, "value")) or ""))
                        for o in el.findall(_q(NS_XDATA, "option"))]
        self.required = el.find(_q(NS_XDATA, "required")) is not None
        self.media = []  # [(type, uri)]
        for m in el.findall(_q(NS_MEDIA, "media")):
            for u in m.findall(_q(NS_MEDIA, "uri")):
                self.media.append((u.get("type"), (u.text or "").strip()))

    @property
    def value(self):
        return self.values[0] if self.values else None

    def __repr__(self):
        return "Field(%s %s %r)" % (self.var, self.type, self.values)


class Form:
    """A parsed <x xmlns='jabber:x:data'/>: type, title, instructions,
    fields (var -> Field, in order as .order), reported columns and items
    (a list of {var: [values]})."""

    def __init__(self, x):
        self.type = x.get("type")
        self.title = x.findtext(_q(NS_XDATA, "title"))
        self.instructions = [i.text or "" for i in x.findall(_q(NS_XDATA, "instructions"))]
        self.order = [Field(f) for f in x.findall(_q(NS_XDATA, "field"))]
        self.fields = {f.var: f for f in self.order if f.var is not None}
        rep = x.find(_q(NS_XDATA, "reported"))
        self.reported = [] if rep is None else [
            f.get("var") for f in rep.findall(_q(NS_XDATA, "field"))]
        self.items = []
        for it in x.findall(_q(NS_XDATA, "item")):
            row = {}
            for f in it.findall(_q(NS_XDATA, "field")):
                row[f.get("var")] = [v.text or "" for v in f.findall(_q(NS_XDATA, "value"))]
            self.items.append(row)

    def value(self, var):
        f = self.fields.get(var)
        return None if f is None else f.value

    def text(self, var):
        """A fixed field's text: its value, without the "Label: " it starts
        with when the field carries no label attribute."""
        f = self.fields.get(var)
        if f is None or f.value is None:
            return None
        if f.label is None and f.type == "fixed" and ": " in f.value:
            return f.value.split(": ", 1)[1]
        return f.value

    def form_type(self):
        return self.value("FORM_TYPE")


def parse_form(parent):
    """The first data form under PARENT (an Element), or None."""
    if parent is None:
        return None
    x = parent.find(_q(NS_XDATA, "x"))
    return None if x is None else Form(x)


def form_xml(values, ftype="submit"):
    """A data form of FTYPE: VALUES is {var: str or list of str} (None:
    the field with no value)."""
    parts = []
    for var, v in (values or {}).items():
        vs = [] if v is None else ([v] if isinstance(v, str) else list(v))
        parts.append("<field var='%s'>%s</field>" % (
            escape(var, {"'": "&apos;"}),
            "".join("<value>%s</value>" % escape(x) for x in vs)))
    return "<x xmlns='%s' type='%s'>%s</x>" % (NS_XDATA, ftype, "".join(parts))


class Stage:
    """An execute's answer: reply (harness.Reply), type ('result', 'error',
    'timeout'); for a result the <command/>'s status, sessionid, node,
    actions (execute attribute and offered children), notes [(type, text)],
    form (Form or None) and bobs ({cid: (type, bytes)}); for an error the
    condition, the XEP-0050 specific condition (bad-action...) and text."""

    def __init__(self, reply):
        self.reply = reply
        self.type = reply.type
        self.condition, self.text = reply.condition, reply.text
        self.specific = None
        self.status = self.sessionid = self.node = None
        self.execute = None
        self.actions = []
        self.notes = []
        self.form = None
        self.bobs = {}
        x = reply.xml
        if x is None:
            return
        err = x.find(_q(_NS_CLIENT, "error"))
        if err is not None:
            for c in err:
                if c.tag.startswith("{%s}" % NS_COMMANDS):
                    self.specific = c.tag.split("}", 1)[1]
        c = x.find(_q(NS_COMMANDS, "command"))
        if c is None:
            return
        self.status = c.get("status")
        self.sessionid = c.get("sessionid")
        self.node = c.get("node")
        a = c.find(_q(NS_COMMANDS, "actions"))
        if a is not None:
            self.execute = a.get("execute")
            self.actions = [e.tag.split("}", 1)[1] for e in a]
        self.notes = [(n.get("type"), n.text or "") for n in c.findall(_q(NS_COMMANDS, "note"))]
        self.form = parse_form(c)
        for d in c.findall(_q(NS_BOB, "data")):
            self.bobs[d.get("cid")] = (d.get("type"),
                                       base64.b64decode("".join((d.text or "").split())))

    def note_text(self):
        return " ".join(t for _k, t in self.notes)

    def ok(self, status="executing"):
        return self.type == "result" and self.status == status

    def __str__(self):
        return str(self.reply)


async def execute(client, to, node, action=None, sessionid=None, form=None,
                  form_type="submit", timeout=30.0, raw_form=None):
    """Sends an XEP-0050 execute to TO for NODE (ACTION None: no action
    attribute; SESSIONID None: a new run; FORM a dict for form_xml or
    RAW_FORM an XML string) and returns its Stage."""
    attrs = "node='%s'" % escape(node, {"'": "&apos;"})
    if action is not None:
        attrs += " action='%s'" % action
    if sessionid is not None:
        attrs += " sessionid='%s'" % escape(sessionid, {"'": "&apos;"})
    inner = raw_form if raw_form is not None else (
        form_xml(form, form_type) if form is not None else "")
    payload = "<command xmlns='%s' %s>%s</command>" % (NS_COMMANDS, attrs, inner)
    return Stage(await client.iq(to, payload, itype="set", timeout=timeout))


async def run_command(client, to, node, values=None, timeout=30.0):
    """Starts NODE and, if it shows a form, submits VALUES (without an
    action attribute). Returns (first stage, answer to the submission or
    None)."""
    first = await execute(client, to, node, timeout=timeout)
    if not first.ok() or values is None:
        return first, None
    second = await execute(client, to, node, sessionid=first.sessionid, form=values,
                           timeout=timeout)
    return first, second


async def command_nodes(client, to, timeout=10.0):
    """disco#items of the commands node of TO: (reply, [(node, name, jid)])."""
    r = await client.iq(to, "<query xmlns='%s' node='%s'/>" % (_NS_ITEMS, NS_COMMANDS),
                        timeout=timeout)
    out = []
    q = r.find(_q(_NS_ITEMS, "query"))
    if r.type == "result" and q is not None:
        out = [(i.get("node"), i.get("name"), i.get("jid"))
               for i in q.findall(_q(_NS_ITEMS, "item"))]
    return r, out


async def node_info(client, to, node, timeout=10.0):
    """disco#info of NODE at TO: (reply, [(category, type, name)], features)."""
    r = await client.iq(to, "<query xmlns='%s' node='%s'/>"
                        % (_NS_INFO, escape(node, {"'": "&apos;"})), timeout=timeout)
    ids, feats = [], set()
    q = r.find(_q(_NS_INFO, "query"))
    if r.type == "result" and q is not None:
        ids = [(i.get("category"), i.get("type"), i.get("name"))
               for i in q.findall(_q(_NS_INFO, "identity"))]
        feats = {f.get("var") for f in q.findall(_q(_NS_INFO, "feature"))}
    return r, ids, feats


async def bob_data(client, to, cid, timeout=10.0):
    """The XEP-0231 <data/> of CID asked from TO: (reply, type, bytes or None)."""
    r = await client.iq(to, "<data xmlns='%s' cid='%s'/>" % (NS_BOB, escape(cid)),
                        timeout=timeout)
    d = r.find(_q(NS_BOB, "data"))
    if r.type != "result" or d is None:
        return r, None, None
    return r, d.get("type"), base64.b64decode("".join((d.text or "").split()))


def sha1_cid(data):
    return "sha1+%s@bob.xmpp.org" % hashlib.sha1(data).hexdigest()


# ---- XEP-0115 ----------------------------------------------------------------------

def caps_of(xml):
    """The <c/> of a presence Element: (hash, node, ver), or None."""
    c = xml.find(_q(NS_CAPS, "c"))
    return None if c is None else (c.get("hash"), c.get("node"), c.get("ver"))


def caps_ver(query):
    """The XEP-0115 §5 sha-1 ver of a disco#info <query/> Element."""
    ids = sorted(((i.get("category") or "", i.get("type") or "",
                   i.get("{http://www.w3.org/XML/1998/namespace}lang") or "",
                   i.get("name") or "") for i in query.findall(_q(_NS_INFO, "identity"))))
    s = "".join("%s/%s/%s/%s<" % i for i in ids)
    s += "".join("%s<" % f for f in sorted(
        f.get("var") for f in query.findall(_q(_NS_INFO, "feature"))))
    forms = []
    for x in query.findall(_q(NS_XDATA, "x")):
        f = Form(x)
        ft = f.form_type()
        if ft is None:
            continue
        text = "%s<" % ft
        for var in sorted(v for v in f.fields if v != "FORM_TYPE"):
            text += "%s<" % var + "".join("%s<" % v for v in sorted(f.fields[var].values))
        forms.append((ft, text))
    s += "".join(t for _ft, t in sorted(forms))
    return base64.b64encode(hashlib.sha1(s.encode("utf-8")).digest()).decode()


async def verify_caps(client, to, caps, timeout=10.0):
    """Asks TO for disco#info of node#ver (CAPS from caps_of) and checks
    the ver: (ok, computed ver, reply)."""
    if caps is None:
        return False, None, None
    _h, node, ver = caps
    r = await client.iq(to, "<query xmlns='%s' node='%s#%s'/>" % (_NS_INFO, node, ver),
                        timeout=timeout)
    q = r.find(_q(_NS_INFO, "query"))
    if r.type != "result" or q is None:
        return False, None, r
    computed = caps_ver(q)
    return computed == ver and caps[0] == "sha-1", computed, r


def xml_text(el):
    return "" if el is None else ET.tostring(el, encoding="unicode")
