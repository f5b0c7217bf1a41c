"""Talking to the mail server: verified TLS, the three security modes, a password or
XOAUTH2, and at most `smtp.per_minute` messages a minute."""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections import deque

from tanet.errors import TanetError

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_context(values: dict):
    import ssl

    context = ssl.create_default_context()  # the system's trusted certificates, host names checked
    ca_file = values.get("smtp.ca_file") or ""
    if ca_file:
        try:
            context.load_verify_locations(cafile=os.path.expanduser(ca_file))
        except (OSError, ssl.SSLError) as e:
            raise TanetError(f"Cannot read the certificate file smtp.ca_file = {ca_file} ({e}). "
                             "Check the path with: tanet config get smtp.ca_file") from None
    return context


def oauth2_token(command: str) -> str:
    """Run the token command (the convention of mutt and msmtp) and return what it prints."""
    import subprocess

    if not command:
        raise TanetError("smtp.auth is xoauth2 but no token command is set. Set one with: "
                         "tanet config set smtp.oauth2_token_command 'COMMAND THAT PRINTS A TOKEN'")
    try:
        p = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise TanetError(f"The token command did not answer within 2 minutes: {command}") from None
    token = p.stdout.strip()
    if p.returncode != 0 or not token:
        said = (p.stderr.strip().splitlines() or ["it printed nothing"])[-1][:200]
        raise TanetError(f"The token command failed ({said}), so nothing was sent. Check "
                         "smtp.oauth2_token_command, or run it yourself to see why.")
    return token


def _reason(e: Exception) -> str:
    code = getattr(e, "smtp_code", None)
    err = getattr(e, "smtp_error", b"")
    if isinstance(err, bytes):
        err = err.decode(errors="replace")
    return f"{code} {err}".strip() if code else str(e)


class Session:
    """One connection to the mail server, logged in, ready to send."""

    def __init__(self, values: dict, clock=time.monotonic, sleep=time.sleep):
        import smtplib
        import ssl

        self.host = values.get("smtp.host") or ""
        if not self.host:
            raise TanetError("No mail server is set, so nothing was sent. "
                             "Set one with: tanet config set smtp.host smtp.example.org")
        security = values.get("smtp.security") or "starttls"
        port = int(values.get("smtp.port") or DEFAULT_PORTS[security])
        user = values.get("smtp.user") or ""
        auth = values.get("smtp.auth") or "password"
        secret = ""
        if user:
            if security == "none" and not _is_loopback(self.host):
                raise TanetError(f"smtp.security is none, so a login to {self.host} would send the password "
                                 "unencrypted; nothing was sent. Use smtp.security starttls (port 587) or tls (465).")
            secret = oauth2_token(values.get("smtp.oauth2_token_command", "")) if auth == "xoauth2" \
                else os.environ.get("TANET_SMTP_PASSWORD", "")
            if not secret:
                raise TanetError("Set the mail password in the environment variable TANET_SMTP_PASSWORD "
                                 "(it is never stored); nothing was sent.")
        context = _tls_context(values) if security != "none" else None
        where = f"{self.host}:{port}"
        try:
            if security == "tls":
                self.server = smtplib.SMTP_SSL(self.host, port, timeout=60, context=context)
            else:
                self.server = smtplib.SMTP(self.host, port, timeout=60)
            self.server.ehlo()
            if security == "starttls":
                if not self.server.has_extn("starttls"):
                    raise TanetError(f"The mail server {where} does not offer a secure connection (STARTTLS); "
                                     "nothing was sent. Ask its administrator for the secure port, or try "
                                     "smtp.security tls with port 465.")
                self.server.starttls(context=context)
                self.server.ehlo()
        except ssl.SSLCertVerificationError as e:
            raise TanetError(f"The mail server {where} showed a certificate this computer does not trust "
                             f"({e.verify_message}); nothing was sent. If your organisation uses its own "
                             "certificate authority, name its file with: tanet config set smtp.ca_file FILE") from None
        except (ssl.SSLError, smtplib.SMTPException) as e:
            raise TanetError(f"No secure connection to the mail server {where} ({_reason(e)}); nothing was sent.") from None
        except (OSError, socket.timeout) as e:
            raise TanetError(f"Cannot reach the mail server {where} ({e}); nothing was sent. "
                             "Check smtp.host and smtp.port, and the network.") from None
        if user:
            try:
                if auth == "xoauth2":
                    self.server.auth("XOAUTH2", lambda challenge=None: f"user={user}\x01auth=Bearer {secret}\x01\x01")
                else:
                    self.server.login(user, secret)
            except smtplib.SMTPException as e:
                self.close()
                raise TanetError(f"The mail server refused the login for {user} ({_reason(e)}); nothing was sent. "
                                 "Check smtp.user and the password or token.") from None
        self.per_minute = int(values.get("smtp.per_minute") or 30)
        self.clock, self.sleep = clock, sleep
        self.sent_times: deque[float] = deque()

    def wait_turn(self) -> None:
        """At most `per_minute` messages in any 60 seconds (Exchange Online allows 30)."""
        if len(self.sent_times) >= self.per_minute:
            wait = 60 - (self.clock() - self.sent_times[0])
            if wait > 0:
                self.sleep(wait)
            self.sent_times.popleft()
        self.sent_times.append(self.clock())

    def send(self, msg, recipients: list[str]) -> dict[str, str]:
        """Send one message; returns the problem for each recipient it did not reach (by
        address, lower case): empty when all of them took it."""
        import smtplib

        self.wait_turn()
        try:
            refused = self.server.send_message(msg, to_addrs=recipients) or {}
        except smtplib.SMTPRecipientsRefused as e:
            refused = e.recipients
        except (smtplib.SMTPException, OSError) as e:
            return {r.lower(): _reason(e) for r in recipients}
        return {addr.lower(): f"refused ({code} {reason.decode(errors='replace') if isinstance(reason, bytes) else reason})"
                for addr, (code, reason) in refused.items()}

    def close(self) -> None:
        import smtplib

        try:
            self.server.quit()
        except (smtplib.SMTPException, OSError):
            pass
