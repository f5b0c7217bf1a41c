"""Messages read one at a time, each at most MAX_BYTES, from .eml files, folders of
them, an mbox, a Maildir or an IMAP folder. A message that cannot be read whole
(too large, unreadable) is handed on as `Unread`, so it becomes one line of the
listing and the rest are still read; only a source that cannot be opened at all stops.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from tanet.errors import TanetError

MAX_BYTES = 10 * 1024 * 1024  # a calendar reply is a few kilobytes; more is an attachment
HEAD_BYTES = 64 * 1024  # enough for the headers, to say whom a skipped message is from


class Unread(NamedTuple):
    """A message not read whole: its first bytes (for From and Subject) and why."""

    head: bytes
    reason: str


def too_large(size: int) -> str:
    return (f"it is {size / 1_000_000:.0f} MB, larger than the {MAX_BYTES // (1024 * 1024)} MB a reply can be "
            "(an attachment?); open it in your mail program and record the answer yourself")


def bounded(f) -> bytes | Unread:
    """The whole message from an open binary file, or its head if it is too large."""
    f.seek(0, 2)
    size = f.tell()
    f.seek(0)
    if size > MAX_BYTES:
        return Unread(f.read(HEAD_BYTES), too_large(size))
    return f.read(MAX_BYTES + 1)


def messages(source: str):
    """(label, raw bytes or Unread) for each message of a source on this computer: an .eml
    file, a folder of them, an mbox or a Maildir (an IMAP folder is tanet.mail.imap's)."""
    path = Path(source).expanduser()
    if not path.exists():
        raise TanetError(f"There is no file or folder {path}. Check the name.")
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            yield from _mailbox(path, "maildir")
            return
        for p in _files_under(path):
            yield from _file(p)
        return
    yield from _file(path)


def _files_under(folder: Path):
    """The files in a folder and its subfolders, in the order of their paths, one at a time:
    only one folder's names are held (a list of Path objects for 100,000 files is 80 MB).
    Hidden files are passed over; a linked folder is not entered (as pathlib's rglob)."""
    import os

    try:
        with os.scandir(folder) as entries:
            names = sorted((e.name, e.is_dir(follow_symlinks=False)) for e in entries)
    except OSError:
        return
    for name, is_dir in names:
        if is_dir:
            yield from _files_under(folder / name)
        elif not name.startswith(".") and (folder / name).is_file():
            yield folder / name


def _file(path: Path):
    try:
        with open(path, "rb") as f:
            is_mbox = f.read(5) == b"From "
            data = None if is_mbox else bounded(f)
    except OSError as e:
        yield str(path), Unread(b"", f"cannot be read ({e.strerror}); check the file's permissions")
        return
    if is_mbox:
        yield from _mailbox(path, "mbox")
    else:
        yield str(path), data


class _ShortLines:
    """A file whose lines are read at most 64 KiB at a time, so a line of hundreds of
    megabytes never sits in memory whole."""

    def __init__(self, f):
        self._f = f

    def readline(self, size=-1):
        return self._f.readline(HEAD_BYTES if size is None or size < 0 else min(size, HEAD_BYTES))

    def __getattr__(self, name):
        return getattr(self._f, name)


def _mbox(path: Path):
    import mailbox

    class Mbox(mailbox.mbox):
        def _generate_toc(self):
            # The standard library finds the "From " lines with an unbounded readline().
            whole, self._file = self._file, _ShortLines(self._file)
            try:
                super()._generate_toc()
            finally:
                self._file = whole

    return Mbox(path, factory=None, create=False)


def _mailbox(path: Path, kind: str):
    import mailbox

    try:
        box = mailbox.Maildir(path, factory=None, create=False) if kind == "maildir" else _mbox(path)
        keys = list(box.iterkeys())
    except (mailbox.Error, OSError, ValueError) as e:
        raise TanetError(f"{path} cannot be read as a {kind} mailbox ({e}); nothing was imported.") from None
    for n, key in enumerate(keys, 1):
        label = f"{path}, message {n}" if kind == "mbox" else f"{path}/{key}"
        try:
            with box.get_file(key) as f:
                data = bounded(f)
        except (mailbox.Error, OSError, KeyError) as e:
            data = Unread(b"", f"cannot be read ({getattr(e, 'strerror', None) or e})")
        yield label, data
