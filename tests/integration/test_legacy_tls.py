#!/usr/bin/python3
"""TLS to the legacy network is verified; an untrusted certificate is the
user's question, never accepted blindly (issue 12 §4, src/worker/certs.c).

ngircd serves TLS with a certificate from a test CA. Through a ferry that
does not trust that CA:
  - XEP-0077 registration raises the certificate question (for the chat
    bot, which is not linked yet: nothing shows it) and waits for it; the
    question unanswered within [limits] prompt_seconds is rejected, never
    accepted: the registration fails with a certificate text, nothing is
    stored;
  - the XEP-0050 command jabber:iq:register: the question is the run's
    next stage (the fingerprint in its text and hidden field); reject ->
    the run ends with a certificate error, nothing stored; once -> logged
    in over TLS, `status` shows encrypted, the fingerprint, trust "this
    login only"; a relogin asks again (a chat message), answered always
    -> trust "always accepted"; the next relogin asks nothing.
With [workers] legacy_ca_file = the test CA the login needs no question
(status: the certificate authorities). Every expected fingerprint comes
from `openssl x509 -fingerprint` on the certificate file. Prints TAP.
"""

import asyncio
import os
import re
import subprocess
import sys
import time
from xml.sax.saxutils import escape

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from servers import Ngircd, Prosody, TestCA  # noqa: E402
from transport import IrcPeer, XmppUser, transport_config  # noqa: E402

T = "irc.localhost"
PROMPT_SECONDS = 15  # [limits] prompt_seconds of the untrusted ferry
NS_CMD = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"


def sha256_of(crt):
    out = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-fingerprint",
                          "-sha256"], check=True, capture_output=True, text=True,
                         timeout=30).stdout
    return out.strip().split("=", 1)[1].upper()


# ---- XEP-0050 from the test (transport.py has no command helpers) ----------

class Cmd:
    """A command reply: type, condition/text for errors, status,
    sessionid, notes, and its form (title, instructions, fields var ->
    {type, value, options})."""

    def __init__(self, r):
        self.r = r
        self.type, self.condition, self.text = r.type, r.condition, r.text or ""
        c = r.find("{%s}command" % NS_CMD)
        self.status = c.get("status") if c is not None else None
        self.sessionid = c.get("sessionid") if c is not None else None
        self.notes = [n.text or "" for n in c.findall("{%s}note" % NS_CMD)] if c is not None \
            else []
        x = c.find("{%s}x" % NS_DATA) if c is not None else None
        self.title = ""
        self.instructions = ""
        self.fields = {}
        if x is not None:
            t = x.find("{%s}title" % NS_DATA)
            self.title = t.text or "" if t is not None else ""
            self.instructions = "\n".join(i.text or "" for i in
                                          x.findall("{%s}instructions" % NS_DATA))
            for f in x.findall("{%s}field" % NS_DATA):
                v = f.find("{%s}value" % NS_DATA)
                self.fields[f.get("var")] = {
                    "type": f.get("type"), "value": None if v is None else (v.text or ""),
                    "options": [o.find("{%s}value" % NS_DATA).text
                                for o in f.findall("{%s}option" % NS_DATA)]}

    def value(self, var):
        return (self.fields.get(var) or {}).get("value")

    def __str__(self):
        return "Cmd(%s %s %s %r %r %r)" % (self.type, self.condition, self.status, self.text,
                                           self.notes, self.fields)


async def command(user, node, stage=None, values=None, timeout=60, to=T):
    """Executes NODE (stage None) or submits VALUES to STAGE (a Cmd)."""
    attrs = "node='%s' action='execute'" % node
    body = ""
    if stage is not None:
        attrs += " sessionid='%s'" % stage.sessionid
        vals = dict(values or {})
        if "FORM_TYPE" in stage.fields:
            vals.setdefault("FORM_TYPE", stage.value("FORM_TYPE"))
        body = "<x xmlns='%s' type='submit'>%s</x>" % (NS_DATA, "".join(
            "<field var='%s'><value>%s</value></field>" % (k, escape(v))
            for k, v in vals.items()))
    r = await user.iq(to, "<command xmlns='%s' %s>%s</command>" % (NS_CMD, attrs, body),
                      itype="set", timeout=timeout)
    return Cmd(r)


async def question_message(user, since, timeout=40, to=T):
    """The next chat message from the transport that carries a question
    (node prompt/<id>): (message, id), or (None, None)."""
    m = await user.wait_for(lambda r: r.kind == "message" and (r.sender or "").split("/")[0] == to
                            and "prompt/" in (r.child_text("body") or ""),
                            timeout=timeout, since=since)
    if m is None:
        return None, None
    return m, re.search(r"prompt/(\d+)", m.child_text("body")).group(1)


async def answer_question(user, pid, choice, to=T):
    """Answers the open question PID by its node with CHOICE."""
    stage = await command(user, "prompt/%s" % pid, to=to)
    if stage.type != "result" or "action" not in stage.fields:
        return stage
    return await command(user, "prompt/%s" % pid, stage, {"action": choice}, to=to)


async def status(user, to=T):
    return await command(user, "status", to=to)


async def status_when(user, pred, tries=30, to=T):
    """The status command's answer once PRED holds (bounded: tries x 0.5 s)."""
    st = None
    for _ in range(tries):
        st = await status(user, to=to)
        if pred(st):
            break
        await asyncio.sleep(0.5)
    return st


def check_question(tap, stage, fp, label, subject="CN=localhost"):
    f = stage.fields.get("action") or {}
    text = stage.title + "\n" + stage.instructions
    tap.ok(f.get("options") == ["reject", "once", "always"] and fp in text and
           stage.value("sha256") == fp and subject in text,
           "%s: the certificate question shows subject and fingerprint, with reject, once, "
           "always" % label, str(stage))


# ---- the flows ------------------------------------------------------------------

async def untrusted_xep0077(tap, prosody):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        t0 = time.monotonic()
        r = await alice.register(T, {"username": "alice"}, timeout=90)
        took = time.monotonic() - t0
        tap.ok(r.type == "error" and "certificate" in (r.text or "").lower(),
               "XEP-0077: the unanswered certificate question is rejected; the registration "
               "fails with a certificate text", str(r))
        tap.ok(took >= PROMPT_SECONDS - 2,
               "it waited for the user's answer (%.1f s, the question's limit %d s) instead of "
               "failing at once" % (took, PROMPT_SECONDS))
        _r, _f, registered = await alice.registration_form(T)
        tap.ok(not registered, "XEP-0077: nothing was stored")


async def untrusted_command(tap, prosody, irc, fp):
    async with XmppUser("bob@localhost", "bobpw", prosody.c2s_port) as bob, \
            IrcPeer(irc.port, "watcher") as watcher:
        # reject
        s1 = await command(bob, "jabber:iq:register")
        tap.ok(s1.type == "result" and "username" in s1.fields,
               "jabber:iq:register: the registration form", str(s1))
        s2 = await command(bob, "jabber:iq:register", s1, {"username": "bob"})
        check_question(tap, s2, fp, "command, first try")
        s3 = await command(bob, "jabber:iq:register", s2, {"action": "reject"})
        tap.ok(s3.type == "error" and "certificate" in s3.text.lower(),
               "reject: the run ends with a certificate error", str(s3))
        _r, _f, registered = await bob.registration_form(T)
        tap.ok(not registered, "reject: nothing was stored")
        # once
        s1 = await command(bob, "jabber:iq:register")
        s2 = await command(bob, "jabber:iq:register", s1, {"username": "bob"})
        check_question(tap, s2, fp, "command, second try")
        s3 = await command(bob, "jabber:iq:register", s2, {"action": "once"})
        tap.ok(s3.type == "result" and s3.status == "completed",
               "once: the registration completes", str(s3))
        tap.ok(await watcher.wait_ison("bob", True, 30), "bob is on IRC over TLS")
        st = await status_when(bob, lambda st: st.value("cert_sha256") is not None)
        tap.ok("encrypted (TLS)" in (st.value("encrypted") or "") and
               fp in (st.value("cert_sha256") or "") and
               "this login only" in (st.value("cert_trust") or ""),
               "status: encrypted, the fingerprint, accepted for this login only", str(st))
        # a relogin asks again; always
        m0 = bob.mark()
        rl = asyncio.ensure_future(command(bob, "relogin", timeout=90))
        msg, pid = await question_message(bob, m0)
        tap.ok(pid is not None and fp in (msg.child_text("body") if msg else ""),
               "a relogin after once asks again (a chat message from the transport)")
        if pid is not None:
            a = await answer_question(bob, pid, "always")
            tap.ok(a.type == "result", "answered always", str(a))
        await rl
        st = await status_when(bob, lambda st: "always" in (st.value("cert_trust") or ""))
        tap.ok(st is not None and fp in (st.value("cert_sha256") or "") and
               "always accepted" in (st.value("cert_trust") or ""),
               "status: always accepted for this account", str(st))
        # the next relogin asks nothing
        m0 = bob.mark()
        rl = await command(bob, "relogin", timeout=90)
        msg, pid = await question_message(bob, m0, timeout=5)
        st = await status(bob)
        tap.ok(pid is None and "always accepted" in (st.value("cert_trust") or "") and
               "encrypted (TLS)" in (st.value("encrypted") or ""),
               "after always, a relogin asks no question (pinned)", "%s %s" % (rl, st))


async def always_at_registration(tap, prosody, irc, fp):
    """"always" answered during the registration itself: the pin is stored
    with the registration (the user did not exist yet when it was asked)."""
    async with XmppUser("carol@localhost", "carolpw", prosody.c2s_port) as carol, \
            IrcPeer(irc.port, "watcher2") as watcher:
        s1 = await command(carol, "jabber:iq:register")
        s2 = await command(carol, "jabber:iq:register", s1, {"username": "carol"})
        check_question(tap, s2, fp, "registration answered always")
        s3 = await command(carol, "jabber:iq:register", s2, {"action": "always"})
        tap.ok(s3.type == "result" and s3.status == "completed",
               "always at registration: the registration completes", str(s3))
        tap.ok(await watcher.wait_ison("carol", True, 30), "carol is on IRC over TLS")
        # the relogin needs the transport to have carol's presence (her
        # subscription is answered after the registration)
        await status_when(carol, lambda st: "online, signed on" in (st.value("state") or ""))
        m0 = carol.mark()
        rl = await command(carol, "relogin", timeout=90)
        _msg, pid = await question_message(carol, m0, timeout=5)
        st = await status_when(carol, lambda st: st.value("cert_sha256") is not None)
        tap.ok(pid is None and rl.type == "result" and
               "always accepted" in (st.value("cert_trust") or ""),
               "always at registration: a relogin asks no question (the pin was stored)",
               "%s %s" % (rl, st))


async def trusted(tap, prosody, irc, fp):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice, \
            IrcPeer(irc.port, "bob") as bob:
        m0 = alice.mark()
        t0 = time.monotonic()
        r = await alice.register(T, {"username": "alice"})
        tap.ok(r.type == "result", "with legacy_ca_file the TLS login succeeds", str(r))
        tap.ok(time.monotonic() - t0 < 30, "no question held it up")
        _m, pid = await question_message(alice, m0, timeout=1)
        tap.ok(pid is None, "with legacy_ca_file nothing is asked")
        tap.ok(await bob.wait_ison("alice", True, 30), "alice is on IRC over TLS")
        tap.ok(await alice.transport_connected(T) is not None,
               "the transport says it is connected")
        st = await status_when(alice, lambda st: st.value("cert_sha256") is not None)
        tap.ok(fp in (st.value("cert_sha256") or "") and
               "certificate authorities" in (st.value("cert_trust") or ""),
               "status: trusted by the certificate authorities", str(st))
        alice.send_message("bob@" + T, "over TLS")
        tap.ok(await bob.privmsg_from("alice") == "over TLS", "messages flow over TLS")


def body(tap, run):
    ca = TestCA(run.path("ca"))
    cert = ca.issue("localhost", dns=["localhost"], ips=["127.0.0.1"])
    fp = sha256_of(cert["cert"])
    prosody = run.add(Prosody(run.path("prosody"), vhosts=["localhost"], component=T,
                              secret="s3cret-%s" % os.urandom(6).hex()))
    prosody.start()
    prosody.register("alice", "localhost", "alicepw")
    prosody.register("bob", "localhost", "bobpw")
    prosody.register("carol", "localhost", "carolpw")
    irc = run.add(Ngircd(run.path("ngircd"), tls_cert=cert["chain"], tls_key=cert["key"]))
    irc.start()
    presets = {"server": "localhost", "port": str(irc.tls_port), "ssl": "true",
               "locked": "server;port;ssl"}
    for label, extra in (("untrusted", {"limits": {"prompt_seconds": str(PROMPT_SECONDS)}}),
                         ("trusted", {"workers": {"legacy_ca_file": ca.cert}})):
        ferry = start_ferry(tap, run, label="ferry-" + label,
                            **transport_config(prosody, presets=presets, extra=extra))
        if ferry is None:
            continue
        if label == "untrusted":
            asyncio.run(asyncio.wait_for(untrusted_xep0077(tap, prosody), 120))
            asyncio.run(asyncio.wait_for(untrusted_command(tap, prosody, irc, fp), 300))
            asyncio.run(asyncio.wait_for(always_at_registration(tap, prosody, irc, fp), 200))
        else:
            asyncio.run(asyncio.wait_for(trusted(tap, prosody, irc, fp), 120))
        ferry.stop()


def main():
    return run_test("legacy-tls", ("prosody", "prosodyctl", "ngircd", "openssl"), body)


if __name__ == "__main__":
    sys.exit(main())
