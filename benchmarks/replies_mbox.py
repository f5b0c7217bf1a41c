"""Build an mbox (or a folder of .eml files) of many calendar replies, and the floor for reading it.

    python benchmarks/replies_mbox.py build MBOX COUNT    # the samples, cycled, each its own message
    python benchmarks/replies_mbox.py floor MBOX          # mailbox + email parser alone, every message
    python benchmarks/replies_mbox.py folder DIR COUNT    # the same replies, one file each
    python benchmarks/replies_mbox.py floor-folder DIR    # email + icalendar parsing each file alone

The floors read and parse every message with Python's `mailbox`, `email` (and for the folder
`icalendar`, each message's calendar), as `tanet rsvp import` must, one at a time, without
doing anything with them.
"""

from __future__ import annotations

import mailbox
import sys
from email import message_from_bytes
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "replies"


def replies(count: int):
    """The samples, cycled, each its own message: a new Message-ID (the header is never folded
    in the samples)."""
    samples = [p.read_bytes() for p in sorted(SAMPLES.glob("*.eml"))]
    for i in range(count):
        raw = samples[i % len(samples)]
        head, sep, rest = raw.partition(b"\r\nMessage-ID: <")
        yield head + sep + f"bench{i}.".encode() + rest if sep else raw


def build(path: Path, count: int) -> None:
    box = mailbox.mbox(path, create=True)
    box.lock()
    try:
        for raw in replies(count):
            box.add(raw)
        box.flush()
    finally:
        box.unlock()


def folder(path: Path, count: int) -> None:
    path.mkdir(parents=True)
    for i, raw in enumerate(replies(count)):
        (path / f"{i:06d}.eml").write_bytes(raw)


def floor_folder(path: Path) -> None:
    import os

    from icalendar import Calendar

    with os.scandir(path) as entries:
        names = sorted(e.name for e in entries)
    for name in names:
        msg = message_from_bytes((path / name).read_bytes())
        for part in msg.walk():
            if part.get_content_type() == "text/calendar":
                Calendar.from_ical(part.get_payload(decode=True))
                break


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(Path(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "folder":
        folder(Path(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "floor-folder":
        floor_folder(Path(sys.argv[2]))
    else:
        box = mailbox.mbox(sys.argv[2], create=False)
        for key in box.iterkeys():
            message_from_bytes(box.get_bytes(key))
