"""Build an mbox of many calendar replies, and the floor for reading it.

    python benchmarks/replies_mbox.py build MBOX COUNT    # the samples, cycled, each its own message
    python benchmarks/replies_mbox.py floor MBOX          # mailbox + email parser alone, every message

The floor reads and parses every message with Python's `mailbox` and `email`, as
`tanet rsvp import` must, without doing anything with them.
"""

from __future__ import annotations

import mailbox
import sys
from email import message_from_bytes
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "replies"


def build(path: Path, count: int) -> None:
    samples = [p.read_bytes() for p in sorted(SAMPLES.glob("*.eml"))]
    box = mailbox.mbox(path, create=True)
    box.lock()
    try:
        for i in range(count):
            raw = samples[i % len(samples)]
            # Each message its own: a new Message-ID (the header is never folded in the samples).
            head, sep, rest = raw.partition(b"\r\nMessage-ID: <")
            if sep:
                raw = head + sep + f"bench{i}.".encode() + rest
            box.add(raw)
        box.flush()
    finally:
        box.unlock()


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        box = mailbox.mbox(sys.argv[2], create=False)
        for key in box.iterkeys():
            message_from_bytes(box.get_bytes(key))
