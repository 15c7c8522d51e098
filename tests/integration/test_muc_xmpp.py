#!/usr/bin/python3
"""Group chats (issue 11) through prpl-jabber: a legacy XMPP server's MUC
rooms as rooms of the transport.

One Prosody: localhost (the users), legacy.localhost (the "legacy"
network, with a mod_muc component conference.legacy.localhost) and the
transport xmpp.localhost. alice@localhost registers her legacy account
carol@legacy.localhost; dave@legacy.localhost, a slixmpp client on the
legacy host, owns the rooms. The room room@conference.legacy.localhost is
room\\40conference.legacy.localhost@xmpp.localhost on the transport.
Checks: the room's disco#info before a join (as Gajim asks), the join
(occupants, 110, subject), messages both ways with reflection, private
messages, the subject both ways, a nick change, a kick by the owner, a
password room (wrong, missing and right password). Raw stanzas, bounded
waits. Prints TAP.
"""

import asyncio
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import NS_CLIENT, run_test, start_ferry  # noqa: E402
from transport import (NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_SID, XmppUser,  # noqa: E402
                       groupchat, is_from, legacy_xmpp_config, muc_codes, muc_item, muc_join,
                       start_legacy_xmpp,
                       muc_say, presence, resource, same, count, role,
                       xml_escape)

T = "xmpp.localhost"
MUC = "conference.legacy.localhost"
LROOM = "room@" + MUC                       # on the legacy server
ROOM = "room\\40%s@%s" % (MUC, T)           # the same room through the transport
LSECRET = "secret@" + MUC
SECRET = "secret\\40%s@%s" % (MUC, T)
DAVE = "dave\\40legacy.localhost@" + T


def subject(room, nick, text):
    def match(r):
        return (r.kind == "message" and is_from(r, room, nick) and
                r.xml.find("{%s}subject" % NS_CLIENT) is not None and
                r.child_text("subject") == text)
    return match


def send_subject(user, room, text):
    mid = user.xmpp.new_id()
    user.xmpp.send_raw("<message xmlns='%s' to='%s' type='groupchat' id='%s'>"
                       "<subject>%s</subject></message>" % (NS_CLIENT, room, mid,
                                                            xml_escape(text)))
    return mid


async def configure(tap, owner, room, fields, label):
    """The owner submits the room configuration form with FIELDS."""
    f = "".join("<field var='%s'><value>%s</value></field>" % (k, xml_escape(v))
                for k, v in fields.items())
    r = await owner.iq(room, "<query xmlns='%s'><x xmlns='jabber:x:data' type='submit'>"
                       "<field var='FORM_TYPE'><value>%s#roomconfig</value></field>%s"
                       "</x></query>" % (NS_MUC_OWNER, NS_MUC, f), itype="set", timeout=10)
    tap.ok(r.type == "result", "dave configures %s (%s)" % (room, label), str(r))


async def scenario(tap, prosody):
    port = prosody.c2s_port
    async with XmppUser("alice@localhost", "alicepw", port) as alice, \
            XmppUser("dave@legacy.localhost", "davepw", port) as dave:
        # -- dave creates the rooms on the legacy server
        ans = await muc_join(dave, LROOM, "dave")
        tap.ok(ans.ok() and 201 in muc_codes(ans.own), "dave creates %s" % LROOM, str(ans))
        await configure(tap, dave, LROOM, {"muc#roomconfig_changesubject": "1"},
                        "occupants may change the subject")
        m0 = dave.mark()
        send_subject(dave, LROOM, "legacy topic")
        await dave.wait_for(subject(LROOM, "dave", "legacy topic"), 10, m0)
        # history the room keeps (Prosody sends it to joiners who ask or not)
        dave.xmpp.send_raw("<message xmlns='%s' to='%s' type='groupchat' id='d0'><body>"
                           "said before alice came</body></message>" % (NS_CLIENT, LROOM))
        await dave.wait_for(groupchat(LROOM, "dave", "said before alice came"), 10, m0)
        ans = await muc_join(dave, LSECRET, "dave")
        tap.ok(ans.ok(), "dave creates %s" % LSECRET, str(ans))
        await configure(tap, dave, LSECRET, {"muc#roomconfig_passwordprotectedroom": "1",
                                             "muc#roomconfig_roomsecret": "sesame"},
                        "password sesame")

        # -- alice's legacy account
        r = await alice.register(T, {"username": "carol", "password": "carolpw"})
        tap.ok(r.type == "result", "alice registers carol@legacy.localhost", str(r))
        tap.ok(await alice.transport_connected(T) is not None,
               "the session signs on to the legacy XMPP server")

        # -- disco#info first, as Gajim does
        r, ids, feats = await alice.disco_info(ROOM, timeout=15)
        tap.ok(r.type == "result" and any(i[0] == "conference" for i in ids) and
               NS_MUC in feats,
               "disco#info of %s before a join: a conference identity and the muc feature"
               % ROOM, "%s %s %s" % (r, ids, feats))
        tap.ok(not ({"muc_membersonly", "muc_nonanonymous"} <= feats),
               "the room never announces membersonly with nonanonymous", str(feats))
        r, ids, feats = await alice.disco_info(DAVE, timeout=15)
        tap.ok(not any(i[0] == "conference" for i in ids),
               "disco#info of the contact %s is no room" % DAVE, "%s %s" % (ids, feats))

        # -- the join
        d0 = dave.mark()
        ans = await muc_join(alice, ROOM, "alice")
        tap.ok(ans.ok(), "alice joins %s (%.1f s)" % (ROOM, ans.seconds or 0), str(ans))
        own = ans.own
        tap.ok(own is not None and same(own.sender, ROOM + "/alice") and
               own.xml.get("id") == ans.id and 110 in muc_codes(own),
               "the self-presence from room/alice echoes the join id with 110", str(own))
        by_nick = {resource(p.sender): p for p in ans.occupants}
        tap.ok(list(by_nick) == ["dave"] and role(by_nick["dave"]) == ("owner", "moderator"),
               "the occupants before it: dave, owner/moderator", str(ans))
        tap.ok(ans.subject is not None and ans.subject.child_text("subject") == "legacy topic"
               and ans.stanzas[-1] is ans.subject,
               "then the room's subject, last", str(ans))
        tap.ok(ans.ok() and not [r for r in ans.stanzas if r.kind == "message" and
                                 r.child_text("body") is not None],
               "no history in the join (ferry asks the legacy room for none)", str(ans))
        seen = await dave.wait_for(presence(LROOM, "alice"), 15, d0)
        tap.ok(seen is not None, "dave sees carol join the legacy room as alice", str(seen))

        # -- messages both ways, reflected once
        text = "x < y & \"z\" — ça va? ✓"
        a0, d0 = alice.mark(), dave.mark()
        mid, oid = muc_say(alice, ROOM, text)
        got = await dave.wait_for(groupchat(LROOM, "alice", text), 15, d0)
        refl = await alice.wait_for(groupchat(ROOM, "alice", text), 15, a0)
        await asyncio.sleep(2)
        tap.ok(got is not None and count(dave, groupchat(LROOM, "alice", text), d0) == 1,
               "alice's message reaches the legacy room once, exactly", str(got))
        origin = refl.xml.find("{%s}origin-id" % NS_SID) if refl is not None else None
        tap.ok(refl is not None and refl.xml.get("id") == mid and origin is not None and
               origin.get("id") == oid,
               "it is reflected from room/alice with its id and origin-id", str(refl))
        tap.ok(refl is not None and any(same(s.get("by"), ROOM) for s in
                                        refl.xml.findall("{%s}stanza-id" % NS_SID)),
               "the reflection carries a stanza-id by the room", str(refl))
        n = count(alice, groupchat(ROOM, None, text), a0)
        tap.ok(n == 1, "reflected exactly once (the legacy room's echo is not a second "
               "message): %d" % n)
        a0 = alice.mark()
        dave.xmpp.send_raw("<message xmlns='%s' to='%s' type='groupchat' id='d1'><body>%s"
                           "</body></message>" % (NS_CLIENT, LROOM, xml_escape("from dave ✓")))
        got = await alice.wait_for(groupchat(ROOM, "dave", "from dave ✓"), 15, a0)
        await asyncio.sleep(1)
        tap.ok(got is not None and count(alice, groupchat(ROOM, None, "from dave ✓"), a0) == 1,
               "dave's message arrives once from room/dave", str(got))

        # -- private messages through the room
        d0 = dave.mark()
        alice.send_message(ROOM + "/dave", "psst")
        got = await dave.wait_for(lambda r: r.kind == "message" and r.type == "chat" and
                                  r.child_text("body") == "psst", 15, d0)
        tap.ok(got is not None and same(got.sender, LROOM + "/alice"),
               "a chat message to room/dave reaches dave from the room as alice", str(got))
        a0 = alice.mark()
        dave.send_message(LROOM + "/alice", "psst back")
        got = await alice.wait_for(lambda r: r.kind == "message" and
                                   r.child_text("body") == "psst back", 15, a0)
        tap.ok(got is not None and same(got.sender, ROOM + "/dave"),
               "dave's private reply arrives from room/dave", str(got))

        # -- the subject both ways
        a0 = alice.mark()
        send_subject(dave, LROOM, "second topic")
        got = await alice.wait_for(subject(ROOM, "dave", "second topic"), 15, a0)
        tap.ok(got is not None and got.child_text("body") is None,
               "dave's subject change arrives from room/dave without body", str(got))
        d0 = dave.mark()
        send_subject(alice, ROOM, "alice's topic")
        got = await dave.wait_for(subject(LROOM, "alice", "alice's topic"), 15, d0)
        tap.ok(got is not None, "alice's <subject/> changes the legacy room's subject",
               str(got))

        # -- a nick change
        a0, d0 = alice.mark(), dave.mark()
        alice.xmpp.send_raw("<presence xmlns='%s' to='%s/alicia'/>" % (NS_CLIENT, ROOM))
        gone = await dave.wait_for(presence(LROOM, "alice", "unavailable", (303,)), 15, d0)
        back = await dave.wait_for(presence(LROOM, "alicia"), 15, d0)
        tap.ok(gone is not None and back is not None,
               "dave sees alice become alicia (303 pair)", "%s | %s" % (gone, back))
        gone = await alice.wait_for(presence(ROOM, "alice", "unavailable", (303, 110)), 15, a0)
        back = await alice.wait_for(presence(ROOM, "alicia", None, (110,)), 15, a0)
        it = muc_item(gone) if gone is not None else None
        tap.ok(gone is not None and back is not None and it is not None and
               it["nick"] == "alicia",
               "alice gets her 303 pair: unavailable (nick alicia, 110), then available "
               "from room/alicia (110)", "%s | %s" % (gone, back))

        # -- a kick by the owner
        a0 = alice.mark()
        r = await dave.iq(LROOM, "<query xmlns='%s'><item nick='alicia' role='none'>"
                          "<reason>out you go</reason></item></query>" % NS_MUC_ADMIN,
                          itype="set", timeout=10)
        tap.ok(r.type == "result", "dave kicks alicia", str(r))
        left = await alice.wait_for(presence(ROOM, "alicia", "unavailable"), 15, a0)
        it = muc_item(left) if left is not None else None
        tap.ok(left is not None and {110, 307} <= muc_codes(left) and it is not None and
               it["reason"] == "out you go",
               "alice gets unavailable with 110 + 307 and the reason", str(left))
        r = await alice.iq(ROOM + "/alicia", "<ping xmlns='urn:xmpp:ping'/>", timeout=10)
        tap.ok(r.condition == "not-acceptable", "after the kick a self-ping is not-acceptable",
               str(r))
        ans = await muc_join(alice, ROOM, "alice")
        tap.ok(ans.ok(), "and a rejoin works", str(ans))

        # -- a password room
        ans = await muc_join(alice, SECRET, "dave", password="sesame")
        e = ans.error
        tap.ok(e is not None and e.xml.get("id") == ans.id and
               e.error_condition() == "conflict",
               "a nick taken in the legacy room (dave): conflict with the join id (%.1f s)"
               % (ans.seconds or 0), str(ans))
        for label, pw in (("a wrong password", "wrong"), ("no password", None)):
            ans = await muc_join(alice, SECRET, "alice", password=pw)
            e = ans.error
            tap.ok(e is not None and e.xml.get("id") == ans.id and
                   e.error_condition() == "not-authorized",
                   "%s for the password room: not-authorized with the join id (%.1f s)"
                   % (label, ans.seconds or 0), str(ans))
        ans = await muc_join(alice, SECRET, "alice", password="sesame")
        tap.ok(ans.ok() and 110 in muc_codes(ans.own),
               "the right password joins the password room", str(ans))


def body(tap, run):
    prosody = start_legacy_xmpp(run, T, muc=[MUC])
    ferry = start_ferry(tap, run, **legacy_xmpp_config(prosody, T))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(scenario(tap, prosody), 400))


def main():
    return run_test("muc-xmpp", ("prosody", "prosodyctl"), body)


if __name__ == "__main__":
    sys.exit(main())
