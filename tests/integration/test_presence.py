#!/usr/bin/python3
"""Presence of the transport and of contacts, as Gajim, Dino and
Conversations read it: Prosody + ngircd + ferry (prpl-irc).

- The transport's and every contact's presence come from a full JID with
  ferry's fixed resource (T/ferry, bob@T/ferry), each run's first one
  preceded by one unavailable from the bare JID (what older versions used),
  never an available from a bare JID; messages from contacts come from
  the same full JID; subscriptions stay on bare JIDs.
- That presence carries XEP-0115 caps whose ver is the hash of what the
  full JID answers to disco#info, plain (Dino asks that) and at node#ver
  (Gajim, Conversations); a wrong ver is item-not-found.
- An IRC user who set AWAY: the 301 that answers alice's message becomes
  bob's presence (away, "gone fishing") and never a chat message; when
  bob speaks he is available again.
- When ferry stops, alice sees the transport and bob go unavailable from
  their full JIDs.
Prints TAP.
"""

import asyncio
import base64
import hashlib
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from transport import start_xmpp_and_irc, IrcPeer, XmppUser, irc_presets, transport_config  # noqa: E402

T = "irc.localhost"
RESOURCE = "ferry"
T_FULL = T + "/" + RESOURCE
BOB = "bob@" + T
BOB_FULL = BOB + "/" + RESOURCE
NS_CAPS = "http://jabber.org/protocol/caps"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DATA = "jabber:x:data"


def caps_of(p):
    """(hash, node, ver) of presence p's XEP-0115 <c/>, or None."""
    c = p.xml.find("{%s}c" % NS_CAPS) if p is not None else None
    return None if c is None else (c.get("hash"), c.get("node"), c.get("ver"))


def caps_ver(reply):
    """XEP-0115 §5.1 ver of a disco#info result (None if it has forms:
    ferry sends none, so a form would be a surprise worth failing on)."""
    q = reply.find("{%s}query" % NS_DISCO_INFO)
    if q is None or q.find("{%s}x" % NS_DATA) is not None:
        return None
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    ids = sorted((i.get("category") or "", i.get("type") or "", i.get(xml_lang) or "",
                  i.get("name") or "") for i in q.findall("{%s}identity" % NS_DISCO_INFO))
    feats = sorted(f.get("var") for f in q.findall("{%s}feature" % NS_DISCO_INFO))
    s = "".join("%s/%s/%s/%s<" % i for i in ids) + "".join(f + "<" for f in feats)
    return base64.b64encode(hashlib.sha1(s.encode("utf-8")).digest()).decode()


def presences(user, sender, since=0, until=None):
    return [x for x in user.inbox[since:until] if x.kind == "presence" and x.sender == sender]


async def check_full_jid_presence(tap, alice, bare, full, first, what):
    """first: an available presence from FULL. Checks the bare JID's share
    (one unavailable before anything from FULL, no available at all) and
    FIRST's caps."""
    index = alice.inbox.index(presences(alice, full)[0])
    before = [x for x in presences(alice, bare, 0, index) if x.type in (None, "unavailable")]
    tap.ok([x.type for x in before] == ["unavailable"],
           "%s: one unavailable from the bare %s came before the first presence "
           "from %s" % (what, bare, full), str([str(x) for x in before]))
    avail = [x for x in presences(alice, bare) if x.type is None]
    tap.ok(not avail, "%s: no available presence from the bare %s" % (what, bare),
           str([str(x) for x in avail]))
    caps = caps_of(first)
    tap.ok(caps is not None and caps[0] == "sha-1" and caps[1] and caps[2],
           "%s: the presence carries XEP-0115 caps (sha-1, node, ver)" % what, str(first))
    if caps is None:
        return
    _hash, node, ver = caps
    r = await alice.iq(full, "<query xmlns='%s' node='%s#%s'/>" % (NS_DISCO_INFO, node, ver))
    q = r.find("{%s}query" % NS_DISCO_INFO)
    tap.ok(r.type == "result" and q is not None and q.get("node") == "%s#%s" % (node, ver)
           and caps_ver(r) == ver,
           "%s: disco#info of %s at node#ver answers what hashes to the ver" % (what, full),
           "ver %s, computed %s: %s" % (ver, caps_ver(r), r))
    r, ids, feats = await alice.disco_info(full)
    tap.ok(r.type == "result" and caps_ver(r) == ver and NS_CAPS in feats,
           "%s: plain disco#info of %s hashes to the same ver and lists caps"
           % (what, full), "ver %s, computed %s: %s" % (ver, caps_ver(r), r))
    r = await alice.iq(full, "<query xmlns='%s' node='%s#AAAA'/>" % (NS_DISCO_INFO, node))
    tap.ok(r.type == "error" and r.condition == "item-not-found",
           "%s: a node#ver of another ver is item-not-found" % what, str(r))


async def irc_reply(peer, numeric, line, timeout=10):
    """Sends LINE and waits for the server's NUMERIC reply."""
    fut = asyncio.get_running_loop().create_future()
    peer._pending[numeric] = fut
    peer.send(line)
    try:
        return await asyncio.wait_for(fut, timeout)
    except asyncio.TimeoutError:
        return None


async def scenario(tap, prosody, irc, ferry):
    async with IrcPeer(irc.port, "bob") as bob, \
            XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        r = await alice.register(T, {"username": "alice"})
        tap.ok(r.type == "result", "alice registers her IRC nick", str(r))

        # -- the transport
        online = await alice.wait_for(
            lambda x: x.kind == "presence" and x.sender == T_FULL and x.type is None and
            "Connected to IRC as alice" in (x.child_text("status") or ""), timeout=40)
        tap.ok(online is not None,
               "the transport's 'Connected to IRC as alice' comes from %s" % T_FULL,
               str([str(x) for x in alice.inbox if x.kind == "presence"]))
        if online is None:
            return
        await check_full_jid_presence(tap, alice, T, T_FULL, online, "transport")
        r, ids, feats = await alice.disco_info(T_FULL)
        tap.ok(("gateway", "irc", "IRC Transport") in ids and "jabber:iq:register" in feats,
               "the transport's full JID answers disco#info as the transport", str(r))

        # -- a contact
        m0 = alice.mark()
        alice.send_presence(to=BOB, ptype="subscribe")
        p = await alice.wait_for(lambda x: x.kind == "presence" and x.sender == BOB_FULL and
                                 x.type is None, since=m0, timeout=30)
        tap.ok(p is not None, "bob's available presence comes from %s" % BOB_FULL,
               str([str(x) for x in alice.inbox[m0:]]))
        subscribed = presences(alice, BOB, m0)
        tap.ok(any(x.type == "subscribed" for x in subscribed),
               "the subscription is answered from the bare %s" % BOB,
               str([str(x) for x in subscribed]))
        if p is not None:
            await check_full_jid_presence(tap, alice, BOB, BOB_FULL, p, "contact")
        r, ids, feats = await alice.disco_info(BOB)
        tap.ok(ids == [("client", "pc", "bob")],
               "disco#info of the bare %s still names bob as IRC spells him" % BOB, str(r))

        m0 = alice.mark()
        bob.send("PRIVMSG alice :hello from IRC")
        msg = await alice.message_from(BOB, since=m0)
        tap.ok(msg is not None and msg.sender == BOB_FULL,
               "bob's message comes from %s, like his presence" % BOB_FULL, str(msg))

        # -- away on IRC: the 301 answering alice's message is presence
        tap.ok(await irc_reply(bob, "306", "AWAY :gone fishing") is not None,
               "bob is away on IRC (306)")
        m0 = alice.mark()
        alice.send_message(BOB, "are you there?")
        tap.ok(await bob.privmsg_from("alice") == "are you there?",
               "alice's message reaches bob")
        away = await alice.wait_for(
            lambda x: x.kind == "presence" and x.sender == BOB_FULL and x.type is None and
            x.child_text("show") == "away", since=m0, timeout=20)
        tap.ok(away is not None and away.child_text("status") == "gone fishing",
               "alice sees bob away, status 'gone fishing', from %s" % BOB_FULL,
               str([str(x) for x in alice.inbox[m0:]]))

        # -- bob speaks: available again (and the away text never was a message)
        m1 = alice.mark()
        bob.send("PRIVMSG alice :back now")
        msg = await alice.message_from(BOB, since=m1)
        tap.ok(msg is not None and msg.child_text("body") == "back now",
               "bob's next message arrives", str(msg))
        back = await alice.wait_for(
            lambda x: x.kind == "presence" and x.sender == BOB_FULL and x.type is None and
            x.child_text("show") is None, since=m1, timeout=10)
        tap.ok(back is not None and msg is not None and
               alice.inbox.index(back) < alice.inbox.index(msg),
               "bob is available again (no show) before his message is shown",
               str([str(x) for x in alice.inbox[m1:]]))
        # the 301 reached ferry before bob's later line (one TCP stream)
        leaked = [x for x in alice.inbox if x.kind == "message" and
                  "gone fishing" in (x.child_text("body") or "")]
        tap.ok(not leaked, "the away text never arrives as a chat message",
               str([str(x) for x in leaked]))

        # -- bob comes back without a word: alice's next message is answered
        # by no 301, so the away ends once that message is confirmed
        tap.ok(await irc_reply(bob, "306", "AWAY :lunch") is not None,
               "bob is away on IRC again (306)")
        m3 = alice.mark()
        alice.send_message(BOB, "lunch?")
        await bob.privmsg_from("alice")
        away = await alice.wait_for(
            lambda x: x.kind == "presence" and x.sender == BOB_FULL and
            x.child_text("status") == "lunch", since=m3, timeout=20)
        tap.ok(away is not None, "alice sees bob away ('lunch')",
               str([str(x) for x in alice.inbox[m3:]]))
        tap.ok(await irc_reply(bob, "305", "AWAY") is not None,
               "bob is back on IRC (305), silently")
        m4 = alice.mark()
        alice.send_message(BOB, "still at lunch?")
        tap.ok(await bob.privmsg_from("alice") == "still at lunch?",
               "alice's next message reaches bob")
        back = await alice.wait_for(
            lambda x: x.kind == "presence" and x.sender == BOB_FULL and x.type is None and
            x.child_text("show") is None, since=m4, timeout=20)
        tap.ok(back is not None,
               "no automatic reply to it: bob is available again without a word",
               str([str(x) for x in alice.inbox[m4:]]))

        # -- the transport goes down: unavailable from the full JIDs
        m2 = alice.mark()
        t0 = time.monotonic()
        await asyncio.get_running_loop().run_in_executor(None, ferry.stop)
        gone_t = await alice.wait_for(lambda x: x.kind == "presence" and
                                      x.sender == T_FULL and x.type == "unavailable",
                                      since=m2, timeout=15)
        gone_b = await alice.wait_for(lambda x: x.kind == "presence" and
                                      x.sender == BOB_FULL and x.type == "unavailable",
                                      since=m2, timeout=5)
        tap.ok(gone_t is not None and gone_b is not None,
               "when ferry stops, %s and %s go unavailable (%.1f s)"
               % (T_FULL, BOB_FULL, time.monotonic() - t0),
               str([str(x) for x in alice.inbox[m2:]]))


def body(tap, run):
    prosody, irc = start_xmpp_and_irc(run, T)
    ferry = start_ferry(tap, run, **transport_config(prosody, presets=irc_presets(irc)))
    if ferry is None:
        return
    asyncio.run(asyncio.wait_for(scenario(tap, prosody, irc, ferry), 150))
    ferry.stop()


def main():
    return run_test("presence", ("prosody", "prosodyctl", "ngircd"), body)

if __name__ == "__main__":
    sys.exit(main())
