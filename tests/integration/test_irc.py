#!/usr/bin/python3
"""End to end with IRC: Prosody + ngircd + ferry (prpl-irc in a worker).

alice@localhost registers her IRC nick through the XEP-0077 form, comes
online and appears on IRC; messages go both ways byte for byte (markup
characters, non-ASCII, OTR); a raw CTCP VERSION is answered with ferry's
name; a buddy's presence shows; going offline logs
out; unregistering removes everything. Errors: an empty username, a user of
a domain that is not allowed, an unregistered sender. The password is in
no file ferry wrote and in no process's arguments or environment.
Prints TAP.
"""

import ast
import asyncio
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import builddir, run_test, start_ferry  # noqa: E402
from transport import (irc_presets, IrcPeer, XmppUser, children_of, files_containing,  # noqa: E402
                       proc_contains, start_xmpp_and_irc, transport_config)

T = "irc.localhost"
TEXTS = [
    "1 < 2 & 3 > 2, <b>not bold</b> &amp; été ✓ ünïcødé",
    "?OTR:AAMGAAAAAQAAAAEAAADAVf3Ei72ZgFeKqWvLMnuVPxQz+hHjaKFkr/tK+Z0o=.",
    "?OTRv23? alice would like a private conversation",
    "inner\ttab and  double  spaces",
    "  leading and trailing spaces  ",
]


async def network_delivers(irc, password, texts):
    """What the IRC server itself makes of each text between two plain IRC
    clients (ngircd drops trailing whitespace): the reference ferry must
    match, adding no change of its own."""
    out = {}
    async with IrcPeer(irc.port, "probe1", password=password) as a, \
            IrcPeer(irc.port, "probe2", password=password) as b:
        for text in texts:
            a.send("PRIVMSG probe2 :%s" % text)
            out[text] = await b.privmsg_from("probe1")
    return out


async def line_matching(peer, since, pred, timeout=15):
    """The first line the IRC peer read after index `since` that `pred`
    accepts, waiting up to `timeout` seconds; None if none came."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in peer.lines[since:]:
            if pred(line):
                return line
        await asyncio.sleep(0.1)
    return None


def ssl_defaults(tap):
    """The IRC form's defaults as the real worker describes them: TLS on,
    on the TLS port (libpurple's own: off, 6667)."""
    out = subprocess.run([os.path.join(builddir(), "src", "ferry-worker"), "--describe",
                          "prpl-irc"], capture_output=True, text=True, timeout=60).stdout
    opts = {o[0]: o[3] for o in ast.literal_eval(out.strip())[4]}
    tap.ok(opts.get("ssl") == "true" and opts.get("port") == "6697",
           "IRC defaults to TLS (ssl true, port 6697) unless the admin presets ssl = false",
           "ssl %r, port %r" % (opts.get("ssl"), opts.get("port")))


async def scenario(tap, run, prosody, irc, ferry, password):
    direct = await network_delivers(irc, password, TEXTS)
    for text in TEXTS:
        if direct[text] != text:
            tap.diag("the IRC server itself turns %r into %r" % (text, direct[text]))
    async with IrcPeer(irc.port, "bob", password=password) as bob, \
            XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        # -- the form
        # -- disco of contact JIDs (bare and full) and of the transport's full JID
        # (an unknown contact is named by its localpart, which the server
        # case-folds on the way: "john smith"; every full JID answers the
        # same, named by the protocol, which its caps hash: test_presence.py)
        for who, name in (("bob@%s" % T, "bob"), ("bob@%s/ferry" % T, "IRC"),
                          ("John\\20Smith@%s" % T, "john smith")):
            r, ids, feats = await alice.disco_info(who)
            tap.ok(r.type == "result" and ids == [("client", "pc", name)]
                   and "http://jabber.org/protocol/chatstates" in feats,
                   "disco#info of %s: client/pc named %r, chat states" % (who, name),
                   "%s %s %s" % (r, ids, feats))
        # a contact has one resource: another is not found
        r, ids, feats = await alice.disco_info("bob@%s/phone" % T)
        tap.ok(r.type == "error" and r.condition == "item-not-found",
               "disco#info of bob@%s/phone: item-not-found (contacts have /ferry only)" % T,
               str(r))
        r, ids, feats = await alice.disco_info(T + "/anything")
        tap.ok(r.type == "result" and ("gateway", "irc", "IRC Transport") in ids
               and "jabber:iq:register" in feats,
               "disco#info of the transport's full JID is the transport's", str(r))
        r = await alice.iq(T + "/anything", "<ping xmlns='urn:xmpp:ping'/>")
        tap.ok(r.type == "result", "the transport's full JID answers a ping", str(r))

        r, fields, registered = await alice.registration_form(T)
        tap.ok(r.type == "result" and not registered,
               "registration form answered; not registered yet", str(r))
        tap.ok({"username", "password", "server", "port", "ssl"} <= set(fields),
               "the form has username, password, server, port, ssl",
               "fields: %s" % fields)
        tap.ok(fields.get("server", (None, None))[1] == "127.0.0.1",
               "[legacy] server preset is the form's default", str(fields.get("server")))
        tap.ok(fields.get("ssl", (None, None))[1] in ("0", "false"),
               "[legacy] ssl = false (the test ngircd is plain) is the form's default",
               str(fields.get("ssl")))

        # -- jabber:iq:gateway: legacy name -> JID (XEP-0100 §6.3)
        r = await alice.iq(T, "<query xmlns='jabber:iq:gateway'/>")
        prompt = r.find("{jabber:iq:gateway}query/{jabber:iq:gateway}prompt")
        tap.ok(r.type == "result" and prompt is not None,
               "jabber:iq:gateway get gives a prompt", str(r))
        r = await alice.iq(T, "<query xmlns='jabber:iq:gateway'><prompt>John Smith"
                              "</prompt></query>", itype="set")
        jid = r.find("{jabber:iq:gateway}query/{jabber:iq:gateway}jid")
        tap.ok(jid is not None and jid.text == "John\\20Smith@" + T,
               "jabber:iq:gateway maps 'John Smith' to John\\20Smith@" + T, str(r))

        # -- bad submissions
        r = await alice.register(T, {"username": ""})
        tap.ok(r.type == "error" and r.condition == "not-acceptable",
               "an empty username gets not-acceptable", str(r))

        # -- an unregistered sender
        m0 = alice.mark()
        alice.send_message("bob@%s" % T, "hello?")
        e = await alice.error_from("bob@%s" % T, since=m0)
        tap.ok(e is not None and e.error_condition() == "registration-required",
               "a message from an unregistered user gets registration-required",
               str(e))

        # -- register
        m0 = alice.mark()
        r = await alice.register(T, {"username": "alice", "password": password})
        tap.ok(r.type == "result", "registration with a test login succeeds", str(r))
        sub = await alice.presence_from(T, "subscribe", since=m0, timeout=10)
        tap.ok(sub is not None, "the transport asks to be in alice's roster")

        # -- the session starts by itself after the subscription dance
        tap.ok(await bob.wait_ison("alice", True, 30),
               "alice's nick appears on IRC after her presence")
        online = await alice.presence_from(T, None, timeout=20, where=lambda p:
                                           "Connected" in (p.child_text("status") or ""))
        tap.ok(online is not None, "the transport's presence says it is connected",
               "inbox: %s" % [str(x) for x in alice.inbox[-5:]])

        r, fields, registered = await alice.registration_form(T)
        tap.ok(registered and fields.get("username", (0, ""))[1] == "alice"
               and password not in str(r),
               "registered users see <registered/>, their values, no password", str(r))

        # -- XMPP -> IRC, byte for byte
        for text in TEXTS:
            alice.send_message("bob@%s" % T, text)
            got = await bob.privmsg_from("alice")
            tap.ok(got == direct[text], "XMPP -> IRC arrives exactly: %r" % text[:40],
                   "IRC got %r, a direct IRC message gives %r" % (got, direct[text]))

        # -- IRC -> XMPP, byte for byte
        for text in TEXTS:
            m0 = alice.mark()
            bob.send("PRIVMSG alice :%s" % text)
            msg = await alice.message_from("bob@%s" % T, since=m0)
            body = msg.child_text("body") if msg else None
            tap.ok(body == direct[text], "IRC -> XMPP arrives exactly: %r" % text[:40],
                   "XMPP got %r, a direct IRC message gives %r" % (body, direct[text]))

        # -- CTCP VERSION from a raw IRC client: answered with ferry's name,
        # not libpurple's ("Purple IRC")
        seen = len(bob.lines)
        bob.send("PRIVMSG alice :\x01VERSION\x01")
        reply = await line_matching(bob, seen, lambda l: " NOTICE bob :\x01VERSION " in l)
        tap.ok(reply is not None and "ferry" in reply and "Purple" not in reply,
               "CTCP VERSION is answered with ferry's own name", repr(reply))

        # -- what the legacy network says back answers the message itself
        # (test_delivery.py checks no separate chat comes too)
        m0 = alice.mark()
        mid = alice.send_message("nobody@%s" % T, "anyone there?")
        note = await alice.wait_for(lambda x: x.kind == "message" and x.type == "error" and
                                    x.xml.get("id") == mid and
                                    "nobody" in (x.error_text() or ""), since=m0)
        tap.ok(note is not None, "IRC's answer about a missing nick comes back as an error "
               "answering the message", str(note))

        # -- a legacy user not in the buddy list, with an odd nick
        async with IrcPeer(irc.port, "Zed[away]", password=password) as zed:
            m0 = alice.mark()
            zed.send("PRIVMSG alice :from a stranger")
            msg = await alice.wait_for(lambda x: x.kind == "message" and
                                       (x.child_text("body") or "") == "from a stranger",
                                       since=m0)
            tap.ok(msg is not None and msg.sender.lower().startswith("zed[away]@"),
                   "a message from a non-buddy arrives from nick@transport",
                   str(msg))
            r, ids, feats = await alice.disco_info("Zed[away]@%s" % T)
            tap.ok(ids == [("client", "pc", "Zed[away]")],
                   "disco#info names a known contact as IRC spells it, though the "
                   "server folds the JID", "%s %s" % (r, ids))
            if msg is not None:
                alice.send_message(msg.sender.split("/")[0], "reply to stranger")
                tap.ok(await zed.privmsg_from("alice") == "reply to stranger",
                       "the reply reaches the non-buddy's exact nick")

        # -- buddy presence: alice adds bob, who is online
        m0 = alice.mark()
        alice.send_presence(to="bob@%s" % T, ptype="subscribe")
        p = await alice.presence_from("bob@%s" % T, None, since=m0, timeout=30)
        tap.ok(p is not None, "bob@%s shows as available once added" % T)

        # -- secrets: never in files, arguments or environments
        # ferry's dir holds its database, key, config copy and log, and the
        # workers' private libpurple dirs (TMPDIR points there).
        hits = files_containing(run.path("ferry"), password.encode())
        tap.ok(not hits, "the password is in no file ferry or its workers wrote",
               str(hits))
        pids = [ferry.popen.pid] + children_of(ferry.popen.pid)
        leaks = [pid for pid in pids if proc_contains(pid, password.encode())]
        tap.ok(len(pids) >= 2 and not leaks,
               "the password is in no process's arguments or environment "
               "(ferry and %d worker(s))" % (len(pids) - 1), str(leaks))

        # -- going offline logs out of IRC
        await alice.close()
    async with IrcPeer(irc.port, "carl", password=password) as carl:
        tap.ok(await carl.wait_ison("alice", False, 20),
               "alice going offline logs her out of IRC")

        # -- unregister: back online first, then <remove/>
        async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
            tap.ok(await carl.wait_ison("alice", True, 30),
                   "alice comes back on IRC when she is online again")
            m0 = alice.mark()
            r = await alice.unregister(T)
            tap.ok(r.type == "result", "unregistration answered with a result", str(r))
            un = await alice.presence_from(T, "unsubscribed", since=m0, timeout=10)
            tap.ok(un is not None, "the transport sends unsubscribed after <remove/>")
            tap.ok(await carl.wait_ison("alice", False, 20),
                   "unregistering logs alice out of IRC")
            r, fields, registered = await alice.registration_form(T)
            tap.ok(r.type == "result" and not registered,
                   "after <remove/> alice is not registered any more", str(r))
            r = await alice.unregister(T)
            tap.ok(r.type == "error" and r.condition == "registration-required",
                   "a second <remove/> gets registration-required", str(r))

    # -- a user from a domain that is not allowed
    async with XmppUser("eve@other.localhost", "evepw", prosody.c2s_port) as eve:
        r = await eve.register(T, {"username": "eve"})
        tap.ok(r.type == "error" and r.condition == "forbidden",
               "a user of a domain that is not allowed gets forbidden", str(r))
    stored = [p for p in files_containing(run.path("ferry"), b"eve@other.localhost")
              if os.path.basename(p).startswith("ferry.db")]
    tap.ok(not stored, "nothing about the refused user is stored", str(stored))


def body(tap, run):
    ssl_defaults(tap)
    # The IRC network has a server password: alice's legacy password.
    password = "Irc-Pa55-%s" % os.urandom(8).hex()
    prosody, irc = start_xmpp_and_irc(run, T, ("alice@localhost", "eve@other.localhost"),
                                      password)
    ferry = start_ferry(tap, run, **transport_config(
        prosody, presets=irc_presets(irc)))
    if ferry is None:
        return
    asyncio.run(asyncio.wait_for(scenario(tap, run, prosody, irc, ferry, password), 300))
    tap.ok(password not in ferry.log_text(), "the password is not in ferry's log")
    ferry.stop()
    # libpurple's files live only in each worker's private TMPDIR, which
    # is gone once the workers are; nothing lands in ferry's HOME.
    tmp = run.path("ferry", "tmp")
    left = os.listdir(tmp) if os.path.isdir(tmp) else []
    tap.ok(not left, "no worker files are left after ferry stops", str(left))
    home = []
    for d, _dirs, files in os.walk(run.path("ferry", "home")):
        home += [os.path.join(d, f) for f in files]
    tap.ok(not home, "nothing was written to HOME", str(home))


def main():
    return run_test("irc", ("prosody", "prosodyctl", "ngircd"), body)

if __name__ == "__main__":
    sys.exit(main())
