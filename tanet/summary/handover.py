"""The handover pack: everything the next coordinator needs, in one private folder.

    tanet.db          a consistent copy of the database (the only place private notes are)
    members.csv       the register
    calendar.ics      every meeting
    summaries/*.html  the last four quarters
    index.html        the state of the network, to read first
"""

from __future__ import annotations

import html
import sqlite3
from datetime import date
from pathlib import Path

from tanet import dates
from tanet.meetings import schedule
from tanet.store import settings
from tanet.errors import TanetError

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1d2b36;line-height:1.45}h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;
border-bottom:2px solid #d7e3ea;padding-bottom:.2rem;margin-top:2rem}table{border-collapse:collapse;width:100%;
margin:.5rem 0}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e4ecf0;vertical-align:top}
th{background:#f2f7fa}.lead{color:#4a5d6b}code{background:#f2f7fa;padding:.1rem .3rem;border-radius:3px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
#meetings td:nth-child(-n+2){white-space:nowrap}
@media print{body{margin:0}h2{break-after:avoid}table{break-inside:avoid}}"""


def _table(headers: list[str], rows: list[list], empty: str) -> str:
    e = html.escape
    if not rows:
        return f"<p>{e(empty)}</p>"
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e('' if c is None else str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def index_page(conn: sqlite3.Connection, today: date, summaries: list[str]) -> str:
    """The page the next coordinator reads first. No check-in note, reply comment or
    follow-up note is ever put on it."""
    from tanet.register import outreach

    e = html.escape
    values = settings.get_all(conn)
    d = today.isoformat()
    active = "joined_on <= :d AND (left_on IS NULL OR left_on > :d)"
    total = conn.execute(f"SELECT count(*) FROM members WHERE {active}", {"d": d}).fetchone()[0]
    by_area = conn.execute(f"""SELECT a.name, count(m.id) FROM service_areas a LEFT JOIN members m
                               ON m.service_area = a.name AND {active.replace('joined_on', 'm.joined_on')
                               .replace('left_on', 'm.left_on')} GROUP BY a.name ORDER BY count(m.id) DESC, a.name""",
                           {"d": d}).fetchall()
    by_sector = conn.execute(f"SELECT sector, count(*) FROM members WHERE {active} GROUP BY sector ORDER BY 2 DESC",
                             {"d": d}).fetchall()
    upcoming = schedule.list_meetings(conn, "upcoming", today)
    meeting_rows = []
    for m in upcoming[:8]:
        facilitators = ", ".join(f["name"] for f in schedule.facilitators(conn, m["id"])) or "not yet chosen"
        agenda = "; ".join(f"{s['kind']}: {s['title']}" for s in schedule.list_sessions(conn, m["id"])) or "-"
        meeting_rows.append([m["date"], f"{m['start']}-{m['end']}", m["title"], m["location"] or m["url"] or "",
                             facilitators, agenda])
    followups = conn.execute(
        """SELECT mb.name, f.raised_on, mt.date FROM followups f JOIN members mb ON mb.id = f.member_id
           LEFT JOIN meetings mt ON mt.id = f.meeting_id WHERE f.closed_on IS NULL ORDER BY f.raised_on""").fetchall()
    themes = conn.execute("SELECT text, kind, status, created_on FROM themes WHERE status != 'resolved' "
                          "ORDER BY created_on").fetchall()
    resources = conn.execute(
        """SELECT r.title, r.created_on, group_concat(a.organisation, ', ') FROM resources r
           LEFT JOIN adoptions a ON a.resource_id = r.id GROUP BY r.id ORDER BY r.created_on""").fetchall()
    year_ago = date(today.year - 1, today.month, min(today.day, 28)).isoformat()
    reach = outreach.figures(conn, year_ago, d)
    contacts = outreach.list_contacts(conn, None)[-10:]
    settings_rows = [[k, values[k]] for k in ("network", "organiser.name", "organiser.email", "timezone",
                                              "meeting.cadence_weeks", "meeting.duration", "meeting.location",
                                              "meeting.url", "attendance.target", "report.fiscal_year_start",
                                              "smtp.host", "smtp.user", "privacy.retain_months",
                                              "privacy.notes_months")]
    steps = [
        ("Make the database yours", "tanet --db tanet.db info, then copy tanet.db to your own computer and set "
                                    "TANET_DB to it (or keep it in your user data folder)."),
        ("Put your name on the invitations", "tanet organiser change --name 'Your Name' --email you@example.org "
                                             "--send (everyone invited to an upcoming meeting gets an update)"),
        ("See who is in the network", "tanet member list, tanet area list"),
        ("Plan ahead", "tanet meeting list --upcoming, tanet meeting plan --start DATE --dry-run"),
        ("Share the facilitation", "tanet meeting rota --apply"),
        ("Before each meeting", "tanet invite next --send, tanet rsvp import imaps://you@host/INBOX, "
                                "tanet remind next --send"),
        ("At and after each meeting", "tanet checkin round next, tanet attendance import last REPORT.csv, "
                                      "tanet thanks last --send"),
        ("Every quarter", "tanet report quarter last --format html -o summary.html"),
        ("Keep only what is needed", "tanet privacy review, then tanet privacy review --apply"),
        ("Look after the file", "tanet backup; tanet check"),
    ]
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(values['network'])}: handover</title><style>{CSS}</style></head><body>",
        f"<h1>{e(values['network'])}</h1>",
        f'<p class="lead">Handover pack made on {e(dates.in_words(today))} by tanet. '
        f"{total} active members; {len(upcoming)} meetings planned ahead. Everything here is also in "
        "<code>tanet.db</code>, the only file that holds private notes: keep this folder as safe as that.</p>",
        '<section id="next-steps"><h2>Your first steps in tanet</h2><ol>'
        + "".join(f"<li><strong>{e(a)}</strong>: <code>{e(b)}</code></li>" for a, b in steps) + "</ol></section>",
        '<section id="settings"><h2>Settings</h2>' + _table(["Setting", "Value"], settings_rows, "") + "</section>",
        '<section id="members"><h2>Members by service area and sector</h2>'
        + _table(["Service area", "Active members"], [list(r) for r in by_area], "No members yet.")
        + _table(["Sector", "Active members"], [list(r) for r in by_sector], "No members yet.") + "</section>",
        '<section id="meetings"><h2>Upcoming meetings</h2>'
        + _table(["Date", "Time", "Title", "Place or link", "Facilitators", "Agenda"], meeting_rows,
                 "No meetings planned yet: tanet meeting plan --start DATE") + "</section>",
        '<section id="follow-ups"><h2>Open follow-ups</h2><p>Someone the facilitator agreed to follow up with. '
        "The notes stay in tanet.db: <code>tanet checkin list MEETING</code>.</p>"
        + _table(["Member", "Raised on", "At the meeting of"], [list(r) for r in followups], "None open.")
        + "</section>",
        '<section id="themes"><h2>Open themes</h2>'
        + _table(["Theme", "Kind", "Status", "Recorded"], [list(r) for r in themes], "None open.") + "</section>",
        '<section id="resources"><h2>Resources and who adopted them</h2>'
        + _table(["Resource", "Shared", "Adopted by"], [[r[0], r[1], r[2] or "-"] for r in resources],
                 "No resources recorded.") + "</section>",
        '<section id="outreach"><h2>Outreach</h2><p>Contacts with under-engaged services over the last year, and '
        f"who joined or came within {outreach.WINDOW_DAYS} days.</p>"
        + _table(["Service area", "Contacts", "Organisations", "Joined after", "Came after"],
                 [[r["service_area"], r["contacts"], r["organisations"], r["joined_after"], r["came_after"]]
                  for r in reach], "No outreach recorded in the last year: tanet outreach add ORGANISATION --area AREA")
        + _table(["On", "Organisation", "Area", "Contact", "How", "Outcome"],
                 [[c["on"], c["organisation"], c["service_area"], c["contact"], c["how"], c["outcome"]]
                  for c in contacts], "") + "</section>",
        '<section id="files"><h2>In this folder</h2><ul>'
        "<li><code>tanet.db</code>: the whole database</li><li><code>members.csv</code>: the register "
        "(opens in Excel)</li><li><code>calendar.ics</code>: every meeting</li>"
        + "".join(f'<li><a href="summaries/{e(s)}.html">summaries/{e(s)}.html</a></li>' for s in summaries)
        + "</ul></section></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _copy_database(conn: sqlite3.Connection, dest: Path, target: Path) -> None:
    """The database into the pack; a failure blames the pack's disk, never the database's."""
    from tanet.store.files import cannot_write
    from tanet.store.safety import copy_whole

    try:
        copy_whole(conn, dest, overwrite=False)
    except sqlite3.OperationalError as e:
        if "full" in str(e) or "i/o" in str(e).lower():
            raise TanetError(f"Cannot write the handover pack to {target}: the disk there is full (or the file "
                             "larger than allowed). Free some space there or choose another place with -o; the "
                             "database itself is unharmed.") from None
        raise TanetError(f"Cannot write the handover pack to {target} ({e}); "
                         "the database itself is unharmed.") from None
    except OSError as e:
        raise cannot_write(target, e) from None


def write_members_csv(out, conn: sqlite3.Connection, target: Path) -> None:
    """members.csv into the pack's unfinished folder (a NewFolder), written a member at a
    time as the rows are read: the same bytes as `member export`, without ever holding the
    whole register (100,000 members would be some 150 MB of Python objects)."""
    import csv
    import os

    from tanet.register import members
    from tanet.register.member_files import csv_lines
    from tanet.store.files import cannot_write

    try:
        fd = os.open(out.path / "members.csv", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8", newline="") as f:
            f.write("\ufeff")  # the byte-order mark that tells Excel the file is UTF-8
            writer = csv.writer(f, lineterminator="\r\n")
            writer.writerow(members.EXPORT_KEYS)
            writer.writerows(csv_lines(conn))
    except OSError as e:
        out.abandon()
        raise cannot_write(target / "members.csv", e) from None
    out.names.append("members.csv")


def write_pack(conn: sqlite3.Connection, source: Path, target: Path, today: date) -> Path:
    """Write the pack whole (a hidden folder renamed into place) and owner-only."""
    from tanet.meetings import ical
    from tanet.summary import report
    from tanet.summary import document as report_render
    from tanet.store.files import NewFolder
    from tanet.store.unfinished import partial_copies

    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise TanetError(f"{target} already exists and is not empty; give a new folder for the handover pack.")
    fiscal_start = int(settings.get(conn, "report.fiscal_year_start"))
    year, q = dates.quarter_of(today, False, fiscal_start)
    quarters = []
    for _ in range(4):
        year, q = dates.previous_quarter(year, q)
        quarters.append((year, q))
    # Recorded before the hidden folder exists: a kill -9 leaves a copy the next start removes.
    with partial_copies(source, target), NewFolder(target, owned=lambda name: False, what="files") as out:
        _copy_database(conn, out.path / "tanet.db", target)
        write_members_csv(out, conn, target)
        out.write("calendar.ics", ical.publish(conn, schedule.objects(conn, conn.execute(
            schedule.SELECT + " ORDER BY m.date, m.start").fetchall()), settings.get_all(conn)))
        import os

        os.mkdir(out.path / "summaries", 0o700)
        labels = []
        for year, q in reversed(quarters):
            period = report.period_of_quarter(f"{year}Q{q}", False, fiscal_start, today)
            try:
                data = report.summary(conn, period, today)
            except TanetError:  # nobody was a member yet
                continue
            out.write(f"summaries/{period['label']}.html", report_render.to_html(data))
            labels.append(period["label"])
        out.write("index.html", index_page(conn, today, labels))
        out.commit()
    return target
