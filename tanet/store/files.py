"""Files appear whole or not at all, readable by their owner only.

Every file tanet writes goes to a temporary name in the target folder, is
flushed to disk, then renamed over the final name (the way git writes its
index): a kill or a full disk never leaves a partial file under the final
name. Files are created 0600 and new folders 0700 whatever the umask, and
nothing is ever chmodded wider afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tanet.errors import TanetError


def _why(e: OSError) -> str:
    import errno

    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "the disk is full (or the file is larger than allowed); free some space and try again"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "you may not write there; choose a folder you can write to"
    return (e.strerror or str(e)).rstrip(".")


def cannot_write(path: Path, e: OSError) -> TanetError:
    return TanetError(f"Cannot write {path}: {_why(e)}. Nothing was written there.")


def make_folder(folder: Path) -> list[Path]:
    """Create `folder` and any missing parents, each 0700; the folders made, outermost first."""
    folder = Path(folder)
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    try:
        for q in reversed(missing):
            os.mkdir(q, 0o700)
    except FileExistsError:
        pass
    except OSError as e:
        raise cannot_write(folder, e) from None
    if not folder.is_dir():
        raise TanetError(f"{folder} is a file, not a folder. Choose a folder name.")
    return list(reversed(missing))


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sync_files(folder: Path) -> None:
    """Every file of `folder` on disk: one syncfs of its file system where Linux has it (a
    thousand fsyncs cost seconds; one syncfs, milliseconds), else an fsync of each file."""
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        syncfs = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None)
        fd = os.open(folder, os.O_RDONLY)
        try:
            if syncfs is not None and syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for p in folder.iterdir():
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def write_file(path: Path, data: bytes | str, *, make_parents: bool = True) -> Path:
    """Write `data` to `path` atomically, mode 0600."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if path.is_dir():
        raise TanetError(f"{path} is a folder; give a file name inside it.")
    if make_parents:
        make_folder(path.parent)
    elif not path.parent.is_dir():
        raise TanetError(f"The folder {path.parent} does not exist. Create it first, or choose another place.")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise cannot_write(path, e) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise cannot_write(path, e) from None
        raise
    _fsync_folder(path.parent)
    return path


MANIFEST = ".tanet-files"


def _manifest(folder: Path) -> dict | None:
    """What a folder's manifest says tanet wrote there ({owner, files}), if it has one."""
    import json

    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    return data


def drop_from_manifest(folder: Path, names: set[str]) -> None:
    """Take deleted files out of a folder's list of tanet's files, so no name of a forgotten
    member stays there (file names carry the member's name)."""
    import json

    data = _manifest(folder)
    if data is None or not names & set(data["files"]):
        return
    data["files"] = sorted(set(data["files"]) - names)
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=1))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / MANIFEST)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def tidy_folder(folder: Path) -> None:
    """Remove a folder of tanet's messages once nothing but its manifest is left in it."""
    try:
        if {p.name for p in folder.iterdir()} <= {MANIFEST}:
            if (folder / MANIFEST).exists():
                os.unlink(folder / MANIFEST)
            os.rmdir(folder)
            if folder.parent.name in DEFAULT_PARENTS and not any(folder.parent.iterdir()):
                os.rmdir(folder.parent)  # ./cancellations/ made for it, now empty too
    except OSError:
        pass


# The folders tanet makes in the current folder for its messages when no -o is given.
DEFAULT_PARENTS = ("invites", "reminders", "thanks", "cancellations", "summaries")


@contextmanager
def interrupts_held():
    """Ctrl-C held back until the block ends (then it takes effect): for clearing away what a
    stopped command began, which a second Ctrl-C must not cut short. Python runs signal
    handlers in the main thread (whichever thread the signal reached), so the handler is
    swapped there; elsewhere this does nothing."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pressed and callable(previous):
            previous(signal.SIGINT, pressed[0])  # Python's own raises KeyboardInterrupt


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL  # created here, never an existing file written through


class NewFolder:
    """A folder written whole: files go into a hidden temporary folder beside the
    target, which replaces the target only when everything is written.

    tanet replaces only what it wrote. Each folder it writes carries a manifest naming its
    `owner` (say "meeting #21's invitations") and its files; an existing target is replaced
    only when everything in it is listed there under the same owner, or is accepted by
    `owned` (files recorded elsewhere, such as the outbox). Anything else in it (the
    coordinator's own files, another meeting's messages) and the target is left alone."""

    def __init__(self, target: Path, owned=lambda name: False, what: str = "files", owner: str | None = None,
                 hint: str = "Choose a new or empty folder with -o DIR."):
        self.target, self.owner, self.names, self.hint = Path(target), owner, [], hint
        self.replaces: set[str] = set()
        if self.target.exists():
            self.replaces = self._replaceable(owned, what)
        self.made = make_folder(self.target.parent)  # taken away again if nothing is written
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".tmp",
                                              dir=self.target.parent))
        except OSError as e:
            raise cannot_write(self.target, e) from None
        self.inside = os.path.join(str(self.path), "")  # the path of a file in it is this and its name

    def _replaceable(self, owned, what: str) -> set[str]:
        """The names in the existing target that are tanet's to replace; refuses a target
        holding anything else."""
        if not self.target.is_dir():
            raise TanetError(f"{self.target} is a file, not a folder. Choose a folder name.")
        manifest = _manifest(self.target) if self.owner else None
        if manifest and manifest.get("owner") != self.owner:
            raise TanetError(f"{self.target} holds {manifest.get('owner')}, not {self.owner}; tanet leaves it alone "
                             f"and deleted nothing. {self.hint}")
        listed = set(manifest["files"]) if manifest else set()
        names = {p.name for p in self.target.iterdir()} - {MANIFEST}
        strangers = sorted(n for n in names if not (n in listed and (self.target / n).is_file()) and not owned(n))
        if strangers:
            more = f" and {len(strangers) - 3} more" if len(strangers) > 3 else ""
            raise TanetError(f"{self.target} holds other files ({', '.join(strangers[:3])}{more}) that tanet did "
                             f"not write; it only replaces a folder of its own {what}, so it deleted nothing. "
                             + self.hint)
        return names

    def write(self, name: str, data: bytes | str) -> Path:
        """Write one file of the folder (a name inside it: `a.eml`, or `sub/a.html` in a folder
        already made); its final path."""
        self.put(name, data.encode("utf-8") if isinstance(data, str) else data)
        return self.target / name

    def put(self, name: str, data: bytes) -> None:
        """Write one file of the folder, as `write` does, for a folder of thousands: its path is
        made as text, and its bytes written with one os.write (more only if the system writes
        less), so each file costs its creation and its bytes, little more."""
        try:
            fd = os.open(self.inside + name, _NEW_FILE, 0o600)
            try:
                done = os.write(fd, data)
                if done < len(data):
                    view = memoryview(data)[done:]
                    while view:
                        view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        except OSError as e:
            self.abandon()
            raise cannot_write(self.target / name, e) from None
        self.names.append(name)

    def commit(self) -> Path:
        """Put the finished folder in place of the target. Of the old folder only the files
        found to be tanet's are deleted; anything that appeared since is moved across."""
        import json

        if self.owner:
            self.write(MANIFEST, json.dumps({"owner": self.owner, "files": sorted(self.names)}, indent=1))
        old = None
        try:
            sync_files(self.path)
            if self.target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", suffix=".old", dir=self.target.parent))
                os.rmdir(old)
                os.rename(self.target, old)
            os.rename(self.path, self.target)
        except OSError as e:
            if old is not None and not self.target.exists():
                os.rename(old, self.target)
            self.abandon()
            raise cannot_write(self.target, e) from None
        if old is not None:
            self._clear(old)
        _fsync_folder(self.target.parent)
        return self.target

    def _clear(self, old: Path) -> None:
        for p in old.iterdir():
            try:
                if p.name in self.replaces | {MANIFEST} and p.is_file() and not p.is_symlink():
                    os.unlink(p)
                elif not (self.target / p.name).exists():
                    os.rename(p, self.target / p.name)
            except OSError:
                pass
        try:
            os.rmdir(old)
        except OSError:  # something of someone else's is still there: leave it be
            pass

    def abandon(self) -> None:
        with interrupts_held():  # a second Ctrl-C must not stop the clearing half-way
            shutil.rmtree(self.path, ignore_errors=True)
            for folder in reversed(self.made):  # the folders made for it, if still empty
                try:
                    os.rmdir(folder)
                except OSError:
                    break

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            self.abandon()
        return False
