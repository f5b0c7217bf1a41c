"""The quarterly summary, figure by figure, on a hand-built network."""


import pytest
from conftest import add_member

NOTE = "SECRET-CHECKIN-NOTE"


def at(tanet, day, *args):
    return tanet(*args, env={"TANET_TODAY": day}, ok=True)


@pytest.fixture
def network(tanet):
    tanet("config", "set", "attendance.target", "4", ok=True)
    people = [  # name, email, area, sector, role, joined
        ("Ann Able", "ann@example.org", "housing", "public", "frontline", "2025-01-01"),
        ("Ben Bold", "ben@example.org", "education", "public", "manager", "2025-01-01"),
        ("Cat Crane", "cat@example.org", "mental health", "third", "frontline", "2025-06-01"),
        ("Dan Dune", "dan@example.org", "housing", "third", "supervisor", "2026-02-01"),
        ("Eve Emery", "eve@example.org", "education", "public", "frontline", "2026-01-05"),
        ("Fay Frost", "fay@example.org", "justice", "third", "senior-leader", "2025-01-01"),
        ("Gus Grey", "gus@example.org", "social work", "private", "frontline", "2025-01-01"),
    ]
    for name, email, area, sector, role, joined in people:
        add_member(tanet, name, email, area, sector, role, "Org", "--joined", joined)
    tanet("member", "leave", "Eve", "--on", "2026-03-31", ok=True)   # leaves on the quarter's last day
    tanet("member", "leave", "Gus", "--on", "2025-12-31", ok=True)   # left before the quarter
    for d, t in (("2025-11-10", "10:00"), ("2026-01-13", "10:00"), ("2026-02-10", "15:45"),
                 ("2026-03-10", "15:45"), ("2026-04-14", "10:00")):
        tanet("meeting", "add", d, "--time", t, "--location", "Leith Library", ok=True)
    tanet("meeting", "cancel", "3", ok=True)
    tanet("attendance", "mark", "1", "Ann", "Cat", "Gus", ok=True)
    tanet("attendance", "mark", "2", "Ann", "Ben", "Eve", ok=True)
    tanet("attendance", "mark", "2", "Cat", "--status", "apologies", ok=True)
    tanet("attendance", "mark", "4", "Ann", "Ben", "Dan", "Fay", ok=True)
    tanet("attendance", "mark", "5", "Ann", ok=True)
    tanet("meeting", "facilitate", "2", "Ann", "Cat", ok=True)   # public + third: across sectors
    tanet("meeting", "facilitate", "4", "Ann", "Ben", ok=True)   # public + public: within
    tanet("session", "add", "2", "--kind", "guest", "--title", "Self-harm: what helps", "--guest", "Dr Harriet Vale",
          "--guest-org", "Self-Harm Network", ok=True)
    tanet("session", "add", "2", "--kind", "spotlight", "--title", "Housing first", "--presenter", "Ann", ok=True)
    tanet("session", "add", "4", "--kind", "reflective", "--title", "Vicarious trauma", ok=True)
    tanet("resource", "add", "Risk assessment model", "--kind", "model", "--on", "2025-10-01", ok=True)
    tanet("resource", "adopt", "Risk assessment", "--org", "City Council", "--on", "2026-02-01", ok=True)
    tanet("resource", "adopt", "1", "--org", "NHS Lothian", "--on", "2026-05-01", ok=True)
    tanet("resource", "add", "Trauma-informed letters guide", "--on", "2026-03-01", ok=True)
    at(tanet, "2025-11-10", "theme", "add", "Older theme", "--kind", "policy")
    at(tanet, "2026-01-13", "theme", "add", "Waiting lists", "--kind", "pain-point", "--meeting", "2")
    at(tanet, "2026-03-10", "theme", "add", "Shared training", "--kind", "solution")
    at(tanet, "2026-03-20", "theme", "status", "2", "resolved")
    at(tanet, "2026-01-13", "checkin", "record", "2", "Ben", "--note", NOTE, "--follow-up")
    at(tanet, "2026-03-10", "checkin", "record", "4", "Ann", "--note", NOTE + "-2", "--follow-up")
    at(tanet, "2026-04-01", "followup", "close", "2")
    tanet("member", "forget", "Fay", "--yes", ok=True)  # still counted, anonymously
    return tanet


def summary(tanet, *args):
    return tanet("report", *args, "--format", "json", ok=True).json()


def group(rows, key, name):
    return next(r for r in rows if r[key] == name)


def test_figures(network):
    d = summary(network, "quarter", "2026Q1")
    assert d["period"] == {"label": "2026Q1", "start": "2026-01-01", "end": "2026-03-31", "fiscal": False}
    assert (d["meetings_held"], d["meetings_cancelled"]) == (2, 1)
    assert [(m["id"], m["present"], m["apologies"], m["checked_in"]) for m in d["meetings"]] == [(2, 3, 1, 1), (4, 4, 0, 1)]
    assert d["meetings"][0]["sessions"] == [{"kind": "guest", "title": "Self-harm: what helps"},
                                            {"kind": "spotlight", "title": "Housing first"}]
    assert set(d["meetings"][0]) == {"id", "date", "start", "title", "present", "apologies", "checked_in", "register",
                                    "sessions"}
    assert d["attendance"] == {"total": 7, "mean": 3.5, "min": 3, "max": 4, "target": 4, "meetings_at_target": 1}
    assert d["unique_attendees"] == 5
    assert d["membership"] == {"start": 4, "end": 5, "joined": 2, "left": 1}
    assert d["participation_rate"] == 1.0
    areas = d["by_service_area"]
    assert group(areas, "service_area", "housing") == {"service_area": "housing", "members": 2, "attendees": 2,
                                                       "attendances": 3, "rate": 1.0}
    assert group(areas, "service_area", "education") == {"service_area": "education", "members": 1, "attendees": 2,
                                                         "attendances": 3, "rate": 2.0}
    assert group(areas, "service_area", "mental health")["rate"] == 0.0
    assert group(areas, "service_area", "justice") == {"service_area": "justice", "members": 1, "attendees": 1,
                                                       "attendances": 1, "rate": 1.0}
    assert group(areas, "service_area", "social work")["rate"] is None
    assert [g["service_area"] for g in d["engagement_gaps"]] == ["mental health"]
    assert group(d["by_sector"], "sector", "public") == {"sector": "public", "members": 2, "attendees": 3,
                                                         "attendances": 5, "rate": 1.5}
    assert group(d["by_sector"], "sector", "third") == {"sector": "third", "members": 3, "attendees": 2,
                                                        "attendances": 2, "rate": 0.67}
    assert group(d["by_sector"], "sector", "private")["rate"] is None
    assert group(d["by_role"], "role", "frontline") == {"role": "frontline", "members": 2, "attendees": 2,
                                                        "attendances": 3, "rate": 1.0}
    assert [(s["start"], s["meetings"], s["attendances"], s["mean"]) for s in d["by_start_time"]] == [
        ("10:00", 1, 3, 3.0), ("15:45", 1, 4, 4.0)]
    assert d["facilitation"]["meetings_with_facilitators"] == 2
    assert d["facilitation"]["cross_sector_meetings"] == 1
    assert d["facilitation"]["sectors"] == ["public", "third"]
    assert d["sessions"] == {"spotlight": 1, "reflective": 1, "training": 0, "guest": 1, "total": 3}
    assert [(g["guest"], g["guest_org"]) for g in d["guest_speakers"]] == [("Dr Harriet Vale", "Self-Harm Network")]
    assert (d["resources"]["shared"], d["resources"]["adoptions"]) == (1, 1)
    assert d["resources"]["adopted"][0]["organisation"] == "City Council"
    assert (d["themes"]["raised"], d["themes"]["resolved"]) == (2, 1)
    assert d["follow_ups"] == {"raised": 2, "open": 1}
    assert d["first_time_attendees"] == 4
    assert d["lapsed"] == 2
    prev = d["previous"]
    assert prev["period"]["label"] == "2025Q4"
    assert prev["meetings_held"] == 1 and prev["unique_attendees"] == 3
    assert prev["attendance"]["total"] == 3 and prev["attendance"]["mean"] == 3.0
    assert prev["membership"] == {"start": 5, "end": 4, "joined": 0, "left": 1}
    assert prev["participation_rate"] == 0.75
    c = prev["change"]
    assert (c["meetings_held"], c["attendance"]["total"], c["attendance"]["mean"], c["unique_attendees"],
            c["membership"]["end"], c["participation_rate"]) == (1, 4, 0.5, 2, 1, 0.25)


def test_range_gives_the_same_figures(network):
    q = summary(network, "quarter", "2026-Q1")
    r = summary(network, "range", "--from", "2026-01-01", "--to", "31/03/2026")
    for key in ("meetings_held", "attendance", "unique_attendees", "membership", "by_service_area", "facilitation"):
        assert r[key] == q[key]
    # Three whole months are compared with the three whole months before them.
    assert r["previous"]["period"] == {"label": "2025-10-01 to 2025-12-31", "start": "2025-10-01",
                                       "end": "2025-12-31", "fiscal": False}


def test_empty_quarter_gives_nulls(network):
    d = summary(network, "quarter", "2026Q3")
    assert d["meetings_held"] == 0 and d["meetings"] == []
    assert d["attendance"] == {"total": 0, "mean": None, "min": None, "max": None, "target": 4, "meetings_at_target": 0}
    assert d["participation_rate"] == 0.0
    for fmt in ("table", "markdown", "html"):
        network("report", "quarter", "2026Q3", "--format", fmt, ok=True)


def test_first_quarter_has_no_previous(network):
    assert summary(network, "quarter", "2025Q1")["previous"] is None


def test_fiscal_quarters(network):
    d = summary(network, "quarter", "2025Q3", "--fiscal")
    assert d["period"] == {"label": "2025/26 Q3", "start": "2025-10-01", "end": "2025-12-31", "fiscal": True}
    assert d["meetings_held"] == 1
    assert summary(network, "quarter", "2025Q4", "--fiscal")["period"]["start"] == "2026-01-01"
    assert summary(network, "quarter", "2025Q4", "--fiscal")["previous"]["period"]["label"] == "2025/26 Q3"


def test_default_is_the_quarter_holding_today(network):
    assert summary(network, "quarter")["period"]["label"] == "2026Q4"


def test_no_private_detail_in_any_format(network, tmp_path):
    outputs = [network("report", "quarter", "2026Q1", "--format", f, ok=True).stdout
               for f in ("table", "markdown", "json", "html")]
    network("report", "quarter", "2026Q1", "--format", "html", "-o", tmp_path / "q.html", ok=True)
    outputs.append((tmp_path / "q.html").read_text())
    for text in outputs:
        assert NOTE not in text
        assert "Ben Bold" not in text and "Ann Able" not in text  # the follow-ups' members
        assert "7" in text
    html = outputs[-1]
    assert html.startswith("<!DOCTYPE html>") and "http" not in html.split("<body>")[0]
    assert "Dr Harriet Vale" in outputs[1] and "| mental health (gap) |" in outputs[1]
    assert "Self-Harm Network" in html


def test_bad_periods(network):
    assert "2027Q1" in network("report", "quarter", "2025Q5", ok=False).stderr
    assert "is not a quarter" in network("report", "quarter", "last-ish", ok=False).stderr
    assert "or say last" in network("report", "quarter", "lst", ok=False).stderr  # a typo of a word it knows
    assert "is after" in network("report", "range", "--from", "2026-03-01", "--to", "2026-01-01", ok=False).stderr
    assert "Nobody was a member" in network("report", "quarter", "1990Q1", ok=False).stderr


def test_resources(network):
    rows = network("resource", "list", "--format", "json", ok=True).json()
    assert rows[0] == {"id": 1, "title": "Risk assessment model", "kind": "model", "description": None,
                       "created_on": "2025-10-01", "adoptions": 2}
    shown = network("resource", "show", "risk", "--format", "json", ok=True).json()
    assert shown["adopted_by"] == [{"organisation": "City Council", "adopted_on": "2026-02-01"},
                                   {"organisation": "NHS Lothian", "adopted_on": "2026-05-01"}]
    assert "already adopted" in network("resource", "adopt", "1", "--org", "city council", ok=False).stderr
    assert "No resource" in network("resource", "show", "nothing like it", ok=False).stderr


def test_second_edition_periods_commentary_trend_and_no_gaps_when_nothing_was_held(tanet, tmp_path, monkeypatch):
    tanet("init", ok=True)
    tanet("member", "add", "Ann Able", "--email", "ann@example.org", "--org", "O", "--area", "housing",
          "--sector", "public", "--role", "frontline", "--joined", "2025-01-01", ok=True)
    tanet("meeting", "add", "2026-08-04", "--location", "x", ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)
    monkeypatch.setenv("TANET_TODAY", "2026-11-25")
    last = tanet("report", "quarter", "last", "--format", "json", ok=True).json()
    assert last["period"]["label"] == "2026Q3"
    this = tanet("report", "quarter", "this", "--format", "json", ok=True).json()
    assert this["period"]["label"] == "2026Q4" and this["meetings_held"] == 0
    assert this["engagement_gaps"] == []  # nothing held: nobody could come
    assert [t["label"] for t in this["trend"]] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert this["trend"][2] == {"label": "2026Q3", "meetings_held": 1, "attendance_mean": 1.0,
                                "unique_attendees": 1, "participation_rate": 1.0}
    note = tmp_path / "note.txt"
    note.write_text("A good quarter.\nHousing came back.\n")
    tanet("report", "note", "2026Q3", "--file", note, ok=True)
    data = tanet("report", "quarter", "2026Q3", "--format", "json", ok=True).json()
    assert data["commentary"] == "A good quarter.\nHousing came back."
    assert "From the coordinator" in tanet("report", "quarter", "2026Q3", "--format", "markdown", ok=True).stdout
    assert tanet("report", "quarter", "2026Q2", "--format", "json", ok=True).json()["commentary"] is None
    title = tanet("report", "range", "--from", "2026-07-01", "--to", "2026-09-30", ok=True).stdout.splitlines()[0]
    assert title.count("2026-07-01") == 1
    tanet("resource", "add", "Model", "--on", "2026-08-04", ok=True)
    assert "future" in tanet("resource", "adopt", "1", "--org", "X", "--on", "2026-12-01", ok=False).stderr


def test_themes_in_their_own_words(tanet, monkeypatch):
    tanet("init", ok=True)
    tanet("member", "add", "Ann Able", "--email", "ann@example.org", "--org", "O", "--area", "housing",
          "--sector", "public", "--role", "frontline", "--joined", "2025-01-01", ok=True)
    monkeypatch.setenv("TANET_TODAY", "2026-05-10")
    tanet("theme", "add", "Waiting lists for CAMHS", "--kind", "pain-point", ok=True)
    monkeypatch.setenv("TANET_TODAY", "2026-08-10")
    tanet("theme", "add", "Shared risk model", "--kind", "solution", ok=True)
    tanet("theme", "status", "1", "raised", ok=True)
    q3 = tanet("report", "quarter", "2026Q3", "--format", "json", ok=True).json()["themes"]["items"]
    assert q3 == [{"id": 1, "text": "Waiting lists for CAMHS", "kind": "pain-point", "status": "raised"},
                  {"id": 2, "text": "Shared risk model", "kind": "solution", "status": "open"}]
    q2 = tanet("report", "quarter", "2026Q2", "--format", "json", ok=True).json()["themes"]["items"]
    assert [i["id"] for i in q2] == [1]
    assert "Waiting lists for CAMHS" in tanet("report", "quarter", "2026Q3", "--format", "markdown", ok=True).stdout


def test_a_quarter_not_started_yet_is_said_to_be_so(network):
    r = at(network, "2026-12-03", "report", "quarter", "2026Q4", "--fiscal", "--format", "json")
    assert "2026/27 Q4 has not started yet (it runs 2027-01-01 to 2027-03-31)" in r.stderr
    r = at(network, "2026-12-03", "report", "quarter", "2026/27Q3", "--fiscal", "--format", "json")
    assert "not started" not in r.stderr
