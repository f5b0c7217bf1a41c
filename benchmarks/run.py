"""Side-by-side medians of tanet against programs doing the same work on the same files.

    make bench            # or: .venv/bin/python benchmarks/run.py [--runs 7]

Builds its data sets in benchmarks/data/ (ignored by git) as if today were TODAY, and runs
every command with that day, so that two runs on different days measure the same thing.
Before timing, it checks once that each pair does the same work (the summary's figures
equal, the same rows, events and messages) and stops if not. Then it prints one row per
comparison: the two medians, their ratio and the goal. Results also go to
benchmarks/results.md, which the README quotes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
BIN = Path(sys.executable).parent
TANET = [str(BIN / "tanet")]
SQLITE_UTILS = [str(BIN / "sqlite-utils")]
PYTHON = [sys.executable]
TODAY = "2026-11-25"  # the demo files are built as on this day, and every command runs on it
QUARTER = ("2026Q3", "2026-07-01", "2026-09-30")  # the latest complete quarter on TODAY, named


class Timing(NamedTuple):
    mine: float  # median wall time (s)
    theirs: float
    memory: int  # tanet's peak memory (KiB), the most of its runs
    cpu_ratio: float  # median CPU time (user + system), tanet's over theirs: steadier on a busy machine


def run(cmd: list[str], env: dict | None = None) -> tuple[float, int, float]:
    """Wall time (s), peak memory (KiB) and CPU time (s) of one run."""
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stderr.read().decode()}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def output(cmd: list[str], env: dict | None = None) -> str:
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout


def medians(a, b, runs: int, before=None) -> Timing:
    """Alternate the two commands so both see the same machine load."""
    mine, theirs = [], []
    for _ in range(runs):
        for cmd, times in ((a, mine), (b, theirs)):
            if before:
                before()
            times.append(run(*cmd))
    wall, memory, cpu = zip(*mine)
    return Timing(statistics.median(wall), statistics.median(t[0] for t in theirs), max(memory),
                  statistics.median(cpu) / statistics.median(t[2] for t in theirs))


def env_for(db: Path) -> dict:
    return {**os.environ, "TANET_DB": str(db), "NO_COLOR": "1", "TANET_TODAY": TODAY}


def tanet(args: list[str], db: Path) -> None:
    subprocess.run(TANET + args, env=env_for(db), check=True, stdout=subprocess.DEVNULL)


def remove(path: Path) -> None:
    for f in path.parent.glob(path.name + "*"):
        f.unlink()


def write_members_csv(db: Path, path: Path) -> None:
    """A sign-up sheet of the demo file's members, in the spreadsheet's own headings."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn, open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Name", "Email", "Phone", "Organisation", "Service area", "Sector", "Role", "Date joined"])
        for name, email, phone, org, area, sector, role, joined in conn.execute(
                """SELECT name, email, phone, organisation, service_area, sector, role, joined_on
                   FROM members ORDER BY id"""):
            w.writerow([name, email, phone, org, area, sector, role, f"{joined[8:10]}/{joined[5:7]}/{joined[:4]}"])


PATHS = {"small": "demo-140.db", "send_1k": "demo-1000x10.db", "big": "demo-10000x10.db", "huge": "demo-100000x10.db",
         "csv": "rows-10000.csv",
         "csv_100k": "rows-100000.csv", "db_100k": "members-100000.db", "ics_db": "meetings-500.db"}


def build(force: bool) -> dict:
    DATA.mkdir(exist_ok=True)
    paths = {key: DATA / name for key, name in PATHS.items()}
    stamp = DATA / "built-on"
    if force or not stamp.exists() or stamp.read_text().strip() != TODAY:
        for p in paths.values():
            remove(p)
    for key, members in (("small", None), ("send_1k", 1_000), ("big", 10_000), ("huge", 100_000)):
        if not paths[key].exists():
            t = time.perf_counter()
            tanet(["demo", "--db", str(paths[key]), "--quiet"]
                  + (["--members", str(members), "--years", "10"] if members else []), paths[key])
            print(f"built {paths[key].name} in {time.perf_counter() - t:.1f} s")
    for key, source in (("csv", "big"), ("csv_100k", "huge")):
        if not paths[key].exists():
            # In a child process: the kernel counts a child's peak memory from the size of
            # the process it was forked from, so this one must stay small.
            subprocess.run(PYTHON + [__file__, "--write-csv", str(paths[source]), str(paths[key])], check=True)
    if not paths["db_100k"].exists():
        tanet(["init"], paths["db_100k"])
        tanet(["member", "import", str(paths["csv_100k"])], paths["db_100k"])
    if not paths["ics_db"].exists():
        tanet(["init", "--organiser-email", "coordinator@example.org"], paths["ics_db"])
        tanet(["meeting", "plan", "--start", "2027-01-05", "--count", "500", "--every", "1", "--times",
               "10:00,15:45", "--location", "Leith Library", "--url", "https://meet.example.org/x"], paths["ics_db"])
    for key in ("small", "send_1k", "big", "huge", "db_100k"):  # a file from an older tanet: upgrade it first
        tanet(["info"], paths[key])
    stamp.write_text(TODAY + "\n")
    return paths


def same(what: str, mine, theirs) -> None:
    """Stop the benchmark when the two sides of a row do not do the same work."""
    if mine != theirs:
        raise SystemExit(f"not the same work: {what}\ntanet:  {mine}\ntheirs: {theirs}")


def startup_rows(paths: dict, n: int) -> list[tuple]:
    """tanet's start against Python's own, and against a peer CLI reading the same rows."""
    small = paths["small"]
    mine = TANET + ["member", "list", "--format", "json"]
    peer = SQLITE_UTILS + ["query", str(small), "SELECT * FROM members WHERE left_on IS NULL OR left_on > :today "
                                                "ORDER BY name COLLATE NOCASE, id", "-p", "today", TODAY]
    same("the members listed", [m["id"] for m in json.loads(output(mine, env_for(small)))],
         [m["id"] for m in json.loads(output(peer))])
    timing = medians((mine, env_for(small)), (PYTHON + ["-c", "pass"], None), n)
    beyond = (timing.mine - timing.theirs) * 1000
    rows = [("startup: `member list --format json` (140 members)", "`python -c pass` (the same interpreter)", timing,
             f"for reference: tanet's own start is {beyond:.0f} ms beyond Python's")]
    timing = medians((mine, env_for(small)), (peer, None), n)
    rows.append(("startup: `member list --format json` (140 members)", "`sqlite-utils query` of the same rows as JSON",
                 timing, 0.75))
    return rows


def import_row(paths: dict, n: int) -> tuple:
    target, su_target = DATA / "import-target.db", DATA / "import-su.db"

    def fresh():
        remove(target)
        remove(su_target)
        tanet(["init"], target)

    timing = medians((TANET + ["member", "import", str(paths["csv"])], env_for(target)),
                        (SQLITE_UTILS + ["insert", str(su_target), "members", str(paths["csv"]), "--csv"], None), n,
                        before=fresh)
    return "import 10,000 rows into a new file", "`sqlite-utils insert --csv`", timing, 2.5


def summary_rows(paths: dict, n: int) -> tuple[list[tuple], list[tuple]]:
    """The summary against the plain SQL recount of its headline figures, same file, same period."""
    with sqlite3.connect(f"file:{paths['huge']}?mode=ro", uri=True) as c:
        first = c.execute("SELECT min(date) FROM meetings").fetchone()[0]
    name, start, end = QUARTER
    cases = (("big", f"`report quarter {name}`, 10,000 members x 10 years", ["report", "quarter", name], start, end,
              1.5),
             ("huge", "`report range` over the whole history, 100,000 x 10",
              ["report", "range", "--from", first, "--to", TODAY], first, TODAY, 2.0),
             ("huge", f"`report quarter {name}`, 100,000 x 10", ["report", "quarter", name], start, end, 1.5))
    rows, memory = [], []
    for key, what, args, s, e, goal in cases:
        mine = TANET + args + ["--format", "json"]
        peer = PYTHON + [str(HERE / "summary_recount.py"), str(paths[key]), s, e, TODAY]
        theirs = json.loads(output(peer))
        summary = json.loads(output(mine, env_for(paths[key])))
        same(f"the figures of {what}", {k: summary[k] for k in theirs}, theirs)
        timing = medians((mine, env_for(paths[key])), (peer, None), n)
        rows.append((what, "plain SQL recounting the same figures (`summary_recount.py`)", timing, goal))
        memory.append((what, timing.memory))
    return rows, memory


def calendar_lines(text: str) -> list[str]:
    """A calendar's lines but for those that name the program or the moment of writing."""
    return [line for line in text.splitlines()
            if not line.startswith(("PRODID:", "DTSTAMP:")) and not (line.startswith("UID:") and "@" not in line)]


def ics_row(paths: dict, n: int) -> tuple:
    mine, theirs = DATA / "out.ics", DATA / "peer.ics"
    writer = PYTHON + [str(HERE / "ics_writer.py"), str(paths["ics_db"]), str(theirs)]
    timing = medians((TANET + ["export", "ics", "-o", str(mine)], env_for(paths["ics_db"])), (writer, None), n)
    same("the calendar written", *(calendar_lines(p.read_text()) for p in (mine, theirs)))
    return ("`export ics` of 500 meetings", "icalendar writing the same calendar (`ics_writer.py`)", timing, 1.5)


def message_parts(path: Path) -> list:
    """A message's subject, addresses, parts, text and calendar (as calendar_lines reads it)."""
    from email import message_from_bytes, policy

    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    parts = list(msg.walk())
    calendar = next(p for p in parts if p.get_content_type() == "text/calendar").get_content()
    return [msg["Subject"], msg["From"], msg["To"], [(p.get_content_type(), p["Content-Transfer-Encoding"])
                                                     for p in parts],
            msg.get_body(("plain",)).get_content(), calendar_lines(calendar)]


def invite_rows(paths: dict, n: int) -> list[tuple]:
    """Invitations against the floor: the same messages built plainly, member by member."""
    invite_db = DATA / "invite-140.db"
    invite_out, floor_out = DATA / "invites-out", DATA / "floor-out"

    def fresh_invites():
        remove(invite_db)
        shutil.copy(paths["small"], invite_db)
        for folder in (invite_out, floor_out):
            shutil.rmtree(folder, ignore_errors=True)

    mine = TANET + ["invite", "next", "-o", str(invite_out)]
    floor = PYTHON + [str(HERE / "invite_floor.py"), str(paths["small"]), str(floor_out), TODAY]
    fresh_invites()
    run(mine, env_for(invite_db))
    run(floor)
    same("the number of messages", len(list(invite_out.iterdir())), len(list(floor_out.iterdir())))
    same("the first message", *(message_parts(min(folder.iterdir())) for folder in (invite_out, floor_out)))
    timing = medians((mine, env_for(invite_db)), (floor, None), n, before=fresh_invites)
    synced = medians((mine, env_for(invite_db)), (floor + ["--sync"], None), n, before=fresh_invites)
    return [("`invite next` (the 140-member demo)", "the floor: the same messages built plainly", timing, 0.6),
            ("`invite next` (the 140-member demo)", "the floor syncing each file to disk, as tanet does", synced,
             "for reference")]


def replies_db() -> Path:
    db = DATA / "replies.db"
    if not db.exists():
        tanet(["init", "--organiser-email", "alex.morgan@council.example"], db)
        for who in ("mhairi.robertson@leithfamilyhub.example", "peadar.osuilleabhain@edinburghyouthjustice.example",
                    "zoe.fraser@pentlandprimary.example", "seonaid.campbell@forthvalleyhousing.example",
                    "niamh.buchanan@lothianperinatal.example", "tomasz.wisniewski@grantoncmh.example"):
            tanet(["member", "add", who.split("@")[0], "--email", who, "--org", "O", "--area", "housing", "--sector",
                   "public", "--role", "frontline", "--joined", "2025-01-01"], db)
        tanet(["meeting", "add", "2027-01-19", "--location", "x", "--uid",
               "0d1f6c9e-7a1b-4c55-9f0e-3b2a5d8e4c11@tanet"], db)
    return db


def replies_rows(n: int) -> tuple[tuple, list[tuple]]:
    """Importing an mbox against reading and parsing it with mailbox + email alone."""
    db = replies_db()
    mboxes = {}
    for count in (1_000, 10_000):
        mboxes[count] = DATA / f"replies-{count}.mbox"
        if not mboxes[count].exists():
            subprocess.run(PYTHON + [str(HERE / "replies_mbox.py"), "build", str(mboxes[count]), str(count)],
                           check=True)
    rsvp = TANET + ["rsvp", "import", str(mboxes[10_000]), "--dry-run", "--format", "json"]
    parse_alone = PYTHON + [str(HERE / "replies_mbox.py"), "floor", str(mboxes[10_000])]
    timing = medians((rsvp, env_for(db)), (parse_alone, None), max(3, n // 2))
    row = ("`rsvp import` of an mbox of 10,000 replies", "`mailbox` + `email` parsing them alone", timing, 2.0)
    _, mem_1k, _ = run(TANET + ["rsvp", "import", str(mboxes[1_000]), "--dry-run", "--format", "json"], env_for(db))
    return row, [("`rsvp import`, 1,000 replies", mem_1k), ("`rsvp import`, 10,000 replies", timing.memory)]


class Sink:
    """A local aiosmtpd taking every message (benchmarks/smtp_sink.py), for the sending rows."""

    def __enter__(self):
        self.process = subprocess.Popen(PYTHON + [str(HERE / "smtp_sink.py")], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.port = self.process.stdout.readline().strip()
        return self

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def send_rows(paths: dict, n: int, keys: tuple = ("send_1k", "big")) -> list[tuple]:
    """`invite next --send`, unthrottled, to a local aiosmtpd, against smtplib sending the files
    tanet wrote (the same number of messages, of the same sizes) on one connection: the goal.
    And for reference, against smtplib writing each file (a new one, as tanet must) before
    sending it: what creating a file a member costs on this machine.

    The previous run's folder is moved aside, not deleted, before each run, and the folders
    moved aside are deleted at the end: on an ext4 disk without a journal (as here), the
    kernel skips each inode freed in the last minute (five more while its inode table is not
    yet on disk) when it looks for a free one, so every file created soon after thousands
    were deleted nearby costs a scan past all of them. A run just after deleting the last
    one's 10,000 files would measure that, not itself; the reference row pays what is left."""
    rows = []
    aside = DATA / "send-aside"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    with Sink() as sink:
        for key in keys:
            size = {"send_1k": "1,000", "big": "10,000"}[key]
            db, out, floor_in = DATA / "send.db", DATA / "send-out", DATA / f"send-floor-{key}"
            floor_out = DATA / "send-floor-out"

            def fresh():
                remove(db)
                shutil.copy(paths[key], db)
                for setting, value in (("smtp.host", "127.0.0.1"), ("smtp.port", sink.port),
                                       ("smtp.security", "none")):
                    tanet(["config", "set", setting, value], db)
                with sqlite3.connect(db) as conn:  # unthrottled: above what `config set` allows
                    conn.execute("UPDATE settings SET value = '100000000' WHERE key = 'smtp.per_minute'")
                    if not conn.total_changes:
                        conn.execute("INSERT INTO settings VALUES ('smtp.per_minute', '100000000')")
                for folder in (out, floor_out):
                    set_aside(folder, aside)

            mine = TANET + ["invite", "next", "-o", str(out), "--send"]
            floor = PYTHON + [str(HERE / "send_floor.py"), str(floor_in), sink.port]
            writing = floor + ["--write", str(floor_out)]
            fresh()
            run(mine, env_for(db))
            with sqlite3.connect(db) as conn:
                sent = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL").fetchone()[0]
            set_aside(floor_in, aside)
            shutil.copytree(out, floor_in)
            same("the messages sent", sent, len(list(floor_in.glob("*.eml"))))
            goal, reference = three_way((mine, env_for(db)), (floor, None), (writing, None), n, fresh)
            rows.append((f"`invite next --send`, {size} members, unthrottled, to a local aiosmtpd",
                         "`smtplib` sending the files tanet wrote on one connection (`send_floor.py`)",
                         goal, 1.5, "cpu too"))
            rows.append((f"`invite next --send`, {size} members, unthrottled, to a local aiosmtpd",
                         "the floor writing each message to a new file before sending it (`send_floor.py --write`)",
                         reference, "for reference: what creating the files costs here"))
    shutil.rmtree(aside, ignore_errors=True)
    return rows


def set_aside(folder: Path, aside: Path) -> None:
    """Move a folder into `aside` (deleted at the end) rather than delete it now."""
    if folder.exists():
        folder.rename(aside / f"{folder.name}-{len(list(aside.iterdir()))}")


def three_way(a, b, c, runs: int, before) -> tuple[Timing, Timing]:
    """`a` against `b` and against `c`, the three alternated (as medians does two)."""
    times = ([], [], [])
    for _ in range(runs):
        for cmd, got in zip((a, b, c), times):
            before()
            got.append(run(*cmd))
    wall, memory, cpu = zip(*times[0])
    return tuple(Timing(statistics.median(wall), statistics.median(t[0] for t in theirs), max(memory),
                        statistics.median(cpu) / statistics.median(t[2] for t in theirs))
                 for theirs in times[1:])


def flat_memory(paths: dict) -> list[tuple]:
    """Peak memory at 100,000: `invite next` writing, and `rsvp import` reading a folder of replies."""
    db, out = DATA / "invite-100k.db", DATA / "invite-100k-out"
    remove(db)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copy(paths["huge"], db)
    t, invite_mem, _ = run(TANET + ["invite", "next", "-o", str(out)], env_for(db))
    replies = DATA / "replies-100000"
    if not replies.exists():
        subprocess.run(PYTHON + [str(HERE / "replies_mbox.py"), "folder", str(replies), "100000"], check=True)
    r, rsvp_mem, _ = run(TANET + ["rsvp", "import", str(replies), "--dry-run", "--format", "json"],
                         env_for(replies_db()))
    f, floor_mem, _ = run(PYTHON + [str(HERE / "replies_mbox.py"), "floor-folder", str(replies)])
    return [(f"`invite next` (write only), 100,000 members x 10 years ({t:.0f} s)", invite_mem),
            (f"`rsvp import` of a folder of 100,000 replies ({r:.0f} s)", rsvp_mem),
            (f"its floor: `email` + `icalendar` parsing the same files one at a time ({f:.0f} s)", floor_mem)]


def table_rows(paths: dict, n: int) -> list[tuple]:
    """Tables against the same command's JSON: what drawing the table itself costs."""
    rows = []
    for what, args, key, goal in (("`member list` table (140 members)", ["member", "list"], "small", 1.5),
                                  ("`attendance show last --register` table, 10,000 x 10",
                                   ["attendance", "show", "last", "--register"], "big", 2.0)):
        timing = medians((TANET + args, env_for(paths[key])), (TANET + args + ["--format", "json"],
                                                                  env_for(paths[key])), n)
        rows.append((what, "the same as `--format json`", timing, goal))
    return rows


def streaming_memory(paths: dict) -> list[tuple]:
    """Memory on 100,000 members: both stream."""
    _, list_mem, _ = run(TANET + ["member", "list", "--format", "json"], env_for(paths["db_100k"]))
    fresh = DATA / "import-100k.db"
    remove(fresh)
    tanet(["init"], fresh)
    t, import_mem, _ = run(TANET + ["member", "import", str(paths["csv_100k"])], env_for(fresh))
    return [("`member list --format json`, 100,000 members", list_mem),
            (f"`member import` of 100,000 members ({t:.1f} s)", import_mem)]


def report(rows: list[tuple], memory: list[tuple], report_mem: int, n: int) -> tuple[str, bool]:
    lines = ["| what | tanet (median) | against | theirs (median) | ratio | CPU ratio | goal |",
             "|---|---|---|---|---|---|---|"]
    ok = True
    for what, other, timing, goal, *cpu_too in rows:
        a, b = timing.mine, timing.theirs
        ratio = a / b
        if isinstance(goal, str):
            verdict = goal
        else:
            met = ratio <= goal and (not cpu_too or timing.cpu_ratio <= goal)
            verdict = f"<= {goal}x{' (wall and CPU)' if cpu_too else ''} {'ok' if met else 'MISSED'}"
            ok &= met
        lines.append(f"| {what} | {a * 1000:.0f} ms | {other} | {b * 1000:.0f} ms | {ratio:.2f}x "
                     f"| {timing.cpu_ratio:.2f}x | {verdict} |")
    lines += ["", "| peak memory | MiB | goal |", "|---|---|---|"]
    for what, kib in memory:
        ok &= kib / 1024 <= 64
        lines.append(f"| {what} | {kib / 1024:.0f} | <= 64 {'ok' if kib / 1024 <= 64 else 'MISSED'} |")
    lines.append("")
    lines.append(f"Peak memory of the quarterly report on the 10,000-member file: {report_mem / 1024:.0f} MiB "
                 f"(goal < 150 MiB). Medians of {n} alternating runs, on data built as on {TODAY}; "
                 f"Python {sys.version.split()[0]}, {os.cpu_count()} cores.")
    return "\n".join(lines), ok and report_mem / 1024 < 150


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--rebuild", action="store_true", help="build the data sets again")
    ap.add_argument("--only", choices=("sending",), help="only the sending and 100,000-member memory rows "
                                                        "(printed, not written to results.md)")
    ap.add_argument("--write-csv", nargs=2, metavar=("DATABASE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write_csv:
        write_members_csv(Path(args.write_csv[0]), Path(args.write_csv[1]))
        return
    # An installed tanet has its bytecode compiled (pip does it, as it did for sqlite-utils);
    # this editable checkout may not, where PYTHONDONTWRITEBYTECODE is set.
    import compileall

    compileall.compile_dir(HERE.parent / "tanet", quiet=1)
    paths = build(args.rebuild)
    n = args.runs
    if args.only:
        text, ok = report(send_rows(paths, n), flat_memory(paths), 0, n)
        print(text)
        sys.exit(0 if ok else 1)
    rows = startup_rows(paths, n) + [import_row(paths, n)]
    summaries, memory = summary_rows(paths, n)
    rows += summaries + [ics_row(paths, n)] + invite_rows(paths, n)
    replies, replies_memory = replies_rows(n)
    rows += [replies] + table_rows(paths, n) + send_rows(paths, n)
    memory = memory[1:] + replies_memory + streaming_memory(paths) + flat_memory(paths)
    from scale_rows import scale_rows  # erasure, feedback import and the handover pack

    scale, scale_memory, (grown, grown_ok) = scale_rows(n)
    text, ok = report(rows + scale, memory + scale_memory, summaries[0][2].memory, n)
    text, ok = text + "\n" + grown, ok and grown_ok
    print(text)
    (HERE / "results.md").write_text(text + "\n")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
