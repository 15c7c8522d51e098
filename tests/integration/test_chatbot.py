#!/usr/bin/python3
"""The chat bot on the transport JID, by chat alone, as a user of
Conversations, Dino or Monal would: Prosody + ngircd + ferry (prpl-irc),
then ejabberd + ngircd + ferry for the registration.

- alice, not registered: `help` lists register but no user or admin words;
  `status` and the admin word `stats` are refused.
- root (an [access] admin): `help` has the admin words, `stats` answers.
- Never answered (a bounded wait, then silence asserted): messages of
  type error, headline and groupchat, a chat state without a body, and a
  message from the server JID itself (sent inside Prosody through its
  admin shell).
- alice registers by chat (`register`, each field answered in its own
  message; the password's question warns that the answer stays in the
  message archive), then `status` (answered, its yes/no question with
  `no`), `contacts`, `relogin`, and `unregister` with its confirmation;
  afterwards `status` is refused again.
- On ejabberd: carol registers by chat and is signed on to IRC.
Prints TAP.
"""

import asyncio
import os
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import run_test, start_ferry  # noqa: E402
from servers import Ejabberd, Ngircd, Prosody  # noqa: E402
from transport import IrcPeer, XmppUser, irc_presets, transport_config  # noqa: E402

T = "irc.localhost"
QUIET_SECONDS = 4


class ShellProsody(Prosody):
    """Prosody with its admin shell, to send a stanza from the server JID."""

    def _write_config(self):
        super()._write_config()
        with open(self.cfg_path) as f:
            text = f.read()
        text = text.replace('modules_enabled = { ', 'modules_enabled = { "admin_shell", ', 1)
        with open(self.cfg_path, "w") as f:
            f.write(text)

    def send_from_server(self, host, to, body):
        lua = ("> local st = require'util.stanza'; "
               "prosody.core_post_stanza(prosody.hosts[%r], st.message({from=%r, to=%r, "
               "type='chat'}):tag('body'):text(%r):up()) return 'posted'"
               % (host, host, to, body))
        r = subprocess.run(["prosodyctl", "--config", self.cfg_path, "shell", lua],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=30)
        return r.returncode == 0 and "posted" in r.stdout, r.stdout + r.stderr


def bot_chats(user, since):
    return [r for r in user.inbox[since:] if r.kind == "message" and r.sender == T
            and r.type == "chat" and r.child_text("body")]


async def ask(user, text, timeout=20):
    """Sends TEXT to the transport and returns the bot's next answer's body
    ("" when none came within TIMEOUT)."""
    m0 = user.mark()
    user.send_message(T, text)
    r = await user.wait_for(lambda r: r in bot_chats(user, m0), timeout, m0)
    return r.child_text("body") if r is not None else ""


async def wait_said(user, since, words, timeout=60):
    """The body of the bot's first chat since SINCE that contains WORDS."""
    r = await user.wait_for(lambda r: r in bot_chats(user, since) and
                            words in r.child_text("body"), timeout, since)
    return r.child_text("body") if r is not None else ""


async def settled(user):
    r = await user.iq(T, "<ping xmlns='urn:xmpp:ping'/>", timeout=10)
    return r.type == "result"


async def register_by_chat(tap, user, nick, label):
    """`register`, then every question answered in its own message: the
    nick for the name, `-` for the rest. Returns the last body."""
    m0 = user.mark()
    body = await ask(user, "register")
    tap.ok("(1/" in body or "?" in body or "Nick" in body,
           "%s: register by chat asks its first question" % label, body)
    warned = False
    for _ in range(12):
        if "Registered" in body or "Failed" in body or not body:
            break
        question = body.split("\n\n")[-1]
        if "message archive" in question:
            warned = True
            tap.ok("carbons" in question and "jabber:iq:register" in question,
                   "%s: the masked field's question says the answer stays in the archive "
                   "(and carbons) and names the command route" % label, question)
        first = question.splitlines()[0].lower() if question else ""
        answer = nick if ("nick" in first or "user" in first) else "-"
        body = await ask(user, answer, timeout=60)
        if "checking" in body.lower() or ("Registered" not in body and "(" not in body
                                          and "Failed" not in body and body):
            # a note while the check login runs: the outcome comes next
            body = await wait_said(user, m0, "Registered", 60) or body
    tap.ok(warned, "%s: a password was asked by chat, with the warning" % label)
    return body


async def scenario(tap, prosody, irc, ferry):
    async with XmppUser("alice@localhost", "alicepw", prosody.c2s_port) as alice, \
            XmppUser("root@localhost", "rootpw", prosody.c2s_port) as root, \
            IrcPeer(irc.port, "bob") as bob:
        # -- help and refusals by role
        h = await ask(alice, "help")
        tap.ok("register — " in h and "status — " not in h and "stats" not in h,
               "help for a stranger lists register only, no admin words", h)
        s = await ask(alice, "status")
        tap.ok("may not run 'status'" in s, "status before registering is refused", s)
        s = await ask(alice, "stats")
        tap.ok("may not run 'stats'" in s and "Users registered" not in s,
               "an admin word from a non-admin is refused", s)
        h = await ask(root, "/help")
        tap.ok("stats — " in h and "delete-user — " in h, "help for an admin has the admin words",
               h)
        s = await ask(root, "stats")
        tap.ok("Users registered" in s, "stats answers the admin", s)

        # -- never answered
        m0 = alice.mark()
        for mtype in ("error", "headline", "groupchat"):
            alice.send_message(T, "help", mtype=mtype)
        alice.send_message(T, None,
                           extra="<active xmlns='http://jabber.org/protocol/chatstates'/>")
        ok, out = prosody.send_from_server("localhost", T, "help")
        tap.ok(ok, "a message from the server JID is posted inside Prosody", out)
        await settled(alice)
        await asyncio.sleep(QUIET_SECONDS)
        tap.ok(not bot_chats(alice, m0),
               "error, headline, groupchat and body-less messages get no answer (%d s)"
               % QUIET_SECONDS, "\n".join(str(r) for r in bot_chats(alice, m0)))
        h = await ask(alice, "help")
        tap.ok("register — " in h, "the bot still answers alice afterwards", h)
        tap.ok(ferry.wait_for_log("chatbot: localhost is a server or a component", 5)
               is not None, "the server JID's message reached ferry's bot, which let it be",
               ferry.log_tail)
        # what the component sent to the server JID (Prosody logs each
        # stanza's opening tag)
        server_answered = [line for line in open(prosody.log_path, errors="replace")
                           if "Received[component]: <message" in line
                           and "to='localhost'" in line]
        tap.ok(not server_answered, "the server JID's message got no answer",
               "\n".join(server_answered[-3:]))

        # -- register by chat
        body = await register_by_chat(tap, alice, "alice", "prosody")
        tap.ok("Registered: signed on to IRC as alice" in body,
               "alice registers by chat alone", body)
        tap.ok(await bob.wait_ison("alice", True, 30), "alice is on IRC")

        # -- status: fixed fields, then its yes/no question
        body = await ask(alice, "status")
        tap.ok("Legacy connection" in body and "Answer yes or no." in body,
               "status by chat shows the connection and asks its question", body)
        body = await ask(alice, "no")
        tap.ok("No change" in body, "'no' answers status's question", body)

        # -- contacts: a result table as text
        body = await ask(alice, "contacts")
        tap.ok(body and "Failed" not in body, "contacts answers by chat", body)

        # -- relogin (session.c waits for the old connection's QUIT, so the
        # nick comes back as it was)
        m0 = alice.mark()
        body = await ask(alice, "relogin", timeout=60)
        if "Signed on" not in body and "failed" not in body:
            body = await wait_said(alice, m0, "Signed on", 60) or body
        tap.ok("Signed on to IRC as alice." in body, "relogin by chat logs in again", body)
        online = ""
        for _ in range(15):
            online = await ask(alice, "status")
            await ask(alice, "-")
            if "online, signed on to IRC as alice" in online:
                break
            await asyncio.sleep(2)
        tap.ok("online, signed on to IRC as alice" in online,
               "after relogin status says the session is signed on again", online)
        tap.ok(await bob.wait_ison("alice", True, 30), "alice is on IRC after relogin")

        # -- unregister with the confirmation
        body = await ask(alice, "unregister")
        tap.ok("Really unregister?" in body and "Answer yes or no." in body,
               "unregister asks for a confirmation", body)
        body = await ask(alice, "nah")
        tap.ok("Nothing was changed." in body, "anything but y... does not confirm", body)
        body = await ask(alice, "unregister")
        body = await ask(alice, "yes", timeout=60)
        tap.ok("Unregistered" in body, "unregister by chat with 'yes'", body)
        tap.ok(await bob.wait_ison("alice", False, 30), "alice left IRC")
        s = await ask(alice, "status")
        tap.ok("may not run 'status'" in s, "status is refused again after unregistering", s)


async def scenario_ejabberd(tap, ej, irc):
    async with XmppUser("carol@localhost", "carolpw", ej.c2s_port) as carol, \
            IrcPeer(irc.port, "dave") as dave:
        body = await register_by_chat(tap, carol, "carol", "ejabberd")
        tap.ok("Registered: signed on to IRC as carol" in body,
               "carol registers by chat on ejabberd", body)
        tap.ok(await dave.wait_ison("carol", True, 30), "carol is on IRC")
        body = await ask(carol, "unregister")
        body = await ask(carol, "y", timeout=60)
        tap.ok("Unregistered" in body, "carol unregisters by chat on ejabberd", body)


def body(tap, run):
    prosody = run.add(ShellProsody(run.path("prosody"), vhosts=["localhost"], component=T,
                                   secret="s3cret-%s" % os.urandom(6).hex()))
    prosody.start()
    for name in ("alice", "root"):
        prosody.register(name, "localhost", name + "pw")
    irc = run.add(Ngircd(run.path("ngircd")))
    irc.start()
    ferry = start_ferry(tap, run, **transport_config(
        prosody, presets=irc_presets(irc), extra={"access": {"admins": "root@localhost"}}))
    if ferry is None:
        return
    asyncio.run(asyncio.wait_for(scenario(tap, prosody, irc, ferry), 300))
    ferry.stop()

    secret = "s3cret-%s" % os.urandom(6).hex()
    ej = run.add(Ejabberd(run.path("ejabberd"), hosts=["localhost"],
                          components=[{"hosts": {T: secret}}]))
    ej.start()
    ej.register("carol", "localhost", "carolpw")
    ferry2 = start_ferry(tap, run, label="ferry-ejabberd",
                         **transport_config(ej, presets=irc_presets(irc)))
    if ferry2 is None:
        return
    asyncio.run(asyncio.wait_for(scenario_ejabberd(tap, ej, irc), 240))
    ferry2.stop()


def main():
    return run_test("chatbot", ("prosody", "prosodyctl", "ngircd", "ejabberdctl", "epmd",
                                "erl"), body)


if __name__ == "__main__":
    sys.exit(main())
