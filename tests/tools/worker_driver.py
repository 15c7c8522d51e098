"""Drive a ferry-worker process over its socketpair, for tests and tools.

Run with /usr/bin/python3 (it needs python3-gi for GLib.Variant).

    from worker_driver import Worker, LOGIN, CONNECTED, login_payload
    with Worker("/path/to/ferry-worker", home=tmp) as w:
        w.recv_type(READY)
        w.send(LOGIN, 1, login_payload("prpl-irc", "alice@127.0.0.1", "",
                                       {"port": "6667"}))
        msg_type, account, value = w.recv_type(CONNECTED, account=1)

Frames follow include/ferry/worker_protocol.h: a 4-byte big-endian length,
then a GVariant "(uuv)" (type, account id, payload) in normal form.  The
worker gets one end of a socketpair as fd 3 (posix_spawn with a dup2 file
action; every other descriptor of ours is close-on-exec, as Python makes
them).  Every wait is bounded by a timeout.
"""

import os
import select
import signal
import socket
import struct
import time

from gi.repository import GLib

# ---- constants mirroring include/ferry/worker_protocol.h --------------------

WORKER_PROTOCOL_VERSION = 4
WORKER_MAX_FRAME = 1024 * 1024
WORKER_FD = 3

# The message catalogue comes from the one list in worker_protocol.h
# (WORKER_COMMANDS, WORKER_EVENTS): each message's constant (LOGIN = 1, ...),
# its name and its payload type.
def _read_catalogue():
    import re
    here = os.path.dirname(os.path.abspath(__file__))
    header = os.path.join(here, "..", "..", "include", "ferry", "worker_protocol.h")
    with open(header, encoding="utf-8") as f:
        text = f.read()
    wire = dict(re.findall(r'#define WORKER_WIRE_(\w+) "([^"]+)"', text))
    start = text.index("#define WORKER_COMMANDS(X, F)")
    end = text.index("#define WORKER_MESSAGES(X, F)")
    body = re.sub(r"/\*.*?\*/", " ", text[start:end], flags=re.S).replace("\\\n", " ")
    catalogue = []
    for name, number, fields in re.findall(
            r"X\((\w+),\s*(\d+),\s*\w+,((?:\s*F\(\w+,\s*\w+\))*)\s*\)", body):
        kinds = re.findall(r"F\((\w+),\s*\w+\)", fields)
        catalogue.append((name, int(number), "(" + "".join(wire[k] for k in kinds) + ")"))
    if not catalogue:
        raise RuntimeError("no catalogue found in " + header)
    return catalogue


PAYLOAD_TYPES = {}
NAMES = {}
for _name, _number, _type in _read_catalogue():
    globals()[_name] = _number
    NAMES[_number] = _name
    PAYLOAD_TYPES[_number] = _type

LOGIN_TEST = 1 << 0

STATUS_OFFLINE = 0
STATUS_AVAILABLE = 1
STATUS_AWAY = 2
STATUS_XA = 3
STATUS_DND = 4

TYPING_NONE = 0
TYPING_ACTIVE = 1
TYPING_PAUSED = 2

REASON_NETWORK = 0
REASON_AUTH = 1
REASON_CERTIFICATE = 2
REASON_NAME_IN_USE = 3
REASON_INVALID = 4
REASON_OTHER = 5
REASON_TIMEOUT = 6
REASON_LOGOUT = 7
REASON_CRASHED = 8  # never from a worker: ferry's pool names a crash culprit with it

DESCRIBE_TYPE = "(ssua(sss)a(ssssa(ss)))"
DESCRIBE_PASSWORD_OPTIONAL = 1 << 0
DESCRIBE_NO_PASSWORD = 1 << 1


class WorkerError(Exception):
    """The worker broke the protocol, closed the socket or timed out."""


# ---- payload helpers ---------------------------------------------------------

def payload(msg_type, value):
    """GLib.Variant of msg_type's payload type from a Python tuple."""
    return GLib.Variant(PAYLOAD_TYPES[msg_type], value)


def login_payload(protocol, username, password="", options=None, flags=0):
    return payload(LOGIN, (protocol, username, password,
                           dict(options or {}), flags))


def encode_frame(msg_type, account, value):
    """The bytes of one frame; value is a GLib.Variant of the right type."""
    want = PAYLOAD_TYPES.get(msg_type)
    if want is not None and value.get_type_string() != want:
        raise ValueError("payload %s for %s, expected %s"
                         % (value.get_type_string(), NAMES[msg_type], want))
    body = GLib.Variant("(uuv)", (msg_type, account, value)) \
        .get_data_as_bytes().get_data()
    return struct.pack(">I", len(body)) + body


def decode_body(body):
    """(type, account, python value of the payload) from a frame body."""
    v = GLib.Variant.new_from_bytes(GLib.VariantType("(uuv)"),
                                    GLib.Bytes.new(body), False)
    if not v.is_normal_form():
        raise WorkerError("frame not in normal form")
    msg_type = v.get_child_value(0).get_uint32()
    account = v.get_child_value(1).get_uint32()
    inner = v.get_child_value(2).get_variant()
    want = PAYLOAD_TYPES.get(msg_type)
    if want is None:
        raise WorkerError("unknown message type %d" % msg_type)
    if inner.get_type_string() != want:
        raise WorkerError("%s carries %s, not %s"
                          % (NAMES[msg_type], inner.get_type_string(), want))
    return msg_type, account, inner.unpack()


def parse_description(text):
    """Parse `ferry-worker --describe` output into Python values."""
    return GLib.Variant.parse(GLib.VariantType(DESCRIBE_TYPE), text.strip(),
                              None, None).unpack()


def fmt(msg):
    """Readable one-line form of a received (type, account, value)."""
    msg_type, account, value = msg
    return "%s[%d] %r" % (NAMES.get(msg_type, str(msg_type)), account, value)


# ---- the worker process ------------------------------------------------------

class Worker:
    """A running ferry-worker and our end of its socket.

    binary: path of ferry-worker; args: extra arguments; env: environment
    (default: os.environ with HOME replaced by `home` when given);
    stderr_path: file that receives the worker's stderr (default: ours).
    All received messages are also appended to self.log.
    """

    def __init__(self, binary, args=(), env=None, home=None, stderr_path=None):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = ours
        self.buf = b""
        self.log = []
        self.log_times = []
        self.pending = []          # received but not yet returned by recv()
        if env is None:
            env = dict(os.environ)
        if home is not None:
            env["HOME"] = home
        child_fd = theirs.fileno()
        tmp = None
        if child_fd == WORKER_FD:  # dup2(3, 3) would keep close-on-exec
            tmp = os.dup(child_fd)
            child_fd = tmp
        actions = [(os.POSIX_SPAWN_DUP2, child_fd, WORKER_FD)]
        err = None
        if stderr_path is not None:
            err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                          0o600)
            actions.append((os.POSIX_SPAWN_DUP2, err, 2))
        actions.append((os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0))
        try:
            self.pid = os.posix_spawn(binary, [binary] + list(args), env,
                                      file_actions=actions)
        finally:
            theirs.close()
            if tmp is not None:
                os.close(tmp)
            if err is not None:
                os.close(err)
        self.returncode = None

    # -- context manager: always reap the child
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- messages
    def send(self, msg_type, account, value):
        """Send one message; value is a GLib.Variant of msg_type's payload."""
        self.sock.sendall(encode_frame(msg_type, account, value))

    def send_raw(self, data):
        self.sock.sendall(data)

    def _read_frame(self, deadline):
        while True:
            if len(self.buf) >= 4:
                (n,) = struct.unpack(">I", self.buf[:4])
                if n == 0 or n > WORKER_MAX_FRAME:
                    raise WorkerError("bad frame length %d" % n)
                if len(self.buf) >= 4 + n:
                    body, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    return decode_body(body)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            data = self.sock.recv(65536)
            if not data:
                raise WorkerError("worker closed the socket")
            self.buf += data

    def _note(self, msg):
        self.log.append(msg)
        self.log_times.append(time.monotonic())

    def recv(self, timeout=5.0):
        """The next message as (type, account, value); None on timeout."""
        if self.pending:
            return self.pending.pop(0)
        msg = self._read_frame(time.monotonic() + timeout)
        if msg is not None:
            self._note(msg)
        return msg

    def recv_until(self, predicate, timeout=10.0):
        """The first message (in arrival order) satisfying predicate; the
        others received meanwhile stay queued for later recv() calls.
        Raises WorkerError on timeout."""
        for i, msg in enumerate(self.pending):
            if predicate(msg):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read_frame(deadline)
            if msg is None:
                raise WorkerError("timed out after %.1fs; pending: %s"
                                  % (timeout, [fmt(m) for m in self.pending]))
            self._note(msg)
            if predicate(msg):
                return msg
            self.pending.append(msg)

    def recv_type(self, msg_type, account=None, timeout=10.0, where=None):
        """The first message of msg_type (and account, and where(value))."""
        def match(m):
            return (m[0] == msg_type and (account is None or m[1] == account)
                    and (where is None or where(m[2])))
        return self.recv_until(match, timeout)

    def drain(self, timeout=0.5):
        """Everything that arrives within timeout (pending first)."""
        out, self.pending = self.pending, []
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read_frame(deadline)
            if msg is None:
                return out
            self._note(msg)
            out.append(msg)

    # -- process
    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=10.0):
        """Exit code, or None if still running after timeout."""
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.returncode

    def kill(self, sig=signal.SIGKILL):
        if self.poll() is None:
            os.kill(self.pid, sig)

    def close(self, timeout=10.0):
        """Close our end (the worker then quits), wait, SIGKILL if needed."""
        try:
            self.sock.close()
        except OSError:
            pass
        if self.wait(timeout) is None:
            self.kill()
            self.wait(5.0)
        return self.returncode

    def memory(self):
        """{'Rss': kB, 'Pss': kB, ...} from /proc/PID/smaps_rollup."""
        out = {}
        with open("/proc/%d/smaps_rollup" % self.pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[-1] == "kB":
                    out[parts[0].rstrip(":")] = int(parts[1])
        return out


# ---- prompts (protocol 4) ----------------------------------------------------

PROMPT_KIND_INPUT = 1
PROMPT_KIND_CHOICE = 2
PROMPT_KIND_ACTION = 3
PROMPT_KIND_FIELDS = 4
PROMPT_KIND_CERTIFICATE = 5

PROMPT_OK = 0
PROMPT_CANCEL = 1

PROMPT_CLOSED_ANSWERED = 0
PROMPT_CLOSED_CANCELLED = 1
PROMPT_CLOSED_WITHDRAWN = 2
PROMPT_CLOSED_UNKNOWN = 3


def answer_payload(prompt, action=PROMPT_OK, values=None):
    """ANSWER_PROMPT's payload "(uua{ss})": prompt id, PROMPT_OK or
    PROMPT_CANCEL, var -> value (a list-multi's values joined by "\\n";
    a Python list is joined here)."""
    vals = {}
    for k, v in (values or {}).items():
        vals[k] = "\n".join(v) if isinstance(v, (list, tuple)) else v
    return payload(ANSWER_PROMPT, (prompt, action, vals))


class Prompt:
    """A PROMPT event's value "(uusssaa{ss})" read: id, kind, title,
    instructions, who, form (a list of field dicts), and lookups."""

    def __init__(self, value):
        (self.id, self.kind, self.title, self.instructions, self.who,
         form) = value
        self.form = [dict(f) for f in form]

    def field(self, var):
        """The field dict of VAR, or None."""
        for f in self.form:
            if f.get("var") == var:
                return f
        return None

    def vars(self):
        return [f.get("var", "") for f in self.form if f.get("var")]

    @staticmethod
    def options(f):
        """A list field's options as [(value, label)], in order."""
        text = f.get("options", "")
        return [tuple(line.split("\t", 1)) if "\t" in line else (line, line)
                for line in text.split("\n") if line != ""]

    def images(self):
        """The decoded bytes of every field carrying an image, in order."""
        import base64
        return [base64.b64decode(f["image"]) for f in self.form if f.get("image")]

    def __repr__(self):
        return "Prompt(%d, kind %d, %r, %r)" % (self.id, self.kind, self.title, self.form)
