"""The handover pack's index.html: the state of the network, the page the next coordinator
reads first. No check-in note, reply comment or follow-up note is ever put on it."""

from __future__ import annotations

import html
import sqlite3
from datetime import date

from tanet import dates
from tanet.meetings import agenda, facilitation, schedule
from tanet.register import membership
from tanet.store import settings
from tanet.summary.document import PRINT_CSS, agenda_item

# Printable on A4 like the summary: short sections whole, long tables repeating their header.
CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1d2b36;line-height:1.45}h1{font-size:1.6rem;margin-bottom:.2rem}
h2{font-size:1.15rem;border-bottom:2px solid #8aa9bb;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #c9d6de;vertical-align:top;overflow-wrap:break-word}
th{background:#eef4f8}.lead{color:#3d4f5c}code,pre{font-family:"DejaVu Sans Mono",Consolas,monospace;font-size:.95em}
code{background:#eef4f8;padding:.1rem .3rem;border-radius:3px}
pre{background:#eef4f8;padding:.3rem .6rem;margin:.3rem 0;border-radius:3px;white-space:pre-wrap;overflow-wrap:anywhere}
pre code{padding:0;background:none}#next-steps li{margin-bottom:.6rem;break-inside:avoid}#next-steps p{margin:.1rem 0}
td.n{white-space:nowrap;overflow-wrap:normal}
#files li{margin:.35rem 0}#files a{display:inline-block;min-height:24px;padding:.1rem 0}
""" + PRINT_CSS


def _table(headers: list[str], rows: list[list], empty: str) -> str:
    e = html.escape
    if not rows:
        return f"<p>{e(empty)}</p>"
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    cells = [["" if c is None else str(c) for c in row] for row in rows]
    # Dates, times and numbers never break (not at a date's hyphen either); longer text wraps.
    body = "".join("<tr>" + "".join(f'<td class="n">{e(c)}</td>' if " " not in c and len(c) <= 12
                                    else f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# The first steps: what to do in plain words, then each command on a line of its own,
# to copy as written (CAPITALS are the parts to fill in). A command may come with the system
# it is for. The first step tells tanet, once, where the copied database is, so that every
# later step finds it without --db.
STEPS = [
    ("Make the database yours", "Copy tanet.db to the folder on your own computer where you will keep it, open a "
     "terminal in that folder, and tell tanet to use it from now on.",
     [("On macOS or Linux (the second line keeps it for every new terminal)", 'export TANET_DB="$PWD/tanet.db"'),
      ("", """echo "export TANET_DB='$PWD/tanet.db'" >> ~/.profile"""),
      ("On Windows, in PowerShell (the first line keeps it for every new window)", 'setx TANET_DB "$PWD\\tanet.db"'),
      ("", '$env:TANET_DB = "$PWD\\tanet.db"'),
      ("Then see what it holds", "tanet info")]),
    ("Put your name on the invitations", "Everyone invited to an upcoming meeting gets an update.",
     ["tanet organiser change --name 'Your Name' --email you@example.org --send"]),
    ("See who is in the network", "", ["tanet member list", "tanet area list"]),
    ("Plan ahead", "DATE is the first meeting of the series; --dry-run shows the dates without adding them.",
     ["tanet meeting list --upcoming", "tanet meeting plan --start DATE --dry-run"]),
    ("Share the facilitation", "", ["tanet meeting rota --apply"]),
    ("Before each meeting", "Invite, read the replies from your inbox, then remind.",
     ["tanet invite next --send", "tanet rsvp import imaps://you@host/INBOX", "tanet remind next --send"]),
    ("At and after each meeting", "REPORT.csv is the attendance report of the online meeting.",
     ["tanet checkin round next", "tanet attendance import last REPORT.csv", "tanet thanks last --send"]),
    ("Every quarter", "", ["tanet report quarter last --format html -o summary.html"]),
    ("Keep only what is needed", "First see what is due; then forget and erase it.",
     ["tanet privacy review", "tanet privacy review --apply"]),
    ("Look after the file", "", ["tanet backup", "tanet check"]),
]


def steps_list() -> str:
    e = html.escape

    def command_block(command) -> str:
        said, command = command if isinstance(command, tuple) else ("", command)
        return (f"<p>{e(said)}:</p>" if said else "") + f"<pre><code>{e(command)}</code></pre>"

    return "<ol>" + "".join(
        f"<li><p><strong>{e(title)}</strong>{'. ' + e(words) if words else ''}</p>"
        + "".join(command_block(command) for command in commands) + "</li>"
        for title, words, commands in STEPS) + "</ol>"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def upcoming_section(conn: sqlite3.Connection, upcoming: list) -> str:
    """Every meeting ahead, with its facilitators and its agenda in plain words."""
    e = html.escape
    # A title every meeting shares is said once, in the heading, not in every row.
    one_title = upcoming[0]["title"] if len({m["title"] for m in upcoming}) == 1 else None
    rows = []
    for m in upcoming:
        facilitators = ", ".join(f["name"] for f in facilitation.facilitators(conn, m["id"])) or "not yet chosen"
        agenda_text = "; ".join(agenda_item(s["kind"], s["title"]) for s in agenda.list_sessions(conn, m["id"])) or "-"
        rows.append([m["date"], f"{m['start']}-{m['end']}"] + ([] if one_title else [m["title"]])
                    + [m["location"] or m["url"] or "", facilitators, agenda_text])
    return (f'<section id="meetings"><h2>Upcoming meetings{": " + e(one_title) if one_title else ""}</h2>'
            + _table(["Date", "Time"] + ([] if one_title else ["Title"]) + ["Place or link", "Facilitators", "Agenda"],
                     rows, "No meetings planned yet: tanet meeting plan --start DATE") + "</section>")


def unrecorded_section(conn: sqlite3.Connection, today: date) -> str:
    """Meetings already past that nobody took a register of: held, as far as tanet knows, but
    left out of every attendance figure until their register is recorded."""
    rows = conn.execute(
        """SELECT m.id, m.date, m.start, m.title FROM meetings m
           WHERE m.status = 'scheduled' AND m.date < :d
             AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.meeting_id = m.id)
           ORDER BY m.date, m.start""", {"d": today.isoformat()}).fetchall()
    if not rows:
        return ""
    return ('<section id="no-register"><h2>Past meetings with no register yet</h2><p>Left out of the attendance '
            "figures until their register is recorded: <code>tanet attendance import MEETING REPORT.csv</code>.</p>"
            + _table(["Meeting", "Date", "Start", "Title", "Register"],
                     [[f"#{r['id']}", r["date"], r["start"], r["title"], "no register yet"] for r in rows], "")
            + "</section>")


def cancellation_sent(conn: sqlite3.Connection, meeting_id: int) -> str:
    """Whether everyone who was sent an invitation to a meeting has been sent its cancellation."""
    from tanet.mail import outbox

    invited, told = conn.execute(
        f"""SELECT count(DISTINCT CASE WHEN {outbox.kind_in(outbox.INVITING_KINDS)} THEN member_id END),
                   count(DISTINCT CASE WHEN {outbox.kind_in(("cancellation",))} THEN member_id END)
            FROM outbox WHERE meeting_id = ? AND sent_at IS NOT NULL""", [meeting_id]).fetchone()
    if not invited:
        return "nobody had been sent an invitation"
    if told >= invited:
        return f"cancellation sent to all {invited} invited"
    return f"cancellation sent to {told} of {invited} invited: tanet invite {meeting_id} --send"


def cancelled_section(conn: sqlite3.Connection, today: date) -> str:
    """Meetings ahead that were cancelled, and whether everyone invited has been told."""
    rows = conn.execute("""SELECT id, date, start, title, cancel_reason FROM meetings
                           WHERE status = 'cancelled' AND date >= ? ORDER BY date, start""",
                        [today.isoformat()]).fetchall()
    if not rows:
        return ""
    return ('<section id="cancelled"><h2>Cancelled meetings ahead</h2>'
            + _table(["Meeting", "Date", "Start", "Title", "Status", "Told"],
                     [[f"#{r['id']}", r["date"], r["start"], r["title"],
                       "cancelled" + (f" ({r['cancel_reason']})" if r["cancel_reason"] else ""),
                       cancellation_sent(conn, r["id"])] for r in rows], "")
            + "</section>")


def index_page(conn: sqlite3.Connection, today: date, summaries: list[str]) -> str:
    """The page the next coordinator reads first. No check-in note, reply comment or
    follow-up note is ever put on it."""
    e = html.escape
    values = settings.get_all(conn)
    total = membership.count_active(conn, today)
    upcoming = schedule.list_meetings(conn, "upcoming", today)
    parts = [
        "<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(values['network'])}: handover</title><style>{CSS}</style></head><body><main>",
        f"<h1>{e(values['network'])}</h1>",
        f'<p class="lead">Handover pack made on {e(dates.in_words(today))} by tanet. '
        f"{plural(total, 'active member')}; {plural(len(upcoming), 'meeting')} planned ahead. Everything here is also in "
        "<code>tanet.db</code>, the only file that holds private notes: keep this folder as safe as that.</p>",
        '<section id="next-steps"><h2>Your first steps in tanet</h2>' + steps_list() + "</section>",
        settings_section(values),
        members_section(conn, today),
        upcoming_section(conn, upcoming),
        cancelled_section(conn, today),
        unrecorded_section(conn, today),
        followups_section(conn),
        themes_section(conn),
        resources_section(conn),
        outreach_section(conn, today),
        files_section(today, summaries),
    ]
    return "\n".join(sized(part) for part in parts if part) + "\n"


SETTINGS_SHOWN = ("network", "organiser.name", "organiser.email", "timezone", "meeting.cadence_weeks",
                  "meeting.duration", "meeting.location", "meeting.url", "attendance.target",
                  "report.fiscal_year_start", "smtp.host", "smtp.user", "privacy.retain_months", "privacy.notes_months")


def settings_section(values: dict) -> str:
    rows = [[k, values[k]] for k in SETTINGS_SHOWN]
    return '<section id="settings"><h2>Settings</h2>' + _table(["Setting", "Value"], rows, "") + "</section>"


def members_section(conn: sqlite3.Connection, today: date) -> str:
    """Active members by service area (every area, those with none too) and by sector."""
    d = today.isoformat()
    by_area = conn.execute(f"""SELECT a.name, count(m.id) FROM service_areas a LEFT JOIN members m
                               ON m.service_area = a.name AND {membership.active_sql(":d", "m")}
                               GROUP BY a.name ORDER BY count(m.id) DESC, a.name""", {"d": d}).fetchall()
    # Summed over one scan of the covering index: a count WHERE the rule reads every member's row.
    by_sector = conn.execute(f"""SELECT sector, sum({membership.active_sql(":d")}) AS n FROM members
                                 GROUP BY sector HAVING n > 0 ORDER BY n DESC""", {"d": d}).fetchall()
    return ('<section id="members"><h2>Members by service area and sector</h2>'
            + _table(["Service area", "Active members"], [list(r) for r in by_area], "No members yet.")
            + _table(["Sector", "Active members"], [list(r) for r in by_sector], "No members yet.") + "</section>")


def followups_section(conn: sqlite3.Connection) -> str:
    """Who is to be followed up, since when, who has it and by when: never the notes."""
    followups = conn.execute(
        """SELECT mb.name, f.raised_on, mt.date, ow.name, f.due_on FROM followups f JOIN members mb ON mb.id = f.member_id
           LEFT JOIN meetings mt ON mt.id = f.meeting_id LEFT JOIN members ow ON ow.id = f.owner_id
           WHERE f.closed_on IS NULL ORDER BY f.raised_on""").fetchall()
    return ('<section id="follow-ups"><h2>Open follow-ups</h2><p>Someone the facilitator agreed to follow up with. '
            "The notes stay in tanet.db: <code>tanet checkin list MEETING</code>.</p>"
            + _table(["Member", "Raised on", "At the meeting of", "Who has it", "Due by"], [list(r) for r in followups],
                     "None open.") + "</section>")


def themes_section(conn: sqlite3.Connection) -> str:
    themes = conn.execute("SELECT text, kind, status, created_on FROM themes WHERE status != 'resolved' "
                          "ORDER BY created_on").fetchall()
    return ('<section id="themes"><h2>Open themes</h2>'
            + _table(["Theme", "Kind", "Status", "Recorded"], [list(r) for r in themes], "None open.") + "</section>")


def resources_section(conn: sqlite3.Connection) -> str:
    resources = conn.execute(
        """SELECT r.title, r.created_on, group_concat(a.organisation, ', ') FROM resources r
           LEFT JOIN adoptions a ON a.resource_id = r.id GROUP BY r.id ORDER BY r.created_on""").fetchall()
    return ('<section id="resources"><h2>Resources and who adopted them</h2>'
            + _table(["Resource", "Shared", "Adopted by"], [[r[0], r[1], r[2] or "-"] for r in resources],
                     "No resources recorded.") + "</section>")


def outreach_section(conn: sqlite3.Connection, today: date) -> str:
    """The last year's contacts with under-engaged services, and the last ten contacts."""
    from tanet.register import outreach

    year_ago = date(today.year - 1, today.month, min(today.day, 28)).isoformat()
    reach = outreach.figures(conn, year_ago, today.isoformat())
    contacts = outreach.list_contacts(conn, None)[-10:]
    return ('<section id="outreach"><h2>Outreach</h2><p>Contacts with under-engaged services over the last year, '
            f"and who joined or came within {outreach.WINDOW_DAYS} days.</p>"
            + _table(["Service area", "Contacts", "Organisations", "Joined after", "Came after"],
                     [[r["service_area"], r["contacts"], r["organisations"], r["joined_after"], r["came_after"]]
                      for r in reach],
                     "No outreach recorded in the last year: tanet outreach add ORGANISATION --area AREA")
            + _table(["On", "Organisation", "Area", "Contact", "How", "Outcome"],
                     [[c["on"], c["organisation"], c["service_area"], c["contact"], c["how"], c["outcome"]]
                      for c in contacts], "") + "</section>")


def files_section(today: date, summaries: list[str]) -> str:
    e = html.escape
    this_quarter = "{}Q{}".format(*dates.quarter_of(today, False, 1))
    return ('<section id="files"><h2>In this folder</h2><ul>'
            "<li><code>tanet.db</code>: the whole database</li><li><code>members.csv</code>: the register "
            "(opens in Excel)</li><li><code>calendar.ics</code>: every meeting</li>"
            + "".join(f'<li><a href="summaries/{e(s)}.html">summaries/{e(s)}.html</a>'
                      f"{' (the quarter so far)' if s == this_quarter else ''}</li>" for s in summaries)
            + "</ul></section></main></body></html>")


SHORT = 22  # a section of at most this many rows, list items and commands is printed whole


def sized(part: str) -> str:
    """A section short enough to print whole on one page is marked so; a longer one may
    break between rows, keeping its heading with the rows that follow it."""
    if not part.startswith("<section") or sum(part.count(tag) for tag in ("<tr>", "<li>", "<pre>")) > SHORT:
        return part
    return part.replace("<section ", '<section class="short" ', 1)
