"""Talking to the mail server: verified TLS, three security modes, a password (any UTF-8) or
XOAUTH2, at most `smtp.per_minute` messages a minute, each message's exchange as RFC 5321
has it: a message has gone, has not, or is *uncertain* (content went, no answer came)."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import time
from collections import deque
from dataclasses import dataclass, field

from tanet.errors import TanetError
from tanet.mail.wire import Watchdog, answer, command, connection_class, listen, out_of_turn, say

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
log = logging.getLogger(__name__)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tls_context(values: dict):
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
        # Its messages may quote a token (or a refresh token): only the first line, with
        # anything that looks like one hidden.
        first = next((line.strip() for line in p.stderr.splitlines() if line.strip()), "")
        said = f"exit status {p.returncode}" + (f": {TOKEN_LIKE.sub('***', first)[:200]}" if first else
                                                 "; it printed nothing")
        raise TanetError(f"The token command failed ({said}), so nothing was sent. Check "
                         "smtp.oauth2_token_command, or run it yourself to see why.")
    return token


# A run of letters, digits and the signs tokens are made of, long enough to be one.
TOKEN_LIKE = re.compile(r"[A-Za-z0-9._~+/=-]{16,}")


def check_settings(values: dict) -> None:
    """Refuse, before anything is said or sent, mail settings without a server or not trusted
    on this computer (a server, login or command that came with the file)."""
    from tanet.mail import trust as mailtrust

    if not values.get("smtp.host"):
        raise TanetError("No mail server is set, so nothing was sent. "
                         "Set one with: tanet config set smtp.host smtp.example.org")
    mailtrust.check(values)


def _text(said) -> str:
    """A server's words as text, never b'...'."""
    if isinstance(said, bytes):
        said = said.decode("utf-8", errors="replace")
    return " ".join(str(said).split())


def _reason(e: Exception) -> str:
    code = getattr(e, "smtp_code", None)
    return f"{code} {_text(getattr(e, 'smtp_error', b''))}".strip() if code else _text(e) or type(e).__name__


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


RECONNECT_WAITS = (0, 2, 5)  # seconds before each try to connect again after the line dropped


class LineLost(Exception):
    """The mail server cannot be reached (again), or took longer than the deadline: stop."""


class _Dropped(Exception):
    """The line dropped (or the server spoke out of turn) before the content went: it did not arrive."""


@dataclass
class Outcome:
    """What became of one message: `refused` certainly did not arrive (address: why);
    `uncertain` is why the others may or may not have (empty: they arrived)."""
    refused: dict[str, str] = field(default_factory=dict)
    uncertain: str = ""


class _Deadline:
    """Ends one whole exchange with the server after `seconds`, however slowly it answers: a
    per-read timeout starts again with every byte, so a server that trickles would hold
    tanet for ever. The watchdog shuts the socket down; the blocked read then fails at once."""

    def __init__(self, session: "Session", seconds: float):
        self.session, self.seconds, self.expired, self.done = session, seconds, False, False

    def __enter__(self):
        self.session.watchdog.arm(self, self.seconds)
        return self

    def fire(self) -> None:
        if self.done:
            return
        self.expired = True
        sock = getattr(self.session.server, "sock", None)
        if sock is None:  # still connecting: look again shortly
            self.session.watchdog.again(self, 0.1)
            return
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's, under TLS too
        except OSError:
            pass

    def __exit__(self, *exc):
        self.done = True
        self.session.watchdog.disarm(self)


class Session:
    """One connection to the mail server, logged in, ready to send, connected again when it drops."""

    def __init__(self, values: dict, clock=time.monotonic, sleep=time.sleep):
        check_settings(values)  # never a server, login or command that came with the file
        self.host = values["smtp.host"]
        self.security = values.get("smtp.security") or "starttls"
        self.port = int(values.get("smtp.port") or DEFAULT_PORTS[self.security])
        self.user = values.get("smtp.user") or ""
        self.auth = values.get("smtp.auth") or "password"
        self.secret = ""
        if self.user:
            if self.security == "none" and not _is_loopback(self.host):
                raise TanetError(f"smtp.security is none, so a login to {self.host} would send the password "
                                 "unencrypted; nothing was sent. Use smtp.security starttls (port 587) or tls (465).")
            self.secret = oauth2_token(values.get("smtp.oauth2_token_command", "")) if self.auth == "xoauth2" \
                else os.environ.get("TANET_SMTP_PASSWORD", "")
            if not self.secret:
                raise TanetError("Set the mail password in the environment variable TANET_SMTP_PASSWORD "
                                 "(it is never stored); nothing was sent.")
        self.context = tls_context(values) if self.security != "none" else None
        self.where = f"{self.host}:{self.port}"
        self.deadline = int(values.get("smtp.deadline_seconds") or 300)
        self.per_minute = int(values.get("smtp.per_minute") or 30)
        self.clock, self.sleep = clock, sleep
        self.sent_times: deque[float] = deque()
        self.server = None
        self.stopped = ""  # why the run must stop after this message (the deadline passed)
        self.on_wait = None  # called with the seconds the throttle waits
        self.watchdog = Watchdog()
        with _Deadline(self, self.deadline) as deadline:
            try:
                self._connect("nothing was sent")
            except TanetError:
                if deadline.expired:
                    raise TanetError(self._too_slow("nothing was sent")) from None
                raise

    def _too_slow(self, consequence: str) -> str:
        return (f"The mail server {self.where} took longer than {self.deadline} seconds (smtp.deadline_seconds) "
                f"to answer, so tanet stopped; {consequence}. Try again later, or ask its administrator.")

    def _connect(self, consequence: str) -> None:
        """Connect, secure the line and log in; TanetError (saying `consequence`) if not."""
        import smtplib
        import ssl

        timeout = min(60, self.deadline)
        self.server = connection_class(True)(timeout=timeout, context=self.context) if self.security == "tls" \
            else connection_class(False)(timeout=timeout)
        self.server._host = self.host  # the name TLS checks the certificate against (set by a connecting constructor)
        if log.isEnabledFor(logging.INFO):
            log.info("connect %s (%s)", self.where, self.security)
            listen(self.server)
        try:
            code, said = self.server.connect(self.host, self.port)
            if code != 220:
                raise smtplib.SMTPConnectError(code, said)
            self.server.ehlo()
            if self.security == "starttls":
                if not self.server.has_extn("starttls"):
                    self._drop()
                    raise TanetError(f"The mail server {self.where} does not offer a secure connection (STARTTLS); "
                                     f"{consequence}. Ask its administrator for the secure port, or try "
                                     "smtp.security tls with port 465.")
                self.server.starttls(context=self.context)
                self.server.ehlo()
        except ssl.SSLCertVerificationError as e:
            self._drop()
            raise TanetError(f"The mail server {self.where} showed a certificate this computer does not trust "
                             f"({e.verify_message}); {consequence}. If your organisation uses its own "
                             "certificate authority, name its file with: tanet config set smtp.ca_file FILE") from None
        except ssl.SSLError as e:
            self._drop()
            raise TanetError(f"No secure connection to the mail server {self.where} ({_reason(e)}); "
                             f"{consequence}.") from None
        except smtplib.SMTPException as e:
            self._drop()
            raise TanetError(f"The mail server {self.where} would not take mail just now ({_reason(e)}); "
                             f"{consequence}. Try again later.") from None
        except (OSError, socket.timeout) as e:
            self._drop()
            raise TanetError(f"Cannot reach the mail server {self.where} ({_reason(e)}); {consequence}. "
                             "Check smtp.host and smtp.port, and the network.") from None
        if self.user:
            self._log_in(consequence)

    def _log_in(self, consequence: str) -> None:
        import smtplib

        if not (self.server.esmtp_features.get("auth") or "").split():  # no AUTH, or AUTH with no way to log in
            self._drop()
            raise TanetError(f"The mail server {self.where} does not take a login (it offers none), but smtp.user is "
                             f"set; {consequence}. If it sends without one, clear it: tanet config set smtp.user ''")
        secret = "the token from smtp.oauth2_token_command" if self.auth == "xoauth2" else "TANET_SMTP_PASSWORD"
        try:
            if self.auth == "xoauth2":
                token = f"user={self.user}\x01auth=Bearer {self.secret}\x01\x01"
                self.server.auth("XOAUTH2", lambda challenge=None: token)
            else:
                self._log_in_utf8()
        except (smtplib.SMTPException, OSError) as e:
            self._drop()
            raise TanetError(f"The mail server refused the login for {self.user} ({_reason(e)}); {consequence}. "
                             f"Check smtp.user and {secret}.") from None

    def _log_in_utf8(self) -> None:
        """AUTH PLAIN (RFC 4616) or LOGIN with the name and password as UTF-8 bytes: smtplib
        encodes them as ASCII, so a password such as 'p£ss-word' would never leave."""
        import smtplib

        offered = (self.server.esmtp_features.get("auth") or "").upper().split()
        user, secret = self.user.encode("utf-8"), self.secret.encode("utf-8")
        if "PLAIN" in offered or "LOGIN" not in offered:
            code, said = self.server.docmd("AUTH", "PLAIN " + _b64(b"\0" + user + b"\0" + secret))
        else:
            code, said = self.server.docmd("AUTH", "LOGIN")
            if code == 334:
                code, said = self.server.docmd(_b64(user))
            if code == 334:
                code, said = self.server.docmd(_b64(secret))
        if code not in (235, 503):  # 503: already logged in
            raise smtplib.SMTPAuthenticationError(code, said)

    def _drop(self) -> None:
        """Forget a connection that is broken (or about to be)."""
        if self.server is not None:
            try:
                self.server.close()
            except OSError:
                pass
        self.server = None

    def _reconnect(self) -> None:
        """Connect again after the line dropped, a bounded number of times; LineLost if not."""
        problem = ""
        for wait in RECONNECT_WAITS:
            if wait:
                self.sleep(wait)
            try:
                self._connect("so tanet stopped")
                return
            except TanetError as e:
                problem = str(e)
        raise LineLost(f"The line to the mail server dropped and {len(RECONNECT_WAITS)} tries to connect again "
                       f"failed. The last: {problem}")

    def wait_turn(self) -> None:
        """At most `per_minute` messages in any 60 seconds (Exchange Online allows 30)."""
        if len(self.sent_times) >= self.per_minute:
            wait = 60 - (self.clock() - self.sent_times[0])
            if wait > 0:
                if self.on_wait:
                    self.on_wait(wait)
                self.sleep(wait)
            self.sent_times.popleft()
        self.sent_times.append(self.clock())

    def send(self, message, recipients: list[str], on_content=None) -> Outcome:
        """Send one message (a wire.Prepared) to `recipients`. `on_content()` is called just before its content
        goes (to record the attempt). A line that drops before then is connected again and the
        message tried again; LineLost when that fails or the deadline passes."""
        content, sender = message.content, message.sender
        self.wait_turn()
        problem = ""
        for _ in RECONNECT_WAITS:
            outcome = None
            with _Deadline(self, self.deadline) as deadline:
                try:
                    if self.server is None:
                        self._reconnect()
                    outcome = self._exchange(content, sender, recipients, on_content)
                except _Dropped as e:
                    self._drop()
                    problem = str(e)
                except LineLost:
                    if not deadline.expired:
                        raise
            if deadline.expired:
                self._drop()
                if outcome is None:
                    raise LineLost(self._too_slow("this message and those after it were not sent"))
                self.stopped = self._too_slow("the messages after it were not sent")
                if outcome.uncertain:
                    outcome.uncertain = f"the message went but no answer came within {self.deadline} seconds"
                return outcome
            if outcome is not None:
                return outcome
        raise LineLost(f"The line to the mail server {self.where} kept dropping before a message could go "
                       f"({problem}), so tanet stopped.")

    def _exchange(self, content: bytes, sender: str, recipients: list[str], on_content) -> Outcome:
        """MAIL, RCPT, DATA and the content, each answer read (RFC 5321 §3.3)."""
        import smtplib

        server = self.server
        try:
            code, said = command(server, "mail", "FROM", sender)
            if code == 421:
                raise _Dropped(f"{code} {_text(said)}")
            if code != 250:
                server.rset()
                return Outcome({r.lower(): f"the server would not take it ({code} {_text(said)})" for r in recipients})
            refused = {}
            for address in recipients:
                code, said = command(server, "rcpt", "TO", address)
                if code == 421:
                    raise _Dropped(f"{code} {_text(said)}")
                if code not in (250, 251):
                    refused[address.lower()] = f"refused ({code} {_text(said)})"
            accepted = [r for r in recipients if r.lower() not in refused]
            if not accepted:
                server.rset()
                return Outcome(refused)
            code, said = say(server, "DATA")
            if code == 421:
                raise _Dropped(f"{code} {_text(said)}")
            if code != 354:
                server.rset()
                return Outcome({**refused, **{r.lower(): f"the server would not take it ({code} {_text(said)})"
                                              for r in accepted}})
        except (smtplib.SMTPException, OSError) as e:
            raise _Dropped(_reason(e)) from None
        if out_of_turn(server):  # an answer before the content went: not one to believe
            raise _Dropped("the server said more than it was asked before the message went")
        if on_content:
            on_content(accepted)
        try:
            server.send(content)
            code, said = answer(server)
        except (smtplib.SMTPException, OSError) as e:
            self._drop()
            return Outcome(refused, uncertain=f"the message went but the answer never came ({_reason(e)})")
        if code != 250:
            return Outcome({**refused, **{r.lower(): f"the server would not take it ({code} {_text(said)})"
                                          for r in accepted}})
        return Outcome(refused)

    def close(self, politely: bool = True) -> None:
        """Say QUIT (within a few seconds), or just close the line."""
        import smtplib

        if self.server is not None and politely:
            try:
                if self.server.sock is not None:
                    self.server.sock.settimeout(min(10, self.deadline))
                self.server.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._drop()
