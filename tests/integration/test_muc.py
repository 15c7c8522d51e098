#!/usr/bin/python3
"""Group chats (issue 11): IRC channels as XEP-0045 rooms, end to end.

Prosody + ngircd + ferry (prpl-irc in a worker). alice@localhost (two
resources, pc and phone) joins #ferry@irc.localhost and other channels;
bob (channel operator), carl and others are raw IRC clients. Each check
is numbered after the behaviour it covers in groupchat.md §9 (§9.N), or
names the issue's item. Raw stanzas throughout: the checks are about ids,
status codes and order. Every wait is bounded (joins 40 s, the rest a few
seconds). Prints TAP.
"""

import asyncio
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Ferry, run_test, start_ferry  # noqa: E402
from transport import (NS_CONFERENCE, NS_MUC, NS_MUC_USER, NS_RSM, NS_SID,  # noqa: E402
                       IrcPeer, XmppUser, bare, irc_join, irc_lines, irc_names, irc_presets,
                       irc_wait, is_from, groupchat, muc_codes, muc_item, muc_join, muc_leave,
                       presence, same, count, role,
                       muc_say, occupants_from, register_on_irc, resource, start_xmpp_and_irc,
                       transport_config, worker_pids, xml_escape)
from harness import NS_CLIENT, NS_DISCO_ITEMS  # noqa: E402

T = "irc.localhost"
ROOM = "#ferry@" + T
EMPTY = "#empty@" + T
TOPIC = "Welcome <all> & ünïcode ✓"
PING = "<ping xmlns='urn:xmpp:ping'/>"


def room_of(channel):
    return channel + "@" + T


def errored(mid, kind=None):
    def match(r):
        return (r.type == "error" and r.xml.get("id") == mid and
                (kind is None or r.kind == kind))
    return match


def status_text(r):
    return r.child_text("status") if r is not None else None


def subject_of(r):
    return None if r is None else r.child_text("subject")


class Ctx:
    """What the sections share: the TAP, the servers, the users."""

    def __init__(self, tap, run, prosody, irc, ferry):
        self.tap, self.run, self.prosody, self.irc, self.ferry = tap, run, prosody, irc, ferry
        self.pc = self.phone = self.bob = None
        self.ok = tap.ok
        self.joined = False

    async def self_ping(self, user, room, nick="alice"):
        return await user.iq("%s/%s" % (room, nick), PING, timeout=10)


# ---- before registration ---------------------------------------------------------------

async def unregistered(c):
    ans = await muc_join(c.pc, ROOM, "alice", timeout=15)
    e = ans.error
    c.ok(e is not None and e.xml.get("id") == ans.id and
         e.error_condition() == "registration-required",
         "a join from an unregistered user gets registration-required with the join id",
         str(ans))
    m0 = c.pc.mark()
    mid, _ = muc_say(c.pc, ROOM, "anyone?")
    err = await c.pc.wait_for(errored(mid, "message"), 15, m0)
    c.ok(err is not None and err.error_condition() == "registration-required",
         "a groupchat message from an unregistered user gets registration-required", str(err))


# ---- joins --------------------------------------------------------------------------------

async def set_up_channels(c):
    bob = c.bob
    c.ok(await irc_join(bob, "#ferry"), "bob opens #ferry (operator)")
    bob.send("TOPIC #ferry :%s" % TOPIC)
    c.ok(await irc_join(bob, "#empty"), "bob opens #empty (no topic)")
    c.ok(await irc_join(c.carl, "#ferry"), "carl joins #ferry")
    since = len(bob.lines)
    bob.send("MODE #ferry +v carl")
    await irc_wait(bob, since, 5, cmd="MODE", target="#ferry")


def check_order(c, ans, label):
    """§9.1: occupants, then the self-presence, then the subject, nothing else."""
    if ans.own is None:
        c.ok(False, "§9.1 %s: occupants, then self-presence (110), then the subject" % label,
             str(ans))
        return
    kinds = [("own" if s is ans.own else "subject" if s is ans.subject else s.kind)
             for s in ans.stanzas]
    own_at = kinds.index("own")
    c.ok(all(k == "presence" for k in kinds[:own_at]) and ans.subject is not None and
         kinds[-1] == "subject" and kinds[own_at + 1:] == ["subject"],
         "§9.1 %s: occupants, then self-presence (110), then the subject, in that order"
         % label, " -> ".join(kinds) + " | " + str(ans))
    c.ok(ans.subject is not None and ans.subject.child_text("body") is None,
         "§9.1 %s: the subject message has no body" % label, str(ans.subject))


async def join_empty(c):
    """§9.1 with a channel without topic and the nick the user asked for."""
    ans = await muc_join(c.pc, EMPTY, "alice")
    c.ok(ans.ok(), "§9.1 #empty: joined within 40 s (%.1f s)" % (ans.seconds or 0), str(ans))
    own = ans.own
    c.ok(own is not None and same(own.sender, EMPTY + "/alice") and own.xml.get("id") == ans.id
         and 110 in muc_codes(own) and 210 not in muc_codes(own),
         "§9.1 #empty: self-presence from room/alice echoes the join id, 110, no 210 "
         "(the nick is the one asked for)", str(own))
    c.ok(role(own) == ("none", "participant"),
         "§9.2 #empty: the user without prefix is none/participant", str(own))
    c.ok(ans.nicks() == ["bob"], "§9.1 #empty: the occupants before the self-presence: bob",
         str(ans.nicks()))
    check_order(c, ans, "#empty")
    c.ok(subject_of(ans.subject) == "",
         "§9.1 #empty: an empty subject when the channel has no topic", str(ans.subject))


async def join_ferry(c):
    """§9.1 and §9.2 with a topic, occupants with prefixes and a nick that
    differs from the one asked for."""
    since = len(c.bob.lines)
    m0 = c.pc.mark()
    ans = await muc_join(c.pc, ROOM, "wanted")
    c.joined = ans.ok()
    c.ok(ans.ok(), "§9.1 #ferry: joined within 40 s (%.1f s)" % (ans.seconds or 0), str(ans))
    own = ans.own
    c.ok(own is not None and same(own.sender, ROOM + "/alice") and own.xml.get("id") == ans.id
         and {110, 210} <= muc_codes(own),
         "§9.1 #ferry: asked for 'wanted': self-presence from room/alice (the IRC nick) with "
         "110 + 210, echoing the join id", str(own))
    check_order(c, ans, "#ferry")
    c.ok(subject_of(ans.subject) == TOPIC,
         "§9.1 #ferry: the subject is the channel's topic, characters intact",
         str(ans.subject))
    nicks = ans.nicks()
    c.ok(sorted(nicks) == ["bob", "carl"],
         "§9.2 #ferry: the other occupants, each once, before the self-presence", str(nicks))
    by_nick = {resource(p.sender): p for p in ans.occupants}
    c.ok(role(by_nick.get("bob")) == ("admin", "moderator"),
         "§9.2 @bob is admin/moderator", str(by_nick.get("bob")))
    c.ok(role(by_nick.get("carl")) == ("member", "participant"),
         "§9.2 +carl is member/participant", str(by_nick.get("carl")))
    await asyncio.sleep(1.5)
    selves = count(c.pc, lambda r: r.kind == "presence" and is_from(r, ROOM, "alice") and
                   r.type is None, m0)
    wanted = count(c.pc, lambda r: is_from(r, ROOM, "wanted"), m0)
    c.ok(selves == 1 and wanted == 0,
         "§9.2 own occupant listed exactly once (%d from room/alice, %d from room/wanted)"
         % (selves, wanted))
    joins = irc_lines(c.bob, since, cmd="JOIN", src="alice")
    c.ok(len(joins) == 1 and same(joins[0][2][0], "#ferry"),
         "§9.1 #ferry: one JOIN on IRC", str(joins))


async def join_contact(c):
    ans = await muc_join(c.pc, "bob@" + T, "alice", timeout=15)
    c.ok(ans.error is not None and ans.error.xml.get("id") == ans.id,
         "a join sent to a contact's JID (bob@%s) gets an error with the join id" % T,
         str(ans))


# ---- messages ------------------------------------------------------------------------------

async def messages(c):
    pc, bob = c.pc, c.bob
    text = "1 < 2 & 3 > 2, <b>not bold</b> &amp; été ✓ ünïcødé"
    since, m0, p0 = len(bob.lines), pc.mark(), c.phone.mark()
    mid, oid = muc_say(pc, ROOM, text)
    got = await irc_wait(bob, since, 15, cmd="PRIVMSG", src="alice", target="#ferry")
    refl = await pc.wait_for(groupchat(ROOM, "alice", text), 15, m0)
    await asyncio.sleep(2)
    got = irc_lines(bob, since, cmd="PRIVMSG", src="alice", target="#ferry")
    c.ok(len(got) == 1 and got[0][2][1] == text,
         "§9.3 a groupchat message reaches #ferry once, with <, &, non-ASCII intact",
         str(got))
    c.ok(refl is not None and refl.xml.get("id") == mid,
         "§9.3 it is reflected from room/alice with the message's id", str(refl))
    origin = refl.xml.find("{%s}origin-id" % NS_SID) if refl is not None else None
    c.ok(origin is not None and origin.get("id") == oid,
         "§9.3 the reflection keeps the client's origin-id", str(refl))
    sids = refl.xml.findall("{%s}stanza-id" % NS_SID) if refl is not None else []
    c.ok(any(same(s.get("by"), ROOM) and s.get("id") for s in sids),
         "§9.3 the reflection carries a stanza-id by the room", str(refl))
    n = count(pc, groupchat(ROOM, None, text), m0)
    c.ok(n == 1, "§9.3 reflected exactly once (the IRC echo is not forwarded again): %d" % n)
    c.ok(refl is not None and count(c.phone, lambda r: is_from(r, ROOM), p0) == 0,
         "§9.3 a resource that has not joined gets nothing from the room")

    text = "hello <there> & ü from IRC"
    m0 = pc.mark()
    bob.send("PRIVMSG #ferry :%s" % text)
    got = await pc.wait_for(groupchat(ROOM, "bob", text), 15, m0)
    await asyncio.sleep(1.5)
    c.ok(got is not None and count(pc, groupchat(ROOM, None, text), m0) == 1,
         "§9.3 bob's channel message arrives once from room/bob, exactly", str(got))

    # -- §9.4 several lines: one IRC line each
    since, m0 = len(bob.lines), pc.mark()
    text = "line one\nline two\nline three"
    mid, _ = muc_say(pc, ROOM, text)
    got = await irc_wait(bob, since, 15, count=3, cmd="PRIVMSG", src="alice", target="#ferry")
    c.ok([p[1] for _s, _c, p in got] == ["line one", "line two", "line three"],
         "§9.4 a three-line body is three PRIVMSGs in order", str(got))
    refl = await pc.wait_for(groupchat(ROOM, "alice"), 15, m0)
    c.ok(refl is not None and refl.xml.get("id") == mid and refl.child_text("body") == text,
         "§9.4 and one reflection with the whole body", str(refl))

    # -- §9.4 /me both ways, in the room and 1:1
    since = len(bob.lines)
    muc_say(pc, ROOM, "/me waves")
    got = await irc_wait(bob, since, 15, cmd="PRIVMSG", src="alice", target="#ferry")
    c.ok(got and got[0][2][1] == "\x01ACTION waves\x01",
         "§9.4 '/me waves' in the room is a CTCP ACTION on IRC", str(got))
    m0 = pc.mark()
    bob.send("PRIVMSG #ferry :\x01ACTION dances\x01")
    got = await pc.wait_for(groupchat(ROOM, "bob"), 15, m0)
    c.ok(got is not None and got.child_text("body") == "/me dances",
         "§9.4 bob's CTCP ACTION arrives as '/me dances' from room/bob", str(got))
    since = len(bob.lines)
    pc.send_message("bob@" + T, "/me nods")
    got = await irc_wait(bob, since, 15, cmd="PRIVMSG", src="alice", target="bob")
    c.ok(got and got[0][2][1] == "\x01ACTION nods\x01",
         "§9.4 '/me nods' in a 1:1 chat is a CTCP ACTION on IRC", str(got))
    m0 = pc.mark()
    bob.send("PRIVMSG alice :\x01ACTION smiles\x01")
    got = await pc.message_from("bob@" + T, since=m0)
    c.ok(got is not None and got.child_text("body") == "/me smiles",
         "§9.4 a 1:1 CTCP ACTION arrives as '/me smiles'", str(got))

    # -- IRC formatting: XEP-0393 styling, never control characters
    m0 = pc.mark()
    bob.send("PRIVMSG #ferry :this is \x02bold\x02 and \x0304red\x03 and \x1fline\x1f")
    got = await pc.wait_for(groupchat(ROOM, "bob"), 15, m0)
    body = got.child_text("body") if got is not None else None
    c.ok(body is not None and not any(ord(ch) < 0x20 and ch not in "\t\n" for ch in body),
         "IRC formatting never arrives as control characters", repr(body))
    c.ok(body is not None and "*bold*" in body and "red" in body,
         "IRC bold (\\x02) arrives as XEP-0393 *bold*, colours stripped", repr(body))

    # -- IRC refuses a line (+m, no voice: 404): an error with the id, no reflection
    since = len(bob.lines)
    bob.send("MODE #ferry +m")
    await irc_wait(bob, since, 5, cmd="MODE", target="#ferry")
    m0 = pc.mark()
    mid, _ = muc_say(pc, ROOM, "while moderated")
    err = await pc.wait_for(errored(mid, "message"), 15, m0)
    c.ok(err is not None and is_from(err, ROOM),
         "a channel message IRC refuses (+m: 404) comes back as an error with its id",
         str(err))
    c.tap.diag("refused line: %s (%s)" % (err and err.error_condition(),
                                          err and err.error_text()))
    await asyncio.sleep(1)
    c.ok(err is not None and count(pc, groupchat(ROOM, "alice", "while moderated"), m0) == 0,
         "and it is not reflected")
    bob.send("MODE #ferry -m")
    await asyncio.sleep(1)

    # -- §9.4 a channel NOTICE and mode text are never occupant messages
    m0 = pc.mark()
    bob.send("NOTICE #ferry :a channel notice")
    bob.send("MODE #ferry +m")
    bob.send("MODE #ferry -m")
    await asyncio.sleep(3)
    said = [r for r in pc.inbox[m0:] if groupchat(ROOM)(r) and resource(r.sender) and
            r.child_text("body") is not None]
    c.ok(c.joined and not said, "§9.4 a channel NOTICE and MODE text are no occupant message",
         "; ".join(str(r) for r in said))
    notice = [r for r in pc.inbox[m0:] if r.kind == "message" and
              "a channel notice" in (r.child_text("body") or "")]
    c.ok(c.joined and len(notice) == 1 and notice[0].xml.get("type") == "chat" and
         same(bare(notice[0].sender), T),
         "§9.4 the channel NOTICE reaches the user once, as a chat from the transport",
         "; ".join(str(r) for r in notice) or "nothing")


# ---- topic ----------------------------------------------------------------------------------

def subject_stanza(user, room, text):
    mid = user.xmpp.new_id()
    user.xmpp.send_raw("<message xmlns='%s' to='%s' type='groupchat' id='%s'>"
                       "<subject>%s</subject></message>"
                       % (NS_CLIENT, room, mid, xml_escape(text)))
    return mid


async def topic(c):
    pc, bob = c.pc, c.bob
    m0 = pc.mark()
    bob.send("TOPIC #ferry :changed by bob")
    got = await pc.wait_for(lambda r: r.kind == "message" and is_from(r, ROOM) and
                            r.xml.find("{%s}subject" % NS_CLIENT) is not None, 15, m0)
    c.ok(got is not None and same(got.sender, ROOM + "/bob") and
         subject_of(got) == "changed by bob" and got.child_text("body") is None,
         "§9.8 bob's TOPIC is a subject message from room/bob without body", str(got))
    await asyncio.sleep(1)
    said = [r for r in pc.inbox[m0:] if groupchat(ROOM)(r) and r.child_text("body")]
    c.ok(got is not None and not said, "§9.4 the topic change text is no occupant message",
         "; ".join(map(str, said)))

    bob.send("MODE #ferry -t")
    await asyncio.sleep(1)
    since, m0 = len(bob.lines), pc.mark()
    subject_stanza(pc, ROOM, "set by alice")
    got = await irc_wait(bob, since, 15, cmd="TOPIC", src="alice", target="#ferry")
    c.ok(got and got[0][2][1] == "set by alice",
         "§9.8 the user's <subject/> is a TOPIC on IRC", str(got))
    echo = await pc.wait_for(lambda r: r.kind == "message" and is_from(r, ROOM, "alice") and
                             subject_of(r) == "set by alice", 10, m0)
    c.ok(echo is not None, "§9.8 and comes back as the room's subject from room/alice",
         str(echo))

    bob.send("MODE #ferry +t")
    await asyncio.sleep(1)
    since, m0 = len(bob.lines), pc.mark()
    mid = subject_stanza(pc, ROOM, "not allowed")
    err = await pc.wait_for(errored(mid, "message"), 15, m0)
    c.ok(err is not None and is_from(err, ROOM) and err.error_condition() == "forbidden",
         "§9.8 a subject change IRC refuses (+t, not op: 482) is an error with its id, "
         "forbidden (XEP-0045 §8.1)", str(err))
    c.ok(err is not None and not irc_lines(bob, since, cmd="TOPIC", src="alice"),
         "§9.8 the refused topic did not change the channel")


# ---- others ---------------------------------------------------------------------------------

async def others(c):
    pc, bob, carl = c.pc, c.bob, c.carl
    # -- NICK: a 303 pair
    m0 = pc.mark()
    carl.send("NICK carl2")
    gone = await pc.wait_for(presence(ROOM, "carl", "unavailable", (303,)), 15, m0)
    back = await pc.wait_for(presence(ROOM, "carl2"), 15, m0)
    item = muc_item(gone) if gone is not None else None
    c.ok(gone is not None and item is not None and item["nick"] == "carl2" and
         110 not in muc_codes(gone),
         "§9.7 carl's NICK: unavailable from room/carl with 303 and item nick carl2",
         str(gone))
    c.ok(back is not None and gone is not None and
         pc.inbox.index(gone) < pc.inbox.index(back) and role(back) == role(gone),
         "§9.7 then available from room/carl2 with the same role", "%s | %s" % (gone, back))

    # -- MODE +o / -o
    m0 = pc.mark()
    bob.send("MODE #ferry +o carl2")
    up = await pc.wait_for(lambda r: presence(ROOM, "carl2")(r) and
                           (role(r) or ("", ""))[1] == "moderator", 15, m0)
    c.ok(up is not None, "§9.7 MODE +o carl2: presence with role moderator", str(up))
    m0 = pc.mark()
    bob.send("MODE #ferry -o carl2")
    down = await pc.wait_for(lambda r: presence(ROOM, "carl2")(r) and
                             (role(r) or ("", ""))[1] == "participant", 15, m0)
    c.ok(down is not None, "§9.7 MODE -o carl2: presence with role participant (still +v)",
         str(down))

    # -- PART with a reason
    m0 = pc.mark()
    carl.send("PART #ferry :gone fishing")
    left = await pc.wait_for(presence(ROOM, "carl2", "unavailable"), 15, m0)
    c.ok(left is not None and "gone fishing" in (status_text(left) or "") and
         (role(left) or ("", ""))[1] == "none",
         "§9.7 PART: unavailable from room/carl2, role none, the reason as status", str(left))

    # -- QUIT with a reason
    async with IrcPeer(c.irc.port, "dave") as dave:
        m0 = pc.mark()
        await irc_join(dave, "#ferry")
        joined = await pc.wait_for(presence(ROOM, "dave"), 15, m0)
        c.ok(joined is not None and role(joined) == ("none", "participant"),
             "§9.7 dave joining #ferry: presence from room/dave", str(joined))
        m0 = pc.mark()
        dave.send("QUIT :bye now")
        left = await pc.wait_for(presence(ROOM, "dave", "unavailable"), 15, m0)
        c.ok(left is not None and "bye now" in (status_text(left) or ""),
             "§9.7 QUIT: unavailable from room/dave with the reason", str(left))

    # -- KICK of another
    async with IrcPeer(c.irc.port, "erin") as erin:
        m0 = pc.mark()
        await irc_join(erin, "#ferry")
        await pc.wait_for(presence(ROOM, "erin"), 15, m0)
        m0 = pc.mark()
        bob.send("KICK #ferry erin :spam")
        left = await pc.wait_for(presence(ROOM, "erin", "unavailable"), 15, m0)
        it = muc_item(left) if left is not None else None
        c.ok(left is not None and 307 in muc_codes(left) and 110 not in muc_codes(left) and
             it is not None and it["actor"] == "bob" and it["reason"] == "spam",
             "§9.7 KICK erin: unavailable with 307, actor bob, reason 'spam'", str(left))

    # -- KICK of the user, then a rejoin
    m0 = pc.mark()
    bob.send("KICK #ferry alice :behave")
    left = await pc.wait_for(presence(ROOM, "alice", "unavailable"), 15, m0)
    it = muc_item(left) if left is not None else None
    c.ok(left is not None and {110, 307} <= muc_codes(left) and it is not None and
         it["actor"] == "bob" and it["reason"] == "behave",
         "§9.7 KICK alice: unavailable with 110 + 307, actor bob, reason 'behave'", str(left))
    r = await c.self_ping(pc, ROOM)
    c.ok(r.condition == "not-acceptable", "§9.11 after the kick a self-ping is not-acceptable",
         str(r))
    since = len(bob.lines)
    ans = await muc_join(pc, ROOM, "alice")
    c.ok(ans.ok() and (await irc_wait(bob, since, 10, cmd="JOIN", src="alice")),
         "§9.7 after the kick a rejoin works (self-presence, JOIN on IRC)", str(ans))


# ---- disco ------------------------------------------------------------------------------------

async def room_disco(c, label, user, room):
    r, ids, feats = await user.disco_info(room)
    c.ok(r.type == "result" and any(i[0] == "conference" for i in ids) and NS_MUC in feats,
         "§9.12 disco#info of %s %s: a conference identity and the muc feature"
         % (room, label), "%s %s %s" % (r, ids, feats))
    c.ok(not ({"muc_membersonly", "muc_nonanonymous"} <= feats),
         "§9.12 %s %s: never muc_membersonly together with muc_nonanonymous" % (room, label),
         str(feats))
    return feats


async def disco_before(c):
    feats = await room_disco(c, "before a join", c.pc, ROOM)
    c.tap.diag("room features: %s" % sorted(feats))
    r, ids, feats = await c.pc.disco_info("bob@" + T)
    c.ok(not any(i[0] == "conference" for i in ids),
         "a contact's disco#info is no room", "%s %s" % (ids, feats))
    r, ids, feats = await c.pc.disco_info(T)
    c.ok(("gateway", "irc", "IRC Transport") in ids and "jabber:iq:gateway" in feats,
         "§9.12 the transport keeps its gateway identity and jabber:iq:gateway",
         "%s %s" % (ids, feats))
    c.ok(any(i[0] == "conference" for i in ids),
         "the transport adds a conference identity (rooms can be browsed)", str(ids))


async def disco_after(c):
    feats = await room_disco(c, "after the join", c.pc, ROOM)
    c.ok("http://jabber.org/protocol/muc#self-ping-optimization" in feats,
         "§9.11 rooms advertise muc#self-ping-optimization", str(sorted(feats)))


# ---- private messages and invitations ---------------------------------------------------------

async def private(c):
    pc, bob = c.pc, c.bob
    since = len(bob.lines)
    pc.send_message(ROOM + "/bob", "psst, private")
    got = await irc_wait(bob, since, 15, cmd="PRIVMSG", src="alice", target="bob")
    c.ok(got and got[0][2][1] == "psst, private",
         "§9.15 a chat message to room/bob reaches bob privately", str(got))
    m0 = pc.mark()
    bob.send("PRIVMSG alice :private reply")
    got = await pc.wait_for(lambda r: r.kind == "message" and
                            r.child_text("body") == "private reply", 15, m0)
    # an IRC PM names no channel; while the user writes to bob through the
    # room, bob's replies come back there (one conversation in the client)
    c.ok(got is not None and same(got.sender, ROOM + "/bob") and
         got.xml.find("{%s}x" % NS_MUC_USER) is not None,
         "§9.15 bob's reply to a PM through the room arrives from room/bob (muc#user)",
         str(got))
    since = len(bob.lines)
    pc.send_message("bob@" + T, "and directly")
    await irc_wait(bob, since, 15, cmd="PRIVMSG", src="alice", target="bob")
    m0 = pc.mark()
    bob.send("PRIVMSG alice :direct reply")
    got = await pc.wait_for(lambda r: r.kind == "message" and
                            r.child_text("body") == "direct reply", 15, m0)
    c.ok(got is not None and same(bare(got.sender), "bob@" + T),
         "§9.15 once the user writes to bob@%s, his replies come from the contact JID" % T,
         str(got))
    m0 = pc.mark()
    mid = pc.send_message(ROOM + "/bob", "typed groupchat", mtype="groupchat")
    err = await pc.wait_for(errored(mid, "message"), 15, m0)
    c.ok(err is not None and err.error_condition() == "bad-request",
         "a groupchat-typed message to an occupant JID: bad-request", str(err))
    m0 = pc.mark()
    mid = pc.send_message(ROOM + "/nobody", "hello?")
    err = await pc.wait_for(errored(mid, "message"), 15, m0)
    c.ok(err is not None and err.error_condition() == "item-not-found",
         "a private message to a nick not in the room: item-not-found", str(err))


async def invites(c):
    pc, bob = c.pc, c.bob
    secret = room_of("#secret")
    c.ok(await irc_join(bob, "#secret"), "bob opens #secret")
    bob.send("MODE #secret +i")
    m0 = pc.mark()
    bob.send("INVITE alice #secret")
    inv = await pc.wait_for(lambda r: r.kind == "message" and
                            r.xml.find("{%s}x" % NS_CONFERENCE) is not None, 15, m0)
    x = inv.xml.find("{%s}x" % NS_CONFERENCE) if inv is not None else None
    c.ok(x is not None and same(x.get("jid"), secret),
         "§9.14 bob's INVITE is a direct invitation to %s" % secret, str(inv))
    ans = await muc_join(pc, secret, "alice")
    c.ok(ans.ok(), "§9.14 the invitation works: joining invite-only #secret succeeds",
         str(ans))
    since = len(bob.lines)
    muc_leave(pc, secret, "alice")
    got = await irc_wait(bob, since, 10, cmd="PART", src="alice", target="#secret")
    c.ok(got, "§9.9 the last (only) resource leaving #secret PARTs on IRC", str(got))

    async with IrcPeer(c.irc.port, "frank") as frank:
        since = len(frank.lines)
        pc.xmpp.send_raw("<message xmlns='%s' to='%s' id='%s'><x xmlns='%s'>"
                         "<invite to='frank@%s'><reason>come over</reason></invite></x>"
                         "</message>" % (NS_CLIENT, ROOM, pc.xmpp.new_id(), NS_MUC_USER, T))
        got = await irc_wait(frank, since, 15, cmd="INVITE", src="alice")
        c.ok(got and same(got[0][2][-1], "#ferry"),
             "the user's mediated invite to frank@%s is an INVITE on IRC" % T, str(got))


# ---- join errors ------------------------------------------------------------------------------

async def join_error(c, channel, mode, condition, label, password=None, setup=True):
    bob = c.bob
    if setup:
        await irc_join(bob, channel)
        since = len(bob.lines)
        bob.send("MODE %s %s" % (channel, mode))
        await irc_wait(bob, since, 5, cmd="MODE", target=channel)
    ans = await muc_join(c.pc, room_of(channel), "alice", password=password)
    e = ans.error
    c.ok(e is not None and e.xml.get("id") == ans.id and e.error_condition() == condition,
         "§9.5 %s: error presence with the join id, %s (%.1f s)"
         % (label, condition, ans.seconds or 0), str(ans))
    c.ok(e is not None and e.xml.find("{%s}x" % NS_MUC) is not None and
         is_from(e, room_of(channel)),
         "§9.5 %s: the error comes from the room and carries <x xmlns=muc/>" % label, str(e))
    return ans


async def join_errors(c):
    await join_error(c, "#keyed", "+k sesame", "not-authorized", "wrong key (475)", "wrong")
    await join_error(c, "#keyed", "", "not-authorized", "no key (475)", setup=False)
    r = await c.self_ping(c.pc, room_of("#keyed"))
    c.ok(r.condition == "not-acceptable",
         "§9.5 no client left joining: self-ping after the refusal is not-acceptable", str(r))
    ans = await muc_join(c.pc, room_of("#keyed"), "alice", password="sesame")
    c.ok(ans.ok(), "§9.5 the right key joins #keyed", str(ans))
    r, ids, feats = await c.pc.disco_info(room_of("#keyed"))
    c.ok("muc_passwordprotected" in feats,
         "disco#info of #keyed, whose key is known: muc_passwordprotected", str(sorted(feats)))
    await join_error(c, "#full", "+l 1", "service-unavailable", "full channel (471)")
    await join_error(c, "#banned", "+b alice!*@*", "forbidden", "banned (474)")
    await join_error(c, "#invite", "+i", "registration-required", "invite-only (473)")


# ---- the user's own nick --------------------------------------------------------------------------

async def own_nick(c, rooms):
    pc, bob = c.pc, c.bob
    since, m0 = len(bob.lines), pc.mark()
    pc.xmpp.send_raw("<presence xmlns='%s' to='%s/alicia' id='%s'/>"
                     % (NS_CLIENT, ROOM, pc.xmpp.new_id()))
    got = await irc_wait(bob, since, 15, cmd="NICK", src="alice")
    c.ok(got and got[0][2][0] == "alicia",
         "a presence to room/alicia renames the user on IRC (NICK alicia)", str(got))
    for room in rooms:
        gone = await pc.wait_for(presence(room, "alice", "unavailable", (303, 110)), 15, m0)
        back = await pc.wait_for(presence(room, "alicia", None, (110,)), 15, m0)
        it = muc_item(gone) if gone is not None else None
        c.ok(gone is not None and back is not None and it is not None and
             it["nick"] == "alicia" and pc.inbox.index(gone) < pc.inbox.index(back),
             "own nick change in %s: unavailable 303+110 (nick alicia), then available "
             "from room/alicia with 110" % room, "%s | %s" % (gone, back))
    m0 = pc.mark()
    mid = pc.xmpp.new_id()
    pc.xmpp.send_raw("<presence xmlns='%s' to='%s/bob' id='%s'/>" % (NS_CLIENT, ROOM, mid))
    err = await pc.wait_for(errored(mid, "presence"), 15, m0)
    c.ok(err is not None and err.error_condition() == "conflict",
         "a nick already taken on IRC (bob) gets conflict with the request's id", str(err))
    # back to alice
    since, m0 = len(bob.lines), pc.mark()
    pc.xmpp.send_raw("<presence xmlns='%s' to='%s/alice'/>" % (NS_CLIENT, ROOM))
    got = await irc_wait(bob, since, 15, cmd="NICK", src="alicia")
    back = await pc.wait_for(presence(ROOM, "alice", None, (110,)), 15, m0)
    c.ok(got and back is not None, "and back to alice", "%s %s" % (got, back))


async def odds(c):
    """What clients do besides joining: a status update to the own occupant
    JID (never a nick change), Dino's affiliation list queries after a join,
    a join with <history/>, a local channel (&, escaped \\26)."""
    pc, bob = c.pc, c.bob
    since, m0 = len(bob.lines), pc.mark()
    pc.xmpp.send_raw("<presence xmlns='%s' to='%s/alice'><show>away</show></presence>"
                     % (NS_CLIENT, ROOM))
    await asyncio.sleep(2)
    c.ok(c.joined and not irc_lines(bob, since, cmd="NICK") and
         not irc_lines(bob, since, cmd="PART") and
         count(pc, lambda r: is_from(r, ROOM, "alice") and r.type == "unavailable", m0) == 0,
         "a presence to the user's own occupant JID is a status update: no NICK, no PART")
    r = await c.self_ping(pc, ROOM)
    c.ok(r.type == "result", "and the user is still joined", str(r))
    for aff in ("member", "admin", "owner"):
        r = await pc.iq(ROOM, "<query xmlns='%s#admin'><item affiliation='%s'/></query>"
                        % (NS_MUC, aff), timeout=10)
        c.ok(r.type in ("result", "error"),
             "the %s list query (Dino asks after joining) is answered" % aff, str(r))
    local = "\\26local@" + T
    c.ok(await irc_join(bob, "&local"), "bob opens the local channel &local")
    bob.send("PRIVMSG &local :said before alice came")
    since = len(bob.lines)
    ans = await muc_join(pc, local, "alice", history="<history maxstanzas='20'/>")
    got = await irc_wait(bob, since, 10, cmd="JOIN", src="alice")
    c.ok(ans.ok() and got and got[0][2][0] == "&local",
         "%s (XEP-0106) is the IRC channel &local" % local, "%s %s" % (ans, got))
    delayed = [r for r in ans.stanzas if r.kind == "message" and
               r.child_text("body") is not None]
    c.ok(ans.ok() and not delayed, "a join with <history maxstanzas='20'/> works and brings "
         "no history (ferry keeps none)", str(ans))
    since = len(bob.lines)
    muc_leave(pc, local, "alice")
    got = await irc_wait(bob, since, 10, cmd="PART", src="alice")
    c.ok(got, "leaving it parts &local", str(got))


async def own_nick_all(c):
    await own_nick(c, (ROOM, EMPTY, room_of("#keyed")))


# ---- several resources --------------------------------------------------------------------------

async def resources(c):
    pc, phone, bob = c.pc, c.phone, c.bob
    # the phone has not joined
    r = await c.self_ping(pc, ROOM)
    c.ok(r.type == "result", "§9.11 self-ping from the joined pc: result", str(r))
    r = await c.self_ping(phone, ROOM)
    c.ok(r.type == "error" and r.condition == "not-acceptable",
         "§9.11 self-ping from the phone (not joined): not-acceptable", str(r))
    m0 = phone.mark()
    mid, _ = muc_say(phone, ROOM, "from a resource that did not join")
    err = await phone.wait_for(errored(mid, "message"), 15, m0)
    c.ok(err is not None and err.error_condition() == "not-acceptable",
         "§9.11 a groupchat message from a resource that did not join: not-acceptable",
         str(err))
    m0 = phone.mark()
    phone.xmpp.send_raw("<presence xmlns='%s' to='%s/alice'/>" % (NS_CLIENT, ROOM))
    kick = await phone.wait_for(presence(ROOM, "alice", "unavailable"), 15, m0)
    c.ok(kick is not None and {110, 307, 333} <= muc_codes(kick),
         "§9.11 a stray presence from a non-occupant: unavailable with 110+307+333", str(kick))

    # the phone joins: the whole state, to it alone, no JOIN on IRC
    since, m0 = len(bob.lines), pc.mark()
    ans = await muc_join(phone, ROOM, "alice")
    c.ok(ans.ok() and same(ans.own.sender, ROOM + "/alice") and
         ans.own.xml.get("id") == ans.id and ans.subject is not None and
         "bob" in ans.nicks(),
         "§9.9 a second resource gets the full state (occupants, 110 with its id, subject)",
         str(ans))
    await asyncio.sleep(2)
    c.ok(ans.ok() and not irc_lines(bob, since, cmd="JOIN", src="alice"),
         "§9.9 no new JOIN on IRC for the second resource")
    c.ok(ans.ok() and count(pc, lambda r: is_from(r, ROOM), m0) == 0,
         "§9.9 the first resource sees nothing of it (no new occupant)",
         "; ".join(str(r) for r in pc.inbox[m0:] if is_from(r, ROOM)))

    # messages reach both, reflections too
    m0, p0 = pc.mark(), phone.mark()
    bob.send("PRIVMSG #ferry :to both")
    a = await pc.wait_for(groupchat(ROOM, "bob", "to both"), 15, m0)
    b = await phone.wait_for(groupchat(ROOM, "bob", "to both"), 15, p0)
    c.ok(a is not None and b is not None, "§9.9 bob's message reaches both resources")
    since, m0, p0 = len(bob.lines), pc.mark(), phone.mark()
    mid, oid = muc_say(phone, ROOM, "from the phone")
    a = await pc.wait_for(groupchat(ROOM, "alice", "from the phone"), 15, m0)
    b = await phone.wait_for(groupchat(ROOM, "alice", "from the phone"), 15, p0)
    await asyncio.sleep(1.5)
    got = irc_lines(bob, since, cmd="PRIVMSG", src="alice", target="#ferry")
    c.ok(len(got) == 1, "§9.3 the phone's message reaches IRC once", str(got))
    c.ok(a is not None and b is not None and a.xml.get("id") == mid and
         b.xml.get("id") == mid and
         count(pc, groupchat(ROOM, "alice", "from the phone"), m0) == 1 and
         count(phone, groupchat(ROOM, "alice", "from the phone"), p0) == 1,
         "§9.3 reflected once to each joined resource with the same id", "%s | %s" % (a, b))
    for who, r in (("pc", a), ("phone", b)):
        o = r.xml.find("{%s}origin-id" % NS_SID) if r is not None else None
        c.ok(o is not None and o.get("id") == oid,
             "§9.3 the %s's copy keeps the origin-id" % who, str(r))

    # resync: a join from the joined pc gets the whole state again
    since = len(bob.lines)
    ans = await muc_join(pc, ROOM, "alice")
    c.ok(ans.ok() and ans.own.xml.get("id") == ans.id and ans.subject is not None and
         sorted(ans.nicks()) == sorted(n for n in occupants_from(pc.inbox, ROOM)
                                       if n != "alice"),
         "§9.10 a join from the already-joined pc is a resync: the full state again",
         str(ans))
    await asyncio.sleep(1)
    c.ok(ans.ok() and not irc_lines(bob, since, cmd="PART", src="alice"),
         "§9.10 the resync does not part the channel")

    # the phone leaves: no PART; the pc stays
    since, p0 = len(bob.lines), phone.mark()
    muc_leave(phone, ROOM, "alice")
    bye = await phone.wait_for(presence(ROOM, "alice", "unavailable", (110,)), 15, p0)
    c.ok(bye is not None and (role(bye) or ("", ""))[1] == "none",
         "§9.9 the leaving phone gets its unavailable self-presence (110, role none)",
         str(bye))
    await asyncio.sleep(2)
    c.ok(bye is not None and not irc_lines(bob, since, cmd="PART", src="alice"),
         "§9.9 one resource of two leaving: no PART on IRC")
    r = await c.self_ping(pc, ROOM)
    c.ok(r.type == "result", "§9.9 the pc is still joined (self-ping result)", str(r))

    # the last resource leaves #empty: PART
    since = len(bob.lines)
    muc_leave(pc, EMPTY, "alice")
    got = await irc_wait(bob, since, 10, cmd="PART", src="alice", target="#empty")
    c.ok(got, "§9.9 the last resource leaving #empty: PART on IRC", str(got))


async def kick_both(c):
    """The user kicked while two resources are joined: both are told; then
    both rejoin. A delivery error from a resource drops that resource."""
    pc, phone, bob = c.pc, c.phone, c.bob
    ans = await muc_join(phone, ROOM, "alice")
    c.ok(ans.ok(), "the phone joins #ferry", str(ans))
    m0, p0 = pc.mark(), phone.mark()
    bob.send("KICK #ferry alice :both of you")
    a = await pc.wait_for(presence(ROOM, "alice", "unavailable", (110, 307)), 15, m0)
    b = await phone.wait_for(presence(ROOM, "alice", "unavailable", (110, 307)), 15, p0)
    c.ok(a is not None and b is not None,
         "§9.7 the user kicked with two resources joined: 110+307 to each", "%s | %s" % (a, b))
    for who, u in (("pc", pc), ("phone", phone)):
        ans = await muc_join(u, ROOM, "alice")
        c.ok(ans.ok(), "the %s rejoins after the kick" % who, str(ans))
    # the user's server bounces what went to the phone: it is no longer joined
    since = len(bob.lines)
    phone.xmpp.send_raw("<message xmlns='%s' to='%s' type='error'><error type='cancel'>"
                        "<recipient-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                        "</error></message>" % (NS_CLIENT, ROOM))
    await asyncio.sleep(1.5)
    r = await c.self_ping(phone, ROOM)
    c.ok(r.condition == "not-acceptable",
         "a delivery error from the phone drops it from the room (self-ping not-acceptable)",
         str(r))
    r = await c.self_ping(pc, ROOM)
    c.ok(r.type == "result" and not irc_lines(bob, since, cmd="PART", src="alice"),
         "the pc stays joined, no PART on IRC", str(r))


# ---- room list ----------------------------------------------------------------------------------

def items_of(r):
    q = r.find("{%s}query" % NS_DISCO_ITEMS)
    if q is None:
        return [], None
    jids = [i.get("jid") for i in q.findall("{%s}item" % NS_DISCO_ITEMS)]
    return jids, q.find("{%s}set" % NS_RSM)


async def room_list(c):
    pc = c.pc
    jids, r = [], None
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        r = await pc.iq(T, "<query xmlns='%s'/>" % NS_DISCO_ITEMS, timeout=10)
        jids, _ = items_of(r)
        if any(same(j, ROOM) for j in jids):
            break
        await asyncio.sleep(2)
    c.ok(any(same(j, ROOM) for j in jids) and any(same(j, room_of("#keyed")) for j in jids),
         "§9.16 disco#items of the transport lists the IRC channels (#ferry, #keyed)",
         str(r))
    seen, after, pages, ok_pages = [], None, 0, True
    for _ in range(20):
        rsm = "<set xmlns='%s'><max>2</max>%s</set>" % (
            NS_RSM, "" if after is None else "<after>%s</after>" % xml_escape(after))
        r = await pc.iq(T, "<query xmlns='%s'>%s</query>" % (NS_DISCO_ITEMS, rsm), timeout=10)
        page, st = items_of(r)
        pages += 1
        if len(page) > 2 or (page and st is None):
            ok_pages = False
            break
        seen += page
        last = st.find("{%s}last" % NS_RSM) if st is not None else None
        if not page or last is None or len(page) < 2:
            break
        after = last.text
    c.ok(ok_pages and pages >= 2 and len(seen) == len(set(seen)) and
         set(map(str.lower, jids)) <= set(map(str.lower, seen)),
         "§9.16 the list is paged (RSM max 2: %d pages, %d rooms, no repeats, all of them)"
         % (pages, len(seen)), "%s vs %s; last reply %s" % (seen, jids, r))


# ---- faults ---------------------------------------------------------------------------------------

async def worker_kill(c):
    pc, phone, bob = c.pc, c.phone, c.bob
    ans = await muc_join(phone, ROOM, "alice")
    c.ok(ans.ok(), "the phone joins #ferry again", str(ans))
    async with IrcPeer(c.irc.port, "gina") as gina:
        m0 = pc.mark()
        await irc_join(gina, "#ferry")
        await pc.wait_for(presence(ROOM, "gina"), 15, m0)
        since, m0 = len(bob.lines), pc.mark()
        pids = worker_pids(c.ferry)
        t0 = time.monotonic()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        c.ok(pids and await bob.wait_ison("alice", False, 15),
             "the worker SIGKILL drops alice from IRC", str(pids))
        gina.send("PART #ferry :left while alice was away")
        await asyncio.sleep(0.5)
    j1 = await irc_wait(bob, since, 60, cmd="JOIN", src="alice",
                        target="#ferry")
    j2 = await irc_wait(bob, since, max(1, 60 - (time.monotonic() - t0)), cmd="JOIN",
                        src="alice", target="#keyed")
    c.ok(j1 and j2, "§9.13 after the worker SIGKILL #ferry and #keyed (with its key) are "
         "rejoined on IRC (%.1f s)" % (time.monotonic() - t0), str(irc_lines(bob, since)))
    await asyncio.sleep(3)
    names = await irc_names(bob, "#ferry")
    seen = occupants_from(pc.inbox, ROOM)
    c.ok(names is not None and set(map(str.lower, seen)) == set(map(str.lower, names)),
         "§9.13 the pc's occupant list matches the channel after the rejoin (gina, who left "
         "meanwhile, is gone; nobody twice)", "client %s, IRC %s" % (sorted(seen), names))
    selves = [r for r in pc.inbox[m0:] if r.kind == "presence" and is_from(r, ROOM, "alice")]
    c.tap.diag("the pc saw after the kill: %d stanzas from #ferry, %d of them own presences "
               "(%s)" % (count(pc, lambda r: is_from(r, ROOM), m0), len(selves),
                         ", ".join(sorted(str(muc_codes(r)) for r in selves))))
    c.ok(j1 and not any(333 in muc_codes(r) for r in selves),
         "§9.13 the client was not told the room ended (no 333): it was rejoined",
         "; ".join(map(str, selves)))
    for who, u in (("pc", pc), ("phone", phone)):
        r = await c.self_ping(u, ROOM)
        c.ok(r.type == "result", "§9.13 self-ping from the %s after the rejoin: result" % who,
             str(r))
    r = await c.self_ping(pc, room_of("#keyed"))
    c.ok(r.type == "result", "§9.13 #keyed is joined again too (self-ping)", str(r))


async def irc_restart(c):
    pc = c.pc
    m0 = pc.mark()
    c.irc.stop()
    # a join while the IRC network is down: answered within the bound
    ans = await muc_join(pc, room_of("#down"), "alice", timeout=45)
    e = ans.error
    c.ok(e is not None and e.xml.get("id") == ans.id and
         e.error_condition() == "remote-server-timeout",
         "§4 a join while the IRC server is down: remote-server-timeout with the join id "
         "(%.1f s)" % (ans.seconds or 0), str(ans))
    c.irc.start()
    bob = await IrcPeer(c.irc.port, "bob").__aenter__()
    c.extra_peers.append(bob)
    c.bob = bob
    await irc_join(bob, "#ferry")
    t0 = time.monotonic()
    outcome = None
    for _ in range(180):
        if time.monotonic() - t0 > 120:  # the reconnect backoff grew during the outage
            break
        ended = [r for r in pc.inbox[m0:] if presence(ROOM, "alice", "unavailable", (110, 333))(r)]
        if ended:
            outcome = "333"
            break
        names = await irc_names(bob, "#ferry")
        if names and "alice" in {n.lower() for n in names}:
            outcome = "rejoined"
            break
        await asyncio.sleep(1)
    c.ok(outcome is not None, "§9.13 after the IRC server restart #ferry is rejoined or the "
         "client is told with 110+333 (%s, %.1f s)" % (outcome, time.monotonic() - t0))
    r = await c.self_ping(pc, ROOM)
    c.ok((outcome == "rejoined" and r.type == "result") or
         (outcome == "333" and r.condition == "not-acceptable"),
         "§9.13 and the self-ping agrees (%s)" % (r.type if r.type == "result" else
                                                  r.condition), str(r))


async def ensure_joined(c, user, room, label):
    r = await c.self_ping(user, room)
    if r.type == "result":
        return True
    ans = await muc_join(user, room, "alice")
    return c.ok(ans.ok(), "%s (re)joins %s" % (label, room), str(ans))


async def ferry_restart(c):
    pc, phone, ferry = c.pc, c.phone, c.ferry
    await ensure_joined(c, pc, ROOM, "the pc")
    await ensure_joined(c, phone, ROOM, "the phone")
    await ensure_joined(c, pc, room_of("#keyed"), "the pc")
    m0, p0 = pc.mark(), phone.mark()
    rc, killed = await asyncio.get_running_loop().run_in_executor(None, ferry.stop)
    c.ok(not killed, "ferry stops on SIGTERM", "exit %s" % rc)
    for who, u, mark, rooms in (("pc", pc, m0, (ROOM, room_of("#keyed"))),
                                ("phone", phone, p0, (ROOM,))):
        for room in rooms:
            got = await u.wait_for(presence(room, "alice", "unavailable", (110, 332)), 10, mark)
            c.ok(got is not None, "§9.14 ferry stopping: 110+332 to the %s in %s" % (who, room),
                 "; ".join(str(r) for r in u.inbox[mark:]))
    mark = ferry.mark()
    ferry.start()
    c.ok(await ferry.await_log(Ferry.ONLINE, 30, since=mark) is not None, "ferry restarts")
    r = await c.self_ping(pc, ROOM)
    c.ok(r.type == "error" and r.condition == "not-acceptable",
         "§9.11 after the ferry restart a self-ping is not-acceptable", str(r))
    m0 = pc.mark()
    mid, _ = muc_say(pc, ROOM, "do you still know me?")
    err = await pc.wait_for(errored(mid, "message"), 15, m0)
    c.ok(err is not None and err.error_condition() == "not-acceptable",
         "§9.11 after the restart a groupchat message is not-acceptable", str(err))
    m0 = pc.mark()
    pc.xmpp.send_raw("<presence xmlns='%s' to='%s/alice'/>" % (NS_CLIENT, ROOM))
    kick = await pc.wait_for(presence(ROOM, "alice", "unavailable"), 15, m0)
    c.ok(kick is not None and {110, 307, 333} <= muc_codes(kick),
         "§9.11 after the restart a stray presence gets 110+307+333", str(kick))


async def nick_collision(c):
    """§9.6: the user's nick is taken when her session logs in (registration
    itself refuses a taken nick: she registers while it is free)."""
    port = c.prosody.c2s_port
    async with XmppUser("dora@localhost", "dorapw", port) as dora:
        await register_on_irc(c.tap, dora, c.bob, T, nick="dora")
    c.ok(await c.bob.wait_ison("dora", False, 20), "dora goes offline: off IRC")
    async with IrcPeer(c.irc.port, "dora") as squatter, \
            XmppUser("dora@localhost", "dorapw", port) as dora:
        c.ok(await dora.transport_connected(T, timeout=40) is not None,
             "dora comes back while another IRC user holds her nick: her session connects",
             "; ".join(str(r) for r in dora.inbox[-5:]))
        ans = await muc_join(dora, ROOM, "dora")
        real = resource(ans.own.sender) if ans.own is not None else None
        names = await irc_names(c.bob, "#ferry") or set()
        c.ok(ans.ok() and real and real.lower() != "dora" and {110, 210} <= muc_codes(ans.own)
             and real.lower() in {n.lower() for n in names},
             "§9.6 nick taken at login: self-presence with the real IRC nick (%s) and 210"
             % real, "%s; NAMES %s" % (ans, names))
        del squatter


async def scenario(c):
    port = c.prosody.c2s_port
    c.extra_peers = []
    async with XmppUser("alice@localhost/pc", "alicepw", port) as pc, \
            XmppUser("alice@localhost/phone", "alicepw", port) as phone, \
            IrcPeer(c.irc.port, "bob") as bob, IrcPeer(c.irc.port, "carl") as carl:
        c.pc, c.phone, c.bob, c.carl = pc, phone, bob, carl
        try:
            await unregistered(c)
            await register_on_irc(c.tap, pc, bob, T)
            await set_up_channels(c)
            await disco_before(c)
            await join_empty(c)
            await join_ferry(c)
            await join_contact(c)
            # the rest needs a room joined: without, each section is one failure
            # (not minutes of timeouts)
            for section in (messages, topic, others, disco_after, private, invites,
                            join_errors,
                            own_nick_all,
                            odds, resources, kick_both, room_list, worker_kill, irc_restart, ferry_restart,
                            nick_collision):
                if c.joined:
                    await section(c)
                else:
                    c.tap.fail("%s: not run, #ferry could not be joined" % section.__name__)
        finally:
            for p in c.extra_peers:
                await p.__aexit__(None, None, None)


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(run, T, users=("alice@localhost", "dora@localhost"))
    ferry = start_ferry(tap, run, **transport_config(prosody, presets=irc_presets(irc)))
    if ferry is None:
        return
    c = Ctx(tap, run, prosody, irc, ferry)
    asyncio.run(asyncio.wait_for(scenario(c), 900))
    rc, killed = ferry.stop()
    tap.ok(not killed, "ferry stops at the end", "exit %s" % rc)


def main():
    return run_test("muc", ("prosody", "prosodyctl", "ngircd"), body)


if __name__ == "__main__":
    sys.exit(main())
