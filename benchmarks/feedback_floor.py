"""What any tanet command importing a Forms workbook must take, and no more: tanet's own
start (Python, Typer, its command line), python-calamine reading the first sheet, each
cell made text, and every response stored in one transaction. Nothing is checked.

    python benchmarks/feedback_floor.py WORKBOOK DATABASE   # prints the responses stored

For reference beside `feedback import` (scale_rows.feedback_row): what is left between the
two is tanet's check of the file and of each answer.
"""

from __future__ import annotations

import sqlite3
import sys

import tanet.cli  # noqa: F401  (as `tanet` starts)


def main(workbook: str, database: str) -> int:
    from python_calamine import CalamineWorkbook

    rows = [["" if c is None else str(c) for c in row]
            for row in CalamineWorkbook.from_path(workbook).get_sheet_by_index(0).iter_rows()]
    width = len(rows[0])
    conn = sqlite3.connect(database)
    with conn:
        conn.execute(f"CREATE TABLE floor_responses ({', '.join(f'c{i}' for i in range(width))})")
        conn.executemany(f"INSERT INTO floor_responses VALUES ({', '.join('?' * width)})",
                         (row + [""] * (width - len(row)) for row in rows[1:]))
    conn.close()
    return len(rows) - 1


if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2]))
