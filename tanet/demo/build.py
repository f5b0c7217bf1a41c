"""`tanet demo`: a realistic, fictional network in a fresh file — never the coordinator's own.

140 members from examples/members.csv (more are generated for larger N), meetings
every eight weeks alternating a 10:00 and a 15:45 slot, check-ins, attendance and
apologies, guest speakers, a cross-sector facilitation rota, resources adopted by
organisations, themes, availability, and people joining and leaving. The same
seed on the same day builds the same network.
"""

from __future__ import annotations

import random
import shlex
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

from tanet.errors import TanetError
from tanet.output import render
from tanet.register import membership
from tanet.store import db as dbmod

GUESTS = (
    ("Dr Harriet Vale", "Self-Harm Network Scotland", "Self-harm: what helps, and why"),
    ("Prof. Amina Said", "University of the Forth", "Adverse childhood experiences: beyond the score"),
    ("Rev. Colin MacAulay", "Street Chaplains", "Being alongside people in crisis"),
    ("Jo Whitfield", "Survivors' Voice Collective", "What survivors want services to know"),
    ("Dr Tomás Ruiz", "Centre for Compassionate Care", "Compassion fatigue and the organisation"),
    ("Sgt Morven Blair", "Divisional Vulnerability Unit", "Trauma-informed policing in practice"),
)
SPOTLIGHTS = ("Housing first, in practice", "A school's nurture base", "Trauma-informed letters",
              "Reception areas that feel safe", "Working with families at the Children's Hearing",
              "Peer support in recovery", "Supervision that supports", "The risk assessment model a year on")
REFLECTIVE = ("Vicarious trauma", "Holding hope", "When the system re-traumatises", "Endings and transitions",
              "Boundaries and burnout", "Power and choice")
TRAININGS = ("Grounding techniques (30 minutes)", "Trauma-informed language", "Safety planning basics")
NOTES = ("Good month, team more settled", "Tired after a hard week", "New in post, finding their feet",
         "Caseload very high", "Looking forward to the spotlight", "Just back from leave",
         "Worried about service cuts", "Feeling more confident using the model")
THEMES = (
    ("Waiting lists for CAMHS leave families without support", "pain-point", "raised"),
    ("Teaching staff cannot get cover to attend daytime meetings", "pain-point", "resolved"),
    ("Shared trauma-informed risk assessment model", "solution", "resolved"),
    ("Letters that threaten eviction re-traumatise tenants", "pain-point", "raised"),
    ("Ask the partnership to fund reflective supervision", "policy", "open"),
    ("Peer mentoring between sectors", "solution", "open"),
    ("Reception areas that feel safe", "solution", "open"),
)
RESOURCES = (("Trauma-informed risk assessment model", "model",
              "A shared model for assessing risk without re-traumatising; adopted widely across the network."),
             ("Trauma-informed letters guide", "guide", "How to write letters that do not frighten."),
             ("Reflective supervision template", "template", "A one-page structure for reflective supervision."),
             ("Vicarious trauma self-care card", "guide", "A pocket card for staff."))


def _target(path: Path | None) -> Path:
    if path is None:
        return Path(tempfile.mkdtemp(prefix="tanet-demo-")) / "demo.db"
    if path.exists() and path.stat().st_size > 0:
        raise TanetError(f"{path} already exists and is not empty; the demo only builds a new file. "
                         "Give another --db PATH, or leave it out for a temporary file.")
    return path


def example_members() -> Path:
    return Path(str(resources.files("tanet") / "data" / "members.csv"))


def _stamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def build(path: Path, *, members: int, years: int, seed: int, today: date, progress=None) -> dict:
    """A fictional network of `members` over `years` up to `today` in a new file at `path`;
    the same seed builds the same network. Returns how many rows of each kind it holds."""
    rng = random.Random(seed)
    conn = dbmod.open_db(path, create=True)
    tick = progress or (lambda *a: None)
    first_day = today - timedelta(days=365 * years)
    with dbmod.transaction(conn):
        _settings(conn)
        roster = _members(conn, rng, members, first_day, today)
        tick("members")
        ids, held = _meetings(conn, first_day, today)
        tick("meetings")
        records = _records(rng, roster, ids, held, today)
        _save_records(conn, rng, records, today)
        _rota_ahead(conn, ids, today)
        tick("attendance")
        _availability(conn, rng, roster, today)
        _resources_and_themes(conn, rng, roster, held, today)
        tick("resources")
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("members", "meetings", "attendance", "checkins")}
    conn.close()
    return counts


def _settings(conn) -> None:
    from tanet.store import settings

    for key, value in {
        "network": "Lothian Trauma-Informed Practice Network",
        "organiser.name": "Alex Morgan", "organiser.email": "network.coordinator@example.org",
        "meeting.location": "Community Room, Leith Library, 28 Ferry Road, Edinburgh",
        "meeting.url": "https://meet.example.org/tip-network",
    }.items():
        settings.set_value(conn, key, value)



def _members(conn, rng: random.Random, members: int, first_day: date, today: date) -> list:
    """The example sign-up sheet, then invented people up to `members`; early members were
    there from the network's start, and some left along the way."""
    from tanet.demo.people import make_members
    from tanet.register import member_files

    plan = member_files.plan_import(conn, example_members(), today, False)
    if plan.errors:
        raise TanetError("The example members file has problems: " + "; ".join(plan.errors[:3]))
    people = plan.new[:members]
    if members > len(people):
        known = {p["email"] for p in people}
        for p in make_members(rng, members - len(people), first_day - timedelta(days=180), today - timedelta(days=30)):
            while p["email"] in known:
                p["email"] = p["email"].replace("@", f".{rng.randrange(10**6)}@", 1)
            known.add(p["email"])
            people.append({**p, "ambassador": int(p["ambassador"] == "yes"), "left_on": None,
                           "consent_on": p["joined_on"], "notes": None, "phone": p["phone"] or None,
                           "known_as": None})
    # Early members were there from the network's start; some left along the way.
    for p in people:
        if p["joined_on"] < first_day.isoformat() or rng.random() < 0.3:
            p["joined_on"] = min(p["joined_on"], (first_day + timedelta(days=rng.randrange(0, 120))).isoformat())
        p["consent_on"] = p["joined_on"]
        joined = date.fromisoformat(p["joined_on"])
        if rng.random() < 0.09 and (today - joined).days > 120:
            p["left_on"] = (joined + timedelta(days=rng.randrange(60, (today - joined).days))).isoformat()
    plan.new = people
    member_files.apply_import(conn, plan)
    roster = conn.execute("SELECT * FROM members").fetchall()
    return roster


def _meetings(conn, first_day: date, today: date) -> tuple[list, list]:
    """Every eight weeks on Tuesdays, alternating 10:00 and 15:45, and a year ahead; one held
    meeting was cancelled for snow. Returns every (id, day, start) and the held ones."""
    from tanet.meetings import planning, schedule

    start = first_day + timedelta(days=(1 - first_day.weekday()) % 7)
    until = today + timedelta(weeks=52)  # a year of plan ahead
    blocked = planning.blocked_days(start, until + timedelta(days=21), holidays=True, avoid_files=[])
    planned = planning.plan_dates(start, 8, count=None, until=until, times=["10:00", "15:45"], blocked=blocked)
    defaults = schedule.MeetingDefaults.from_settings(conn)
    ids = []
    for p in (p for p in planned if not p.skipped):
        ids.append((schedule.insert_meeting(conn, p.date, p.start, defaults), p.date, p.start))
    held = [(mid, d, t) for mid, d, t in ids if d <= today]
    if len(held) > 4:
        snow = held[len(held) // 3]
        conn.execute("UPDATE meetings SET status = 'cancelled', sequence = 1, cancel_reason = ? WHERE id = ?",
                     ["Heavy snow: the library closed", snow[0]])
        held.remove(snow)
    return ids, held


def _records(rng: random.Random, roster: list, ids: list, held: list, today: date) -> dict:
    """Agenda for every meeting; facilitators, attendance, check-ins and follow-ups for the held."""
    from tanet.meetings import facilitation

    used: dict[int, int] = {}
    last: dict[int, str] = {}
    follow_ups = []
    sessions, facil, attendance, checkins = [], [], [], []
    for n, (mid, d, t) in enumerate(ids):
        iso = d.isoformat()
        active = [m for m in roster if membership.is_active(m, iso)]
        sessions.append((mid, "reflective", REFLECTIVE[n % len(REFLECTIVE)], None, None, None))
        if n % 3 == 0:
            g = GUESTS[(n // 3) % len(GUESTS)]
            sessions.append((mid, "guest", g[2], None, g[0], g[1]))
        elif active:
            sessions.append((mid, "spotlight", SPOTLIGHTS[n % len(SPOTLIGHTS)], rng.choice(active)["id"], None, None))
        if n % 4 == 2:
            sessions.append((mid, "training", TRAININGS[n % len(TRAININGS)], None, None, None))
        if d > today or (mid, d, t) not in held:
            continue
        ambassadors = [m for m in active if m["ambassador"]]
        if len(ambassadors) >= 2:
            pair = facilitation.pick_pair(ambassadors, used, last, iso)
            for m in pair:
                used[m["id"]] = used.get(m["id"], 0) + 1
                last[m["id"]] = iso
                facil.append((mid, m["id"]))
        stamp = f"{iso}T{t}:00+00:00"
        for m in active:
            p = 0.28
            if m["service_area"] == "education":
                p = 0.08 if t == "10:00" else 0.33
            elif t == "15:45":
                p = 0.25
            if m["role"] == "senior-leader":
                p *= 0.6
            if rng.random() < p:
                attendance.append((mid, m["id"], "present", "teams", stamp))
                if rng.random() < 0.85:
                    note = rng.choice(NOTES) if rng.random() < 0.4 else None
                    checkins.append((mid, m["id"], note, stamp))
                    if rng.random() < 0.03:
                        follow_ups.append((mid, m["id"], iso))
            elif rng.random() < 0.1:
                attendance.append((mid, m["id"], "apologies", "mark", stamp))
    return {"sessions": sessions, "facilitators": facil, "attendance": attendance, "checkins": checkins,
            "follow_ups": follow_ups}


def _save_records(conn, rng: random.Random, records: dict, today: date) -> None:
    sessions, facil, attendance, checkins, follow_ups = (
        records["sessions"], records["facilitators"], records["attendance"], records["checkins"], records["follow_ups"])
    conn.executemany("INSERT INTO sessions(meeting_id, kind, title, presenter_id, guest, guest_org) "
                     "VALUES (?,?,?,?,?,?)", sessions)
    conn.executemany("INSERT INTO facilitators(meeting_id, member_id) VALUES (?,?)", facil)
    conn.executemany("INSERT INTO attendance(meeting_id, member_id, status, source, recorded_at) VALUES (?,?,?,?,?)",
                     attendance)
    conn.executemany("INSERT INTO checkins(meeting_id, member_id, note, recorded_at) VALUES (?,?,?,?)", checkins)
    for mid, member_id, iso in follow_ups:
        raised = date.fromisoformat(iso)
        closed = raised + timedelta(days=rng.randrange(3, 40))
        conn.execute("INSERT INTO followups(meeting_id, member_id, raised_on, closed_on, note) VALUES (?,?,?,?,?)",
                     [mid, member_id, iso, closed.isoformat() if closed < today else None,
                      "Called; linked in with supervisor" if closed < today else None])


def _rota_ahead(conn, ids: list, today: date) -> None:
    from tanet.meetings import facilitation

    upcoming = [mid for mid, d, _ in ids if d > today]
    if upcoming:
        facilitation.rota(conn, min(2, len(upcoming)), today, apply=True)



def _availability(conn, rng: random.Random, roster: list, today: date) -> None:
    """Teachers busy in teaching hours, some part-timers."""
    avail = []
    for m in roster:
        if m["left_on"] and m["left_on"] <= today.isoformat():
            continue
        r = rng.random()
        if m["service_area"] == "education" and r < 0.85:
            avail.append((m["id"], "0,1,2,3,4", "08:45", "15:30", "mon-fri 08:45-15:30"))
        elif r < 0.12:
            avail.append((m["id"], "3,4", "09:00", "17:00", "thu,fri 09:00-17:00"))  # part-time
        elif r < 0.22:
            avail.append((m["id"], "1", "13:00", "17:00", "tue 13:00-17:00"))
        elif r < 0.45:
            avail.append((m["id"], "2", "09:00", "12:30", "wed 09:00-12:30"))
    conn.executemany("INSERT INTO availability(member_id, weekdays, start, \"end\", pattern) VALUES (?,?,?,?,?)", avail)



def _resources_and_themes(conn, rng: random.Random, roster: list, held: list, today: date) -> None:
    orgs = sorted({m["organisation"] for m in roster if m["organisation"]})
    for i, (title, kind, description) in enumerate(RESOURCES):
        if i >= len(held):
            break
        mid, d, _ = held[min(len(held) - 1, 1 + i * 2)]
        rid = conn.execute("INSERT INTO resources(title, kind, description, meeting_id, created_on) VALUES (?,?,?,?,?)",
                           [title, kind, description, mid, d.isoformat()]).lastrowid
        authors = rng.sample([m["id"] for m in roster if m["joined_on"] <= d.isoformat()], k=2)
        conn.executemany("INSERT INTO resource_authors VALUES (?, ?)", [(rid, a) for a in authors])
        span = (today - d).days
        for org in rng.sample(orgs, k=min(len(orgs), (12, 5, 3, 2)[i])):
            if span > 14:
                adopted = d + timedelta(days=rng.randrange(14, span))
                conn.execute("INSERT INTO adoptions(resource_id, organisation, adopted_on) VALUES (?,?,?)",
                             [rid, org, adopted.isoformat()])
    for i, (text, kind, status) in enumerate(THEMES):
        mid, d, _ = held[(i * max(1, len(held) // len(THEMES))) % len(held)] if held else (None, today, None)
        raised = d + timedelta(days=30) if status != "open" else None
        resolved = d + timedelta(days=90) if status == "resolved" else None
        conn.execute("INSERT INTO themes(text, kind, status, meeting_id, note, created_on, raised_on, resolved_on) "
                     "VALUES (?,?,?,?,?,?,?,?)",
                     [text, kind, status, mid, "Taken to the partnership board" if raised else None, d.isoformat(),
                      raised.isoformat() if raised and raised <= today else None,
                      resolved.isoformat() if resolved and resolved <= today else None])


def program() -> str:
    """How to run tanet again from this shell: `tanet` when that is on PATH, else the path
    this run was started with (e.g. .venv/bin/tanet after make demo)."""
    import os
    import shutil

    started = sys.argv[0] if sys.argv and sys.argv[0] else "tanet"
    on_path = shutil.which("tanet")
    if on_path and os.path.realpath(on_path) == os.path.realpath(started):
        return "tanet"
    if started.endswith(("__main__.py", "-c")) or not os.path.exists(started):
        return "tanet" if on_path else f"{shlex.quote(sys.executable)} -m tanet"
    return shlex.quote(os.path.relpath(started) if not os.path.isabs(sys.argv[0]) else started)


def run_demo(path: Path | None, *, members: int, years: int, seed: int, today: date, quiet: bool) -> Path:
    target = _target(path)
    steps = ["members", "meetings", "attendance", "resources"]
    if sys.stderr.isatty() and not quiet:
        from rich.progress import Progress

        with Progress(console=render.console(stderr=True), transient=True) as bar:
            task = bar.add_task("Building the demo network", total=len(steps))
            counts = build(target, members=members, years=years, seed=seed, today=today,
                           progress=lambda step: bar.advance(task))
    else:
        counts = build(target, members=members, years=years, seed=seed, today=today)
    if quiet:
        render.say(str(target))
        return target
    show_tour(target, today, counts)
    return target


def show_tour(target: Path, today: date, counts: dict) -> None:
    """What a new coordinator should see: the plan, a register, the best slots, the summary."""
    from tanet import dates
    from tanet.meetings import attendance as attendance_records
    from tanet.meetings import schedule
    from tanet.register import availability
    from tanet.summary import report, terminal

    conn = dbmod.open_db(target)
    out = render.console()
    render.line(f"A fictional network of {counts['members']} members, {counts['meetings']} meetings and "
                f"{counts['attendance']} attendance records.", "bold")
    upcoming = schedule.list_meetings(conn, "upcoming", today)
    render.table(upcoming, [("id", "Id"), ("date", "Date"), ("start", "Start"), ("end", "End"), ("title", "Title")],
                 title="The plan: upcoming meetings (tanet meeting list --upcoming)")
    last = conn.execute(schedule.SELECT + " WHERE m.status = 'scheduled' AND m.date <= ? ORDER BY m.date DESC LIMIT 1",
                        [today.isoformat()]).fetchone()
    if last:
        rows = attendance_records.show(conn, last, register=True)
        shown = rows[:12]
        render.table(shown, [("name", "Name"), ("service_area", "Service area"), ("sector", "Sector"),
                             ("status", "Status"), ("checked_in", "Checked in")],
                     title=f"Register of the last meeting, {last['date']} (tanet attendance show last --register)",
                     caption=f"… and {len(rows) - len(shown)} more" if len(rows) > len(shown) else None)
    try:
        result = availability.suggest(conn, weekdays=[1, 2, 3], times=["09:30", "13:00", "15:45"], duration=120, today=today)
        rows = [{"slot": f"{s['weekday'].capitalize()} {s['start']}", "available": s["available"], "busy": s["busy"],
                 "unknown": s["unknown"],
                 "education": next((f"{x['available']}/{x['members']}" for x in s["by_service_area"]
                                    if x["service_area"] == "education"), "")} for s in result["slots"][:5]]
        render.table(rows, [("slot", "Slot"), ("available", "Can come"), ("busy", "Busy"), ("unknown", "Unknown"),
                            ("education", "Education can come")],
                     title="Best meeting slots (tanet availability suggest)")
    except TanetError:
        pass
    fiscal_start = 4
    year, q = dates.previous_quarter(*dates.quarter_of(today, False, fiscal_start))
    period = report.period_of_quarter(f"{year}Q{q}", False, fiscal_start, today)
    out.print()
    terminal.to_rich(report.summary(conn, period, today), out)
    conn.close()
    out.print()
    out.print(render.cell(f"The demo network is in {target} (your own data is untouched). Try next:"),
              soft_wrap=True)
    db = shlex.quote(str(target))
    prog = program()
    for cmd in (f"{prog} --db {db} member list --area education",
                f"{prog} --db {db} report quarter {year}Q{q} --format html -o summary.html",
                f"{prog} --db {db} invite next -o invites/"):
        out.print(f"  {cmd}", highlight=False, markup=False, soft_wrap=True)
