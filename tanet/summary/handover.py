"""The handover pack: everything the next coordinator needs, in one private folder.

    tanet.db          a consistent copy of the database (the only place private notes are)
    members.csv       the register
    calendar.ics      every meeting
    summaries/*.html  the last four quarters
    index.html        the state of the network, to read first
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from tanet import dates
from tanet.errors import TanetError
from tanet.meetings import schedule
from tanet.store import settings
from tanet.summary.handover_page import index_page


def copy_database(conn: sqlite3.Connection, dest: Path, target: Path, stop=None) -> None:
    """The database into the pack (safety.copy_whole, `stop` as there); a failure blames the
    pack's disk, never the database's."""
    from tanet.store.files import cannot_write
    from tanet.store.safety import copy_whole

    try:
        copy_whole(conn, dest, overwrite=False, stop=stop)
    except sqlite3.OperationalError as e:
        if "full" in str(e) or "i/o" in str(e).lower():
            raise TanetError(f"Cannot write the handover pack to {target}: the disk there is full (or the file "
                             "larger than allowed). Free some space there or choose another place with -o; the "
                             "database itself is unharmed.") from None
        raise TanetError(f"Cannot write the handover pack to {target} ({e}); "
                         "the database itself is unharmed.") from None
    except OSError as e:
        raise cannot_write(target, e) from None


def quarters_held(conn: sqlite3.Connection, today: date, count: int = 4) -> list[tuple[int, int]]:
    """The last `count` calendar quarters in which a meeting was held (up to today, this
    quarter too), oldest first; with no meeting held yet, this quarter alone."""
    found: list[tuple[int, int]] = []
    for (day,) in conn.execute("SELECT DISTINCT date FROM meetings WHERE status = 'scheduled' AND date <= ? "
                               "ORDER BY date DESC", [today.isoformat()]):
        quarter = dates.quarter_of(date.fromisoformat(day), False, 1)
        if quarter not in found:
            found.append(quarter)
            if len(found) == count:
                break
    return list(reversed(found)) or [dates.quarter_of(today, False, 1)]


def write_members_csv(out, conn: sqlite3.Connection, target: Path) -> None:
    """members.csv into the pack's unfinished folder (a NewFolder), written a member at a
    time as SQLite reads and words the rows: the same bytes as `member export`, without
    ever holding the whole register (100,000 members would be some 150 MB of Python objects)."""
    import os

    from tanet.register.export_lines import write_csv
    from tanet.store.files import cannot_write

    try:
        fd = os.open(out.path / "members.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8-sig", newline="") as f:  # the byte-order mark tells Excel it is UTF-8
            write_csv(f, conn)
    except OSError as e:
        raise cannot_write(target / "members.csv", e) from None
    out.names.append("members.csv")


def write_pack(conn: sqlite3.Connection, source: Path, target: Path, today: date) -> Path:
    """Write the pack whole (a hidden folder renamed into place) and owner-only, every file
    of it read from one snapshot of the database. Where tanet may change the file and no
    other program is writing, the database copy and the pages are made on connections of
    their own that start on the same snapshot, alongside members.csv (store/snapshot.py)."""
    from functools import partial

    from tanet.store.files import NewFolder
    from tanet.store.snapshot import Alongside, one_snapshot
    from tanet.store.unfinished import partial_copies

    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise TanetError(f"{target} already exists and is not empty; give a new folder for the handover pack.")
    # Recorded before the hidden folder exists: a kill -9 leaves a copy the next start removes.
    with partial_copies(source, target), NewFolder(target, owned=lambda name: False, what="files") as out:
        with one_snapshot(conn, source) as snapshot:
            if snapshot.shared:
                copying = Alongside(source, partial(copy_database, dest=out.path / "tanet.db", target=target))
                reading = Alongside(source, partial(pages, today=today))
                with copying, reading:
                    snapshot.share(copying, reading)  # other programs may write again from here
                    write_members_csv(out, conn, target)
                    write_calendar(out, conn)
                made = reading.result
            else:  # on the one connection, one part after another
                copy_database(conn, out.path / "tanet.db", target)
                write_members_csv(out, conn, target)
                write_calendar(out, conn)
                made = pages(conn, today)
        write_pages(out, *made)
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise TanetError(f"{target} appeared while the handover pack was being written; nothing was put "
                             "there. Give a new folder for the handover pack.")
        out.commit()
    return target


def write_calendar(out, conn: sqlite3.Connection) -> None:
    from tanet.mail import compose

    out.write("calendar.ics", compose.calendar_feed(conn, schedule.objects(conn, conn.execute(
        schedule.SELECT + " ORDER BY m.date, m.start").fetchall()), settings.get_all(conn)))


def pages(conn: sqlite3.Connection, today: date, stop=None) -> tuple[list[tuple[str, str]], str]:
    """The summaries of the last four quarters held, as (label, HTML), and index.html; `stop`
    (a threading.Event) set ends the work between summaries."""
    from tanet.summary import document as report_render
    from tanet.summary import report

    fiscal_start = int(settings.get(conn, "report.fiscal_year_start"))
    summaries, known = [], {}
    for year, q in quarters_held(conn, today):
        if stop is not None and stop.is_set():
            return [], ""
        period = report.period_of_quarter(f"{year}Q{q}", False, fiscal_start, today)
        try:
            data = report.summary(conn, period, today, known)
        except TanetError:  # nobody was a member yet
            continue
        summaries.append((period["label"], report_render.to_html(data)))
    return summaries, index_page(conn, today, [label for label, _ in summaries])


def write_pages(out, summaries: list[tuple[str, str]], index: str) -> None:
    import os

    os.mkdir(out.path / "summaries", 0o700)
    for label, page in summaries:
        out.write(f"summaries/{label}.html", page)
    out.write("index.html", index)
