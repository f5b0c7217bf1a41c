"""The real servers the tests talk to, as fixtures every test module can use: an SMTP server
(aiosmtpd, with TLS from a certificate authority made by the test) and Dovecot for IMAP.
Registered in conftest.py (pytest_plugins), so test modules ask for `smtp` or `ca` by name
and never import them."""

import asyncio
import base64
import email
import mailbox
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from email import policy
from pathlib import Path

import pytest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it is given. Modes for a bad line:
    block_after=k stores the message after the first k and holds back its answer until
    `release` is set, setting `blocked` when it holds one; drop_after_data={n, ...}
    stores the n-th message (1-based) and then drops the line without an answer;
    drop_at_mail={n, ...} answers the n-th MAIL with 421 and drops the line (nothing
    stored); trickle=s answers every message one byte every s seconds."""

    def __init__(self, refuse=(), delay=0.0, token=None, block_after=None, drop_after_data=(), drop_at_mail=(),
                 trickle=0.0):
        self.messages, self.refuse, self.delay, self.token = [], set(refuse), delay, token
        self.lock = threading.Lock()
        self.block_after, self.blocked, self.release = block_after, threading.Event(), threading.Event()
        self.drop_after_data, self.drop_at_mail, self.trickle = set(drop_after_data), set(drop_at_mail), trickle
        self.data_count, self.mail_count = 0, 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mail_count += 1
        if self.mail_count in self.drop_at_mail:
            server._writer.write(b"421 4.3.2 Going away\r\n")
            server.transport.close()
            return "421 4.3.2 Going away"
        envelope.mail_from, envelope.mail_options = address, mail_options
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow server: a kill lands here, before delivery
        self.data_count += 1
        hold = self.block_after is not None and len(self.messages) >= self.block_after
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, msg))
        if hold:  # stored (as a real server queues it), and the answer held back
            self.blocked.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        if self.data_count in self.drop_after_data:
            server.transport.close()  # stored, and the answer never comes
            return "250 never heard"
        if self.trickle:
            for byte in "250 2.0.0 Accepted, slowly, one byte at a time, for ever and ever":
                if server.transport is None or server.transport.is_closing():
                    break
                server._writer.write(byte.encode())
                await asyncio.sleep(self.trickle)
        return "250 Message accepted for delivery"

    async def auth_XOAUTH2(self, server, args):
        from aiosmtpd.smtp import AuthResult

        decoded = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        fields = dict(part.split("=", 1) for part in decoded.split("\x01") if "=" in part)
        ok = fields.get("user") == "coordinator@example.org" and fields.get("auth") == f"Bearer {self.token}"
        return AuthResult(success=ok, handled=False)

    def to(self, address):
        return [m for rcpt, m in self.messages if rcpt == address]


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    import trustme

    authority = trustme.CA()
    folder = tmp_path_factory.mktemp("ca")
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    return authority, folder / "ca.pem"


@pytest.fixture
def smtp(ca):
    """start(mode='none'|'starttls'|'tls', ...) runs a real SMTP server on 127.0.0.1."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    authority, _ = ca
    started = []

    def start(mode="none", refuse=(), delay=0.0, password=None, token=None, cert_for=("127.0.0.1", "localhost"),
              trusted=True, mechanisms=None, **modes):
        inbox = Inbox(refuse, delay, token, **modes)
        server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if trusted:
            authority.issue_cert(*cert_for).configure_cert(server_ctx)
        else:  # a certificate from nobody's authority, for another host
            import trustme

            trustme.CA().issue_cert("attacker.invalid").configure_cert(server_ctx)
        kwargs = {}
        if password is not None:
            def authenticator(server, session, envelope, mechanism, auth_data):
                ok = auth_data.login == b"coordinator" and auth_data.password == password.encode()
                return AuthResult(success=ok, handled=False)
            kwargs.update(authenticator=authenticator)
        if mechanisms:  # offer only these (aiosmtpd offers PLAIN and LOGIN)
            kwargs.update(auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in mechanisms])
        if mode == "starttls":
            kwargs.update(tls_context=server_ctx, require_starttls=True)
        elif mode == "tls":  # aiosmtpd does not see that the socket itself is TLS, so it would hide AUTH
            kwargs.update(ssl_context=server_ctx, auth_require_tls=False)
        if mode == "none":
            kwargs.update(auth_require_tls=False)
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return inbox, port

    yield start
    for c in started:
        c.handler.release.set()
        c.stop()


def use_server(tanet, port, security="none", user="", ca_file=None):
    tanet("config", "set", "smtp.host", "127.0.0.1", ok=True)
    tanet("config", "set", "smtp.port", port, ok=True)
    tanet("config", "set", "smtp.security", security, ok=True)
    if user:
        tanet("config", "set", "smtp.user", user, ok=True)
    if ca_file:
        tanet("config", "set", "smtp.ca_file", ca_file, ok=True)



# A real IMAP server: Dovecot on 127.0.0.1, over TLS ---------------------------------------------

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)


# Folder names as IMAP keeps them without UTF-8 (RFC 3501 §5.1.3, modified UTF-7).
ON_DISK = {"Réponses": "R&AOk-ponses"}


@contextmanager
def running_dovecot(users: dict[str, str], folders: dict[str, list[bytes]]):
    """A real Dovecot over TLS on 127.0.0.1: each user with their password, and the first
    user's folders holding the given messages (INBOX, or other names as a person types them)."""
    if DOVECOT is None:
        if os.environ.get("CI"):
            pytest.fail("Dovecot is not installed; .ci/system-deps installs dovecot-imapd")
        pytest.skip("Dovecot is not installed (Debian: dovecot-imapd; make test installs it)")
    import pwd

    import trustme

    nobody = pwd.getpwnam("nobody")
    # Dovecot's own processes run as other users: its folder must be open to them.
    top = Path(tempfile.mkdtemp(prefix="tanet-dovecot-"))
    os.chmod(top, 0o755)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(top / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(top / "cert.pem"))
    ca.cert_pem.write_to_path(str(top / "ca.pem"))
    (top / "passwd").write_bytes("".join(f"{u}:{{PLAIN}}{pw}::::::\n" for u, pw in users.items()).encode())
    for sub in ("run", "state", "mail", "home"):
        (top / sub).mkdir()
    port = free_port()
    dh = "/usr/share/dovecot/dh.pem"
    (top / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {top}/run
state_dir = {top}/state
log_path = {top}/dovecot.log
ssl = required
ssl_cert = <{top}/cert.pem
ssl_key = <{top}/key.pem
{f"ssl_dh = <{dh}" if os.path.exists(dh) else ""}
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:{top}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {top}/passwd
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={top}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
""")
    box = mailbox.Maildir(top / "mail" / next(iter(users)), create=True)
    for name, raws in folders.items():
        target = box if name == "INBOX" else box.add_folder(ON_DISK[name])
        for raw in raws:
            target.add(raw)
    subprocess.run(["chown", "-R", f"{nobody.pw_uid}:{nobody.pw_gid}", str(top / "mail"), str(top / "home")],
                   check=True)
    subprocess.run([DOVECOT, "-c", str(top / "dovecot.conf")], check=True)
    master = None
    try:
        _wait_until_listening(port)
        master = _process_running(top / "dovecot.conf")
        assert master, "no Dovecot master process found for this configuration"
        yield {"port": port, "ca": top / "ca.pem", "maildir": top / "mail" / next(iter(users))}
    finally:
        subprocess.run([DOVECOT, "-c", str(top / "dovecot.conf"), "stop"], capture_output=True)
        if master:
            _wait_until_gone(master)
        shutil.rmtree(top, ignore_errors=True)


def _wait_until_listening(port: int) -> None:
    """Until Dovecot accepts connections (the deadline only guards against a hang)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "Dovecot never listened"
            time.sleep(0.01)


def _process_running(conf: Path) -> int | None:
    """The process id of the Dovecot master started with this configuration."""
    for entry in Path("/proc").iterdir():
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.name.isdigit() and os.fsencode(conf) in words:
            return int(entry.name)
    return None


def _wait_until_gone(pid: int) -> None:
    """Until Dovecot's master process has exited, so its folder can go."""
    deadline = time.monotonic() + 60
    while os.path.exists(f"/proc/{pid}") and "zombie" not in _state(pid):
        assert time.monotonic() < deadline, "Dovecot never stopped"
        time.sleep(0.01)


def _state(pid: int) -> str:
    try:
        return "zombie" if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z" else "alive"
    except OSError:
        return "gone"
