"""A file is data: its schema must be exactly the one tanet's own migrations make.

A database handed to tanet (a backup put back, a handover pack, any --db) could carry
triggers, views, tables, indexes or columns of its own, and a trigger runs inside every
write tanet makes. So before a file is used its schema is compared with the one this
version's migrations make: one query over sqlite_schema and pragma_table_xinfo, hashed and
compared with `schema.EXPECTED_SCHEMA` (a digest per number of migrations applied, generated
by `python -m tanet.store.schema_check` and guarded by a test that rebuilds it). Only when they
differ is sqlite_utils loaded, to build the expected schema and name what is foreign.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3

_ENTRIES = """
SELECT s.type, s.name, s.tbl_name, s.sql, x.cid, x.name, x.type, x."notnull", x.dflt_value, x.pk, x.hidden
FROM sqlite_schema s LEFT JOIN pragma_table_xinfo(s.name) x ON s.type IN ('table', 'view')
WHERE NOT (s.type = 'table' AND s.name IN ('sqlite_stat1', 'sqlite_stat4'))
ORDER BY s.type, s.name, x.cid
"""


def _plain(sql: str | None) -> str | None:
    """SQL as written, without the quoting and spacing that differ between sqlite-utils
    and SQLite versions (an identifier quoted or not is the same object)."""
    if sql is None:
        return None
    text = re.sub(r"[\"`\[\]]", "", sql)
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ?([(),]) ?", r"\1", text).strip().lower()


def entries(conn: sqlite3.Connection) -> list[tuple]:
    """The file's schema as plain tuples: one per object, and one per column of each table."""
    rows = []
    for kind, name, table, sql, cid, column, ctype, notnull, default, pk, hidden in conn.execute(_ENTRIES):
        if not rows or rows[-1][:2] != (kind, name) and cid in (None, 0):
            rows.append((kind, name, table, _plain(sql)))
        if cid is not None:
            rows.append(("column", f"{name}.{column}", name, (_plain(ctype), notnull, _plain(default), pk, hidden)))
    return rows


def digest(rows: list[tuple]) -> str:
    return hashlib.sha256(repr(sorted(set(rows), key=repr)).encode("utf-8")).hexdigest()


def expected_entries(applied: int) -> list[tuple]:
    """The schema a fresh file has after tanet's first `applied` migrations (slow: loads sqlite_utils)."""
    from sqlite_utils import Database

    from tanet.store.migrations import migrations
    from tanet.store.schema import MIGRATIONS

    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        stop = MIGRATIONS[applied] if applied < len(MIGRATIONS) else None
        migrations.apply(Database(conn, execute_plugins=False), stop_before=stop)
        return entries(conn)
    finally:
        conn.close()


def _describe(row: tuple) -> str:
    kind, name, table = row[0], row[1], row[2]
    if kind == "column":
        return f"column {name}"
    if kind in ("trigger", "index") and table != name:
        return f"{kind} {name} on {table}"
    return f"{kind} {name}"


def foreign_objects(conn: sqlite3.Connection, applied: int) -> list[str]:
    """What the file holds that tanet's own first `applied` migrations never make, in words
    ("trigger keep_deleted on members", "column members.shadow"); [] when it is exactly tanet's."""
    from tanet.store.schema import EXPECTED_SCHEMA

    try:
        found = entries(conn)
    except sqlite3.OperationalError:  # a view or table SQLite cannot even describe: name the objects only
        found = [(kind, name, table, _plain(sql)) for kind, name, table, sql in conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema")]
        expected = [row for row in expected_entries(applied) if row[0] != "column"]
        return [_describe(row) for row in found if row[:2] not in {e[:2] for e in expected}] or ["a broken schema"]
    if EXPECTED_SCHEMA.get(applied) == digest(found):
        return []
    expected = expected_entries(applied)
    known = {row[:2]: row for row in expected}
    present = {row[:2] for row in found}
    # The columns of a whole table that is foreign (or missing) go without saying.
    odd_tables = {name for kind, name, *_ in found + expected
                  if kind in ("table", "view") and ((kind, name) not in known or (kind, name) not in present)}
    problems = []
    for row in found:
        if row[0] == "column" and row[2] in odd_tables:
            continue
        if row[:2] not in known:
            problems.append(_describe(row))
        elif known[row[:2]] != row:
            problems.append(f"{_describe(row)} (changed from tanet's)")
    problems += [f"{_describe(row)} (missing)" for row in expected
                 if row[:2] not in present and not (row[0] == "column" and row[2] in odd_tables)]
    problems = [text for text in problems if not (  # a table changed by its columns: the columns say how
        text.startswith("table ") and text.endswith("(changed from tanet's)")
        and any(other.startswith(f"column {text.split()[1]}.") for other in problems))]
    # What can act comes first: a trigger runs inside tanet's own writes.
    order = ("trigger", "view", "table", "column", "index")
    return sorted(problems, key=lambda text: order.index(text.split()[0]) if text.split()[0] in order else 9)


def generate() -> dict[int, str]:
    """The digests `schema.EXPECTED_SCHEMA` holds: one per number of migrations applied."""
    from tanet.store.schema import MIGRATIONS

    return {n: digest(expected_entries(n)) for n in range(1, len(MIGRATIONS) + 1)}


if __name__ == "__main__":  # python -m tanet.store.schema_check: the constant to paste into schema.py
    print("EXPECTED_SCHEMA = {")
    for n, value in generate().items():
        print(f'    {n}: "{value}",')
    print("}")
