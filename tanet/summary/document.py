"""The summary as a document (sections of facts, tables and bar charts), rendered to
the terminal (Rich), Markdown for an e-mail, or one standalone HTML page."""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass
class Section:
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    bars: list[tuple[str, float, str]] = field(default_factory=list)  # label, value, shown
    note: str | None = None
    chart: str | None = None  # what the bars show, when the table's columns do not say it


def pct(x) -> str:
    return "–" if x is None else f"{x * 100:.0f}%"


def num(x) -> str:
    if x is None:
        return "–"
    return f"{x:g}" if isinstance(x, float) else str(x)


def signed(x, percent=False) -> str:
    """A change, with its sign; no change is said in words rather than as +0."""
    if x is None:
        return "–"
    if not x:
        return "no change"
    if percent:
        return f"{x * 100:+.0f} pts"
    return f"{x:+g}" if isinstance(x, float) else f"{x:+d}"


KIND_NAMES = {"spotlight": "Spotlight", "reflective": "Reflective practice", "training": "Training",
              "guest": "Guest speaker"}


def agenda_item(kind: str, title: str) -> str:
    """A session in plain words: `Power and choice (reflective practice)`."""
    return f"{title} ({KIND_NAMES.get(kind, kind).lower()})"


def joined_and_left(membership: dict) -> str:
    """`12 at the start, 14 at the end (3 joined, 1 left)`: only the changes that happened."""
    moves = [f"{membership[k]} {k}" for k in ("joined", "left") if membership[k]]
    return (f"{membership['start']} at the start, {membership['end']} at the end"
            + (f" ({', '.join(moves)})" if moves else ", nobody joined or left"))


NO_REGISTER = "no register"
NO_MEETING = "No meeting was held in this period."
OVER_FULL = ("Above 100%: members who came and have since left count as attendees but not as members "
             "at the end.")


def in_progress(d: dict) -> bool:
    """A period that has not ended yet: today falls inside it."""
    p = d["period"]
    return p["start"] <= d["generated_on"] <= p["end"]


def title_of(d: dict) -> str:
    """`Network: summary for 2026Q3 (2026-07-01 to 2026-09-30)`; a range is its dates; a
    period not over yet says so: `2026Q4 (the quarter so far, to 2026-11-12)`."""
    p = d["period"]
    dates_ = f"{p['start']} to {p['end']}"
    is_range = p["label"] == dates_
    if in_progress(d):
        so_far = "so far" if is_range else "the quarter so far"
        return f"{d['network']}: summary for {p['label']} ({so_far}, to {d['generated_on']})"
    return f"{d['network']}: summary for {p['label']}" + ("" if is_range else f" ({dates_})")


def with_note(s: Section, note: str | None) -> Section:
    """`s` with one more line of note under its table."""
    if note:
        s.note = f"{s.note}\n{note}" if s.note else note
    return s


def over_full(*rates) -> str | None:
    """The note that explains a participation rate above 100%, when one is shown."""
    return OVER_FULL if any(r is not None and r > 1 for r in rates) else None


def document(d: dict) -> tuple[str, list[Section]]:
    title = title_of(d)
    held = d["meetings_held"] > 0
    a, mem = d["attendance"], d["membership"]
    unrecorded = d.get("meetings_without_register", 0)
    recorded = d["meetings_held"] - unrecorded
    out = []
    if d.get("commentary"):
        out.append(Section("From the coordinator", note=d["commentary"]))
    head = Section("Headlines", facts=[
        ("Meetings held", f"{d['meetings_held']} (cancelled: {d['meetings_cancelled']})"
                          + (f"; {unrecorded} with no register yet, left out of the attendance figures"
                             if unrecorded else "")),
        ("Attendance", f"{a['total']} in all; mean {num(a['mean'])} a meeting (min {num(a['min'])}, max {num(a['max'])})"),
        ("Target", f"{a['target']} a meeting" + (f"; reached at {a['meetings_at_target']} of {recorded}"
                                                  if recorded else "")),
        ("Different people who came", f"{d['unique_attendees']} ({pct(d['participation_rate'] if held else None)} "
                                      "of active members)"),
        ("Membership", joined_and_left(mem)),
        ("First-time attendees", str(d["first_time_attendees"])),
        ("Came last period, not this one", str(d["lapsed"])),
    ])
    if d["engagement_gaps"]:
        head.facts.append(("Engagement gaps", ", ".join(
            f"{g['service_area']} ({pct(g['rate'])})" for g in d["engagement_gaps"])
            + f" - below {pct(d['gap_threshold'])}"))
    out.append(with_note(head, over_full(d["participation_rate"])))
    if not held:  # no tables of zeros: one line where they would be
        out.append(Section("Meetings", note=NO_MEETING))
    else:
        out += held_sections(d)
    out += later_sections(d)
    return title, out


def held_sections(d: dict) -> list[Section]:
    """Meetings, the breakdowns, start times, facilitation and agenda: what a period with
    meetings has to show."""
    out = []
    # A title every meeting shares is said once, not wrapped into every row.
    one_title = len({m["title"] for m in d["meetings"]}) == 1 and len(d["meetings"]) > 1
    out.append(Section("Meetings" + (f": {d['meetings'][0]['title']}" if one_title else ""),
                       columns=["Date", "Start"] + ([] if one_title else ["Title"])
                       + ["Present", "Apologies", "Checked in", "Agenda"],
                       rows=[[m["date"], m["start"]] + ([] if one_title else [m["title"]])
                             + ([str(m["present"]), str(m["apologies"])] if m.get("register", True)
                                else [NO_REGISTER, "–"])
                             + [str(m["checked_in"]), "; ".join(agenda_item(s["kind"], s["title"]) for s in m["sessions"])]
                             for m in d["meetings"]],
                       bars=[(f"{m['date']} {m['start']}", m["present"], str(m["present"]))
                             if m.get("register", True) else (f"{m['date']} {m['start']}", 0, NO_REGISTER)
                             for m in d["meetings"]],
                       note=("Cancelled: " + "; ".join(f"{c['date']} {c['title']}" + (f" ({c['reason']})" if c["reason"] else "")
                                                      for c in d["cancelled"])) if d["cancelled"] else None))
    for key, label in (("by_service_area", "Service area"), ("by_sector", "Sector"), ("by_role", "Role")):
        col = key[3:]
        groups = [g for g in d[key] if g["members"] or g["attendees"]]
        gaps = {g["service_area"] for g in d["engagement_gaps"]} if key == "by_service_area" else set()
        out.append(with_note(Section(
            f"By {label.lower()}", columns=[label, "Active members", "Came", "Attendances", "Rate"],
            rows=[[g[col] + (" (gap)" if g[col] in gaps else ""), str(g["members"]), str(g["attendees"]),
                   str(g["attendances"]), pct(g["rate"])] for g in groups],
            bars=[(g[col], g["rate"] or 0, pct(g["rate"])) for g in groups] if key == "by_service_area" else []),
            over_full(*(g["rate"] for g in groups))))
    out.append(Section("By start time", columns=["Start", "Meetings", "Attendances", "Mean", "Draws most from"],
                       rows=[[s["start"], str(s["meetings"]), str(s["attendances"]), num(s["mean"]),
                              ", ".join(f"{x['service_area']} {x['attendances']}" for x in
                                        sorted(s["by_service_area"], key=lambda x: -x["attendances"])[:4])]
                             for s in d["by_start_time"]]))
    f = d["facilitation"]
    out.append(Section("Facilitation", facts=[
        ("Meetings with facilitators", f"{f['meetings_with_facilitators']} of {d['meetings_held']}"),
        ("Facilitated across sectors", str(f["cross_sector_meetings"])),
        ("Sectors among facilitators", ", ".join(f["sectors"]) or "–"),
        ("Different facilitators", str(f["facilitators"])),
    ]))
    sess = d["sessions"]
    out.append(Section("Agenda", facts=[(KIND_NAMES[k], str(sess[k])) for k in KIND_NAMES],
                       columns=["Date", "Guest speaker", "Organisation", "Session"] if d["guest_speakers"] else [],
                       rows=[[g["date"], g["guest"], g["guest_org"] or "", g["title"]] for g in d["guest_speakers"]]))
    return out


def later_sections(d: dict) -> list[Section]:
    """Resources, replies, outreach, feedback, themes, the trend and the comparison."""
    out = []
    r = d["resources"]
    out.append(Section("Resources", facts=[("Shared this period", str(r["shared"])),
                                           ("Adoptions this period", str(r["adoptions"])),
                                           ("Adoptions to date", str(r["adoptions_to_date"]))],
                       columns=["Adopted on", "Resource", "Organisation"] if r["adopted"] else [],
                       rows=[[x["adopted_on"], x["title"], x["organisation"]] for x in r["adopted"]]))
    rv = d["rsvp"]
    out.append(Section("Replies to invitations", facts=[
        ("Invited", f"{rv['invited']} (member-meetings)"),
        ("Answered", f"{rv['responded']}: {rv['accepted']} accepted, {rv['tentative']} tentative, "
                     f"{rv['declined']} declined"),
        ("Accepted and came", str(rv["accepted_and_came"])),
        ("Accepted but did not come", str(rv["accepted_not_came"])),
    ]) if rv["invited"] or rv["responded"] else Section("Replies to invitations",
                                                        note="No invitations were sent through tanet this period."))
    if d.get("outreach"):
        out.append(Section("Outreach to under-engaged services",
                           columns=["Service area", "Contacts", "Organisations", "Joined after", "Came after"],
                           rows=[[o["service_area"], str(o["contacts"]), str(o["organisations"]),
                                  str(o["joined_after"]), str(o["came_after"])] for o in d["outreach"]],
                           note="Joined or first came within 180 days of the organisation's first contact."))
    fb = d.get("feedback")
    if fb and fb["responses"]:
        out.append(Section("Feedback from members", facts=[
            ("Responses", f"{fb['responses']} after {fb['meetings_with_feedback']} "
                          f"{'meeting' if fb['meetings_with_feedback'] == 1 else 'meetings'}"),
            ("How useful (1-5)", num(fb["usefulness_mean"])),
            ("Will use something in practice", f"yes {fb['will_use']['yes']}, maybe {fb['will_use']['maybe']}, "
                                                f"no {fb['will_use']['no']}")]))
    elif fb is not None:
        out.append(Section("Feedback from members", note="No feedback form was imported for this period's meetings."))
    t, fu = d["themes"], d["follow_ups"]
    out.append(Section("Themes and follow-ups", facts=[
        ("Themes raised", str(t["raised"])), ("Themes resolved", str(t["resolved"])),
        ("Themes open at the end", str(t["open_at_end"])),
        ("Check-in follow-ups raised", str(fu["raised"])), ("Follow-ups still open", str(fu["open"]))],
        columns=["Theme", "Kind", "Status"] if t.get("items") else [],
        rows=[[i["text"], i["kind"], i["status"]] for i in t.get("items", [])]))
    if d.get("trend"):
        out.append(trend_section(d["trend"]))
    out.append(compared_section(d))
    return out


def compared_section(d: dict) -> Section:
    """This period's headline figures beside the previous period's, with the change."""
    p, a, mem, prev = d["period"], d["attendance"], d["membership"], d["previous"]
    if not prev:
        return Section("Compared with the previous period", note="No previous period: this is the first.")
    label = prev["period"]["label"]
    if not prev["meetings_held"]:  # an all-zero column compares with nothing
        return Section(f"Compared with {label}",
                       note=f"No meeting was held in {label}, so there is nothing to compare with.")
    c, held = prev["change"], d["meetings_held"] > 0
    rows = [
        ["Meetings held", str(d["meetings_held"]), str(prev["meetings_held"]), signed(c["meetings_held"])],
        ["Attendance", str(a["total"]), str(prev["attendance"]["total"]), signed(c["attendance"]["total"])],
        ["Mean a meeting", num(a["mean"]), num(prev["attendance"]["mean"]), signed(c["attendance"]["mean"])],
        ["Different people", str(d["unique_attendees"]), str(prev["unique_attendees"]), signed(c["unique_attendees"])],
        ["Active members at end", str(mem["end"]), str(prev["membership"]["end"]), signed(c["membership"]["end"])],
        ["Participation", pct(d["participation_rate"] if held else None), pct(prev["participation_rate"]),
         signed(c["participation_rate"] if held else None, percent=True)],
    ]
    return with_note(Section(f"Compared with {label}", columns=["Figure", p["label"], label, "Change"], rows=rows),
                     over_full(d["participation_rate"], prev["participation_rate"]))


def trend_section(trend: list[dict]) -> Section:
    """The last periods side by side; the chart (mean attendance a meeting) only when some
    period had a meeting, and a period without one says so rather than showing a bare dash."""
    def rate(t):
        return pct(t["participation_rate"] if t["meetings_held"] else None)

    any_held = any(t["meetings_held"] for t in trend)
    return with_note(Section(
        "Trend", columns=["Period", "Meetings held", "Mean attendance", "Different people", "Participation"],
        rows=[[t["label"], str(t["meetings_held"]), num(t["attendance_mean"]), str(t["unique_attendees"]), rate(t)]
              for t in trend],
        bars=[(t["label"], t["attendance_mean"] or 0,
               num(t["attendance_mean"]) if t["meetings_held"] else "no meetings") for t in trend] if any_held else [],
        chart="mean attendance a meeting"),
        over_full(*(t["participation_rate"] for t in trend if t["meetings_held"])))


def _md_cell(text: str) -> str:
    from tanet.text import markdown

    return markdown(text)


def to_markdown(d: dict) -> str:
    title, sections = document(d)
    lines = [f"# {_md_cell(title)}", ""]
    for s in sections:
        lines += [f"## {s.title}", ""]
        for k, v in s.facts:
            lines.append(f"- **{k}:** {_md_cell(v)}")
        if s.facts:
            lines.append("")
        if s.rows:
            lines.append("| " + " | ".join(_md_cell(c) for c in s.columns) + " |")
            lines.append("|" + "|".join(" --- " for _ in s.columns) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in s.rows]
            lines.append("")
        for line in (s.note or "").splitlines():
            lines += [_md_cell(line), ""]
        if not (s.facts or s.rows or s.note):
            lines += ["Nothing this period.", ""]
    return "\n".join(lines)


# Print-ready: A4 with margins, tables that wrap rather than run off the page, charts as
# inline SVG (no network, no script). A short section stays whole on one page; a long table
# keeps its heading with its first rows and repeats its header row on every page.
PRINT_CSS = """@page{size:A4;margin:16mm 14mm}
@media print{body{margin:0;max-width:none;padding:0;font-size:10.5pt}h1,h2,h3{break-after:avoid}
section.short,tr,figure,dl>div{break-inside:avoid}thead{display:table-header-group}
section.long>h2{margin-bottom:0}a{color:inherit}}"""

CSS = """body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1d2b36;font-size:11pt;line-height:1.4}h1{font-size:1.5rem}
h2{font-size:1.15rem;border-bottom:2px solid #8aa9bb;padding-bottom:.2rem;margin-top:1.6rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%;table-layout:auto}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #c9d6de;vertical-align:top;overflow-wrap:break-word}
th,td.n{white-space:nowrap;overflow-wrap:normal}th{background:#eef4f8}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dl>div{display:contents}
dt{font-weight:600}dd{margin:0}figure{margin:.5rem 0}figcaption{font-size:.9em;color:#3d4f5c}
.date{white-space:nowrap}svg.chart{display:block;max-width:100%;height:auto}
.chart text{font:11px system-ui,"DejaVu Sans",sans-serif;fill:#1d2b36}.chart .bar{fill:#2b6f8c}
""" + PRINT_CSS

SHORT = 36  # a section of about this many printed lines or fewer is printed whole on one page


def printed_lines(s: Section) -> int:
    """About how many lines a section takes on A4: a fact a line, a row as many lines as its
    longest cell wraps to, a bar a line (and a heading's worth for each part)."""
    rows = sum(1 + max((len(c) for c in row), default=0) // 36 for row in s.rows)
    return 2 + len(s.facts) + (rows + 2 if s.rows else 0) + (len(s.bars) + 2 if s.bars else 0) \
        + (len(s.note or "") // 90 + 1)


def is_short(s: Section) -> bool:
    return printed_lines(s) <= SHORT


def svg_bars(bars: list[tuple[str, float, str]], title: str) -> str:
    """A horizontal bar chart as inline SVG: one bar a label, scaled to the largest, each
    with its figure written beside it; the figures are its text equivalent too."""
    e = html.escape
    label_w, bar_w, row_h = 190, 360, 20
    top = max((b[1] for b in bars), default=0) or 1
    height = row_h * len(bars) + 6
    rows = []
    for i, (label, value, shown) in enumerate(bars):
        y = 3 + i * row_h
        w = max(0.0, bar_w * value / top)
        rows.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{e(label)}</text>'
                    f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}"/>'
                    f'<text x="{label_w + w + 5:.1f}" y="{y + 14}">{e(shown)}</text>')
    said = f"{title}: " + "; ".join(f"{label} {shown}" for label, _, shown in bars)
    return (f'<svg class="chart" role="img" aria-label="{e(said)}" xmlns="http://www.w3.org/2000/svg" '
            f'viewBox="0 0 {label_w + bar_w + 60} {height}" width="{label_w + bar_w + 60}" height="{height}">'
            f"<title>{e(said)}</title>{''.join(rows)}</svg>")


def html_table(columns: list[str], rows: list[list[str]]) -> str:
    """A table whose header cells say what they head (scope), dates, times and numbers never
    broken, longer text wrapped rather than run off the page."""
    e = html.escape
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f'<td class="n">{e(c)}</td>' if " " not in c and len(c) <= 12
                                    else f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def unbroken_dates(text: str) -> str:
    """`text` as HTML whose dates (2026-09-30) and date spans never break across lines."""
    import re

    return re.sub(r"\d{4}-\d{2}-\d{2}", lambda m: f'<span class="date">{m.group(0)}</span>', html.escape(text))


def html_section(s: Section) -> str:
    e = html.escape
    size = "short" if is_short(s) else "long"
    parts = [f'<section class="{size}"><h2>{unbroken_dates(s.title)}</h2>']
    if s.facts:
        parts.append("<dl>" + "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in s.facts) + "</dl>")
    if s.rows:
        parts.append(html_table(s.columns, s.rows))
    if s.bars:
        said = "the same figures as the table above" if s.rows else "; ".join(f"{b[0]} {b[2]}" for b in s.bars)
        what = f"{s.title}, {s.chart}" if s.chart else s.title
        parts.append(f"<figure>{svg_bars(s.bars, what)}<figcaption>Chart{e(' of ' + s.chart if s.chart else '')}: "
                     f"{e(said)}.</figcaption></figure>")
    parts += [f"<p>{e(line)}</p>" for line in (s.note or "").splitlines()]
    if not (s.facts or s.rows or s.note):
        parts.append("<p>Nothing this period.</p>")
    parts.append("</section>")
    return "".join(parts)


def to_html(d: dict) -> str:
    title, sections = document(d)
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>", f"<h1>{unbroken_dates(title)}</h1>"]
    parts += [html_section(s) for s in sections]
    parts.append(f"</main><footer><p>Made by tanet on {e(d['generated_on'])}. Check-in notes and follow-up details "
                 "are never included.</p></footer></body></html>")
    return "\n".join(parts) + "\n"

