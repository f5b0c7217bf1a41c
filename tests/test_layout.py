"""The layout keeps its promises: the command line parses arguments, calls the core and prints;
the SQL lives in the core module that owns the data."""

import ast
import re
from pathlib import Path

CLI = Path(__file__).resolve().parent.parent / "tanet" / "cli"

# A statement's opening words, in capitals as tanet writes SQL, or in any case where the words
# around them can only be SQL (so help texts such as "Update members ..." do not count).
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|CREATE|BEGIN|ROLLBACK|COMMIT)\b"
                 r"|(?i:\bselect\b.+\bfrom\b|\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\w+\s+set\b"
                 r"|\bpragma\s+\w+|\bcreate\s+(?:temp\s+|temporary\s+)?(?:table|index|view|trigger)\b)")
RUNS_SQL = {"execute", "executemany", "executescript"}


def sql_in(source: str) -> list[str]:
    """Each string literal (f-strings included) that reads as SQL, and each call that runs SQL."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
            found.append(f"line {node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, ast.Attribute) and (node.attr in RUNS_SQL or SQL.fullmatch(node.attr)):
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_no_sql_in_cli():
    found = {path.name: hits for path in sorted(CLI.glob("*.py")) if (hits := sql_in(path.read_text()))}
    assert not found, f"SQL in the command line (move it into the core module that owns the data): {found}"


def test_the_sql_finder_finds_sql_and_leaves_help_texts_alone():
    assert sql_in('conn.execute("PRAGMA secure_delete = ON")')
    assert sql_in('rows = conn.execute(f"SELECT email FROM outbox WHERE id IN ({marks})")')
    assert sql_in('rows = query(schedule.SELECT + " ORDER BY m.date")')
    assert sql_in('sql = "delete from members where id = ?"')
    assert not sql_in('help = "Update members whose e-mail is already known."')
    assert not sql_in('say("Delete a meeting added by mistake; select one with: tanet meeting list")')
    assert not sql_in('app.command("delete")')
