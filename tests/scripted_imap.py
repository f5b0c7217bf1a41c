"""A tiny IMAP server over TLS for the tests of what tanet does when a server misbehaves."""

import contextlib
import socket
import ssl
import threading

import trustme


class ScriptedIMAP:
    """An IMAP server over TLS that answers the few commands tanet sends, records them, and
    at `stop_at` ("connect", "login", "fetch") stops answering, or at the fetch sends a
    message a byte at a time ("trickle") or announces a 600 MB one ("liar"); None: an empty
    folder. `reached` is set when it gets there: the test's proof of where it hung."""

    def __init__(self, stop_at, capabilities_after_login="IMAP4rev1 ENABLE"):
        self.stop_at, self.after_login = stop_at, capabilities_after_login
        self.reached, self.done, self.lines = threading.Event(), threading.Event(), []
        ca = trustme.CA()
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.context)
        self.ca = ca
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def hang(self):
        self.reached.set()
        self.done.wait(60)  # until the test is over: a failure guard, not a pause

    def serve(self):
        raw, _ = self.listener.accept()
        with raw:
            if self.stop_at == "connect":
                return self.hang()
            with self.context.wrap_socket(raw, server_side=True) as tls, tls.makefile("rwb") as f:
                self.talk(f)

    def talk(self, f):
        def say(text):
            f.write(text.encode() + b"\r\n")
            f.flush()

        capabilities = "IMAP4rev1 AUTH=PLAIN"
        say(f"* OK [CAPABILITY {capabilities}] ready")
        while line := f.readline():
            self.lines.append(line)
            tag, _, command = line.decode("utf-8", "replace").strip().partition(" ")
            verb = command.upper()
            if verb.startswith("AUTHENTICATE"):
                if self.stop_at == "login":
                    return self.hang()
                say("+ ")
                self.lines.append(f.readline())
                say(f"{tag} OK logged in")
                capabilities = self.after_login
            elif verb.startswith("CAPABILITY"):
                say(f"* CAPABILITY {capabilities}")
                say(f"{tag} OK done")
            elif verb.startswith("ENABLE"):
                say("* ENABLED UTF8=ACCEPT")
                say(f"{tag} OK done")
            elif verb.startswith("EXAMINE"):
                say("* 1 EXISTS")
                say(f"{tag} OK [READ-ONLY] done")
            elif verb.startswith("UID SEARCH"):
                say("* SEARCH 7" if self.stop_at else "* SEARCH")  # None: an empty folder, and goodbye
                say(f"{tag} OK done")
            elif "RFC822.SIZE" in verb:
                say("* 1 FETCH (UID 7 RFC822.SIZE 900)")
                say(f"{tag} OK done")
            elif verb.startswith("UID FETCH"):
                if self.stop_at == "trickle":  # a byte at a time: each read is quick, the whole never ends
                    self.reached.set()
                    say("* 1 FETCH (UID 7 BODY[]<0> {900}")
                    with contextlib.suppress(OSError):
                        while not self.done.wait(0.3):
                            f.write(b"x")
                            f.flush()
                    return None
                if self.stop_at == "liar":
                    self.reached.set()
                    say("* 1 FETCH (UID 7 BODY[]<0> {600000000}")
                    with contextlib.suppress(OSError):  # tanet hangs up as soon as it reads the size
                        f.write(b"x" * 65536)
                        f.flush()
                return self.hang()
            elif verb.startswith("LOGOUT"):
                say("* BYE")
                say(f"{tag} OK done")
                return None

    def close(self):
        self.done.set()
        self.thread.join(10)
        self.listener.close()
