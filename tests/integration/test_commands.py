#!/usr/bin/python3
"""XEP-0050 commands on the transport, end to end (issue 12 §1, "Tests"),
against Prosody (offline storage on) and ngircd, then briefly ejabberd.

- disco#items on the commands node: a stranger, a registered user and an
  admin ([access] admins) each see exactly their nodes, admin nodes never
  a non-admin; each node's disco#info is automation/command-node with the
  commands and jabber:x:data features; the transport's full JID (from its
  presence) answers as its bare JID; its presence's caps include the
  commands feature and the ver verifies (XEP-0115 over disco#info).
- jabber:iq:register as a command: its form stage, a submission without
  an action completes it, the nick is on IRC; a missing required field is
  bad-payload; run again by the registered user it shows the stored
  values.
- settings (notices changed and read back), status, contacts, prompts
  (none), relogin (back with the same nick), unregister (cancel keeps,
  confirm removes, the nick leaves IRC).
- errors: bad-action, bad-payload, bad-sessionid, session-expired
  ([limits] command_idle_seconds), forbidden (admin node, a session id
  reused by another JID), cancel -> canceled.
- admin: stats counts, get-online-users-list, announce (online, and
  offline through Prosody's storage: type normal), end-user-session
  (only that user's link), delete-user.
- ejabberd: registration by command, the listing, bad-sessionid.
Prints TAP.
"""

import asyncio
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

from harness import NS_DISCO_INFO, run_test, start_ferry  # noqa: E402
from servers import Ejabberd, Ngircd, Prosody  # noqa: E402
from transport import (IrcPeer, XmppUser, irc_presets, transport_config,  # noqa: E402
                       irc_join, irc_wait, muc_join, muc_leave, muc_codes,
                       NS_COMMANDS, NS_ADMIN, NS_REGISTER, NS_XDATA, execute,
                       run_command, command_nodes, node_info, caps_of, caps_ver, verify_caps)

T = "irc.localhost"
IDLE = 6  # [limits] command_idle_seconds
REGISTER = NS_REGISTER
USER_NODES = {REGISTER, "unregister", "relogin", "settings", "status", "contacts", "prompts"}
ADMIN_ONLY = {"stats"} | {NS_ADMIN + "#" + n for n in (
    "get-online-users-list", "announce", "end-user-session", "delete-user")}
STRANGER_NODES = {REGISTER}


def nodes_of(items):
    return {n for n, _name, _jid in items}


async def check_listing(tap, who, client, expect, to=T):
    r, items = await command_nodes(client, to)
    got = nodes_of(items)
    tap.ok(r.type == "result" and got == expect,
           "%s sees exactly its command nodes on %s" % (who, to),
           "missing %s, extra %s; %s" % (sorted(expect - got), sorted(got - expect), r))
    tap.ok(all(j == T for _n, _name, j in items) and all(name for _n, name, _j in items),
           "%s: every item has the transport's JID and a name" % who, str(items))
    return items


async def check_node_infos(tap, who, client, nodes, to=T):
    bad = []
    for node in sorted(nodes):
        r, ids, feats = await node_info(client, to, node)
        if not (r.type == "result" and any(c == "automation" and t == "command-node"
                                           for c, t, _n in ids)
                and {NS_COMMANDS, NS_XDATA} <= feats):
            bad.append((node, str(r)))
    tap.ok(not bad, "%s: each node's disco#info on %s: automation/command-node, commands "
           "+ jabber:x:data" % (who, to), str(bad))


async def wait_irc_gone(peer, nick, timeout=20):
    return await peer.wait_ison(nick, False, timeout)


async def register_by_command(tap, user, peer, nick):
    first = await execute(user, T, REGISTER)
    ok = first.ok() and first.form is not None and "username" in first.form.fields
    tap.ok(ok and first.execute == "next" and first.sessionid,
           "%s: register command shows its form stage, 'next' offered" % nick, str(first))
    if not ok:
        return False
    second = await execute(user, T, REGISTER, sessionid=first.sessionid,
                           form={"username": nick}, timeout=60)
    tap.ok(second.ok("completed") and "regist" in second.note_text().lower(),
           "%s: the submission without an action completes the registration" % nick,
           str(second))
    tap.ok(await peer.wait_ison(nick, True, 30), "%s is on IRC after registering" % nick)
    return second.ok("completed")


async def prosody_part(tap, prosody, irc, ferry):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice, \
            XmppUser("carol@localhost", "carolpw", prosody.c2s_port) as carol, \
            XmppUser("boss@localhost", "bosspw", prosody.c2s_port) as boss, \
            IrcPeer(irc.port, "bob") as bob:
        # -- listings before any registration
        await check_listing(tap, "a stranger", carol, STRANGER_NODES)
        await check_listing(tap, "an admin", boss, STRANGER_NODES | ADMIN_ONLY)
        await check_node_infos(tap, "the admin", boss, ADMIN_ONLY | {REGISTER})
        r, ids, _f = await node_info(carol, T, "stats")
        tap.ok(r.type == "error", "a stranger gets no disco#info for an admin node", str(r))
        r, _i, _f = await node_info(carol, T, "settings")
        tap.ok(r.type == "error", "a stranger gets no disco#info for a user node", str(r))

        # -- registration by command, with a missing required field first
        first = await execute(alice, T, REGISTER)
        bad = await execute(alice, T, REGISTER, sessionid=first.sessionid, action="complete",
                            form={"username": "alice"})
        tap.ok(bad.type == "error" and bad.specific == "bad-action",
               "action complete on the register form (next offered) -> bad-action", str(bad))
        bad = await execute(alice, T, REGISTER, sessionid=first.sessionid, form={})
        tap.ok(bad.type == "error" and bad.condition == "bad-request"
               and bad.specific == "bad-payload" and "username" in (bad.text or ""),
               "register without the required username -> bad-request/bad-payload naming it",
               str(bad))
        c = await execute(alice, T, REGISTER, sessionid=first.sessionid, action="cancel")
        tap.ok(c.ok("canceled"), "cancel -> status canceled", str(c))
        m0 = alice.mark()
        await register_by_command(tap, alice, bob, "alice")
        p = await alice.transport_connected(T, since=m0)
        tap.ok(p is not None, "the transport's presence says alice is connected")
        full = p.sender if p is not None else T
        tap.ok("/" in full, "the transport's presence comes from its full JID", full)

        # -- listings for a registered user, the admin's, the full JID, caps
        await check_listing(tap, "a registered user", alice, USER_NODES)
        await check_node_infos(tap, "the user", alice, USER_NODES)
        r, items = await command_nodes(alice, T)
        r2, items2 = await command_nodes(alice, full)
        tap.ok(r2.type == "result" and sorted(items2) == sorted(items),
               "the full JID lists the same command items as the bare JID", str(r2))
        await check_node_infos(tap, "the user", alice, USER_NODES, to=full)
        r, _ids, _f = await node_info(alice, full, "stats")
        tap.ok(r.type == "error", "the full JID hides admin nodes from a user too", str(r))
        bad = await execute(alice, T, "no-such-command")
        tap.ok(bad.type == "error" and bad.condition == "item-not-found",
               "executing an unknown node -> item-not-found", str(bad))
        r = await alice.iq(T, "<command xmlns='%s' node='status'/>" % NS_COMMANDS)
        tap.ok(r.type == "error" and r.condition == "bad-request",
               "an execute sent as iq get -> bad-request", str(r))
        for who, cl in (("a registered user", alice), ("a stranger", carol)):
            _r, items = await command_nodes(cl, T)
            tap.ok(not (nodes_of(items) & ADMIN_ONLY), "%s never sees admin nodes" % who)
        caps = caps_of(p.xml) if p is not None else None
        ok, computed, rr = await verify_caps(alice, full, caps)
        tap.ok(ok, "the transport's caps ver verifies (sha-1 over its disco#info)",
               "caps %s, computed %s, %s" % (caps, computed, rr))
        q = rr.find("{%s}query" % NS_DISCO_INFO) if rr is not None else None
        feats = {f.get("var") for f in q.findall("{%s}feature" % NS_DISCO_INFO)} \
            if q is not None else set()
        tap.ok(NS_COMMANDS in feats, "the caps' disco#info has the commands feature",
               str(sorted(feats)))
        # the presence's sender answers plain disco#info with what the ver hashes
        plain = await alice.iq(full, "<query xmlns='%s'/>" % NS_DISCO_INFO)
        pq = plain.find("{%s}query" % NS_DISCO_INFO)
        tap.ok(pq is not None and caps is not None and caps_ver(pq) == caps[2],
               "the full JID's plain disco#info hashes to the caps ver", str(plain))

        # -- settings
        s1, s2 = await run_command(alice, T, "settings", {"notices": "false"})
        f = s1.form
        tap.ok(s1.ok() and s1.execute == "complete" and f is not None
               and f.fields.get("notices") is not None
               and f.fields["notices"].type == "boolean" and f.value("notices") in ("true", "1"),
               "settings shows notices (boolean, on by default), 'complete' offered", str(s1))
        tap.ok(s2 is not None and s2.ok("completed") and "notices" in s2.note_text(),
               "settings: notices off -> completed, the note names it", str(s2))
        s3 = await execute(alice, T, "settings")
        tap.ok(s3.ok() and s3.form is not None and s3.form.value("notices") in ("false", "0"),
               "settings reads notices back as off", str(s3))
        bad = await execute(alice, T, "settings", sessionid=s3.sessionid,
                            form={"notices": "perhaps"})
        tap.ok(bad.type == "error" and bad.specific == "bad-payload",
               "settings with a non-boolean value -> bad-payload", str(bad))
        bad = await execute(alice, T, "settings", sessionid=s3.sessionid, action="next")
        tap.ok(bad.type == "error" and bad.condition == "bad-request"
               and bad.specific == "bad-action", "action next on a last stage -> bad-action",
               str(bad))
        bad = await execute(alice, T, "settings", sessionid=s3.sessionid, action="frobnicate")
        tap.ok(bad.type == "error" and bad.specific == "bad-action",
               "an unknown action -> bad-action", str(bad))
        other = await execute(carol, T, "settings", sessionid=s3.sessionid,
                              form={"notices": "true"})
        tap.ok(other.type == "error" and other.condition in ("bad-request", "forbidden"),
               "another JID reusing alice's session id is refused", str(other))
        async with XmppUser("alice@localhost/second", "alicepw", prosody.c2s_port) as a2:
            other = await execute(a2, T, "settings", sessionid=s3.sessionid,
                                  form={"notices": "true"})
            tap.ok(other.type == "error" and other.condition in ("bad-request", "forbidden"),
                   "alice's other resource reusing the session id is refused", str(other))
        s4 = await execute(alice, T, "settings", sessionid=s3.sessionid, action="complete",
                           form={"notices": "true"})
        tap.ok(s4.ok("completed"), "alice's own run still works after those refusals", str(s4))
        bad = await execute(alice, T, "settings", sessionid="no-such-session-42")
        tap.ok(bad.type == "error" and bad.condition == "bad-request"
               and bad.specific == "bad-sessionid", "an unknown session id -> bad-sessionid",
               str(bad))
        bad = await execute(alice, T, "stats")
        tap.ok(bad.type == "error" and bad.condition == "forbidden",
               "a non-admin executing an admin node -> forbidden", str(bad))
        bad = await execute(carol, T, "relogin")
        tap.ok(bad.type == "error" and bad.condition == "forbidden",
               "a stranger executing a user node -> forbidden", str(bad))

        # -- re-registration shows the stored values
        rr1 = await execute(alice, T, REGISTER)
        tap.ok(rr1.ok() and rr1.form is not None and rr1.form.value("username") == "alice",
               "the register command run again by alice shows her stored username",
               str(rr1))
        fields = rr1.form.fields if rr1.form is not None else {}
        tap.diag("the IRC registration form: %s" % sorted(fields.items()))
        # saslname: stored, unused while sasl is off (the test ngircd has none)
        if tap.ok("saslname" in fields, "the IRC form has an editable saslname"):
            rr2 = await execute(alice, T, REGISTER, sessionid=rr1.sessionid, timeout=60,
                                form={"username": "alice", "saslname": "alice-sasl"})
            tap.ok(rr2.ok("completed"), "alice edits her saslname by registering again",
                   str(rr2))
            rr3 = await execute(alice, T, REGISTER)
            tap.ok(rr3.form is not None and rr3.form.value("saslname") == "alice-sasl",
                   "the register form shows the edited saslname", str(rr3))
            await execute(alice, T, REGISTER, sessionid=rr3.sessionid, action="cancel")
            tap.ok(await bob.wait_ison("alice", True, 20) and not await bob.ison("alice1"),
                   "alice is on IRC as alice after the edit")
            await alice.transport_connected(T, timeout=20)
        else:
            await execute(alice, T, REGISTER, sessionid=rr1.sessionid, action="cancel")

        # -- status, contacts, prompts
        st = await execute(alice, T, "status")
        f = st.form
        state = (f.text("state") or "") if f else ""
        tap.ok(st.ok() and "online" in state and "alice" in state,
               "status: the connection is online as alice", str(st))
        tap.ok(f is not None and "XEP-0356" in (f.text("roster_method") or ""),
               "status: the roster method is named", str(st))
        enc = (f.text("encrypted") or "") if f else ""
        tap.ok(enc == "NOT encrypted", "status: plain IRC says NOT encrypted", str(st))
        done = await execute(alice, T, "status", sessionid=st.sessionid)
        tap.ok(done.ok("completed"), "status completes", str(done))
        ct = await execute(alice, T, "contacts")
        tap.ok(ct.ok("completed") and ct.form is not None and ct.form.type == "result"
               and {"jid", "name"} <= set(ct.form.reported),
               "contacts completes with a result table (name, jid...)", str(ct))
        pr = await execute(alice, T, "prompts")
        tap.ok(pr.ok("completed") and pr.form is None and "no" in pr.note_text().lower(),
               "prompts: none waiting, said in a note", str(pr))

        # -- session expiry
        ex = await execute(alice, T, "settings")
        await asyncio.sleep(IDLE + 1.5)
        late = await execute(alice, T, "settings", sessionid=ex.sessionid,
                             form={"notices": "true"})
        tap.ok(late.type == "error" and late.condition == "not-allowed"
               and late.specific == "session-expired",
               "a run idle past command_idle_seconds -> not-allowed/session-expired", str(late))

        # -- relogin: back with the same nick, her room kept
        await irc_join(bob, "#ferry")
        ans = await muc_join(alice, "#ferry@" + T, "alice", timeout=20)
        tap.ok(ans.ok(), "alice is in #ferry before the relogin", str(ans))
        since_irc, m_room = len(bob.lines), alice.mark()
        mark = ferry.mark()
        rl = await execute(alice, T, "relogin", timeout=40)
        log = ferry.log_text()[mark:]
        gone = log.find("alice@localhost: the logged-out account")
        again = log.find("alice@localhost: logging in to")
        tap.ok(0 <= gone < again, "relogin: the new login starts after the old account is "
               "gone", "gone at %d, login at %d" % (gone, again))
        tap.ok(rl.ok("completed") and "as alice." in rl.note_text(),
               "relogin completes signed on as alice (the same nick)", str(rl))
        tap.ok(await bob.wait_ison("alice", True, 10) and not await bob.ison("alice1"),
               "after relogin alice is on IRC, alice1 is not")
        tap.ok(await alice.transport_connected(T, since=m_room, timeout=10) is not None,
               "the transport says alice is connected again")
        rejoined = await irc_wait(bob, since_irc, timeout=15, cmd="JOIN", src="alice")
        kicked = [str(r) for r in alice.inbox[m_room:] if r.kind == "presence"
                  and r.type == "unavailable" and muc_codes(r)]
        tap.ok(rejoined and not kicked, "the relogin keeps her room: rejoined on IRC, no "
               "room exit sent to her", str(kicked))
        muc_leave(alice, "#ferry@" + T, "alice")

        # -- unregister: cancel keeps
        u1 = await execute(alice, T, "unregister")
        tap.ok(u1.ok() and u1.form is not None and u1.form.fields.get("confirm") is not None,
               "unregister asks to confirm", str(u1))
        u2 = await execute(alice, T, "unregister", sessionid=u1.sessionid, action="cancel")
        tap.ok(u2.ok("canceled"), "unregister cancelled", str(u2))
        _r, items = await command_nodes(alice, T)
        tap.ok("settings" in nodes_of(items) and await bob.ison("alice"),
               "after the cancel alice is still registered and on IRC")

        await admin_part(tap, prosody, irc, alice, boss, bob)

        # -- unregister: confirm removes
        u1 = await execute(alice, T, "unregister")
        u2 = await execute(alice, T, "unregister", sessionid=u1.sessionid,
                           form={"confirm": "true"}, timeout=40)
        tap.ok(u2.ok("completed") and "unregister" in u2.note_text().lower(),
               "unregister confirmed -> completed", str(u2))
        _r, items = await command_nodes(alice, T)
        tap.ok(nodes_of(items) == STRANGER_NODES, "alice sees the stranger's nodes again",
               str(items))
        tap.ok(await wait_irc_gone(bob, "alice"), "alice's nick left IRC")


async def admin_part(tap, prosody, irc, alice, boss, bob):
    # dave registers, then goes offline (his legacy session ends)
    async with XmppUser("dave@localhost", "davepw", prosody.c2s_port) as dave:
        m0 = dave.mark()
        await register_by_command(tap, dave, bob, "dave")
        # as a client does: its presence reaches the transport (directed,
        # so that its unavailable does too, subscription approved or not)
        dave.send_presence(to=T)
        await dave.transport_connected(T, since=m0, timeout=10)
    tap.ok(await wait_irc_gone(bob, "dave", 30), "dave left IRC when he went offline")

    st = await execute(boss, T, "stats")
    f = st.form
    tap.ok(st.ok("completed") and f is not None and f.type == "result",
           "stats completes with a result form", str(st))
    vals = {k: (f.value(k) if f else None) for k in (
        "users_registered", "users_online", "workers", "uptime", "worker_crashes")}
    tap.ok(vals["users_registered"] == "2" and vals["users_online"] == "1",
           "stats: 2 users registered, 1 online", str(vals))
    tap.ok((vals["workers"] or "").isdigit() and int(vals["workers"]) >= 1
           and vals["worker_crashes"] == "0" and vals["uptime"],
           "stats: at least one worker, no crash, an uptime", str(vals))

    o1 = await execute(boss, T, NS_ADMIN + "#get-online-users-list")
    o2 = await execute(boss, T, NS_ADMIN + "#get-online-users-list", sessionid=o1.sessionid,
                       form={"max_items": "100"}) if o1.ok() else o1
    jids = o2.form.fields["onlineuserjids"].values if (
        o2.form is not None and "onlineuserjids" in o2.form.fields) else None
    tap.ok(o2.ok("completed") and jids == ["alice@localhost"],
           "get-online-users-list lists alice only", str(o2))

    a1 = await execute(boss, T, NS_ADMIN + "#announce")
    m0 = alice.mark()
    a2 = await execute(boss, T, NS_ADMIN + "#announce", sessionid=a1.sessionid,
                       form={"subject": "Maintenance",
                             "announcement": ["down at 5", "back at 6"]})
    tap.ok(a2.ok("completed") and "2" in a2.note_text(), "announce sent to 2 users", str(a2))
    msg = await alice.message_from(T, since=m0, timeout=10,)
    tap.ok(msg is not None and msg.type == "normal"
           and msg.child_text("body") == "down at 5\nback at 6"
           and msg.child_text("subject") == "Maintenance",
           "the online user gets the announcement as a normal message", str(msg))
    async with XmppUser("dave@localhost", "davepw", prosody.c2s_port) as dave:
        msg = await dave.message_from(T, timeout=10)
        tap.ok(msg is not None and msg.type == "normal"
               and msg.child_text("body") == "down at 5\nback at 6",
               "the offline user gets it from offline storage (normal, not headline)",
               str(msg))
        tap.ok(await bob.wait_ison("dave", True, 30), "dave is back on IRC")
        e1 = await execute(boss, T, NS_ADMIN + "#end-user-session")
        e2 = await execute(boss, T, NS_ADMIN + "#end-user-session", sessionid=e1.sessionid,
                           form={"accountjids": ["alice@localhost"]})
        tap.ok(e2.ok("completed") and "alice@localhost" in e2.note_text(),
               "end-user-session for alice completes", str(e2))
        tap.ok(await wait_irc_gone(bob, "alice"), "alice's legacy link is dropped")
        tap.ok(await bob.ison("dave"), "dave's legacy link stays")
        r, _i = await command_nodes(alice, T)
        tap.ok(r.type == "result", "alice's XMPP session is untouched", str(r))

        d1 = await execute(boss, T, NS_ADMIN + "#delete-user")
        d2 = await execute(boss, T, NS_ADMIN + "#delete-user", sessionid=d1.sessionid,
                           form={"accountjids": ["dave@localhost"]})
        if d2.ok() and d2.form is not None and "confirm" in d2.form.fields:
            d2 = await execute(boss, T, NS_ADMIN + "#delete-user", sessionid=d2.sessionid,
                               form={"confirm": "true"}, timeout=40)
        tap.ok(d2.ok("completed"), "delete-user dave completes", str(d2))
        _r, items = await command_nodes(dave, T)
        tap.ok(nodes_of(items) == STRANGER_NODES, "dave is no longer registered", str(items))
        tap.ok(await wait_irc_gone(bob, "dave"), "dave's nick left IRC")
    # alice back for the unregister at the end
    m0 = alice.mark()
    rl = await execute(alice, T, "relogin", timeout=40)
    tap.ok(rl.ok("completed") and await bob.wait_ison("alice", True, 20),
           "alice logs in again with relogin after the admin ended her session", str(rl))
    await alice.transport_connected(T, since=m0, timeout=5)


async def ejabberd_part(tap, ej, irc):
    async with XmppUser("erin@localhost", "erinpw", ej.c2s_port) as erin, \
            IrcPeer(irc.port, "bob2") as bob:
        await check_listing(tap, "ejabberd: a stranger", erin, STRANGER_NODES)
        await register_by_command(tap, erin, bob, "erin")
        await check_listing(tap, "ejabberd: a registered user", erin, USER_NODES)
        bad = await execute(erin, T, "settings", sessionid="bogus-1")
        tap.ok(bad.type == "error" and bad.specific == "bad-sessionid",
               "ejabberd: an unknown session id -> bad-sessionid", str(bad))


def enable_offline(prosody):
    """Prosody with mod_offline (servers.py disables it)."""
    with open(prosody.cfg_path) as f:
        text = f.read()
    text = text.replace('modules_disabled = { "s2s", "offline" }',
                        'modules_disabled = { "s2s" }')
    text = text.replace('modules_enabled = { "roster"', 'modules_enabled = { "offline", "roster"')
    with open(prosody.cfg_path, "w") as f:
        f.write(text)


def body(tap, run):
    prosody = run.add(Prosody(run.path("prosody"), component=T,
                              secret="s3cret-%s" % os.urandom(6).hex()))
    enable_offline(prosody)
    prosody.start()
    for u in ("alice", "carol", "boss", "dave"):
        prosody.register(u, "localhost", u + "pw")
    irc = run.add(Ngircd(run.path("ngircd")))
    irc.start()
    extra = {"access": {"admins": "boss@localhost"},
             "limits": {"command_idle_seconds": str(IDLE)}}
    ferry = start_ferry(tap, run, **transport_config(prosody, presets=irc_presets(irc),
                                                     extra=extra))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(prosody_part(tap, prosody, irc, ferry), 200))
        tap.ok(ferry.running(), "ferry still runs after the Prosody part")
        ferry.stop()

    secret = "s3cret-%s" % os.urandom(6).hex()
    ej = run.add(Ejabberd(run.path("ejabberd"), hosts=["localhost"],
                          components=[{"hosts": {T: secret}}]))
    ej.start()
    ej.register("erin", "localhost", "erinpw")
    f2 = start_ferry(tap, run, label="ferry-ej", **transport_config(
        ej, presets=irc_presets(irc)))
    if f2 is not None:
        asyncio.run(asyncio.wait_for(ejabberd_part(tap, ej, irc), 90))


if __name__ == "__main__":
    sys.exit(run_test("commands", ("prosody", "prosodyctl", "ngircd", "ejabberdctl", "epmd",
                                   "erl"), body))
