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


def document(d: dict) -> tuple[str, list[Section]]:
    p = d["period"]
    # A range is its dates; a quarter its label and then its dates.
    dates_ = f"{p['start']} to {p['end']}"
    title = f"{d['network']}: summary for {p['label']}" + ("" if p["label"] == dates_ else f" ({dates_})")
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
        ("Target", f"{a['target']} a meeting; reached at {a['meetings_at_target']} of {recorded}"),
        ("Different people who came", f"{d['unique_attendees']} ({pct(d['participation_rate'])} of active members)"),
        ("Membership", joined_and_left(mem)),
        ("First-time attendees", str(d["first_time_attendees"])),
        ("Came last period, not this one", str(d["lapsed"])),
    ])
    if d["engagement_gaps"]:
        head.facts.append(("Engagement gaps", ", ".join(
            f"{g['service_area']} ({pct(g['rate'])})" for g in d["engagement_gaps"])
            + f" - below {pct(d['gap_threshold'])}"))
    out.append(head)
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
        out.append(Section(f"By {label.lower()}", columns=[label, "Active members", "Came", "Attendances", "Rate"],
                           rows=[[g[col] + (" (gap)" if g[col] in gaps else ""), str(g["members"]), str(g["attendees"]),
                                  str(g["attendances"]), pct(g["rate"])] for g in groups],
                           bars=[(g[col], g["rate"] or 0, pct(g["rate"])) for g in groups] if key == "by_service_area" else []))
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
        out.append(Section("Trend", columns=["Period", "Meetings held", "Mean attendance", "Different people",
                                             "Participation"],
                           rows=[[t["label"], str(t["meetings_held"]), num(t["attendance_mean"]),
                                  str(t["unique_attendees"]), pct(t["participation_rate"])] for t in d["trend"]],
                           bars=[(t["label"], t["attendance_mean"] or 0, num(t["attendance_mean"])) for t in d["trend"]]))
    prev = d["previous"]
    if prev and not prev["meetings_held"]:  # an all-zero column compares with nothing
        out.append(Section(f"Compared with {prev['period']['label']}",
                           note=f"No meeting was held in {prev['period']['label']}, so there is nothing to compare with."))
    elif prev:
        c = prev["change"]
        rows = [
            ["Meetings held", str(d["meetings_held"]), str(prev["meetings_held"]), signed(c["meetings_held"])],
            ["Attendance", str(a["total"]), str(prev["attendance"]["total"]), signed(c["attendance"]["total"])],
            ["Mean a meeting", num(a["mean"]), num(prev["attendance"]["mean"]), signed(c["attendance"]["mean"])],
            ["Different people", str(d["unique_attendees"]), str(prev["unique_attendees"]), signed(c["unique_attendees"])],
            ["Active members at end", str(mem["end"]), str(prev["membership"]["end"]), signed(c["membership"]["end"])],
            ["Participation", pct(d["participation_rate"]), pct(prev["participation_rate"]),
             signed(c["participation_rate"], percent=True)],
        ]
        out.append(Section(f"Compared with {prev['period']['label']}", columns=["Figure", p["label"], prev["period"]["label"], "Change"],
                           rows=rows))
    else:
        out.append(Section("Compared with the previous period", note="No previous period: this is the first."))
    return title, out


def to_rich(d: dict, console) -> None:
    from rich.table import Table
    from rich.text import Text

    from tanet.output.render import cell, grid

    title, sections = document(d)
    console.print(cell(title, "bold"))
    for s in sections:
        console.print()
        console.print(cell(s.title, "bold underline"))
        if s.facts:
            t = Table(show_header=False, box=None, pad_edge=False)
            t.add_column(style="bold")
            t.add_column()
            for k, v in s.facts:
                t.add_row(cell(k), cell(v))
            console.print(t)
        if s.rows:  # drawn as every list is: words wrapped whole, never cut short with '…'
            console.file.write(grid(list(s.columns), s.rows, console.width))
        if s.bars:
            top = max((b[1] for b in s.bars), default=0) or 1
            t = Table(show_header=False, box=None, pad_edge=False)
            t.add_column()
            t.add_column()
            for label, value, shown in s.bars:
                bar = Text("█" * max(0, round(30 * value / top)), style="cyan")
                bar.append(f" {shown}")
                t.add_row(cell(label), bar)
            console.print(t)
        if s.note:
            console.print(cell(s.note))
        if not (s.facts or s.rows or s.bars or s.note):
            console.print("Nothing this period.")


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
        if s.note:
            lines += [_md_cell(s.note), ""]
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
svg.chart{display:block;max-width:100%;height:auto}
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


def html_section(s: Section) -> str:
    e = html.escape
    size = "short" if is_short(s) else "long"
    parts = [f'<section class="{size}"><h2>{e(s.title)}</h2>']
    if s.facts:
        parts.append("<dl>" + "".join(f"<div><dt>{e(k)}</dt><dd>{e(v)}</dd></div>" for k, v in s.facts) + "</dl>")
    if s.rows:
        parts.append(html_table(s.columns, s.rows))
    if s.bars:
        said = "the same figures as the table above" if s.rows else "; ".join(f"{b[0]} {b[2]}" for b in s.bars)
        parts.append(f"<figure>{svg_bars(s.bars, s.title)}<figcaption>Chart: {e(said)}.</figcaption></figure>")
    if s.note:
        parts.append(f"<p>{e(s.note)}</p>")
    if not (s.facts or s.rows or s.note):
        parts.append("<p>Nothing this period.</p>")
    parts.append("</section>")
    return "".join(parts)


def to_html(d: dict) -> str:
    title, sections = document(d)
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>", f"<h1>{e(title)}</h1>"]
    parts += [html_section(s) for s in sections]
    parts.append(f"</main><footer><p>Made by tanet on {e(d['generated_on'])}. Check-in notes and follow-up details "
                 "are never included.</p></footer></body></html>")
    return "\n".join(parts) + "\n"

