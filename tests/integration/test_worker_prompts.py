#!/usr/bin/python3
"""libpurple prompts in ferry-worker alone (issue 12): the worker driven
through tests/tools/worker_driver.py, with the test protocol plugin
prpl-ferrytest (tests/plugin/ferrytest.c) loaded from the build tree
through FERRY_WORKER_TEST_PLUGIN_DIR.

Each IM to the plugin's buddy "cue" raises one libpurple request; the
plugin reports what its callback got as an IM from "cue" ("ok input: ...",
"ok fields: var=value;..."), so every check compares the worker's PROMPT
with what the plugin raised and the plugin's report with what the test
sent. Checks (commands-and-requests.md §4, §7 items 5-7, 9, 10): each
kind's PROMPT form (types, vars, options, defaults, required, "_"
stripped, images as the plugin's bytes, the invisible and account fields
absent); OK -> PROMPT_CLOSED ANSWERED and the values back byte for byte;
CANCEL -> the cancel callback once (an action prompt: the refusing action;
none: closed and the login ends); unknown ids -> UNKNOWN; values that do
not fit -> PROMPT_ERROR, the prompt still answerable; prompts the plugin
withdraws or that a disconnect closes -> WITHDRAWN, late answers UNKNOWN;
file and folder prompts cancelled with a NOTICE; a login code prompt during
a test login. The plugin's own lifetime checks ("BUG: ...") never fire.
Prints TAP.
"""

import hashlib
import html
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

import subprocess  # noqa: E402

from harness import Ferry, builddir, ferry_binary, run_test  # noqa: E402
from servers import _read  # noqa: E402
import worker_driver as wd  # noqa: E402
from worker_driver import Prompt  # noqa: E402

ACC = 1
PROTO = "prpl-ferrytest"
SEQ = [0]


def plugin_dir():
    return os.path.join(builddir(), "tests", "plugin")


class Session:
    """The worker, one account of the test plugin, and the plugin's reports."""

    def __init__(self, tap, w):
        self.tap = tap
        self.w = w
        self.reports = []  # every report text, in order

    def login(self, account=ACC, username="tester", flags=0):
        self.w.send(wd.LOGIN, account, wd.login_payload(PROTO, username, "", {}, flags))
        return self.w.recv_type(wd.CONNECTED, account=account, timeout=15)

    def cue(self, word, account=ACC):
        """Sends WORD to "cue"; returns the PROMPT it raises (or None)."""
        SEQ[0] += 1
        self.w.send(wd.SEND_IM, account, wd.payload(wd.SEND_IM, (SEQ[0], "cue", word, 0)))
        try:
            m = self.w.recv_type(wd.PROMPT, account=account, timeout=5)
        except wd.WorkerError:
            return None
        return Prompt(m[2])

    def report(self, prefix, account=ACC, timeout=5):
        """The plugin's next report starting with PREFIX, or None."""
        def match(v):
            return v[0] == "cue" and html.unescape(v[1]).startswith(prefix)
        try:
            m = self.w.recv_type(wd.IM_RECEIVED, account=account, timeout=timeout, where=match)
        except wd.WorkerError:
            return None
        text = html.unescape(m[2][1])
        self.reports.append(text)
        return text

    def answer(self, prompt_id, values=None, action=wd.PROMPT_OK, account=ACC):
        self.w.send(wd.ANSWER_PROMPT, account, wd.answer_payload(prompt_id, action, values))

    def outcome(self, prompt_id, account=ACC, timeout=5):
        """The PROMPT_CLOSED or PROMPT_ERROR answering for PROMPT_ID:
        ("closed", why) or ("error", text), or None."""
        def match(m):
            return (m[0] in (wd.PROMPT_CLOSED, wd.PROMPT_ERROR) and m[1] == account and
                    m[2][0] == prompt_id)
        try:
            m = self.w.recv_until(match, timeout)
        except wd.WorkerError:
            return None
        if m[0] == wd.PROMPT_CLOSED:
            return ("closed", m[2][1])
        return ("error", m[2][1])


ANSWERED = ("closed", wd.PROMPT_CLOSED_ANSWERED)
CANCELLED = ("closed", wd.PROMPT_CLOSED_CANCELLED)
WITHDRAWN = ("closed", wd.PROMPT_CLOSED_WITHDRAWN)
UNKNOWN = ("closed", wd.PROMPT_CLOSED_UNKNOWN)


def is_error(o):
    return o is not None and o[0] == "error"


def check_input(tap, s):
    cases = [("input", "text-single", "default text", "hello <&> \"wörld\" ;="),
             ("input-masked", "text-private", "default text", "p@ss;w0rd <x> ü\t!"),
             ("input-multiline", "text-multi", "first\nsecond", "a\nb\n\nc")]
    for cue, ftype, default, sent in cases:
        p = s.cue(cue)
        if not tap.ok(p is not None and p.kind == wd.PROMPT_KIND_INPUT,
                      "%s: a PROMPT of kind INPUT" % cue, repr(p)):
            continue
        f = p.field("value")
        tap.ok(f is not None and f.get("type") == ftype and f.get("value") == default and
               p.title == "Input" and "Type something" in p.instructions and p.who == "cue",
               "%s: field value is %s with the default, title and text" % (cue, ftype), repr(p))
        s.answer(p.id, {"value": sent})
        o = s.outcome(p.id)
        r = s.report("ok input: ")
        tap.ok(o == ANSWERED and r == "ok input: " + sent,
               "%s: OK -> ANSWERED, the plugin got the text byte for byte" % cue,
               "%r %r" % (o, r))
    p = s.cue("input")
    if p is not None:
        s.answer(p.id, action=wd.PROMPT_CANCEL)
        o = s.outcome(p.id)
        r = s.report("cancel input:")
        again = s.report("cancel input:", timeout=1)
        tap.ok(o == CANCELLED and r is not None and again is None,
               "input: CANCEL -> CANCELLED, the cancel callback once", "%r %r" % (o, r))
        s.answer(p.id, {"value": "late"})
        tap.ok(s.outcome(p.id) == UNKNOWN and s.report("ok input:", timeout=1) is None,
               "input: an answer after the close -> UNKNOWN, no callback")
    else:
        tap.fail("input: a PROMPT for the cancel case")


def check_choice(tap, s):
    p = s.cue("choice")
    if not tap.ok(p is not None and p.kind == wd.PROMPT_KIND_CHOICE,
                  "choice: a PROMPT of kind CHOICE", repr(p)):
        return
    f = p.field("choice")
    tap.ok(f is not None and f.get("type") == "list-single" and
           Prompt.options(f) == [("1", "Apple"), ("2", "Banana"), ("7", "Cherry")] and
           f.get("value") == "2",
           "choice: list-single choice, values the ints, the default preselected", repr(f))
    s.answer(p.id, {"choice": "99"})
    o = s.outcome(p.id)
    tap.ok(is_error(o), "choice: a value not among the options -> PROMPT_ERROR", repr(o))
    s.answer(p.id, {"choice": "7"})
    o = s.outcome(p.id)
    r = s.report("ok choice:")
    tap.ok(o == ANSWERED and r == "ok choice: 7",
           "choice: still answerable after the error; OK 7 -> the plugin got 7", "%r %r" % (o, r))
    p = s.cue("choice")
    if p is not None:
        s.answer(p.id, action=wd.PROMPT_CANCEL)
        o = s.outcome(p.id)
        r = s.report("cancel choice:")
        tap.ok(o == CANCELLED and r is not None and s.report("cancel choice:", timeout=1) is None,
               "choice: CANCEL -> the cancel callback once", "%r %r" % (o, r))


def check_action(tap, s, png_sha):
    p = s.cue("action")
    if not tap.ok(p is not None and p.kind == wd.PROMPT_KIND_ACTION,
                  "action: a PROMPT of kind ACTION", repr(p)):
        return
    f = p.field("action")
    tap.ok(f is not None and f.get("type") == "list-single" and
           Prompt.options(f) == [("0", "Yes"), ("1", "No"), ("2", "Later")] and
           f.get("value") == "0",
           "action: list-single action 0..2, '_' stripped, default 0 preselected", repr(f))
    s.answer(p.id, {"action": "2"})
    o = s.outcome(p.id)
    r = s.report("ok action:")
    tap.ok(o == ANSWERED and r == "ok action: 2", "action: OK 2 -> action 2 ran",
           "%r %r" % (o, r))
    p = s.cue("action")
    if p is not None:
        s.answer(p.id, {"action": "5"})
        tap.ok(is_error(s.outcome(p.id)), "action: an index out of range -> PROMPT_ERROR")
        s.answer(p.id, action=wd.PROMPT_CANCEL)
        o = s.outcome(p.id)
        r = s.report("ok action:")
        tap.ok(o is not None and o[0] == "closed" and r == "ok action: 1",
               "action: CANCEL runs the refusing action (No, 1)", "%r %r" % (o, r))
    p = s.cue("action-icon")
    if tap.ok(p is not None and p.kind == wd.PROMPT_KIND_ACTION,
              "action-icon: a PROMPT of kind ACTION", repr(p)):
        imgs = p.images()
        tap.ok(len(imgs) == 1 and hashlib.sha256(imgs[0]).hexdigest() == png_sha and
               Prompt.options(p.field("action") or {}) == [("0", "Yes"), ("1", "No"),
                                                           ("2", "Later")],
               "action-icon: the icon is the plugin's PNG, the actions as before", repr(p))
        s.answer(p.id, {"action": "1"})
        o = s.outcome(p.id)
        tap.ok(o == ANSWERED and s.report("ok action:") == "ok action: 1",
               "action-icon: OK 1 -> action 1 ran", repr(o))


def field_check(tap, p, var, want, desc):
    f = p.field(var)
    ok = f is not None and all(f.get(k, "") == v for k, v in want.items())
    tap.ok(ok, "fields: %s" % desc, repr(f))


def check_fields(tap, s):
    """Returns the PNG's SHA-256 the plugin reported."""
    SEQ[0] += 1
    p = s.cue("fields")
    info = s.report("info fields:")
    sums = dict(kv.split("=", 1) for kv in info[len("info fields: "):].split(";")) if info \
        else {}
    if not tap.ok(p is not None and p.kind == wd.PROMPT_KIND_FIELDS and sums,
                  "fields: a PROMPT of kind FIELDS", repr(p)):
        return sums.get("png")
    field_check(tap, p, "name", {"type": "text-single", "value": "alice", "required": "1"},
                "string -> text-single with its default, required")
    field_check(tap, p, "secret", {"type": "text-private", "required": "1"},
                "masked string -> text-private, required")
    field_check(tap, p, "bio", {"type": "text-multi", "value": "line1\nline2"},
                "multiline string -> text-multi")
    fixed = [f for f in p.form if f.get("type") == "fixed"]
    tap.ok(any(f.get("value") == "cannot change" or f.get("label") == "Fixed" for f in fixed)
           and (p.field("fixed") is None or p.field("fixed").get("type") == "fixed"),
           "fields: not editable string -> fixed", repr(fixed))
    field_check(tap, p, "age", {"type": "text-single", "value": "42", "integer": "1"},
                "integer -> text-single marked integer")
    f = p.field("agree")
    tap.ok(f is not None and f.get("type") == "boolean" and f.get("value") in ("1", "true"),
           "fields: boolean -> boolean, true", repr(f))
    f = p.field("color")
    tap.ok(f is not None and f.get("type") == "list-single" and f.get("value") == "1" and
           Prompt.options(f) == [("0", "Red"), ("1", "Green"), ("2", "Blue")],
           "fields: choice -> list-single by index, default preselected", repr(f))
    f = p.field("one")
    tap.ok(f is not None and f.get("type") == "list-single" and f.get("value") == "1" and
           Prompt.options(f) == [("0", "Apple"), ("1", "Banana")],
           "fields: list single -> list-single, selection preselected", repr(f))
    f = p.field("many")
    tap.ok(f is not None and f.get("type") == "list-multi" and
           sorted(f.get("value", "").split("\n")) == ["1", "3"] and
           Prompt.options(f) == [("0", "A"), ("1", "B"), ("2", "C"), ("3", "D")],
           "fields: list multi -> list-multi, both selections preselected", repr(f))
    tap.ok(any("Just a label" in (f.get("value", "") + f.get("label", "")) for f in fixed),
           "fields: label -> fixed", repr(fixed))
    tap.ok(any("Texts" in (f.get("value", "") + f.get("label", "")) for f in fixed) and
           any("Choices" in (f.get("value", "") + f.get("label", "")) for f in fixed),
           "fields: both group titles -> fixed separators", repr(fixed))
    shas = [hashlib.sha256(b).hexdigest() for b in p.images()]
    tap.ok(shas == [sums.get("png"), sums.get("tga")],
           "fields: the PNG and TGA images are the plugin's bytes, in order", repr(shas))
    tap.ok(p.field("token") is None and not any("keep-me-7" in str(f) for f in p.form),
           "fields: the invisible field is absent", repr(p.vars()))
    tap.ok(p.field("acct") is None, "fields: the account field is absent", repr(p.vars()))
    # required left empty, a non-integer: errors, the prompt stays open
    s.answer(p.id, {"name": "bob", "secret": ""})
    o1 = s.outcome(p.id)
    s.answer(p.id, {"secret": "x", "age": "forty"})
    o2 = s.outcome(p.id)
    s.answer(p.id, {"secret": "x", "many": ["0", "9"]})
    o3 = s.outcome(p.id)
    tap.ok(is_error(o1) and is_error(o2) and is_error(o3),
           "fields: an empty required field, a non-integer, an unknown list item -> "
           "PROMPT_ERROR", "%r %r %r" % (o1, o2, o3))
    secret = "s3cr;3t <&> ü\t!"
    s.answer(p.id, {"name": "bob", "secret": secret, "bio": "x\ny", "age": "7", "agree": "0",
                    "color": "2", "one": "0", "many": ["0", "2"]})
    o = s.outcome(p.id)
    r = s.report("ok fields:")
    want = ("ok fields: name=bob;secret=%s;bio=x\ny;fixed=cannot change;age=7;agree=0;"
            "token=keep-me-7;color=2;one=0;many=0,2;acct=tester" % secret)
    tap.ok(o == ANSWERED and r == want,
           "fields: OK -> every value back exactly (masked byte for byte, list-multi "
           "selection, the invisible value unchanged, the account filled)",
           "%r\n got %r\nwant %r" % (o, r, want))
    p = s.cue("fields")
    s.report("info fields:")
    if p is not None:
        s.answer(p.id, action=wd.PROMPT_CANCEL)
        o = s.outcome(p.id)
        tap.ok(o == CANCELLED and s.report("cancel fields") == "cancel fields" and
               s.report("cancel fields", timeout=1) is None,
               "fields: CANCEL -> the cancel callback once", repr(o))
    return sums.get("png")


def check_qr(tap, s, png_sha):
    p = s.cue("qr")
    if not tap.ok(p is not None and p.kind == wd.PROMPT_KIND_FIELDS, "qr: a PROMPT of kind "
                  "FIELDS", repr(p)):
        return
    texts = [f for f in p.form if "2@ferry-test-qr,xyz" in f.get("value", "")]
    imgs = p.images()
    tap.ok(len(texts) == 1 and len(imgs) == 1 and
           hashlib.sha256(imgs[0]).hexdigest() == png_sha,
           "qr: the qr_string text and the qr_image PNG", repr(p))
    s.answer(p.id, {})
    o = s.outcome(p.id)
    r = s.report("ok qr:")
    tap.ok(o == ANSWERED and r == "ok qr: qr_string=2@ferry-test-qr,xyz",
           "qr: OK -> ANSWERED, the text unchanged", "%r %r" % (o, r))


def check_files(tap, s):
    for cue in ("file", "folder"):
        s.w.pending = [m for m in s.w.drain(0.3) if m[0] != wd.NOTICE]  # earlier notices
        SEQ[0] += 1
        s.w.send(wd.SEND_IM, ACC, wd.payload(wd.SEND_IM, (SEQ[0], "cue", cue, 0)))
        r = s.report("cancel " + cue)
        try:
            n = s.w.recv_type(wd.NOTICE, account=ACC, timeout=3)
        except wd.WorkerError:
            n = None
        prompts = [m for m in s.w.pending if m[0] == wd.PROMPT]
        tap.ok(r == "cancel " + cue and n is not None and not prompts and s.w.poll() is None,
               "%s: cancelled with a NOTICE, no PROMPT, no crash" % cue, "%r %r" % (r, n))


def check_unknown(tap, s):
    s.answer(987654, {"value": "x"})
    tap.ok(s.outcome(987654) == UNKNOWN, "an answer to an unknown id -> PROMPT_CLOSED UNKNOWN")


def check_withdraw(tap, s):
    p = s.cue("withdraw")
    if not tap.ok(p is not None, "withdraw: a PROMPT", repr(p)):
        return
    o = s.outcome(p.id, timeout=5)
    r = s.report("withdrawn withdraw")
    tap.ok(o == WITHDRAWN and r is not None,
           "withdraw: the plugin's purple_request_close -> WITHDRAWN", repr(o))
    s.answer(p.id, {"value": "late"})
    tap.ok(s.outcome(p.id) == UNKNOWN and s.report("ok input:", timeout=1) is None,
           "withdraw: a late answer -> UNKNOWN, no callback")


def check_disconnect(tap, s):
    p = s.cue("disconnect")
    if not tap.ok(p is not None, "disconnect: a PROMPT", repr(p)):
        return
    o = s.outcome(p.id, timeout=5)
    try:
        d = s.w.recv_type(wd.DISCONNECTED, account=ACC, timeout=5)
    except wd.WorkerError:
        d = None
    tap.ok(o == WITHDRAWN and d is not None,
           "disconnect: the connection's end -> WITHDRAWN and DISCONNECTED", "%r %r" % (o, d))
    s.answer(p.id, {"value": "late"})
    tap.ok(s.outcome(p.id) == UNKNOWN, "disconnect: a late answer -> UNKNOWN")


def check_nodefault(tap, s):
    p = s.cue("action-nodefault")
    if not tap.ok(p is not None and p.kind == wd.PROMPT_KIND_ACTION,
                  "action-nodefault: a PROMPT", repr(p)):
        return
    f = p.field("action") or {}
    tap.ok(f.get("value", "") == "" and [lbl for _, lbl in Prompt.options(f)] ==
           ["Maybe", "Perhaps"], "action-nodefault: nothing preselected", repr(f))
    s.answer(p.id, action=wd.PROMPT_CANCEL)
    o = s.outcome(p.id)
    try:
        d = s.w.recv_type(wd.DISCONNECTED, account=ACC, timeout=5)
    except wd.WorkerError:
        d = None
    tap.ok(o is not None and o[0] == "closed" and d is not None and
           s.report("ok action:", timeout=1) is None,
           "action-nodefault: CANCEL closes it and ends the login, no action runs",
           "%r %r" % (o, d))


def check_login_code(tap, s):
    for account, user, answer, want in ((3, "code-a", "123456", "connects"),
                                        (4, "code-b", "000000", "auth"),
                                        (5, "code-c", None, "auth")):
        s.w.send(wd.LOGIN, account, wd.login_payload(PROTO, user, "", {}, wd.LOGIN_TEST))
        try:
            m = s.w.recv_type(wd.PROMPT, account=account, timeout=3)
        except wd.WorkerError:
            m = None
        p = Prompt(m[2]) if m else None
        if not tap.ok(p is not None and p.kind == wd.PROMPT_KIND_INPUT and
                      p.title == "Login code" and p.field("value") is not None,
                      "login code (%s): the prompt reaches ferry during a test login, "
                      "at once" % user, repr(p)):
            continue
        if answer is None:
            s.answer(p.id, action=wd.PROMPT_CANCEL, account=account)
        else:
            s.answer(p.id, {"value": answer}, account=account)
        o = s.outcome(p.id, account=account)

        def done(m):
            return m[0] in (wd.CONNECTED, wd.DISCONNECTED) and m[1] == account
        try:
            r = s.w.recv_until(done, 10)
        except wd.WorkerError:
            r = None
        if want == "connects":
            ok = r is not None and r[0] == wd.CONNECTED
        else:
            ok = r is not None and r[0] == wd.DISCONNECTED and r[2][0] == wd.REASON_AUTH
        tap.ok(o is not None and o[0] == "closed" and ok,
               "login code (%s): %s -> %s" % (user, answer or "cancel", want),
               "%r %r" % (o, r and wd.fmt(r)))
        s.w.send(wd.LOGOUT, account, wd.payload(wd.LOGOUT, ()))


def check_ferry_config(tap, run):
    """ferry accepts [legacy] protocol = prpl-ferrytest (its --describe run
    as the worker user, in the worker sandbox) with the test plugin path in
    its environment, and not without it."""
    ferry = Ferry(run.path("ferry"), 5347, "a-secret-for-the-check", protocol=PROTO,
                  legacy_name="Ferry Test")
    out = {}
    for label in ("with", "without"):
        env = ferry._env()
        env.pop("FERRY_WORKER_TEST_PLUGIN_DIR", None)
        if label == "with":
            env["FERRY_WORKER_TEST_PLUGIN_DIR"] = plugin_dir()
        r = subprocess.run([ferry_binary(), "--check-config", ferry.cfg_path], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out[label] = (r.returncode, r.stdout.decode(errors="replace"))
    tap.ok(out["with"][0] == 0 and "[legacy] protocol" in out["without"][1],
           "ferry --check-config accepts prpl-ferrytest through FERRY_WORKER_TEST_PLUGIN_DIR "
           "(and refuses it without)", repr(out))


def body(tap, run):
    so = os.path.join(plugin_dir(), "ferrytest.so")
    if not tap.ok(os.path.exists(so), "the test plugin is built", so):
        return
    check_ferry_config(tap, run)
    d = run.path("worker")
    os.makedirs(d, exist_ok=True)
    binary = os.path.join(builddir(), "src", "ferry-worker")
    env = dict(os.environ, TMPDIR=d, HOME=d, FERRY_LOG_LEVEL="debug",
               FERRY_WORKER_TEST_PLUGIN_DIR=plugin_dir())
    log = os.path.join(d, "worker.log")
    with wd.Worker(binary, env=env, stderr_path=log) as w:
        w.recv_type(wd.READY)
        s = Session(tap, w)
        try:
            tap.ok(s.login() is not None, "the plugin's account signs on")
            check_login_code(tap, s)
            check_input(tap, s)
            check_choice(tap, s)
            png_sha = check_fields(tap, s)
            check_action(tap, s, png_sha)
            check_qr(tap, s, png_sha)
            check_unknown(tap, s)
            check_files(tap, s)
            check_withdraw(tap, s)
            check_disconnect(tap, s)
            tap.ok(s.login() is not None, "the account signs on again")
            check_nodefault(tap, s)
        finally:
            bugs = [m for m in w.log if m[0] == wd.IM_RECEIVED and "BUG:" in m[2][1]]
            rc = w.close()
            text = _read(log)
            tap.ok(not bugs and "BUG:" not in text,
                   "the plugin saw no lifetime violation (no BUG: report)", repr(bugs))
            tap.ok("s3cr;3t" not in text and "p@ss;w0rd" not in text,
                   "no masked answer in the worker's log")
            tap.ok(rc == 0 and "Sanitizer" not in text and "runtime error" not in text,
                   "the worker exits cleanly (status %r), no sanitizer report" % rc)
            if tap.failed:
                tap.diag("worker log tail:\n" + text[-6000:])


if __name__ == "__main__":
    sys.exit(run_test("worker-prompts", (), body))
