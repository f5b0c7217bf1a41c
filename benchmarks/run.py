"""Side-by-side medians of tanet against sqlite-utils (and icalendar) on the same files.

    make bench            # or: .venv/bin/python benchmarks/run.py [--runs 7]

Builds its data sets in benchmarks/data/ (ignored by git), then prints one row per
comparison: the two medians, their ratio and the goal. Results also go to
benchmarks/results.md, which the README quotes.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
BIN = Path(sys.executable).parent
TANET = [str(BIN / "tanet")]
SQLITE_UTILS = [str(BIN / "sqlite-utils")]


def run(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """Wall time (s) and peak memory (KiB) of one run."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss


def medians(a, b, runs: int, before=None):
    """Alternate the two commands so both see the same machine load."""
    ta, tb, ma = [], [], []
    for _ in range(runs):
        if before:
            before()
        t, m = run(*a)
        ta.append(t)
        ma.append(m)
        if before:
            before()
        tb.append(run(*b)[0])
    return statistics.median(ta), statistics.median(tb), max(ma)


def env_for(db: Path) -> dict:
    return {**os.environ, "TANET_DB": str(db), "NO_COLOR": "1"}


def write_members_csv(path: Path, count: int) -> None:
    sys.path.insert(0, str(HERE.parent))
    import random
    from datetime import date

    from tanet.demo_people import make_members

    people = make_members(random.Random(1), count, date(2020, 1, 1), date(2026, 1, 1))
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email", "Phone", "Organisation", "Service area", "Sector", "Role", "Date joined"])
        for p in people:
            d = date.fromisoformat(p["joined_on"])
            w.writerow([p["name"], p["email"], p["phone"], p["organisation"], p["service_area"], p["sector"],
                        p["role"], f"{d:%d/%m/%Y}"])


def build(force: bool) -> dict:
    DATA.mkdir(exist_ok=True)
    paths = {"small": DATA / "demo-140.db", "big": DATA / "demo-10000x10.db", "csv": DATA / "rows-10000.csv",
             "ics_db": DATA / "meetings-500.db", "ics": DATA / "meetings-500.ics",
             "csv_100k": DATA / "rows-100000.csv", "db_100k": DATA / "members-100000.db",
             "huge": DATA / "demo-100000x10.db"}
    if force:
        for p in paths.values():
            for f in p.parent.glob(p.name + "*"):
                f.unlink()
    if not paths["small"].exists():
        subprocess.run(TANET + ["demo", "--db", str(paths["small"]), "--quiet"], check=True, stdout=subprocess.DEVNULL)
    if not paths["big"].exists():
        t = time.perf_counter()
        subprocess.run(TANET + ["demo", "--db", str(paths["big"]), "--members", "10000", "--years", "10", "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"built the 10,000-member, 10-year demo in {time.perf_counter() - t:.1f} s")
    if not paths["huge"].exists():
        t = time.perf_counter()
        subprocess.run(TANET + ["demo", "--db", str(paths["huge"]), "--members", "100000", "--years", "10", "--quiet"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"built the 100,000-member, 10-year demo in {time.perf_counter() - t:.1f} s")
    for key, count in (("csv", 10_000), ("csv_100k", 100_000)):
        if not paths[key].exists():
            # In a child process: the kernel counts a child's peak memory from the size of
            # the process it was forked from, so this one must stay small.
            subprocess.run([sys.executable, __file__, "--write-csv", str(paths[key]), str(count)], check=True)
    if not paths["db_100k"].exists():
        env = env_for(paths["db_100k"])
        subprocess.run(TANET + ["init"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(TANET + ["member", "import", str(paths["csv_100k"])], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    if not paths["ics_db"].exists():
        env = env_for(paths["ics_db"])
        subprocess.run(TANET + ["init", "--organiser-email", "coordinator@example.org"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(TANET + ["meeting", "plan", "--start", "2027-01-05", "--count", "500", "--every", "1",
                                "--times", "10:00,15:45", "--location", "Leith Library", "--url",
                                "https://meet.example.org/x"], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(TANET + ["export", "ics", "-o", str(paths["ics"])], env=env, check=True, stdout=subprocess.DEVNULL)
    for key in ("small", "big", "huge", "db_100k"):  # a file from an older tanet: upgrade it before timing
        subprocess.run(TANET + ["info"], env=env_for(paths[key]), check=True, stdout=subprocess.DEVNULL)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true", help="build the data sets again")
    ap.add_argument("--write-csv", nargs=2, metavar=("PATH", "COUNT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_csv:
        write_members_csv(Path(args.write_csv[0]), int(args.write_csv[1]))
        return
    # An installed tanet has its bytecode compiled (pip does it, as it did for sqlite-utils);
    # this editable checkout may not, where PYTHONDONTWRITEBYTECODE is set.
    import compileall

    compileall.compile_dir(HERE.parent / "tanet", quiet=1)
    paths = build(args.rebuild)
    n = args.runs
    rows, memory = [], []

    a, b, mem = medians((TANET + ["member", "list", "--format", "json"], env_for(paths["small"])),
                        (SQLITE_UTILS + ["tables", str(paths["small"]), "--counts"], None), n)
    rows.append(("startup: `member list --format json` (140 members)", "`sqlite-utils tables --counts`", a, b, 0.75, mem))

    target = DATA / "import-target.db"
    su_target = DATA / "import-su.db"

    def fresh():
        for p in (target, su_target):
            for f in DATA.glob(p.name + "*"):
                f.unlink()
        subprocess.run(TANET + ["init"], env=env_for(target), check=True, stdout=subprocess.DEVNULL)

    a, b, mem = medians((TANET + ["member", "import", str(paths["csv"])], env_for(target)),
                        (SQLITE_UTILS + ["insert", str(su_target), "members", str(paths["csv"]), "--csv"], None), n,
                        before=fresh)
    rows.append(("import 10,000 rows into a new file", "`sqlite-utils insert --csv`", a, b, 2.5, mem))

    a, b, mem = medians((TANET + ["report", "quarter", "--format", "json"], env_for(paths["big"])),
                        (SQLITE_UTILS + ["tables", str(paths["big"]), "--counts"], None), n)
    rows.append(("quarterly report, 10,000 members x 10 years", "`sqlite-utils tables --counts`", a, b, 1.5, mem))
    report_mem = mem

    # The summary on 100,000 members x 10 years against counting the same period's distinct
    # attendees with sqlite-utils: the whole history (report range), and the last quarter.
    import sqlite3
    from datetime import date

    sys.path.insert(0, str(HERE.parent))
    from tanet.report import period_of_quarter

    with sqlite3.connect(paths["huge"]) as c:
        first = c.execute("SELECT min(date) FROM meetings").fetchone()[0]
    today = date.today()
    last = period_of_quarter("last", False, 4, today)
    plain = DATA / "demo-100000x10-plain.db"
    if not plain.exists():
        import shutil

        shutil.copy(paths["huge"], plain)
        with sqlite3.connect(plain) as c:
            c.executescript("""DROP INDEX attendance_meeting_status; DROP INDEX attendance_present;
                               DROP INDEX members_groups; DROP INDEX members_joined; DROP INDEX members_left;
                               CREATE INDEX members_service_area ON members(service_area); VACUUM;""")
    distinct = ("SELECT count(DISTINCT a.member_id) FROM attendance a JOIN meetings m ON m.id = a.meeting_id "
                "WHERE a.status = 'present' AND m.status = 'scheduled' AND m.date BETWEEN :s AND :e")
    for what, mine, span, goal in (
            ("`report range` over the whole history, 100,000 x 10",
             ["report", "range", "--from", first, "--to", today.isoformat()], (first, today.isoformat()), 2.0),
            ("`report quarter last`, 100,000 x 10", ["report", "quarter", "last"], (last["start"], last["end"]), 1.5)):
        peer = SQLITE_UTILS + ["query", str(paths["huge"]), distinct, "-p", "s", span[0], "-p", "e", span[1]]
        a, b, mem = medians((TANET + mine + ["--format", "json"], env_for(paths["huge"])), (peer, None), n)
        rows.append((what, "`sqlite-utils query` counting the distinct attendees", a, b, goal, mem))
        memory.append((what, mem))
        # For reference: the same query on a copy without the summary's indexes, where
        # SQLite plans it differently (faster for one quarter, slower for ten years).
        peer[2] = str(plain)
        a, b, mem = medians((TANET + mine + ["--format", "json"], env_for(paths["huge"])), (peer, None), n)
        rows.append((what, "the same query on a copy without tanet's summary indexes", a, b, None, mem))

    parse = [sys.executable, "-c", f"import icalendar; icalendar.Calendar.from_ical(open({str(paths['ics'])!r}, 'rb').read())"]
    a, b, mem = medians((TANET + ["export", "ics", "-o", str(DATA / "out.ics")], env_for(paths["ics_db"])),
                        (parse, None), n)
    rows.append(("`export ics` of 500 meetings", "icalendar parsing the same file", a, b, 1.5, mem))

    # Invitations against the floor: the same messages built plainly, member by member.
    invite_db = DATA / "invite-140.db"
    invite_out, floor_out = DATA / "invites-out", DATA / "floor-out"

    def fresh_invites():
        import shutil

        for p in DATA.glob(invite_db.name + "*"):
            p.unlink()
        shutil.copy(paths["small"], invite_db)
        for folder in (invite_out, floor_out):
            shutil.rmtree(folder, ignore_errors=True)

    floor = [sys.executable, str(HERE / "invite_floor.py"), str(invite_db), str(floor_out)]
    a, b, mem = medians((TANET + ["invite", "next", "-o", str(invite_out)], env_for(invite_db)), (floor, None), n,
                        before=fresh_invites)
    rows.append(("`invite next` (the 140-member demo)", "the floor: the same messages built plainly", a, b, 0.6, mem))

    # Replies: importing an mbox against reading and parsing it with mailbox + email alone.
    replies_db = DATA / "replies.db"
    if not replies_db.exists():
        env = env_for(replies_db)
        subprocess.run(TANET + ["init", "--organiser-email", "alex.morgan@council.example"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        for who in ("mhairi.robertson@leithfamilyhub.example", "peadar.osuilleabhain@edinburghyouthjustice.example",
                    "zoe.fraser@pentlandprimary.example", "seonaid.campbell@forthvalleyhousing.example",
                    "niamh.buchanan@lothianperinatal.example", "tomasz.wisniewski@grantoncmh.example"):
            subprocess.run(TANET + ["member", "add", who.split("@")[0], "--email", who, "--org", "O", "--area",
                                    "housing", "--sector", "public", "--role", "frontline", "--joined", "2025-01-01"],
                           env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(TANET + ["meeting", "add", "2027-01-19", "--location", "x", "--uid",
                                "0d1f6c9e-7a1b-4c55-9f0e-3b2a5d8e4c11@tanet"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    mboxes = {}
    for count in (1_000, 10_000):
        mboxes[count] = DATA / f"replies-{count}.mbox"
        if not mboxes[count].exists():
            subprocess.run([sys.executable, str(HERE / "replies_mbox.py"), "build", str(mboxes[count]), str(count)],
                           check=True)
    rsvp = TANET + ["rsvp", "import", str(mboxes[10_000]), "--dry-run", "--format", "json"]
    parse_alone = [sys.executable, str(HERE / "replies_mbox.py"), "floor", str(mboxes[10_000])]
    a, b, mem = medians((rsvp, env_for(replies_db)), (parse_alone, None), max(3, n // 2))
    rows.append(("`rsvp import` of an mbox of 10,000 replies", "`mailbox` + `email` parsing them alone", a, b, 2.0,
                 mem))
    _, mem_1k = run(TANET + ["rsvp", "import", str(mboxes[1_000]), "--dry-run", "--format", "json"],
                    env_for(replies_db))
    memory.append(("`rsvp import`, 1,000 replies", mem_1k))
    memory.append(("`rsvp import`, 10,000 replies", mem))

    # Tables against the same command's JSON: what drawing the table itself costs.
    a, b, mem = medians((TANET + ["member", "list"], env_for(paths["small"])),
                        (TANET + ["member", "list", "--format", "json"], env_for(paths["small"])), n)
    rows.append(("`member list` table (140 members)", "the same as `--format json`", a, b, 1.5, mem))
    a, b, mem = medians((TANET + ["attendance", "show", "last", "--register"], env_for(paths["big"])),
                        (TANET + ["attendance", "show", "last", "--register", "--format", "json"], env_for(paths["big"])), n)
    rows.append(("`attendance show last --register` table, 10,000 x 10", "the same as `--format json`", a, b, 2.0, mem))

    # Memory on 100,000 members: both stream.
    _, list_mem = run(TANET + ["member", "list", "--format", "json"], env_for(paths["db_100k"]))
    memory.append(("`member list --format json`, 100,000 members", list_mem))
    fresh_100k = DATA / "import-100k.db"
    for f in DATA.glob(fresh_100k.name + "*"):
        f.unlink()
    subprocess.run(TANET + ["init"], env=env_for(fresh_100k), check=True, stdout=subprocess.DEVNULL)
    t, import_mem = run(TANET + ["member", "import", str(paths["csv_100k"])], env_for(fresh_100k))
    memory.append((f"`member import` of 100,000 members ({t:.1f} s)", import_mem))

    lines = ["| what | tanet (median) | against | theirs (median) | ratio | goal |", "|---|---|---|---|---|---|"]
    ok = True
    for what, other, a, b, goal, mem in rows:
        ratio = a / b
        verdict = "for reference" if goal is None else f"<= {goal}x {'ok' if ratio <= goal else 'MISSED'}"
        ok &= goal is None or ratio <= goal
        lines.append(f"| {what} | {a * 1000:.0f} ms | {other} | {b * 1000:.0f} ms | {ratio:.2f}x | {verdict} |")
    lines += ["", "| peak memory | MiB | goal |", "|---|---|---|"]
    for what, kib in memory:
        ok &= kib / 1024 <= 64
        lines.append(f"| {what} | {kib / 1024:.0f} | <= 64 {'ok' if kib / 1024 <= 64 else 'MISSED'} |")
    lines.append("")
    lines.append(f"Peak memory of the quarterly report on the large file: {report_mem / 1024:.0f} MiB (goal < 150 MiB). "
                 f"Medians of {n} alternating runs; Python {sys.version.split()[0]}, {os.cpu_count()} cores.")
    text = "\n".join(lines)
    print(text)
    (HERE / "results.md").write_text(text + "\n")
    if not ok or report_mem / 1024 >= 150:
        sys.exit(1)


if __name__ == "__main__":
    main()
