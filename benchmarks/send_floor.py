"""The floor for `tanet invite next --send`: smtplib sending the same messages on one
connection, nothing else.

    python benchmarks/send_floor.py FOLDER PORT

Reads each .eml of FOLDER (the files tanet wrote: the same number of messages, each of
the same size) and sends its bytes with `sendmail` to 127.0.0.1:PORT, one connection for
all of them, without TLS, as the benchmark's tanet does to the same local server.
"""

from __future__ import annotations

import smtplib
import sys
from pathlib import Path


def main(folder: str, port: str) -> None:
    files = sorted(p for p in Path(folder).iterdir() if p.suffix == ".eml")
    with smtplib.SMTP("127.0.0.1", int(port)) as server:
        for i, path in enumerate(files):
            server.sendmail("organiser@example.org", [f"member{i}@example.org"], path.read_bytes())


if __name__ == "__main__":
    main(*sys.argv[1:3])
