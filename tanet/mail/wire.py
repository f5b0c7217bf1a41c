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
_log = logging.getLogger("tanet.mail.smtp")  # --verbose: the conversation with the mail server
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
    or generated again, so a file costs what reading it costs.

    A file as tanet writes it (CRLF only, no line starting with a dot, each field named
    once) is made ready with a few searches of its bytes; any other goes field by field.
    Both give the same bytes."""
    if raw.startswith(b".") or _BARE_CR.search(raw) or _BARE_LF_OR_DOT.search(raw):
        return _prepare_any(raw, drop)
    return _prepare_plain(raw, drop) or _prepare_any(raw, drop)


_BARE_CR = re.compile(rb"\r(?!\n)")
_BARE_LF_OR_DOT = re.compile(rb"\n(?:(?<!\r\n)|\.)")  # a line end without CR, or a line starting with a dot
_ENVELOPE_FIELDS = (b"sender", b"from", b"message-id")


def _prepare_plain(raw: bytes, drop: tuple[bytes, ...]) -> Prepared | None:
    """`prepare` for a file with CRLF line ends only and no line starting with a dot: each
    field to drop or to read found by searching the header block for its name, which must
    appear there once, at the start of a line (None when it does not: ask _prepare_any)."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = raw[:end]
    low = b"\r\n" + head.lower()  # a field's start is where "\r\n" + its name appears in `low`
    cut = []
    for name in dict.fromkeys(NEVER_SENT + drop):  # each name once
        if name not in low:
            continue
        span = _field(head, low, name)
        if span is None:
            return None
        if span:
            if span[0] == 0 or span[2] == end or name in _ENVELOPE_FIELDS:
                return None  # the first or last field, or one read below: field by field
            cut.append(span)
    values = []
    for name in _ENVELOPE_FIELDS:
        span = _field(head, low, name)
        if span is None:
            return None
        values.append(head[span[1]:span[2]] if span else b"")
    sender_said, from_said, message_id = values
    sender = _envelope_sender(sender_said or from_said)
    message_id = "".join(message_id.decode("utf-8", "replace").split())
    pieces, start = [], 0
    for first, _, stop in sorted(cut):
        pieces.append(raw[start:first])
        start = stop + 2  # the field and the line end after it
    pieces.append(raw[start:])
    pieces.append(b".\r\n" if raw.endswith(b"\r\n") else b"\r\n.\r\n")
    return Prepared(b"".join(pieces), sender, message_id)


def _field(head: bytes, low: bytes, name: bytes) -> tuple[int, int, int] | tuple[()] | None:
    """Where the field `name` is in `head`: (its start, its value's start, its end), () when
    the name appears nowhere in the header block, None when it cannot be told by searching
    (the name appears more than once, or not as a field's name)."""
    count = low.count(name)
    if not count:
        return ()
    where = low.find(b"\r\n" + name + b":")
    if count > 1 or where < 0:
        return None
    stop = head.find(b"\r\n", where)
    while stop >= 0 and head[stop + 2:stop + 3] in (b" ", b"\t"):  # a folded line goes on with the field
        stop = head.find(b"\r\n", stop + 2)
    return where, where + len(name) + 1, len(head) if stop < 0 else stop


def _prepare_any(raw: bytes, drop: tuple[bytes, ...]) -> Prepared:
    """`prepare` for any file: line ends made CRLF, then field by field."""
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
        return say(server, f"{verb} {key}:<{address}>")
    return server.mail(address) if verb == "mail" else server.rcpt(address)


def out_of_turn(server) -> bytes:
    """What the server said that no command asked for yet (tanet sends one command at a time
    and reads its whole answer, so a server that says more is out of step: an answer read
    later would be taken for the wrong command's)."""
    return getattr(server.file, "held", b"")


def say(server, line: str) -> tuple[int, bytes]:
    """One command and its answer, the bytes and the answer of smtplib's docmd(line) (errors
    included), without its layers for each line: they cost as much as the line itself. A
    server that already said more than it was asked is taken as a dropped line."""
    if out_of_turn(server):
        server.close()
        raise _smtplib().SMTPServerDisconnected("the server said more than it was asked, so the line was closed")
    sock = server.sock
    if sock is None or server.__dict__.get("send"):  # not connected, or listened to (--verbose)
        return server.docmd(line)
    try:
        sock.sendall(f"{line}\r\n".encode(server.command_encoding))
    except OSError:
        server.close()
        raise _smtplib().SMTPServerDisconnected("Server not connected") from None
    return reply(server)


def reply(server) -> tuple[int, bytes]:
    """The server's answer to a command, as smtplib's getreply reads it: a one-line answer
    is read here, anything else (several lines, none, too long) by getreply's own rules."""
    file = server.file
    if file is None:
        file = server.file = LineReader(server.sock)
    try:
        line = file.readline(8193)
    except OSError as e:
        server.close()
        raise _smtplib().SMTPServerDisconnected(f"Connection unexpectedly closed: {e}") from None
    if line[3:4] != b" " or len(line) > 8192:  # several lines, a short or long one, or nothing
        return _reply_from(server, line)
    try:
        code = int(line[:3])
    except ValueError:
        code = -1
    return code, line[4:].strip(b" \t\r\n")


def _reply_from(server, line: bytes) -> tuple[int, bytes]:
    """getreply, its first line read already."""
    smtplib = _smtplib()
    said = []
    while True:
        if not line:
            server.close()
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        if len(line) > 8192:
            server.close()
            raise smtplib.SMTPResponseException(500, "Line too long.")
        said.append(line[4:].strip(b" \t\r\n"))
        try:
            code = int(line[:3])
        except ValueError:
            code = -1
            break
        if line[3:4] != b"-":
            break
        try:
            line = server.file.readline(8193)
        except OSError as e:
            server.close()
            raise smtplib.SMTPServerDisconnected(f"Connection unexpectedly closed: {e}") from None
    return code, b"\n".join(said)


def _smtplib():
    import smtplib

    return smtplib


class LineReader:
    """What the server says, line by line, read from the socket itself (a socket's makefile
    goes through three layers of Python for each line). It reads as that file did: a line of
    at most `limit` bytes, and what is left when the connection closes."""

    def __init__(self, sock):
        self.sock, self.held = sock, b""

    def readline(self, limit: int = -1) -> bytes:
        held = self.held
        end = held.find(b"\n") + 1
        while not end and (limit < 0 or len(held) < limit):
            more = self.sock.recv(8192)
            if not more:
                break
            held = self.held = held + more
            end = held.find(b"\n") + 1
        if not end or 0 <= limit < end:
            end = len(held) if limit < 0 else limit
        line, self.held = held[:end], held[end:]
        return line

    def close(self) -> None:
        self.held = b""


@functools.lru_cache(maxsize=2)
def connection_class(tls: bool):
    """smtplib's SMTP (SMTP_SSL with `tls`) reading each answer with `reply`, through a LineReader."""
    import smtplib

    class Connection(smtplib.SMTP_SSL if tls else smtplib.SMTP):
        def getreply(self):
            return reply(self)

    return Connection


def read_message(path: str) -> bytes:
    """A message file's bytes: one read when its size is what the file system says."""
    import os

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)  # a short read is the end of the file
        if len(data) > size:  # it grew meanwhile: the rest
            rest = [data]
            while rest[-1]:
                rest.append(os.read(fd, 65536))
            data = b"".join(rest)
        return data
    finally:
        os.close(fd)


def answer(server) -> tuple[int, bytes]:
    """The server's answer to a message's content. Unlike smtplib's getreply, a line cut off
    by a dropped connection is no answer at all (its '250' would claim a delivery)."""
    if server.file is None:
        server.file = LineReader(server.sock)
    lines = []
    while True:
        line = server.file.readline(8193)
        if not line.endswith(b"\n"):
            raise _smtplib().SMTPServerDisconnected("the connection closed before the answer was complete"
                                                    if line else "Connection unexpectedly closed")
        lines.append(line)
        if line[3:4] != b"-":
            break
    try:
        code = int(lines[-1][:3])
    except ValueError:
        code = -1
    if _log.isEnabledFor(logging.INFO):  # --verbose: the answer, as the rest of the conversation
        _log.info("< %s", b" ".join(line.strip() for line in lines).decode("utf-8", "replace"))
    return code, b"\n".join(line[4:].strip() for line in lines)


class Watchdog:
    """One thread that ends each exchange with the mail server at its deadline: starting a thread for every
    message would cost more than sending it. It holds one deadline at a time, its owner's."""

    def __init__(self):
        # A plain lock: entered with C's own `with`, not through Condition's methods in Python.
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.due, self.owner, self.thread = None, None, None
        self.sleeping_until = None  # when the thread wakes by itself (None: only when told)

    def arm(self, owner, seconds: float) -> None:
        with self.lock:
            self.due, self.owner = time.monotonic() + seconds, owner
            if self.thread is None:
                self.thread = threading.Thread(target=self._watch, daemon=True, name="tanet-smtp-deadline")
                self.thread.start()
            self._wake_if_late()

    def again(self, owner, seconds: float) -> None:
        """Arm once more for an owner still running (a deadline that found nothing to cut yet)."""
        with self.lock:
            if not owner.done and self.owner is None:
                self.due, self.owner = time.monotonic() + seconds, owner
                self._wake_if_late()

    def _wake_if_late(self) -> None:
        """Wake the thread only if it would sleep past the new deadline: one message after another,
        each deadline later than the last, it wakes once per deadline's length, not once a message."""
        if self.sleeping_until is None or self.due < self.sleeping_until:
            self.cond.notify()

    def disarm(self, owner) -> None:
        with self.lock:
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
    log = _log
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

