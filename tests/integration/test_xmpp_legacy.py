#!/usr/bin/python3
"""End to end with a second protocol: libpurple's XMPP (prpl-jabber) against
a second Prosody virtual host used as the "legacy" network.

alice@localhost registers carol@legacy.localhost with the transport
xmpp.localhost. It exercises what IRC cannot: a wrong password at
registration, authorization requests (dave asks carol), rich presence
(away/dnd with text), typing notifications both ways, and legacy names
that need XEP-0106 escaping (dave@legacy.localhost becomes
dave\\40legacy.localhost@xmpp.localhost); a file dave offers by stream
initiation is declined (dave gets forbidden) and alice told. Prints TAP.
"""

import asyncio
import os
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from transport import NS_CHATSTATES, XmppUser, legacy_xmpp_config, start_legacy_xmpp  # noqa: E402

T = "xmpp.localhost"
DAVE = "dave\\40legacy.localhost@" + T


async def offer_file(user, to, name, size):
    """USER offers TO a file by stream initiation; how the offer was answered:
    "result", "timeout" or the error condition."""
    import slixmpp.exceptions
    iq = user.xmpp.make_iq_set(ito=to)
    iq.append(ET.fromstring(
        "<si xmlns='http://jabber.org/protocol/si' id='ferry-si-1' mime-type='image/jpeg'"
        " profile='http://jabber.org/protocol/si/profile/file-transfer'>"
        "<file xmlns='http://jabber.org/protocol/si/profile/file-transfer' name='%s' size='%d'/>"
        "<feature xmlns='http://jabber.org/protocol/feature-neg'>"
        "<x xmlns='jabber:x:data' type='form'><field var='stream-method' type='list-single'>"
        "<option><value>http://jabber.org/protocol/bytestreams</value></option>"
        "<option><value>http://jabber.org/protocol/ibb</value></option>"
        "</field></x></feature></si>" % (name, size)))
    try:
        await iq.send(timeout=15)
        return "result"
    except slixmpp.exceptions.IqTimeout:
        return "timeout"
    except slixmpp.exceptions.IqError as e:
        return e.iq["error"]["condition"]


async def scenario(tap, prosody):
    port = prosody.c2s_port
    async with XmppUser("alice@localhost", "alicepw", port) as alice, \
            XmppUser("dave@legacy.localhost", "davepw", port) as dave:
        # -- a wrong password is refused with the legacy network's reason
        r = await alice.register(T, {"username": "carol", "password": "wrong"})
        text = r.find("{jabber:client}error/{urn:ietf:params:xml:ns:xmpp-stanzas}text")
        tap.ok(r.type == "error" and r.condition == "not-authorized",
               "a wrong legacy password gets not-authorized", str(r))
        tap.ok(text is not None and (text.text or "").strip() != "",
               "the error carries the legacy network's reason",
               text.text if text is not None else str(r))
        r, _f, registered = await alice.registration_form(T)
        tap.ok(not registered, "nothing was stored after the failed login")

        # -- the right one
        r = await alice.register(T, {"username": "carol", "password": "carolpw"})
        tap.ok(r.type == "result", "registration of carol@legacy.localhost", str(r))
        online = await alice.presence_from(T, None, timeout=30, where=lambda p:
                                           "Connected" in (p.child_text("status") or ""))
        tap.ok(online is not None, "the session signs on to the legacy XMPP server")

        # -- an authorization request from the legacy side
        m0 = alice.mark()
        dave.send_presence(to="carol@legacy.localhost", ptype="subscribe")
        sub = await alice.presence_from(DAVE, "subscribe", since=m0, timeout=20)
        tap.ok(sub is not None,
               "dave's authorization request reaches alice as a subscribe from %s" % DAVE,
               "inbox: %s" % [str(x) for x in alice.inbox[m0:]])
        granted = await dave.presence_from("carol@legacy.localhost", "subscribed",
                                           timeout=20)
        tap.ok(granted is not None, "alice's approval goes back: dave is subscribed")

        # -- alice adds dave, so that she sees his presence
        m0 = alice.mark()
        alice.send_presence(to=DAVE, ptype="subscribe")
        avail = await alice.presence_from(DAVE, None, since=m0, timeout=30)
        tap.ok(avail is not None, "dave's presence shows once alice added him")
        # libpurple keeps one buddy per bare JID (the worker reports
        # BUDDY_STATUS by buddy and names IMs by their buddy): dave's own
        # resource becomes the transport's fixed one
        tap.ok(avail is not None and avail.sender == DAVE + "/ferry",
               "dave's presence comes from %s/ferry, whatever his resource" % DAVE,
               str(avail))

        for show, status in (("away", "out for lunch"), ("dnd", "in a meeting"),
                             ("xa", "gone home")):
            m0 = alice.mark()
            dave.send_presence(show=show, status=status)
            p = await alice.presence_from(
                DAVE, None, since=m0, timeout=20,
                where=lambda x: x.child_text("show") == show)
            tap.ok(p is not None and p.child_text("status") == status,
                   "dave's %s with text %r arrives" % (show, status),
                   str(p) if p else "nothing")
        dave.send_presence()

        # -- typing notifications both ways
        m0 = alice.mark()
        dave.send_message("carol@legacy.localhost", None,
                          extra="<composing xmlns='%s'/>" % NS_CHATSTATES)
        t = await alice.wait_for(lambda x: x.kind == "message" and x.sender.split("/")[0] ==
                                 DAVE and x.has("composing", NS_CHATSTATES), since=m0)
        tap.ok(t is not None, "dave typing -> <composing/> from %s" % DAVE)
        m0 = dave.mark()
        alice.send_message(DAVE, None, extra="<composing xmlns='%s'/>" % NS_CHATSTATES)
        t = await dave.wait_for(lambda x: x.kind == "message" and
                                x.sender.split("/")[0] == "carol@legacy.localhost" and
                                x.has("composing", NS_CHATSTATES), since=m0)
        tap.ok(t is not None, "alice typing -> <composing/> reaches dave")

        # -- messages both ways
        text = "x < y & \"z\" > w — ça va? ?OTR:AAMG+/=."
        m0 = dave.mark()
        alice.send_message(DAVE, text)
        got = await dave.message_from("carol@legacy.localhost", since=m0)
        tap.ok(got is not None and got.child_text("body") == text,
               "XMPP -> legacy XMPP arrives exactly", str(got))
        m0 = alice.mark()
        dave.send_message("carol@legacy.localhost", text)
        got = await alice.message_from(DAVE, since=m0)
        tap.ok(got is not None and got.child_text("body") == text,
               "legacy XMPP -> XMPP arrives exactly", str(got))
        tap.ok(got is not None and got.sender == DAVE + "/ferry",
               "and from %s/ferry, like his presence" % DAVE, str(got))

        # -- alice's status becomes carol's: the highest-priority resource wins
        m0 = dave.mark()
        alice.send_presence(show="dnd", status="writing a report", priority=5)
        p = await dave.presence_from("carol@legacy.localhost", None, since=m0, timeout=20,
                                     where=lambda x: x.child_text("show") == "dnd")
        tap.ok(p is not None and p.child_text("status") == "writing a report",
               "alice's dnd with text becomes carol's legacy status", str(p))
        async with XmppUser("alice@localhost", "alicepw", port, priority=10) as phone:
            m0 = dave.mark()
            phone.send_presence(show="xa", status="on the phone", priority=10)
            p = await dave.presence_from("carol@legacy.localhost", None, since=m0,
                                         timeout=20,
                                         where=lambda x: x.child_text("show") == "xa")
            tap.ok(p is not None and p.child_text("status") == "on the phone",
                   "a second resource with a higher priority sets the status", str(p))
            # marked before the phone leaves: its leaving can reach dave
            # while the client is still closing its stream (seen in CI)
            m0 = dave.mark()
        p = await dave.presence_from("carol@legacy.localhost", None, since=m0, timeout=20,
                                     where=lambda x: x.child_text("show") == "dnd")
        m_offer = alice.mark()
        tap.ok(p is not None, "when it leaves, the remaining resource's status is back",
               str(p))

        # -- dave offers carol a file (XEP-0096 stream initiation): the worker
        # declines it, dave gets an error, alice is told by the transport
        if p is not None:
            answer = await offer_file(dave, p.sender, "holiday.jpg", 2048)
            note = await alice.wait_for(
                lambda x: x.kind == "message" and x.sender == T and
                "offered you a file" in (x.child_text("body") or ""), 15, m_offer)
            text = (note.child_text("body") if note else "") or ""
            tap.ok(note is not None and "holiday.jpg" in text and "declined" in text,
                   "a file dave offers: alice is told by the transport that it was declined",
                   text)
            tap.ok(answer not in ("result", "timeout"),
                   "dave's offer is answered with an error (%s)" % answer)

        # -- alice removes dave: he is removed on the legacy side too
        m0 = dave.mark()
        alice.send_presence(to=DAVE, ptype="unsubscribe")
        gone = await dave.wait_for(lambda x: x.kind == "presence" and x.sender.split("/")[0] ==
                                   "carol@legacy.localhost" and
                                   x.type in ("unsubscribe", "unsubscribed"), since=m0)
        tap.ok(gone is not None, "removing the contact unsubscribes carol from dave",
               str(gone))

    # -- the legacy password changes behind the transport's back: the next
    # login fails for good and the user is told why
    prosody.deluser("carol", "legacy.localhost")
    prosody.register("carol", "legacy.localhost", "changed-pw")
    async with XmppUser("alice@localhost", "alicepw", port) as alice:
        e = await alice.wait_for(lambda x: x.kind == "presence" and x.sender == T and
                                 x.type == "error", timeout=30)
        tap.ok(e is not None and e.error_condition() == "not-authorized",
               "a failed session login comes as a presence error not-authorized", str(e))
        tap.ok(e is not None and (e.error_text() or "").strip() != "",
               "the presence error carries a readable reason",
               e.error_text() if e else "")
        note = await alice.message_from(T, timeout=10)
        tap.ok(note is not None and "Could not log in" in (note.child_text("body") or ""),
               "and a chat message from the transport explains it", str(note))

        # -- and asks for the new password (by chat here): a wrong one is
        # refused and nothing changes; the right one is stored once a
        # login with it has signed on
        def said(words, since):
            return alice.wait_for(
                lambda x: x.kind == "message" and (x.sender or "").split("/")[0] == T and
                all(w in (x.child_text("body") or "") for w in words), timeout=40, since=since)
        asked = await said(["New password", "prompt/"], 0)
        tap.ok(asked is not None and "no longer accepts your password" in
               (asked.child_text("body") or ""),
               "the transport asks for the new password (a chat question)", str(asked))
        m1 = alice.mark()
        alice.send_message(T, "still-wrong")
        bad = await said(["did not work"], m1)
        tap.ok(bad is not None and "unchanged" in (bad.child_text("body") or ""),
               "a wrong new password: told it did not work, the stored one unchanged",
               str(bad))
        again = await said(["New password", "prompt/"], m1)
        tap.ok(again is not None, "and asked again", str(again))
        m2 = alice.mark()
        alice.send_message(T, "changed-pw")
        good = await said(["new password works"], m2)
        tap.ok(good is not None, "the right one: 'the new password works', connected",
               str(good))
        online = await alice.transport_connected(T, since=m2, timeout=30)
        tap.ok(online is not None, "the transport says alice is connected again")

    # a new session logs in with the stored new password, without a question
    async with XmppUser("alice@localhost", "alicepw", port) as alice:
        online = await alice.transport_connected(T, timeout=30)
        errs = [x for x in alice.inbox if x.kind == "presence" and x.type == "error"]
        tap.ok(online is not None and not errs,
               "the next session logs in with the new password (it was stored)",
               str([str(e) for e in errs]))


def body(tap, run):
    prosody = start_legacy_xmpp(run, T)
    ferry = start_ferry(tap, run, **legacy_xmpp_config(prosody, T))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(scenario(tap, prosody), 240))


def main():
    return run_test("xmpp-legacy", ("prosody", "prosodyctl"), body)

if __name__ == "__main__":
    sys.exit(main())
