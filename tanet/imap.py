"""Reading a mailbox folder over IMAP with TLS, read-only: the folder is opened with
EXAMINE and messages fetched with BODY.PEEK, so nothing is marked read, moved or deleted."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from tanet.errors import TanetError


def _parse(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if not parts.hostname or not parts.username:
        raise TanetError(f"'{url}' is not a mailbox address. Write it as imaps://USER@HOST/FOLDER, "
                         "e.g. imaps://alex@outlook.office365.com/INBOX")
    try:
        port = parts.port or 993
    except ValueError:
        raise TanetError(f"The port in '{url}' is not a number.") from None
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return unquote(parts.username), parts.hostname, port, folder


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def messages(url: str, values: dict):
    """(label, raw bytes) for each message in the folder."""
    import imaplib
    import ssl

    from tanet.mail import _tls_context, oauth2_token

    user, host, port, folder = _parse(url)
    where = f"{host}:{port}"
    try:
        conn = imaplib.IMAP4_SSL(host, port, ssl_context=_tls_context(values), timeout=60)
    except ssl.SSLCertVerificationError as e:
        raise TanetError(f"The mail server {where} showed a certificate this computer does not trust "
                         f"({e.verify_message}); nothing was read. If your organisation uses its own certificate "
                         "authority, name its file with: tanet config set smtp.ca_file FILE") from None
    except (ssl.SSLError, OSError) as e:
        raise TanetError(f"Cannot reach the mail server {where} ({e}); nothing was read.") from None
    try:
        try:
            if values.get("smtp.auth") == "xoauth2":
                token = oauth2_token(values.get("smtp.oauth2_token_command", ""))
                conn.authenticate("XOAUTH2", lambda _: f"user={user}\x01auth=Bearer {token}\x01\x01".encode())
            else:
                password = os.environ.get("TANET_IMAP_PASSWORD", "")
                if not password:
                    raise TanetError("Set the mailbox password in the environment variable TANET_IMAP_PASSWORD "
                                     "(it is never stored); nothing was read.")
                conn.login(user, password)
        except imaplib.IMAP4.error as e:
            raise TanetError(f"The mail server {where} refused the login for {user} ({e}); nothing was read.") \
                from None
        status, data = conn.select(_quote(folder), readonly=True)
        if status != "OK":
            raise TanetError(f"There is no folder '{folder}' in {user}'s mailbox on {host}; nothing was read. "
                             "Check its name (e.g. INBOX).")
        status, data = conn.uid("SEARCH", None, "ALL")
        uids = data[0].split() if status == "OK" and data and data[0] else []
        for i in range(0, len(uids), 100):
            batch = b",".join(uids[i:i + 100])
            status, data = conn.uid("FETCH", batch, "(BODY.PEEK[])")
            if status != "OK":
                raise TanetError(f"The mail server {where} would not give the messages ({data}); nothing was read.")
            for item in data:
                if isinstance(item, tuple):
                    uid = item[0].split(b"UID ")[1].split()[0].decode() if b"UID " in item[0] else "?"
                    yield f"imaps://{host}/{folder}#{uid}", item[1]
    except imaplib.IMAP4.error as e:
        raise TanetError(f"The mail server {where} stopped answering ({e}); nothing was read.") from None
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
