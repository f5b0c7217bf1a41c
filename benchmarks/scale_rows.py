"""run.py's rows at a region's scale: erasure, feedback import and the handover pack.

    python benchmarks/scale_rows.py [--runs 7]   # these rows alone (run.py includes them)

Each against its peer, on the demo files of 1,000 / 10,000 / 100,000 members x 10 years
(built as run.py builds them, into benchmarks/data/, and reused):

- `privacy review --apply` against `erase_peer.py`, the same erasure as set-based SQL in
  one sqlite3 transaction (secure_delete on, the log emptied into the file after), each
  run on a fresh copy; both must leave the same rows in every table;
- `feedback import` of a 10,000-response Forms workbook (`forms_xlsx.py build`) against
  python-calamine reading its sheet alone (`forms_xlsx.py read`);
- `handover -o DIR` against `sqlite3 FILE .backup` plus `sqlite-utils rows FILE members
  --csv`, which must write as many members (tanet's members.csv: `member export`'s bytes).
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
from pathlib import Path

import run as bench

SIZES = (("1k", 1_000, "demo-1000x10.db"), ("10k", 10_000, "demo-10000x10.db"),
         ("100k", 100_000, "demo-100000x10.db"))
LEFT_BEFORE, NOTES_BEFORE = "2024-11-25", "2025-11-25"  # the default 24 and 12 months before TODAY


def demo_files() -> dict[str, Path]:
    """The demo files, built once (run.py's 10k and 100k files are the same)."""
    bench.DATA.mkdir(exist_ok=True)
    files = {}
    for key, members, name in SIZES:
        files[key] = bench.DATA / name
        if not files[key].exists():
            bench.tanet(["demo", "--db", str(files[key]), "--quiet", "--members", str(members), "--years", "10"],
                        files[key])
        bench.tanet(["info"], files[key])  # upgraded before timing
    return files


def fresh_copy(source: Path, copy: Path) -> None:
    bench.remove(copy)
    shutil.copy(source, copy)
    os.sync()  # the copy's pages on disk before the timed run, for both sides alike


def table_digests(db: Path) -> dict[str, str]:
    """A digest of every table's rows in rowid order, read as a stream (this process stays small)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    digests = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        h = hashlib.sha256()
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            h.update(repr(row).encode())
        digests[table] = h.hexdigest()
    conn.close()
    return digests


def erasure_rows(files: dict, n: int) -> tuple[list[tuple], list[tuple], tuple[str, bool]]:
    rows, memory, medians = [], [], {}
    for key, members, _ in SIZES:
        mine_db, peer_db = bench.DATA / f"erase-tanet-{key}.db", bench.DATA / f"erase-peer-{key}.db"
        mine = bench.TANET + ["privacy", "review", "--apply", "--format", "json"]
        peer = bench.PYTHON + [str(bench.HERE / "erase_peer.py"), str(peer_db), LEFT_BEFORE, NOTES_BEFORE, bench.TODAY]

        def fresh():
            fresh_copy(files[key], mine_db)
            fresh_copy(files[key], peer_db)

        fresh()
        bench.run(mine, bench.env_for(mine_db))
        bench.run(peer)
        bench.same(f"the rows left by erasure at {key}", table_digests(mine_db), table_digests(peer_db))
        timing = bench.medians((mine, bench.env_for(mine_db)), (peer, None), n, before=fresh)
        medians[key] = timing
        what = f"`privacy review --apply`, {members:,} members x 10 years"
        rows.append((what, "the same erasure as set-based SQL in one transaction (`erase_peer.py`)", timing,
                     2.0 if key == "100k" else "for reference"))
        memory.append((what, timing.memory))
    return rows, memory, growth(medians)


def growth(medians: dict) -> tuple[str, bool]:
    """How erasure's time grows with ten times the members (goal: at most 12 times)."""
    steps = [(small, large, medians[large].mine / medians[small].mine) for small, large in (("1k", "10k"),
                                                                                            ("10k", "100k"))]
    ok = all(times <= 12 for _, _, times in steps)
    return ("`privacy review --apply` with ten times the members takes "
            + " and ".join(f"{times:.1f} times as long ({small} to {large})" for small, large, times in steps)
            + f" (goal: at most 12 times, {'ok' if ok else 'MISSED'})."), ok


def feedback_row(n: int) -> tuple[tuple, tuple, tuple]:
    form, template, db = bench.DATA / "forms-10000.xlsx", bench.DATA / "feedback-template.db", bench.DATA / "feedback.db"
    if not form.exists():
        subprocess.run(bench.PYTHON + [str(bench.HERE / "forms_xlsx.py"), "build", str(form), "10000"], check=True)
    if not template.exists():
        bench.tanet(["init"], template)
        bench.tanet(["meeting", "add", "2026-11-17", "--location", "Leith Library"], template)

    def fresh():
        bench.remove(db)
        shutil.copy(template, db)

    mine = bench.TANET + ["feedback", "import", "1", str(form), "--format", "json"]
    peer = bench.PYTHON + [str(bench.HERE / "forms_xlsx.py"), "read", str(form)]
    least = bench.PYTHON + [str(bench.HERE / "feedback_floor.py"), str(form), str(db)]
    fresh()
    import json

    bench.same("the responses read", json.loads(bench.output(mine, bench.env_for(db)))["responses"],
               int(bench.output(peer)) - 1)
    fresh()
    bench.same("the responses stored with nothing checked", int(bench.output(least)), int(bench.output(peer)) - 1)
    timing, skeleton = bench.three_way((mine, bench.env_for(db)), (peer, None), (least, None), n, fresh)
    # What tanet takes before it reads anything (Python, Typer, its own modules): the part of
    # the ratio no work on the import can take away.
    start_up = statistics.median(bench.run(bench.TANET + ["--version"])[0] for _ in range(n))
    what = f"`feedback import` of a Forms workbook of 10,000 responses (tanet's start-up alone: {start_up * 1000:.0f} ms)"
    return (what, "python-calamine reading the sheet alone (`forms_xlsx.py read`)", timing, 1.5), \
        (what, "tanet's start, calamine's read and the rows stored, nothing checked (`feedback_floor.py`)",
         skeleton, "for reference: what is left is the checks"), (what, timing.memory)


def handover_row(files: dict, n: int) -> tuple[tuple, tuple]:
    source = files["100k"]
    pack, backup, peer_csv = bench.DATA / "handover-pack", bench.DATA / "peer-backup.db", bench.DATA / "peer-members.csv"

    def fresh():
        shutil.rmtree(pack, ignore_errors=True)
        bench.remove(backup)
        bench.remove(peer_csv)

    mine = bench.TANET + ["handover", "-o", str(pack)]
    sqlite_utils = " ".join(bench.SQLITE_UTILS)
    peer = ["sh", "-c", f"sqlite3 '{source}' \".backup '{backup}'\" && {sqlite_utils} rows '{source}' members --csv "
                        f"> '{peer_csv}'"]
    fresh()
    bench.run(mine, bench.env_for(source))
    bench.run(peer)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as conn:
        forgotten = conn.execute("SELECT count(*) FROM members WHERE forgotten_on IS NOT NULL").fetchone()[0]
    lines = []
    for path in (pack / "members.csv", peer_csv):
        with open(path, encoding="utf-8-sig", newline="") as f:
            lines.append(sum(1 for _ in csv.reader(f)))
    bench.same("the members written", lines[0], lines[1] - forgotten)
    exported = bench.DATA / "handover-export.csv"  # and byte for byte as `member export` writes them
    bench.remove(exported)
    bench.tanet(["member", "export", "-o", str(exported)], source)
    bench.same("members.csv as member export writes it", hashlib.sha256((pack / "members.csv").read_bytes()).hexdigest(),
               hashlib.sha256(exported.read_bytes()).hexdigest())
    timing = bench.medians((mine, bench.env_for(source)), (peer, None), n, before=fresh)
    what = "`handover -o DIR`, 100,000 members x 10 years"
    return (what, "`sqlite3 .backup` + `sqlite-utils rows --csv` of the members", timing, 1.5), \
        (what, timing.memory)


def scale_rows(n: int) -> tuple[list[tuple], list[tuple], tuple[str, bool]]:
    """The rows, the peak memory of each, and a line on erasure's growth (with its verdict)."""
    files = demo_files()
    rows, memory, grown = erasure_rows(files, n)
    *feedback, feedback_peak = feedback_row(n)
    handover, handover_peak = handover_row(files, n)
    return rows + feedback + [handover], memory + [feedback_peak, handover_peak], grown


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    rows, memory, (grown, grown_ok) = scale_rows(args.runs)
    text, ok = bench.report(rows, memory, 0, args.runs)
    print(text.rsplit("\n", 1)[0] + "\n" + grown)  # the last line is run.py's, about the quarterly report
    sys.exit(0 if ok and grown_ok else 1)


if __name__ == "__main__":
    main()
