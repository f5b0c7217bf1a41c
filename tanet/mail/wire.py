"""The bytes on the line to the mail server: a message file made ready to go, the MAIL and
RCPT commands, the answer to a message's content, and the watchdog that cuts a line
that answers too slowly."""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from typing import NamedTuple


class Prepared(NamedTuple):
    """A message file made ready to go: what goes after DATA, the envelope sender, and the
    Message-ID the file holds (its whitespace removed)."""
    content: bytes
    sender: str
    message_id: str


_LINE_ENDS = re.compile(rb"\r\n|\n|\r(?!\n)")
_FIELD_START = re.compile(rb"\r\n(?![ \t])")  # a header field's first line (a folded line starts with a space)
_LEADING_DOT = re.compile(rb"(?m)^\.")
NEVER_SENT = (b"bcc", b"resent-bcc")  # the Bcc lists: their addresses are envelope recipients, not headers


@functools.lru_cache(maxsize=16)
def _envelope_sender(said: bytes) -> str:
    """The address of a From (or Sender) field's value: the same in every file of a run."""
    from email.utils import getaddresses

    found = getaddresses([" ".join(said.decode("utf-8", "replace").split())])
    return found[0][1] if found else ""


def prepare(raw: bytes, drop: tuple[bytes, ...] = ()) -> Prepared:
    """The message file's bytes as they go after DATA, as smtplib's send_message makes them
    (Bcc removed, CRLF, leading dots doubled, ended with CRLF.CRLF), and more header fields
    named in `drop` (lower case) removed. The bytes are the file's own: nothing is parsed
    or generated again, so a file costs what reading it costs."""
    crlf = raw.count(b"\r\n")
    data = raw if raw.count(b"\n") == crlf == raw.count(b"\r") else _LINE_ENDS.sub(b"\r\n", raw)
    head, blank, body = data.partition(b"\r\n\r\n")
    fields, kept = {}, []
    for line in _FIELD_START.split(head):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name in NEVER_SENT or name in drop:
            continue
        kept.append(line)
        fields.setdefault(name, value)
    said = fields.get(b"sender") or fields.get(b"from") or b""
    sender = _envelope_sender(said)
    message_id = "".join(fields.get(b"message-id", b"").decode("utf-8", "replace").split())
    data = b"\r\n".join(kept) + blank + body
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return Prepared(data + b".\r\n", sender, message_id)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def command(server, verb: str, key: str, address: str) -> tuple[int, bytes]:
    """MAIL FROM or RCPT TO, as smtplib's mail() and rcpt() send them: a plain address
    goes in angle brackets as it is (smtplib's parsing of it would give the same)."""
    if _PLAIN_ADDRESS.fullmatch(address):
        return server.docmd(verb, f"{key}:<{address}>")
    return server.mail(address) if verb == "mail" else server.rcpt(address)


def answer(server) -> tuple[int, bytes]:
    """The server's answer to a message's content. Unlike smtplib's getreply, a line cut off
    by a dropped connection is no answer at all (its '250' would claim a delivery)."""
    import smtplib

    if server.file is None:
        server.file = server.sock.makefile("rb")
    lines = []
    while True:
        line = server.file.readline(8193)
        if not line.endswith(b"\n"):
            raise smtplib.SMTPServerDisconnected("the connection closed before the answer was complete"
                                                 if line else "Connection unexpectedly closed")
        lines.append(line)
        if line[3:4] != b"-":
            break
    try:
        code = int(lines[-1][:3])
    except ValueError:
        code = -1
    log = logging.getLogger("tanet.mail.smtp")  # --verbose: the answer, as the rest of the conversation
    if log.isEnabledFor(logging.INFO):
        log.info("< %s", b" ".join(line.strip() for line in lines).decode("utf-8", "replace"))
    return code, b"\n".join(line[4:].strip() for line in lines)


class Watchdog:
    """One thread that ends each exchange with the mail server at its deadline: starting a thread for every
    message would cost more than sending it. It holds one deadline at a time, its owner's."""

    def __init__(self):
        self.cond = threading.Condition()
        self.due, self.owner, self.thread = None, None, None
        self.sleeping_until = None  # when the thread wakes by itself (None: only when told)

    def arm(self, owner, seconds: float) -> None:
        with self.cond:
            self.due, self.owner = time.monotonic() + seconds, owner
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, daemon=True, name="tanet-smtp-deadline")
                self.thread.start()
            self._wake_if_late()

    def again(self, owner, seconds: float) -> None:
        """Arm once more for an owner still running (a deadline that found nothing to cut yet)."""
        with self.cond:
            if not owner.done and self.owner is None:
                self.due, self.owner = time.monotonic() + seconds, owner
                self._wake_if_late()

    def _wake_if_late(self) -> None:
        """Wake the thread only if it would sleep past the new deadline: one message after another,
        each deadline later than the last, it wakes once per deadline's length, not once a message."""
        if self.sleeping_until is None or self.due < self.sleeping_until:
            self.cond.notify()

    def disarm(self, owner) -> None:
        with self.cond:
            if self.owner is owner:
                self.due, self.owner = None, None

    def _watch(self) -> None:
        with self.cond:
            while True:
                if self.due is None:
                    self.sleeping_until = None
                    self.cond.wait()
                    continue
                remaining = self.due - time.monotonic()
                if remaining > 0:
                    self.sleeping_until = self.due
                    self.cond.wait(remaining)
                    continue
                owner, self.due, self.owner = self.owner, None, None
                self.cond.release()
                try:
                    owner.fire()
                finally:
                    self.cond.acquire()


def _as_text(said) -> str:
    return said.decode("utf-8", errors="replace") if isinstance(said, bytes) else str(said)


def listen(server) -> None:
    """Say the conversation with the server (--verbose), with every secret hidden: what follows
    AUTH and its mechanism, and each line sent in answer to the server's 334 challenge."""
    log = logging.getLogger("tanet.mail.smtp")
    send, getreply = server.send, server.getreply
    challenged = [False]

    def sending(data):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
        words = text.split()
        if challenged[0] and words:
            log.info("> *** (hidden)")
        elif len(words) > 2 and words[0].upper() == "AUTH":
            log.info("> AUTH %s *** (hidden)", words[1])
        elif len(text) > 512 or text.count("\n") > 1:
            log.info("> (the message: %s bytes)", f"{len(data):,}")
        elif words:
            log.info("> %s", text.strip())
        return send(data)

    def replying():
        code, said = getreply()
        challenged[0] = code == 334
        log.info("< %s %s", code, " ".join(_as_text(said).split()))
        return code, said

    server.send, server.getreply = sending, replying

