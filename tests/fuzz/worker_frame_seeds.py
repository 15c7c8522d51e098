#!/usr/bin/python3
"""Writes the seed corpus of fuzz_worker_frame (tests/fuzz/corpus/worker_frame/):
one frame of each message in the stream mode, one payload of each in the
payload mode, and a stream of several frames. Values are typical ones; the
frames come from worker_driver.py, i.e. from GLib's own serializer.

    tests/fuzz/worker_frame_seeds.py tests/fuzz/corpus/worker_frame
"""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tools"))
import worker_driver as wd  # noqa: E402

# A typical value per wire type string.
SAMPLE = {"s": "bob", "u": 7, "b": True, "x": 1700000000, "a{ss}": {"port": "6697", "ssl": "true"}}
TEXTS = ["prpl-irc", "alice@irc.example.org", "pw <&>", "<b>hi</b> &amp; bye"]


def sample(type_string):
    inner = type_string[1:-1]
    out, i, n = [], 0, 0
    while i < len(inner):
        t = "a{ss}" if inner.startswith("a{ss}", i) else inner[i]
        v = SAMPLE[t]
        if t == "s":
            v = TEXTS[n % len(TEXTS)]
            n += 1
        out.append(v)
        i += len(t)
    return tuple(out)


def stream(frames):
    """The stream mode: 0, then chunks each preceded by (size - 1)."""
    data = b"".join(frames)
    out = bytearray([0])
    for i in range(0, len(data), 256):
        chunk = data[i:i + 256]
        out.append(len(chunk) - 1)
        out += chunk
    return bytes(out)


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    catalogue = sorted(wd.NAMES)  # numbers; the C catalogue order is the same
    frames = []
    for index, number in enumerate(catalogue):
        name = wd.NAMES[number].lower()
        value = wd.payload(number, sample(wd.PAYLOAD_TYPES[number]))
        frame = wd.encode_frame(number, 1, value)
        frames.append(frame)
        with open(os.path.join(outdir, "frame-" + name), "wb") as f:
            f.write(stream([frame]))
        # The payload mode: 1, the catalogue index (account 0), the data.
        with open(os.path.join(outdir, "payload-" + name), "wb") as f:
            f.write(bytes([1, index]) + value.get_data_as_bytes().get_data())
    with open(os.path.join(outdir, "stream-several"), "wb") as f:
        f.write(stream(frames[:3] + frames[-3:]))


if __name__ == "__main__":
    main()
