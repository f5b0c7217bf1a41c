"""The register as `member export` writes it, line by line, for a register of any size (the
handover pack's members.csv): in the memory of one line, at little more than reading costs.

SQLite words each cell as it reads (the formula guard of text.csv_out, yes/no, '' for
none) and joins a row's cells with a separator no cell holds; Python adds the greeting
where none is stored and, for the rare row with a cell to quote (a comma, a double quote,
a line break, or the separator itself), hands the row's cells to csv.writer.
"""

from __future__ import annotations

import csv
import io
import sqlite3

from tanet import text as text_rules
from tanet.register import members

SEPARATOR = "\x1f"  # the unit separator, which no cell tanet writes holds (a row that does is read apart)
NOT_A_NAME = members.TITLES | {"former"}  # a first word the quick greeting leaves to members.default_known_as


def greeting_cell(name: str | None) -> str:
    """members.default_known_as(name) as the export writes it. Most names start with a word of
    plain letters that is not a title: that word, found without the general rule's work."""
    first = name.partition(" ")[0] if name else ""
    if first.isalpha() and first.isascii() and "," not in name and first.lower() not in NOT_A_NAME:
        return first
    said = members.default_known_as(name)
    return "" if said is None else text_rules.csv_out(said)


def cell_sql(column: str) -> str:
    """SQL for a column's cell as text.csv_out words it ('' for none). Most cells start with a
    letter or a digit, which sort apart from every character csv_out guards against and from
    the quote, and are passed on after two comparisons. A blob (written by another program)
    sorts after every text, so it is kept out of the first test (below x'', the least blob)
    and guarded as the text it becomes."""
    marks = sorted({39} | {i for i in range(128) if text_rules.csv_out(chr(i)) != chr(i)})  # 39: the quote
    low, high = max(i for i in marks if i < ord("0")), min(i for i in marks if i > ord("9"))

    def char(i: int) -> str:
        return "'" + chr(i).replace("'", "''") + "'"

    c = f"{column} COLLATE BINARY"
    return (f"CASE WHEN {column} IS NULL THEN '' "
            f"WHEN ({c} >= {char(marks[-1] + 1)} AND {c} < x'') OR ({c} >= {char(low + 1)} AND {c} < {char(high)}) "
            f"THEN {column} "
            f"WHEN unicode(ltrim({column}, '''')) IN ({', '.join(str(i) for i in marks if i != 39)}) "
            f"THEN '''' || {column} ELSE {column} END")


def csv_lines(conn: sqlite3.Connection):
    """The lines of to_csv(export_rows(conn)) after its header, each ending in CRLF, a member
    at a time."""
    keys = members.EXPORT_KEYS
    known = keys.index("known_as")
    cells = [{"id": f"CASE WHEN id >= 0 THEN id ELSE {cell_sql('id')} END",
              "ambassador": "CASE WHEN ambassador IN (0, '') THEN 'no' ELSE 'yes' END"}.get(k) or cell_sql(k)
             for k in keys]
    joined = " || char(31) || ".join
    cursor, one = conn.cursor(), conn.cursor()
    cursor.row_factory = one.row_factory = None  # plain tuples
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for key, head, said, name, tail in cursor.execute(
            f"""SELECT id, {joined(cells[:known])} || char(31), NULLIF({cells[known]}, ''), name,
                       char(31) || {joined(cells[known + 1:])}
                FROM members WHERE forgotten_on IS NULL ORDER BY id"""):
        line = head + (greeting_cell(name) if said is None else said) + tail
        if '"' in line or "," in line or "\n" in line or "\r" in line or line.count(SEPARATOR) != len(keys) - 1:
            *row, name = one.execute(f"SELECT {', '.join(cells)}, name FROM members WHERE id = ?", [key]).fetchone()
            row[known] = row[known] or greeting_cell(name)
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(row)
            yield buffer.getvalue()
        else:
            yield line.replace(SEPARATOR, ",") + "\r\n"


def write_csv(f, conn: sqlite3.Connection) -> None:
    """The header and every line of to_csv(export_rows(conn)) into the text file `f`."""
    csv.writer(f, lineterminator="\r\n").writerow(members.EXPORT_KEYS)
    f.writelines(csv_lines(conn))
