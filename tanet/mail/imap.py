"""Reading a mailbox folder over IMAP with TLS, read-only: the folder is opened with
EXAMINE and messages fetched with BODY.PEEK, so nothing is marked read, moved or deleted.

Bounded whatever the server does: each step (connecting, logging in, each fetch) has a
deadline for the whole exchange, not only for each read; sizes are asked first and a
message larger than MAX_BYTES is listed, not fetched; a server that sends more than it
announced is stopped. Passwords and folder names may hold any letters (RFC 4616, RFC 6855,
and RFC 3501's modified UTF-7 when the server does not take UTF-8).
"""

from __future__ import annotations

import base64
import logging
import os
import re
from time import monotonic
from urllib.parse import unquote, urlsplit

from tanet.errors import TanetError
from tanet.mail.mailboxes import HEAD_BYTES, MAX_BYTES, Unread, too_large

BATCH = 100  # messages per FETCH, and at most MAX_BYTES of them together
log = logging.getLogger(__name__)


def _parse(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if not parts.hostname or not parts.username:
        raise TanetError(f"'{url}' is not a mailbox address. Write it as imaps://USER@HOST/FOLDER, "
                         "e.g. imaps://alex@outlook.office365.com/INBOX")
    try:
        port = parts.port or 993
    except ValueError:
        raise TanetError(f"The port in '{url}' is not a number.") from None
    try:
        folder = unquote(parts.path.lstrip("/"), errors="strict") if parts.path.strip("/") else "INBOX"
        user = unquote(parts.username, errors="strict")
    except UnicodeDecodeError:
        raise TanetError(f"The %-codes in '{url}' are not UTF-8 text; write the folder's name as it is, "
                         "e.g. imaps://alex@mail.example.org/Réponses") from None
    return user, parts.hostname, port, folder


def modified_utf7(name: str) -> str:
    """A folder name as IMAP writes it without UTF-8 (RFC 3501 §5.1.3): Réponses -> R&AOk-ponses."""
    out, run = [], []

    def close_run():
        if run:
            encoded = base64.b64encode("".join(run).encode("utf-16-be")).decode("ascii").rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if " " <= ch <= "~":
            close_run()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    close_run()
    return "".join(out)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(e: Exception) -> str:
    """What the server said, as text (imaplib hands some of it on as bytes)."""
    said = e.args[0] if e.args else str(e)
    if isinstance(said, bytes):
        said = said.decode("utf-8", "replace")
    return str(said).strip()


def _client(host: str, port: int, context, seconds: int):
    import imaplib

    class BoundedIMAP(imaplib.IMAP4_SSL):
        """imaplib with a deadline for each whole exchange and a cap on what one exchange may bring."""

        def __init__(self):
            self.fresh()
            self.saying = log.isEnabledFor(logging.INFO)  # --verbose: the conversation, no secrets
            if self.saying:
                log.info("connect %s:%s (TLS)", host, port)
            super().__init__(host, port, ssl_context=context, timeout=seconds)

        def send(self, data):
            if self.saying and data.strip():
                log.info("> %s", _without_secrets(data, self.tagpre))
            super().send(data)

        def fresh(self):
            self.until, self.taken = monotonic() + seconds, 0

        def _time_left(self):
            left = self.until - monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            self.sock.settimeout(left)

        def read(self, size):
            self.taken += size
            if size > MAX_BYTES + 1 or self.taken > 2 * MAX_BYTES + HEAD_BYTES:
                # Not an imaplib error, so imaplib hands it on as it is.
                raise TanetError(f"The mail server {host}:{port} began to send {size:,} bytes, more than it "
                                 "announced and more than any reply; nothing was read. Its mailbox may be "
                                 "damaged: ask its administrator.")
            chunks, got = [], 0
            while got < size:
                self._time_left()
                chunk = self.file.read1(min(size - got, 65536))
                if not chunk:
                    raise self.abort("the connection closed")
                chunks.append(chunk)
                got += len(chunk)
            if self.saying:
                log.info("< (%s bytes)", f"{got:,}")
            return b"".join(chunks)

        def readline(self):
            line = bytearray()
            while not line.endswith(b"\n"):
                self._time_left()
                ahead = self.file.peek(1)  # at most one read from the network
                if not ahead:
                    break
                cut = ahead.find(b"\n")
                line += self.file.read(cut + 1 if cut >= 0 else len(ahead))
                if len(line) > imaplib._MAXLINE:
                    raise self.error(f"got more than {imaplib._MAXLINE} bytes in one line")
            if self.saying:
                log.info("< %s", line.decode("utf-8", "replace").rstrip())
            return bytes(line)

    return BoundedIMAP()


def _without_secrets(data: bytes, tag: bytes) -> str:
    """A line tanet sends, as --verbose shows it: the password of LOGIN hidden, and anything
    that is not a command (the answer to AUTHENTICATE's challenge) hidden whole."""
    text = data.decode("utf-8", "replace").rstrip()
    words = text.split(" ")
    if not data.startswith(tag):
        return "*** (hidden)"
    if len(words) > 2 and words[1].upper() == "LOGIN":
        return f"{words[0]} LOGIN {words[2]} *** (hidden)"
    return text


def messages(url: str, values: dict):
    """(label, raw bytes or Unread) for each message in the folder."""
    import imaplib
    import ssl

    from tanet.mail.smtp import tls_context

    user, host, port, folder = _parse(url)
    where = f"{host}:{port}"
    seconds = int(values.get("imap.timeout_seconds") or 60)
    step = "at the connection"
    conn, finished = None, False
    try:
        conn = _client(host, port, tls_context(values), seconds)
        step = "at the login"
        _login(conn, user, values, where)
        step = f"opening the folder '{folder}'"
        conn.fresh()
        _examine(conn, user, host, folder)
        step = "while fetching messages"
        yield from _fetch_all(conn, f"imaps://{host}/{folder}")
        finished = True
    except ssl.SSLCertVerificationError as e:
        raise TanetError(f"The mail server {where} showed a certificate this computer does not trust "
                         f"({e.verify_message}); nothing was read. If your organisation uses its own certificate "
                         "authority, name its file with: tanet config set smtp.ca_file FILE") from None
    except TimeoutError:
        raise TanetError(f"The mail server {where} did not answer within {seconds} seconds {step}; nothing was "
                         "read. Try again later; if it is only slow: tanet config set imap.timeout_seconds 300") \
            from None
    except imaplib.IMAP4.error as e:
        raise TanetError(f"The mail server {where} stopped answering {step} ({_text(e)}); nothing was read.") \
            from None
    except (ssl.SSLError, OSError) as e:
        lost = "Cannot reach" if conn is None else "Lost the connection to"
        raise TanetError(f"{lost} the mail server {where} ({e.strerror or e}); nothing was read.") from None
    finally:
        if conn is not None:
            try:  # a server that went wrong is not asked anything more
                conn.logout() if finished else conn.shutdown()
            except (imaplib.IMAP4.error, OSError):
                pass


def _login(conn, user: str, values: dict, where: str) -> None:
    import imaplib

    from tanet.mail.smtp import oauth2_token

    try:
        if values.get("smtp.auth") == "xoauth2":
            from tanet.mail import trust as mailtrust

            mailtrust.check(values)  # the token command runs only if it was set on this computer
            token = oauth2_token(values.get("smtp.oauth2_token_command", ""))
            conn.fresh()
            conn.authenticate("XOAUTH2", lambda _: f"user={user}\x01auth=Bearer {token}\x01\x01".encode())
            return
        password = os.environ.get("TANET_IMAP_PASSWORD", "")
        if not password:
            raise TanetError("Set the mailbox password in the environment variable TANET_IMAP_PASSWORD "
                             "(it is never stored); nothing was read.")
        conn.fresh()
        if "AUTH=PLAIN" in conn.capabilities:  # any letters, as UTF-8 (RFC 4616)
            conn.authenticate("PLAIN", lambda _: b"\0" + user.encode() + b"\0" + password.encode())
        elif (user + password).isascii():
            conn.login(user, password)
        else:
            raise TanetError(f"The mail server {where} takes only plain-English passwords (it does not offer "
                             "AUTH=PLAIN); nothing was read. Ask its administrator, or change the password.")
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as e:
        said = _text(e).rstrip(".") or "no reason given"
        raise TanetError(f"The mail server {where} refused the login for {user}: {said}. Nothing was read; "
                         "check the user name in the address and TANET_IMAP_PASSWORD.") from None


def _examine(conn, user: str, host: str, folder: str) -> None:
    status, data = conn.capability()
    said = data[0].decode("ascii", "replace").upper().split() if status == "OK" and data and data[0] else []
    conn.capabilities = tuple(said) or conn.capabilities  # what it offers once logged in
    if "UTF8=ACCEPT" in conn.capabilities and "ENABLE" in conn.capabilities:
        conn.enable("UTF8=ACCEPT")  # RFC 6855: folder names travel as UTF-8
        name = folder
    else:
        name = modified_utf7(folder)
    status, data = conn.select(_quote(name), readonly=True)
    if status != "OK":
        raise TanetError(f"There is no folder '{folder}' in {user}'s mailbox on {host}; nothing was read. "
                         "Check its name (e.g. INBOX).")


_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _fetch_all(conn, where: str):
    conn.fresh()
    status, data = conn.uid("SEARCH", None, "ALL")
    uids = data[0].split() if status == "OK" and data and data[0] else []
    sizes = {}
    for i in range(0, len(uids), 500):
        conn.fresh()
        for item in _fetched(conn, b",".join(uids[i:i + 500]), "(RFC822.SIZE)"):
            uid, size = _UID.search(item), _SIZE.search(item)
            if uid and size:
                sizes[uid.group(1)] = int(size.group(1))
    batch, total = [], 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if size > MAX_BYTES:
            conn.fresh()
            head = [body for _, body in _bodies(conn, uid, f"(BODY.PEEK[HEADER]<0.{HEAD_BYTES}>)")]
            yield f"{where}, UID {uid.decode()}", Unread(head[0] if head else b"", too_large(size))
            continue
        if batch and (len(batch) >= BATCH or total + size > MAX_BYTES):
            yield from _batch(conn, where, batch)
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield from _batch(conn, where, batch)


def _batch(conn, where: str, uids: list[bytes]):
    conn.fresh()
    for uid, body in _bodies(conn, b",".join(uids), f"(BODY.PEEK[]<0.{MAX_BYTES + 1}>)"):
        yield f"{where}, UID {uid}", (Unread(body[:HEAD_BYTES], too_large(len(body))) if len(body) > MAX_BYTES
                                      else body)


def _fetched(conn, uids: bytes, what: str) -> list:
    import imaplib

    status, data = conn.uid("FETCH", uids, what)
    if status != "OK":
        raise imaplib.IMAP4.error(f"it would not give the messages: {_text(imaplib.IMAP4.error(data[-1]))}")
    return [item[0] if isinstance(item, tuple) else item for item in data if item]


def _bodies(conn, uids: bytes, what: str):
    """(uid, bytes) for each message a FETCH returns; the UID may come before or after the body."""
    import imaplib

    status, data = conn.uid("FETCH", uids, what)
    if status != "OK":
        raise imaplib.IMAP4.error(f"it would not give the messages: {_text(imaplib.IMAP4.error(data[-1]))}")
    for i, item in enumerate(data):
        if isinstance(item, tuple):
            after = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
            uid = _UID.search(item[0]) or _UID.search(after)
            yield (uid.group(1).decode() if uid else "?"), item[1]
