"""Finding the database file, opening it safely, and one transaction per command."""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from tanet.errors import TanetError
from tanet.store.schema import MIGRATION_SET, MIGRATIONS

BUSY_TIMEOUT_MS = 30_000


def resolve_path(option: str | os.PathLike | None = None) -> Path:
    """`--db` beats `TANET_DB`, which beats the per-user data folder."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get("TANET_DB")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return platformdirs.user_data_path("tanet") / "tanet.db"


def _create_file(path: Path) -> None:
    from tanet.store.files import make_folder

    try:
        make_folder(path.parent)
    except TanetError:
        raise TanetError(f"Cannot create the database at {path}: its folder cannot be made. "
                         "Choose a folder you can write to with --db PATH or TANET_DB.") from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as e:
        raise TanetError(
            f"Cannot create the database at {path}: {e.strerror}. "
            "Choose a folder you can write to with --db PATH or TANET_DB."
        ) from None


def owner_only(path: Path) -> None:
    """Take group and other permissions away; never add one (a 0400 file stays 0400), except
    that the journal (-wal, -shm) follows the database file: made read-only beside a read-only
    file, it is writable again once the file is (else every write would fail)."""
    try:
        file_mode = path.stat().st_mode & 0o7777
    except OSError:
        return
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = p.stat().st_mode & 0o7777
            wanted = mode & ~0o077
            if p != path and file_mode & 0o200 and not mode & 0o200:
                wanted = file_mode & 0o600
            if wanted != mode:
                p.chmod(wanted)
        except OSError:
            pass


class UnusableFile(TanetError):
    """The file itself cannot be used (damaged, or changed outside tanet); `restore` may replace it."""


class ForeignSchema(UnusableFile):
    """The file holds triggers, views, tables, indexes or columns tanet's migrations never make."""

    def __init__(self, path: Path, objects: list[str]):
        self.objects = objects
        more = f" and {len(objects) - 3} more" if len(objects) > 3 else ""
        super().__init__(
            f"{path} holds {', '.join(objects[:3])}{more}, which tanet never makes, so it was not used: a file "
            "changed outside tanet could act behind your back. Put back a backup you made yourself "
            "(tanet restore BACKUP --yes), or ask whoever gave you the file.")


def harden(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Nothing in the file's schema may call functions with side effects, and SQLite refuses
    the writes that could corrupt a file (defensive mode, where this Python can set it: 3.12+)."""
    conn.execute("PRAGMA trusted_schema = OFF")
    if hasattr(conn, "setconfig"):
        conn.setconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE, True)
    return conn


class Connection(sqlite3.Connection):
    """An SQLite connection that knows its file, and whether tanet may write to it."""

    path: Path
    read_only_reason: str | None = None
    discarding: bool = False  # the transaction under way rolls back at its end


def connect(path: Path, *, wal: bool = True) -> Connection:
    """Open an SQLite connection with tanet's settings; no schema work."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, factory=Connection)
    conn.path = path
    conn.row_factory = sqlite3.Row
    try:
        harden(conn)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if wal and conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as e:
        conn.close()
        raise explain(e, path) from None
    return conn


def refusing_writes(path: Path) -> str:
    """Why a file cannot be written: its permission bits, or (when they allow writing) the
    file or its disk itself."""
    try:
        bits_allow = bool(path.stat().st_mode & 0o200)
    except OSError:
        bits_allow = False
    if not bits_allow:
        return (f"{path} is read-only (its permissions allow reading only), so nothing was changed. "
                f"To allow changes: chmod u+w {path}")
    return (f"{path} cannot be written, although its permissions allow it: the file or its folder refuses changes "
            "(it may be on a disk mounted read-only, or locked against changes). Nothing was changed. Copy the file "
            "to a folder you can write to and use that copy with --db, or ask whoever manages the computer.")


def explain(e: sqlite3.DatabaseError, path: Path) -> TanetError:
    """One line a coordinator can act on, for an error SQLite gave about `path`."""
    text = str(e).lower()
    folder = path.parent
    if "readonly" in text or "read-only" in text:
        if not os.access(path, os.W_OK):
            return TanetError(refusing_writes(path))
        return TanetError(f"tanet cannot write beside {path}: the folder {folder} is read-only, and SQLite needs "
                          "to keep its journal there. Nothing was changed; move the file to a folder you can write to.")
    if "unable to open" in text:
        if not os.access(folder, os.W_OK | os.X_OK):
            return TanetError(f"tanet cannot open {path}: the folder {folder} is read-only or closed to you, and SQLite "
                              "needs to keep its journal there. Move the file to a folder you can write to.")
        return TanetError(f"tanet cannot open {path} ({e}). Check the path given with --db or TANET_DB.")
    if "disk i/o error" in text and _looks_full(e, folder):
        return TanetError(f"The disk holding {path} seems to be full: SQLite could not write its journal beside "
                          "the file. Nothing was changed and the file is not damaged. Free some space and try again.")
    if "disk i/o error" in text:
        return TanetError(f"The disk holding {path} could not be read or written (disk I/O error); nothing was "
                          "changed. Check that the disk is connected and has free space, then try again.")
    if "disk is full" in text or "database or disk is full" in text:
        return TanetError(f"The disk holding {path} is full, so nothing was changed. Free some space and try again.")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return UnusableFile(f"{path} is damaged or is not a database ({e}). Nothing was changed. "
                          "Put back your latest backup with: tanet restore BACKUP --yes")
    if "locked" in text or "busy" in text:
        return TanetError(f"{path} is busy in another program for more than {BUSY_TIMEOUT_MS // 1000} s. "
                          "Close it there and try again.")
    return TanetError(f"The database {path} could not be used ({e}); nothing was changed. "
                      "Check it with: tanet check")


# SQLite's extended codes for a write that could not grow a file: what a full disk gives.
_GROWING = {778, 1546, 4874, 5386}  # IOERR_WRITE, IOERR_TRUNCATE, IOERR_SHMSIZE, IOERR_SHMMAP


def _looks_full(e: sqlite3.DatabaseError, folder: Path) -> bool:
    if getattr(e, "sqlite_errorcode", None) in _GROWING:
        return True
    try:
        return os.statvfs(folder).f_bavail == 0
    except (OSError, AttributeError):
        return False


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    has_table = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone()
    if not has_table:
        return []
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            [MIGRATION_SET],
        )
    ]


def recorded_migrations(path: Path) -> list[str] | None:
    """tanet's migrations recorded in the file ([] for an empty database), or None when it
    is some other program's SQLite file. Reads without writing anything."""
    from urllib.parse import quote

    if path.stat().st_size == 0:
        return []
    with open(path, "rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise TanetError(f"{path} is not a tanet database (it is not an SQLite file at all). "
                             "Check the path given with --db or TANET_DB.")
    probe = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True,
                            timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        harden(probe)
        names = [r[0] for r in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if not names:
            return []
        if "_sqlite_migrations" not in names:
            return None
        found = applied_migrations(probe)
        if found and all(name in MIGRATIONS for name in found):
            # A newer tanet's file is not checked: it opens read-only, where no trigger can fire.
            from tanet.store.schema_check import foreign_objects

            foreign = foreign_objects(probe, len(found))
            if foreign:
                raise ForeignSchema(path, foreign)
        return found or None
    except sqlite3.DatabaseError as e:
        raise explain(e, path) from None
    finally:
        probe.close()


def open_db(path: Path, *, create: bool = False, migrate: bool = True) -> Connection:
    """Open and upgrade tanet's database at `path` (created only when `create`).

    Any other SQLite file is refused before anything is written to it; a file made
    by a newer tanet opens for reading only."""
    if path.is_dir():
        raise TanetError(f"{path} is a folder, not a database file. Give a file name, e.g. {path / 'tanet.db'}.")
    if not path.exists():
        if not create:
            raise TanetError(f"There is no tanet database at {path}. Create one with: tanet init "
                             "(or check the path given with --db or TANET_DB).")
        _create_file(path)
    from tanet.store.unfinished import sweep

    sweep(path)
    try:
        recorded = recorded_migrations(path)
    except PermissionError:
        raise TanetError(f"You may not read {path}. Check its permissions (ls -l {path}).") from None
    if recorded is None:
        raise TanetError(f"{path} is another program's SQLite database, not tanet's; it was left untouched. "
                         "Check the path given with --db or TANET_DB.")
    owner_only(path)
    # Even where the system would let us (root), a file its owner made read-only stays so; and one
    # the system refuses to change (a read-only disk, a locked file) is read only, whatever its bits.
    writable = bool(path.stat().st_mode & 0o200) and os.access(path, os.W_OK)
    conn = connect(path, wal=writable)
    if not writable:
        return read_only(conn, refusing_writes(path))
    unknown = [name for name in recorded if name not in MIGRATIONS]
    if unknown:
        return read_only(conn, f"{path} was made by a newer tanet (it has the change '{unknown[-1]}' that this "
                               "version does not know), so this version will not change it. Install the newer tanet.")
    if migrate and set(MIGRATIONS) - set(recorded):
        try:
            _migrate(conn)
        except sqlite3.DatabaseError as e:
            conn.close()
            raise explain(e, path) from None
        owner_only(path)
    return conn


_CHANGES = frozenset(getattr(sqlite3, f"SQLITE_{name}") for name in (
    "INSERT", "UPDATE", "DELETE", "CREATE_TABLE", "CREATE_INDEX", "CREATE_TRIGGER", "CREATE_VIEW", "DROP_TABLE",
    "DROP_INDEX", "DROP_TRIGGER", "DROP_VIEW", "ALTER_TABLE", "REINDEX", "ANALYZE", "CREATE_VTABLE", "DROP_VTABLE",
    "ATTACH", "DETACH"))


def _reads_only(action, arg1, arg2, db_name, trigger) -> int:
    """SQLite's authorizer for a file tanet must not change: everything may be read, and only
    the connection's own temporary tables (the summary's working tables) written."""
    if action in _CHANGES and db_name != "temp":
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and arg2 is not None:  # a pragma that sets something
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def read_only(conn: Connection, reason: str) -> Connection:
    """Keep `conn` from changing its file (PRAGMA query_only would forbid temporary tables too);
    a command that would write is told `reason` before it starts."""
    conn.read_only_reason = reason
    conn.set_authorizer(_reads_only)
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    from tanet.store import migrations

    # Hold the write lock while checking and applying, so two commands
    # started at once on a new file do not both create the tables.
    with transaction(conn):
        migrations.apply(conn)


def count_rows(conn: sqlite3.Connection, tables: tuple[str, ...]) -> dict[str, int]:
    """How many rows each of tanet's `tables` holds."""
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}


def schema_version(conn: sqlite3.Connection) -> int:
    return len(applied_migrations(conn))


@contextmanager
def transaction(conn: Connection, *, dry_run: bool = False, erasing: bool = False):
    """One write transaction: all of it lands, or none (errors, Ctrl-C, kill). Yields the
    connection to work on.

    A file tanet may not change refuses it at once with the reason, before anything is done.
    A `dry_run` does the same work and always rolls it back; on a file tanet may not change it
    works on a private copy in memory instead, so a preview shows what would change there too.
    `erasing` overwrites the bytes that deleted rows free, instead of only unlinking them."""
    reason = getattr(conn, "read_only_reason", None)
    if isinstance(conn, Connection):
        conn.discarding = False
    if reason and dry_run:
        with scratch_copy(conn) as copy:
            copy.execute("BEGIN")
            try:
                yield copy
            finally:
                if copy.in_transaction:
                    copy.execute("ROLLBACK")
        return
    require_writable(conn)
    if erasing:
        conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("ROLLBACK" if dry_run or getattr(conn, "discarding", False) else "COMMIT")


def discard(conn: Connection) -> None:
    """Have the transaction under way roll back at its end instead of saving: an import that
    found problems keeps nothing, though the command goes on to report them."""
    conn.discarding = True


def require_writable(conn: Connection) -> None:
    """Refuse, with the reason, to go on changing a file tanet may not change."""
    reason = getattr(conn, "read_only_reason", None)
    if reason:
        raise TanetError(reason)


@contextmanager
def scratch_copy(conn: Connection):
    """A private copy in memory of `conn`'s database, with tanet's settings, for a dry run on a
    file that must not change; it is thrown away at the end."""
    copy = sqlite3.connect(":memory:", isolation_level=None, factory=Connection)
    try:
        conn.backup(copy)
        copy.path = conn.path
        copy.row_factory = sqlite3.Row
        harden(copy)
        copy.execute("PRAGMA foreign_keys = ON")
        yield copy
    finally:
        copy.close()


