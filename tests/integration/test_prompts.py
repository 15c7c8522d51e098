#!/usr/bin/python3
"""Prompts through the gateway (issue 12 §3, "Tests"): ferry with the test
protocol prpl-ferrytest (tests/plugin/ferrytest.c, loaded by the workers
from FERRY_WORKER_TEST_PLUGIN_DIR) behind Prosody, driven over XEP-0050.

- A login-code account (username "code..."): registering by command, the
  login code question is the next stage; 123456 completes the
  registration, a wrong code fails it with a text.
- A registered user sends an IM to the plugin's contact "cue" naming a
  request; the prompt is listed by the prompts command and as node
  prompt/<id>; answered through the prompts command or through
  prompt/<id>, the plugin reports "ok ..." with exactly the values sent,
  and the prompt is gone after; cancel -> "cancel ..."; a prompt the
  plugin withdraws refuses a later answer with an error (in a run that
  showed it, and by its node); every field type round trip (masked text
  unchanged, list-multi, the invisible value preserved); a picture is BOB
  data in the stage whose cid is the sha1 of its bytes, and the BOB iq
  answers with those bytes; the TGA is never sent; file and folder
  requests: the user is told, nothing crashes; a QR code is drawn in the
  form and its picture is BOB data; the 21st open prompt is cancelled.
- A second ferry with [limits] prompt_seconds small: an unanswered prompt
  is cancelled (never its default) and the user told.
Prints TAP.
"""

import asyncio
import base64
import hashlib
import html
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)

from harness import builddir, run_test, start_ferry  # noqa: E402
from servers import Prosody  # noqa: E402
from transport import (XmppUser, transport_config, NS_REGISTER, execute,  # noqa: E402
                       command_nodes, node_info, bob_data, sha1_cid, NS_COMMANDS)

T = "ft.localhost"
CUE = "cue@" + T
PROMPT_SECONDS = 5  # the second ferry's [limits] prompt_seconds
# ferrytest.c's TGA (2x2, 32 bits): never sent to a client
TGA = bytes([0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
             0x00, 0x02, 0x00, 0x20, 0x28, 0x00, 0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0xff,
             0xff, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff])


def plugin_dir():
    return os.path.join(builddir(), "tests", "plugin")


def ferry_kwargs(prosody, limits=None):
    kw = transport_config(prosody, jid=T, protocol="prpl-ferrytest", name="Ferry Test",
                          extra={"limits": limits} if limits else None)
    kw["env"] = {"FERRY_WORKER_TEST_PLUGIN_DIR": plugin_dir()}
    return kw


async def report(user, prefix, since, timeout=10):
    """The plugin's next report (an IM from cue) starting with PREFIX."""
    def match(r):
        return (r.kind == "message" and (r.sender or "").split("/")[0] == CUE
                and html.unescape(r.child_text("body") or "").startswith(prefix))
    r = await user.wait_for(match, timeout, since)
    return None if r is None else html.unescape(r.child_text("body"))


async def from_transport(user, since, words, timeout=10):
    """A chat from the bare transport JID whose body has every word of WORDS."""
    def match(r):
        body = (r.child_text("body") or "").lower()
        return (r.kind == "message" and r.sender == T and r.type != "error"
                and all(w in body for w in words))
    return await user.wait_for(match, timeout, since)


async def prompt_nodes(user):
    _r, items = await command_nodes(user, T)
    return [n for n, _name, _j in items if n and n.startswith("prompt/")]


async def cue(user, word, timeout=10):
    """Sends WORD to cue; returns the new prompt's node (prompt/<id>) or None."""
    before = set(await prompt_nodes(user))
    user.send_message(CUE, word)
    for _ in range(int(timeout / 0.2)):
        new = [n for n in await prompt_nodes(user) if n not in before]
        if new:
            return new[0]
        await asyncio.sleep(0.2)
    return None


async def register(tap, user, username, label):
    first = await execute(user, T, NS_REGISTER)
    if not tap.ok(first.ok() and first.form is not None and "username" in first.form.fields,
                  "%s: the register command shows the form" % label, str(first)):
        return first, None
    values = {"username": username}
    if "password" in first.form.fields and first.form.fields["password"].required:
        values["password"] = "pw"
    second = await execute(user, T, NS_REGISTER, sessionid=first.sessionid, form=values,
                           timeout=40)
    return first, second


async def login_codes(tap, prosody):
    async with XmppUser("carol@localhost", "carolpw", prosody.c2s_port) as carol:
        _f, st = await register(tap, carol, "code-carol", "code 123456")
        form = st.form if st is not None else None
        tap.ok(st is not None and st.ok() and form is not None and st.execute == "next"
               and "value" in form.fields and "code" in (form.title or "").lower(),
               "login code: the code question is the registration's next stage", str(st))
        if st is not None and st.ok():
            done = await execute(carol, T, NS_REGISTER, sessionid=st.sessionid,
                                 form={"value": "123456"}, timeout=40)
            tap.ok(done.ok("completed") and "regist" in done.note_text().lower(),
                   "login code 123456 completes the registration", str(done))
            _r, items = await command_nodes(carol, T)
            tap.ok("settings" in [n for n, _a, _b in items], "carol is registered now")
    async with XmppUser("dave@localhost", "davepw", prosody.c2s_port) as dave:
        _f, st = await register(tap, dave, "code-dave", "code 000000")
        if tap.ok(st is not None and st.ok() and st.form is not None
                  and "value" in st.form.fields, "a second login code stage", str(st)):
            bad = await execute(dave, T, NS_REGISTER, sessionid=st.sessionid,
                                form={"value": "000000"}, timeout=40)
            tap.ok(bad.type == "error" and bad.condition is not None and len(bad.text or "") > 5,
                   "a wrong login code fails the registration with a text (%s: %s)"
                   % (bad.condition, bad.text), str(bad))
            _r, items = await command_nodes(dave, T)
            tap.ok("settings" not in [n for n, _a, _b in items], "dave is not registered")


async def cancel_login_code(tap, prosody):
    async with XmppUser("erin@localhost", "erinpw", prosody.c2s_port) as erin:
        _f, st = await register(tap, erin, "code-erin", "code cancelled")
        if not tap.ok(st is not None and st.ok(), "a login code stage to cancel", str(st)):
            return
        c = await execute(erin, T, NS_REGISTER, sessionid=st.sessionid, action="cancel")
        _r, items = await command_nodes(erin, T)
        tap.ok(c.ok("canceled") and "settings" not in [n for n, _a, _b in items]
               and not await prompt_nodes(erin),
               "cancelling the login code stage: canceled, not registered, no prompt left",
               str(c))


async def answer_via_prompts(tap, alice):
    node = await cue(alice, "input")
    if not tap.ok(node is not None, "input: the prompt is listed as a prompt/<id> node"):
        return
    pid = node.split("/", 1)[1]
    s1 = await execute(alice, T, "prompts")
    f = s1.form
    tap.ok(s1.ok() and f is not None and "prompt" in f.fields
           and pid in [v for _l, v in f.fields["prompt"].options],
           "the prompts command lists it", str(s1))
    s2 = await execute(alice, T, "prompts", sessionid=s1.sessionid, form={"prompt": pid})
    f = s2.form
    tap.ok(s2.ok() and s2.execute == "complete" and f is not None
           and f.value("value") == "default text",
           "prompts: picking it shows its form (the default, 'complete' offered)", str(s2))
    sent = "hello <&> \"wörld\" ;="
    m0 = alice.mark()
    s3 = await execute(alice, T, "prompts", sessionid=s2.sessionid, form={"value": sent})
    tap.ok(s3.ok("completed"), "prompts: the answer completes the run", str(s3))
    got = await report(alice, "ok input:", m0)
    tap.ok(got == "ok input: " + sent, "the plugin got exactly the text sent", repr(got))
    gone = await execute(alice, T, node)
    tap.ok(gone.type == "error" and gone.condition == "item-not-found",
           "%s is gone once answered" % node, str(gone))
    tap.ok(node not in await prompt_nodes(alice), "and no longer listed")


async def answer_via_node(tap, alice):
    node = await cue(alice, "input-masked")
    if not tap.ok(node is not None, "input-masked: a prompt/<id> node"):
        return
    s1 = await execute(alice, T, node)
    f = s1.form
    tap.ok(s1.ok() and s1.execute == "complete" and f is not None
           and f.fields.get("value") is not None and f.fields["value"].type == "text-private",
           "%s shows the masked input as text-private" % node, str(s1))
    sent = "p@ss;w0rd <x> ü!"
    m0 = alice.mark()
    s2 = await execute(alice, T, node, sessionid=s1.sessionid, form={"value": sent})
    got = await report(alice, "ok input:", m0)
    tap.ok(s2.ok("completed") and got == "ok input: " + sent,
           "answered through its node: the plugin got the masked text unchanged",
           "%s %r" % (s2, got))
    # cancel
    node = await cue(alice, "input")
    s1 = await execute(alice, T, node) if node else None
    m0 = alice.mark()
    c = await execute(alice, T, node, sessionid=s1.sessionid, action="cancel") if s1 else None
    got = await report(alice, "cancel input:", m0)
    tap.ok(c is not None and c.ok("canceled") and got is not None
           and await report(alice, "ok input:", m0, timeout=1) is None,
           "cancel -> canceled, the plugin's cancel callback ran (no ok)", "%s %r" % (c, got))


async def two_routes(tap, alice):
    """One prompt shown by two runs: the first answer goes through, the
    second is not sent (the plugin gets exactly one)."""
    node = await cue(alice, "input")
    pid = node.split("/", 1)[1] if node else None
    a = await execute(alice, T, node) if node else None
    b1 = await execute(alice, T, "prompts")
    b = await execute(alice, T, "prompts", sessionid=b1.sessionid, form={"prompt": pid}) \
        if b1.ok() else b1
    if not tap.ok(a is not None and a.ok() and b.ok() and b.form is not None,
                  "one prompt shown by prompt/<id> and by the prompts command",
                  "%s %s" % (a, b)):
        return
    m0 = alice.mark()
    ra = await execute(alice, T, node, sessionid=a.sessionid, form={"value": "first"})
    got = await report(alice, "ok input:", m0)
    rb = await execute(alice, T, "prompts", sessionid=b.sessionid, form={"value": "second"})
    again = await report(alice, "ok input: second", m0, timeout=2)
    tap.ok(ra.ok("completed") and got == "ok input: first" and again is None,
           "the first answer reaches the plugin, the second does not", "%s %r %r"
           % (ra, got, again))
    tap.ok(rb.type == "error" or "already" in rb.note_text().lower(),
           "the second route is told the question was already answered", str(rb))


async def asked_by_chat(user, since, timeout=10):
    """The bot's message asking a prompt: (message, node) or (None, None)."""
    def match(r):
        return (r.kind == "message" and (r.sender or "").split("/")[0] == T
                and r.type == "chat" and "prompt/" in (r.child_text("body") or ""))
    m = await user.wait_for(match, timeout, since)
    if m is None:
        return None, None
    return m, "prompt/" + re.search(r"prompt/(\d+)", m.child_text("body")).group(1)


async def answer_via_chat(tap, alice):
    """A prompt no command claims is asked by chat with the form embedded
    and a command announcement; a chat reply, or the embedded form
    submitted in a message, answers it exactly once."""
    m0 = alice.mark()
    node = await cue(alice, "input")
    msg, asked = await asked_by_chat(alice, m0)
    x = msg.xml.find("{jabber:x:data}x") if msg is not None else None
    q = msg.xml.find("{http://jabber.org/protocol/disco#items}query") if msg else None
    items = [] if q is None else [(i.get("jid"), i.get("node")) for i in q]
    tap.ok(node is not None and asked == node and x is not None and x.get("type") == "form"
           and q is not None and q.get("node") == NS_COMMANDS and (T, node) in items,
           "chat: the prompt comes as a chat message with its form embedded and an "
           "announcement of %s" % node, str(msg))
    m1 = alice.mark()
    sent = "by chat <ü> ;="
    alice.send_message(T, sent)
    got = await report(alice, "ok input:", m1)
    tap.ok(got == "ok input: " + sent, "chat: the reply reaches the plugin exactly", repr(got))
    thanks = await from_transport(alice, m1, ["answer", "taken"])
    tap.ok(thanks is not None, "chat: the bot says the answer was taken")
    gone = await execute(alice, T, node) if node else None
    tap.ok(gone is not None and gone.type == "error", "chat: %s is gone after the chat answer"
           % node, str(gone))
    await asyncio.sleep(1)
    oks = [r for r in alice.inbox[m1:] if (r.child_text("body") or "").startswith("ok input:")]
    tap.ok(len(oks) == 1, "chat: the plugin got one answer only", str([str(r) for r in oks]))

    # the embedded form, submitted in a message
    m0 = alice.mark()
    node = await cue(alice, "input")
    _msg, asked = await asked_by_chat(alice, m0)
    m1 = alice.mark()
    alice.send_message(T, None, extra="<x xmlns='jabber:x:data' type='submit'><field var='value'>"
                       "<value>by the embedded form</value></field></x>")
    got = await report(alice, "ok input:", m1)
    tap.ok(asked == node and got == "ok input: by the embedded form",
           "chat: the embedded form submitted in a message answers it", repr(got))

    # answered by its node while the chat asks: the chat is told, a late
    # chat reply does not reach the plugin
    m0 = alice.mark()
    node = await cue(alice, "input")
    _msg, asked = await asked_by_chat(alice, m0)
    s1 = await execute(alice, T, node) if node else None
    m1 = alice.mark()
    s2 = await execute(alice, T, node, sessionid=s1.sessionid, form={"value": "by node"}) \
        if s1 is not None and s1.ok() else s1
    got = await report(alice, "ok input:", m1)
    told = await from_transport(alice, m1, ["answered elsewhere"])
    tap.ok(s2 is not None and s2.ok("completed") and got == "ok input: by node"
           and told is not None,
           "chat: answered by its node, the chat says it was answered elsewhere",
           "%s %r %s" % (s2, got, told))
    m2 = alice.mark()
    alice.send_message(T, "too late")
    await asyncio.sleep(2)
    late = [r for r in alice.inbox[m2:] if (r.child_text("body") or "").startswith("ok input:")]
    tap.ok(not late, "chat: a late chat reply reaches the plugin no more", str(late))


async def withdrawn(tap, alice):
    # nobody shows it: the user is told by chat, its node refuses later
    m0 = alice.mark()
    node = await cue(alice, "withdraw")
    told = await from_transport(alice, m0, ["withdrawn"], timeout=6)
    tap.ok(node is not None and told is not None, "a withdrawn prompt: the user is told",
           str(told))
    if node:
        late = await execute(alice, T, node)
        tap.ok(late.type == "error" and late.condition == "item-not-found" and late.text,
               "its node refuses a later answer with an error", str(late))
    # shown in a run when withdrawn: the late answer there is refused
    m0 = alice.mark()
    node = await cue(alice, "withdraw")
    s1 = await execute(alice, T, node) if node else None
    await report(alice, "withdrawn withdraw", m0, timeout=6)
    await asyncio.sleep(0.3)
    if s1 is not None and s1.ok():
        late = await execute(alice, T, node, sessionid=s1.sessionid, form={"value": "late"})
        tap.ok(late.type == "error" and "withdrawn" in (late.text or "").lower(),
               "an answer in a run whose prompt was withdrawn -> an error saying so",
               str(late))
        tap.ok(await report(alice, "ok input:", m0, timeout=1) is None,
               "no callback ran for the late answer")
    else:
        tap.fail("withdraw: a run showing the prompt", str(s1))


async def fields(tap, alice, carol):
    m0 = alice.mark()
    node = await cue(alice, "fields")
    info = await report(alice, "info fields:", m0)
    sums = dict(kv.split("=", 1) for kv in info.split(": ", 1)[1].split(";")) if info else {}
    s1 = await execute(alice, T, node) if node else None
    if not tap.ok(s1 is not None and s1.ok() and s1.form is not None,
                  "fields: the prompt's form as a stage", str(s1)):
        return
    f = s1.form
    types = {v: x.type for v, x in f.fields.items()}
    want = {"name": "text-single", "secret": "text-private", "bio": "text-multi",
            "agree": "boolean", "color": "list-single", "one": "list-single",
            "many": "list-multi"}
    tap.ok(all(types.get(k) == t for k, t in want.items()) and "token" not in types,
           "fields: each field type, the invisible one absent", str(types))
    pngs = [(cid, b) for cid, (_t, b) in s1.bobs.items()
            if hashlib.sha256(b).hexdigest() == sums.get("png")]
    tap.ok(len(pngs) == 1 and pngs[0][0] == sha1_cid(pngs[0][1]),
           "fields: the PNG is BOB data in the stage, its cid the sha1 of its bytes",
           str(list(s1.bobs)))
    uris = [u for x in f.order for _t, u in x.media]
    tap.ok(pngs and ("cid:" + pngs[0][0]) in uris, "fields: a media element points at it",
           str(uris))
    tga64 = base64.b64encode(TGA).decode()
    in_chat = [str(r) for r in alice.inbox if tga64 in str(r) or "x-tga" in str(r)]
    tap.ok(all(b != TGA and hashlib.sha256(b).hexdigest() != sums.get("tga")
               for _t, b in s1.bobs.values()) and "image/x-tga" not in str(s1)
           and not in_chat, "fields: the TGA is never sent (stage nor chat)", str(in_chat))
    if pngs:
        r, btype, data = await bob_data(alice, T, pngs[0][0])
        tap.ok(r.type == "result" and btype == "image/png" and data == pngs[0][1],
               "the BOB iq to the transport answers with the same bytes", str(r))
    r, ids, feats = await node_info(alice, T, node)
    tap.ok(r.type == "result" and ("automation", "command-node") in [(c, t) for c, t, _n in ids]
           and NS_COMMANDS in feats, "disco#info of %s: a command node" % node, str(r))
    # another user: not listed, not runnable, no pictures
    tap.ok(node not in await prompt_nodes(carol), "another user does not see %s" % node)
    other = await execute(carol, T, node)
    tap.ok(other.type == "error" and other.condition == "item-not-found",
           "another user executing %s -> item-not-found" % node, str(other))
    if pngs:
        r, _t, data = await bob_data(carol, T, pngs[0][0])
        tap.ok(r.type == "error" and r.condition == "item-not-found" and data is None,
               "another user asking for its BOB cid -> item-not-found", str(r))
    # answers that do not fit: refused, the stage stays answerable
    for bad_values, what in (({"name": "bob", "secret": ""}, "an empty required field"),
                             ({"name": "bob", "secret": "x", "age": "forty"}, "a non-integer"),
                             ({"name": "bob", "secret": "x", "many": ["0", "9"]},
                              "an unknown list item")):
        bad = await execute(alice, T, node, sessionid=s1.sessionid, form=bad_values)
        tap.ok(bad.type == "error" and bad.condition == "bad-request"
               and bad.specific == "bad-payload" and bad.text,
               "fields: %s -> bad-payload (%s)" % (what, bad.text), str(bad))
    secret = "s3cr;3t <&> ü!"
    m0 = alice.mark()
    s2 = await execute(alice, T, node, sessionid=s1.sessionid, form={
        "name": "bob", "secret": secret, "bio": ["x", "y"], "age": "7", "agree": "false",
        "color": "2", "one": "0", "many": ["0", "2"], "token": "changed-by-client"})
    got = await report(alice, "ok fields:", m0)
    want = ("ok fields: name=bob;secret=%s;bio=x\ny;fixed=cannot change;age=7;agree=0;"
            "token=keep-me-7;color=2;one=0;many=0,2;acct=tester" % secret)
    norm = (got or "").replace("\r\n", "\n")
    tap.ok(s2.ok("completed") and norm == want,
           "fields: every value round trips (masked unchanged, list-multi, the invisible "
           "value preserved)", "%s\n got %r\nwant %r" % (s2, got, want))


async def files(tap, alice, ferry):
    for word in ("file", "folder"):
        m0 = alice.mark()
        alice.send_message(CUE, word)
        got = await report(alice, "cancel " + word, m0)
        told = await from_transport(alice, m0, [word], timeout=5)
        tap.ok(got is not None and told is not None,
               "%s request: cancelled, the user is told" % word, str(told))
    tap.ok(ferry.running() and not await prompt_nodes(alice), "no crash, no prompt left")


def scan_blocks(lines, scale=8):
    """What zbarimg reads from LINES of block characters (two module rows
    a line: upper half, lower half), drawn as a bitmap; None if nothing."""
    rows = []
    for ln in lines:
        rows.append([1 if ch in "\u2588\u2580" else 0 for ch in ln])
        rows.append([1 if ch in "\u2588\u2584" else 0 for ch in ln])
    if not rows:
        return None
    width = max(len(r) for r in rows)
    pbm = ["P1", "%d %d" % (width * scale, len(rows) * scale)]
    for r in rows:
        line = " ".join(str(v) for v in (r + [0] * (width - len(r))) for _ in range(scale))
        pbm += [line] * scale
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "ferry-qr-%d.pbm" % os.getpid())
    with open(path, "w") as f:
        f.write("\n".join(pbm) + "\n")
    try:
        out = subprocess.run(["zbarimg", "-q", "--raw", path], capture_output=True,
                             text=True, timeout=30)
    finally:
        os.unlink(path)
    return out.stdout.strip() or None


async def qr(tap, alice):
    node = await cue(alice, "qr")
    s1 = await execute(alice, T, node) if node else None
    f = s1.form if s1 is not None else None
    if not tap.ok(f is not None and f.value("qr_string") == "2@ferry-test-qr,xyz",
                  "qr: the QR text as a field of the stage", str(s1)):
        return
    drawing = [x for x in f.order if x.type == "fixed" and x.label == "QR code"]
    lines = drawing[0].values if drawing else []
    blocks = set("".join(lines))
    # 19 bytes at level L: version 2, 25 modules, and a quiet zone of 2 on
    # each side: 29 columns, two module rows a line
    tap.ok(len(lines) == 15 and {len(ln) for ln in lines} == {29}
           and blocks <= set(" \u2580\u2584\u2588") and len(blocks) > 1,
           "qr: the text drawn as a QR code in block characters (a fixed field)", str(lines))
    decoded = scan_blocks(lines)
    tap.ok(decoded == "2@ferry-test-qr,xyz",
           "qr: the drawing scans (zbarimg) as the plugin's QR text", repr(decoded))
    tap.ok(any(t == "image/png" for t, _b in s1.bobs.values()),
           "qr: the plugin's QR image as PNG BOB data", str(list(s1.bobs)))
    m0 = alice.mark()
    s2 = await execute(alice, T, node, sessionid=s1.sessionid, form={})
    got = await report(alice, "ok qr:", m0)
    tap.ok(s2.ok("completed") and got == "ok qr: qr_string=2@ferry-test-qr,xyz",
           "qr: answered, the text comes back unchanged", "%s %r" % (s2, got))


async def too_many(tap, alice):
    """At most 20 open prompts per user: the 21st is cancelled, the user told."""
    open_now = len(await prompt_nodes(alice))
    m0 = alice.mark()
    for _ in range(21 - open_now):
        alice.send_message(CUE, "input")
    told = await from_transport(alice, m0, ["20"], timeout=15)
    got = await report(alice, "cancel input:", m0, timeout=10)
    nodes = await prompt_nodes(alice)
    tap.ok(told is not None and got is not None and len(nodes) == 20,
           "the 21st open prompt is cancelled and the user told; 20 stay listed",
           "%s %r %d" % (told, got, len(nodes)))
    st = await execute(alice, T, "status")
    count = (st.form.text("prompts") or "") if st.form is not None else ""
    tap.ok(st.ok() and count.split(":", 1)[0] == "20" and "Input" in count,
           "the status command counts the 20 open questions and names them", count)


async def main_part(tap, prosody, ferry):
    await login_codes(tap, prosody)
    await cancel_login_code(tap, prosody)
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice:
        m0 = alice.mark()
        _f, st = await register(tap, alice, "tester", "tester")
        tap.ok(st is not None and st.ok("completed"), "tester registers by command", str(st))
        alice.send_presence(to=T)
        tap.ok(await alice.transport_connected(T, since=m0) is not None,
               "the transport says tester is connected")
        pr = await execute(alice, T, "prompts")
        tap.ok(pr.ok("completed") and pr.form is None, "no prompt open at first", str(pr))
        await answer_via_prompts(tap, alice)
        await answer_via_chat(tap, alice)
        await answer_via_node(tap, alice)
        await two_routes(tap, alice)
        await withdrawn(tap, alice)
        async with XmppUser("carol@localhost", "carolpw", prosody.c2s_port) as carol:
            await fields(tap, alice, carol)
        await files(tap, alice, ferry)
        await qr(tap, alice)
        await too_many(tap, alice)
        bugs = [r for r in alice.inbox if "BUG:" in (r.child_text("body") or "")]
        tap.ok(not bugs, "the plugin saw no lifetime violation", str([str(b) for b in bugs]))


async def timeout_part(tap, prosody, ferry):
    async with XmppUser("erin@localhost", "erinpw", prosody.c2s_port) as erin:
        m0 = erin.mark()
        _f, st = await register(tap, erin, "tester", "timeout")
        erin.send_presence(to=T)
        await erin.transport_connected(T, since=m0)
        m0 = erin.mark()
        node = await cue(erin, "input")
        told = await from_transport(erin, m0, ["in time"], timeout=PROMPT_SECONDS + 8)
        got = await report(erin, "cancel input:", m0, timeout=5)
        tap.ok(node is not None and told is not None and got is not None,
               "an unanswered prompt times out: cancelled, the user told", str(told))
        tap.ok(await report(erin, "ok input:", m0, timeout=1) is None,
               "the timeout never answers with the default")
        tap.ok(node not in await prompt_nodes(erin), "the timed out prompt is gone")
        tap.ok(re.search(r"not answered in time", ferry.log_text()) is not None,
               "ferry logs the timeout")
        # shown in a run when it times out: the answer there is refused
        m0 = erin.mark()
        node = await cue(erin, "input")
        s1 = await execute(erin, T, node) if node else None
        await from_transport(erin, m0, ["in time"], timeout=PROMPT_SECONDS + 8)
        await report(erin, "cancel input:", m0, timeout=5)
        late = await execute(erin, T, node, sessionid=s1.sessionid,
                             form={"value": "late"}) if s1 is not None else None
        tap.ok(late is not None and late.type == "error" and late.text,
               "an answer in a run whose prompt timed out -> an error", str(late))
        tap.ok(await report(erin, "ok input:", m0, timeout=1) is None,
               "and the plugin never got an ok")
    # a login code question unanswered at registration: the run fails
    async with XmppUser("frank@localhost", "frankpw", prosody.c2s_port) as frank:
        m0 = frank.mark()
        _f, st = await register(tap, frank, "code-frank", "code timeout")
        told = await from_transport(frank, m0, ["in time"], timeout=PROMPT_SECONDS + 8)
        late = await execute(frank, T, NS_REGISTER, sessionid=st.sessionid,
                             form={"value": "123456"}) if st is not None and st.ok() else None
        _r, items = await command_nodes(frank, T)
        tap.ok(told is not None and late is not None and late.type == "error"
               and "settings" not in [n for n, _a, _b in items],
               "an unanswered login code: the user told, the registration fails "
               "(%s: %s)" % (late and late.condition, late and late.text), str(late))


def body(tap, run):
    if not os.path.exists(os.path.join(plugin_dir(), "ferrytest.so")) and not any(
            n.startswith("ferrytest") for n in os.listdir(plugin_dir())):
        tap.bail_out("the test plugin is not built in %s" % plugin_dir())
    prosody = run.add(Prosody(run.path("prosody"), component=T,
                              secret="s3cret-%s" % os.urandom(6).hex()))
    prosody.start()
    for u in ("alice", "carol", "dave", "erin", "frank"):
        prosody.register(u, "localhost", u + "pw")
    ferry = start_ferry(tap, run, **ferry_kwargs(prosody))
    if ferry is not None:
        asyncio.run(asyncio.wait_for(main_part(tap, prosody, ferry), 150))
        ferry.stop()
    f2 = start_ferry(tap, run, label="ferry-timeout",
                     **ferry_kwargs(prosody, {"prompt_seconds": str(PROMPT_SECONDS)}))
    if f2 is not None:
        asyncio.run(asyncio.wait_for(timeout_part(tap, prosody, f2), 60))


if __name__ == "__main__":
    sys.exit(run_test("prompts", ("prosody", "prosodyctl"), body))
