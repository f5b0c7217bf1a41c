"""The floor for `tanet invite next --send`: smtplib sending the same messages on one
connection, nothing else.

    python benchmarks/send_floor.py FOLDER PORT              # the floor
    python benchmarks/send_floor.py FOLDER PORT --write NEW  # and each file written first

Reads each .eml of FOLDER (the files tanet wrote: the same number of messages, each of
the same size) and sends its bytes with `sendmail` to 127.0.0.1:PORT, one connection for
all of them, without TLS, as the benchmark's tanet does to the same local server.

With --write, each message is first written to a file of its own in the new folder NEW
(created, written, closed; 0600, as tanet writes them), then sent: what writing one file
a member costs on this machine, which the floor alone leaves out and tanet cannot.
"""

from __future__ import annotations

import os
import smtplib
import sys
from pathlib import Path


def main(folder: str, port: str, write_to: str | None = None) -> None:
    files = sorted(p for p in Path(folder).iterdir() if p.suffix == ".eml")
    if write_to:
        os.mkdir(write_to, 0o700)
    with smtplib.SMTP("127.0.0.1", int(port)) as server:
        for i, path in enumerate(files):
            data = path.read_bytes()
            if write_to:
                fd = os.open(os.path.join(write_to, path.name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
            server.sendmail("organiser@example.org", [f"member{i}@example.org"], data)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(args[0], args[1], args[3] if len(args) > 3 and args[2] == "--write" else None)
