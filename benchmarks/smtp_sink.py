"""A local mail server for the sending benchmark: aiosmtpd taking every message and keeping
none, so that what is measured is the sender.

    python benchmarks/smtp_sink.py          # prints its port, serves until stdin closes

It answers 250 to every MAIL, RCPT and DATA, counts the messages, and on stdin's end
prints the count and stops.
"""

from __future__ import annotations

import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self):
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def main() -> None:
    sink = Sink()
    with socket.socket() as s:  # a free port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        print(port, flush=True)
        sys.stdin.read()
    finally:
        controller.stop()
    print(sink.count, flush=True)


if __name__ == "__main__":
    main()
