"""A message file on the wire: whatever its shape (CRLF or bare line ends, folded fields,
Bcc anywhere, lines starting with a dot), what reaches a real SMTP server (aiosmtpd) is
the bytes smtplib's send_message would have sent, field by field, without Bcc and the
draft marker; the server's answers, on one line or several, are read as smtplib reads them."""

import re

from aiosmtpd.controller import Controller
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import free_port, use_server
from test_outbox import network


def field_by_field(raw: bytes, drop: tuple[bytes, ...]) -> bytes:
    """What goes after DATA, made the long way: every line end CRLF, the header split into
    fields (a folded line goes on with its field), the Bcc lists and `drop` removed, each
    line starting with a dot doubled, ended with CRLF.CRLF."""
    data = re.sub(rb"\r\n|\n|\r(?!\n)", b"\r\n", raw)
    head, blank, body = data.partition(b"\r\n\r\n")
    kept = [line for line in re.split(rb"\r\n(?![ \t])", head)
            if line.partition(b":")[0].strip().lower() not in (b"bcc", b"resent-bcc") + drop]
    data = re.sub(rb"(?m)^\.", b"..", b"\r\n".join(kept) + blank + body)
    return (data if data.endswith(b"\r\n") else data + b"\r\n") + b".\r\n"


NAMES = ["From", "from", "FROM", "Sender", "Bcc", "BCC", "bcc ", " Bcc", "Resent-Bcc", "X-Unsent", "x-unsent",
         "Message-ID", "Subject", "To", "X-Bcc-Note", ".Dotted"]
WORDS = ["a@example.org", "Alex <a@example.org>", "from", "bcc", "x-unsent", ":", " ", "\t", ".", "<m@example.org>",
         "Notes from the meeting"]
PLAIN_NAMES = ["From", "Sender", "Bcc", "Resent-Bcc", "X-Unsent", "Message-ID", "Subject", "To"]
PLAIN_WORDS = ["a@example.org", "Alex <a@example.org>", ":", " ", "\t", ".", "<m@example.org>", "Notes"]


@st.composite
def message_files(draw) -> bytes:
    """Message files of any shape; half of them as tanet writes them (CRLF only, no line
    starting with a dot), their fields in any order, folded anywhere."""
    plain = draw(st.booleans())
    ends = ["\r\n"] if plain else draw(st.lists(st.sampled_from(["\r\n", "\n", "\r"]), min_size=1, max_size=3))
    names = st.sampled_from(PLAIN_NAMES if plain else NAMES)
    words = st.sampled_from(PLAIN_WORDS if plain else WORDS)
    fields = []
    unique = plain and draw(st.booleans())  # or a field named twice (Bcc, the draft marker)
    for name in draw(st.lists(names, max_size=8, unique_by=str.lower if unique else None)):
        value = "".join(draw(st.lists(words, max_size=4)))
        folds = draw(st.lists(st.sampled_from([" ", "\t"]), max_size=2))
        fields.append(f"{name}:{value}" + "".join(f"{draw(st.sampled_from(ends))}{f}more" for f in folds))
    lines = ["hello", "", "from: x", "Bcc: y"] + ([] if plain else [".", "..dots"])
    body = draw(st.lists(st.sampled_from(lines), max_size=5))
    end = draw(st.sampled_from(ends))
    text = end.join(fields) + (end * 2 + end.join(body) if draw(st.booleans()) else "")
    return (text + (end if draw(st.booleans()) else "")).encode()


@settings(max_examples=600, deadline=None)
@given(raw=message_files())
def test_any_message_file_is_made_ready_as_field_by_field_would(raw):
    from tanet.mail.wire import prepare

    assert prepare(raw, drop=(b"x-unsent",)).content == field_by_field(raw, (b"x-unsent",))
    assert prepare(raw).content == field_by_field(raw, ())


def test_the_files_tanet_writes_are_made_ready_as_field_by_field_would(tanet, tmp_path):
    from tanet.mail.wire import prepare

    network(tanet, members=3)
    tanet("invite", "1", "-o", tmp_path / "each", ok=True)
    tanet("meeting", "add", "2027-03-09", "--location", "Leith Library", ok=True)
    tanet("invite", "2", "--single", "-o", tmp_path / "all", ok=True)  # everyone in Bcc
    files = sorted((tmp_path / "each").glob("*.eml")) + [tmp_path / "all" / "invite-all.eml"]
    assert len(files) == 4
    for path in files:
        raw = path.read_bytes()
        assert prepare(raw, drop=(b"x-unsent",)).content == field_by_field(raw, (b"x-unsent",))


class Kept:
    """An aiosmtpd handler keeping each message as it arrived (its envelope, its bytes), and
    answering RCPT for `several` with an answer of several lines."""

    def __init__(self, several=()):
        self.got, self.several = [], set(several)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.several:
            return "550-5.1.1 No such user here,\r\n550-nor anywhere\r\n550 5.1.1 else"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.got.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        return "250-Queued\r\n250 as 1A2B"


def session_to(tanet, own_database, handler):
    from tanet.mail.smtp import Session
    from tanet.store import db as dbmod
    from tanet.store import settings as stored

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    network(tanet, members=1)
    use_server(tanet, port)
    conn = dbmod.open_db(own_database)
    values = stored.get_all(conn)
    conn.close()
    return controller, Session(values)


SHAPES = [  # (the file, what the server is given: dots single again, as it stores them)
    (b"From: Alex <a@example.org>\r\nSubject: a long\r\n subject\r\nBcc: x@example.org,\r\n y@example.org\r\n"
     b"X-Unsent: 1\r\nMessage-ID: <m1@example.org>\r\n\r\nHello\r\n.\r\n.. two\r\n",
     b"From: Alex <a@example.org>\r\nSubject: a long\r\n subject\r\nMessage-ID: <m1@example.org>\r\n\r\n"
     b"Hello\r\n.\r\n.. two\r\n"),
    (b"From: a@example.org\nX-Unsent: 1\nSubject: s\n\n.hello\n..two\nbye",
     b"From: a@example.org\r\nSubject: s\r\n\r\n.hello\r\n..two\r\nbye\r\n"),
    (b"Resent-Bcc: r@example.org\r\nFrom: a@example.org\r\nSubject: s\r\nBcc: b@example.org\r\n\r\nbody\r\n",
     b"From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n"),
    (b"From: a@example.org\r\nBCC : hidden@example.org\r\nx-unsent:1\r\nSubject: a\rb\r\n\r\nbody\r\n",
     b"From: a@example.org\r\nSubject: a\r\nb\r\n\r\nbody\r\n"),
    (b"Sender: Sec <s@example.org>\r\nFrom: Alex <a@example.org>\r\nSubject: Notes from the meeting\r\n"
     b"X-Unsent: 1\r\nX-Unsent: 1\r\n\r\nx",
     b"Sender: Sec <s@example.org>\r\nFrom: Alex <a@example.org>\r\nSubject: Notes from the meeting\r\n\r\nx\r\n"),
    (b"From: a@example.org\r\nSubject: s\r\nX-Unsent: 1",
     b"From: a@example.org\r\nSubject: s\r\n"),
]


def test_a_file_of_any_shape_reaches_the_server_as_smtplib_would_send_it(tanet, own_database):
    from tanet.mail.wire import prepare

    handler = Kept()
    controller, session = session_to(tanet, own_database, handler)
    try:
        for raw, _ in SHAPES:
            outcome = session.send(prepare(raw, drop=(b"x-unsent",)), ["amina@example.org"])
            assert (outcome.refused, outcome.uncertain) == ({}, "")
    finally:
        session.close()
        controller.stop()
    assert [content for _, _, content in handler.got] == [stored for _, stored in SHAPES]
    assert [sender for sender, _, _ in handler.got] == ["a@example.org"] * 4 + ["s@example.org", "a@example.org"]
    assert prepare(SHAPES[0][0]).message_id == "<m1@example.org>"


def test_answers_of_several_lines_are_read_whole(tanet, own_database):
    """A refusal and an acceptance each in several lines: the refusal's words are all
    kept, and the message after it still goes (no line of an answer is left unread)."""
    from tanet.mail.wire import prepare

    handler = Kept(several={"nobody@example.org"})
    controller, session = session_to(tanet, own_database, handler)
    message = prepare(SHAPES[0][0])
    try:
        outcome = session.send(message, ["nobody@example.org", "amina@example.org"])
        assert outcome.refused == {"nobody@example.org": "refused (550 5.1.1 No such user here, nor anywhere 5.1.1 else)"}
        assert outcome.uncertain == ""
        again = session.send(message, ["amina@example.org"])
        assert (again.refused, again.uncertain) == ({}, "")
    finally:
        session.close()
        controller.stop()
    assert [rcpts for _, rcpts, _ in handler.got] == [["amina@example.org"], ["amina@example.org"]]


class OutOfTurn(Kept):
    """Answers the first RCPT with one answer too many ("250 OK" and a "354" nobody asked for)."""

    def __init__(self):
        super().__init__()
        self.spoke = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        self.spoke += 1
        return "250 OK\r\n354 early" if self.spoke == 1 else "250 OK"


def test_a_server_that_says_more_than_it_was_asked_never_gets_the_message_twice(tanet, own_database):
    """Read on, the spare 354 would be taken as DATA's answer, and each answer after for the one
    before: the content went while the server still took it as commands, then was recorded as
    refused though queued, and sent again by the next run. The line is closed instead, before the
    content goes, and the message sent once on a new one."""
    from tanet.mail.wire import prepare

    handler = OutOfTurn()
    controller, session = session_to(tanet, own_database, handler)
    try:
        outcome = session.send(prepare(SHAPES[0][0]), ["amina@example.org"])
    finally:
        session.close()
        controller.stop()
    assert (outcome.refused, outcome.uncertain) == ({}, "")
    assert [rcpts for _, rcpts, _ in handler.got] == [["amina@example.org"]]
