"""Meetings: planning around holidays, moves, cancellations, agenda, rota, themes."""

from conftest import FIXTURES, add_member


def plan(tanet, *args):
    return tanet("meeting", "plan", *args, "--format", "json", ok=True).json()


def test_series_through_new_year_moves_without_drift(tanet):
    rows = plan(tanet, "--start", "2026-11-09", "--count", "4", "--dry-run")
    assert [(r["date"], r["original_date"], r["moved"]) for r in rows] == [
        ("2026-11-09", "2026-11-09", False),
        ("2027-01-05", "2027-01-04", True),   # 4 Jan 2027: Scotland's substitute New Year holiday
        ("2027-03-01", "2027-03-01", False),  # cadence counted from the original date: no drift
        ("2027-04-26", "2027-04-26", False),
    ]
    assert "New Year" in rows[1]["reason"]
    assert tanet("meeting", "list", "--format", "json", ok=True).json() == []  # dry run saved nothing


def test_no_holidays_keeps_the_date(tanet):
    rows = plan(tanet, "--start", "2026-11-09", "--count", "2", "--no-holidays", "--dry-run")
    assert rows[1]["date"] == "2027-01-04"


def test_avoid_school_calendar(tanet):
    # 12 Oct 2026 falls in the autumn holiday (12-23 Oct): next free working day is Mon 26 Oct.
    rows = plan(tanet, "--start", "2026-10-12", "--count", "3", "--avoid", FIXTURES / "school-holidays-2026-27.ics")
    assert [(r["date"], r["original_date"]) for r in rows] == [
        ("2026-10-26", "2026-10-12"), ("2026-12-07", "2026-12-07"), ("2027-02-01", "2027-02-01")]
    assert "Autumn holiday" in rows[0]["reason"]
    # Multi-day event with exclusive DTEND: the Christmas holiday ends on 1 Jan, in-service day is one day.
    rows = plan(tanet, "--start", "2026-11-16", "--count", "1", "--avoid", FIXTURES / "school-holidays-2026-27.ics", "--dry-run")
    assert rows[0]["date"] == "2026-11-17" and "In-service day" in rows[0]["reason"]
    rows = plan(tanet, "--start", "2027-01-01", "--count", "1", "--no-holidays", "--avoid",
                FIXTURES / "school-holidays-2026-27.ics", "--dry-run")
    assert rows[0]["date"] == "2027-01-04"


def test_avoid_recurring_and_timed_events(tanet, tmp_path):
    ics = tmp_path / "staff.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:a@test\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20270105T090000Z\r\n"
        "DTEND:20270105T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Staff meeting\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n")
    rows = plan(tanet, "--start", "2027-01-12", "--count", "2", "--every", "1", "--avoid", ics, "--dry-run")
    assert [(r["date"], r["reason"][:18]) for r in rows] == [("2027-01-13", "Tue 12 Jan: Staff "),
                                                              ("2027-01-20", "Tue 19 Jan: Staff ")]


def test_planning_twice_is_refused_and_changes_nothing(tanet):
    plan(tanet, "--start", "2027-01-12", "--count", "3")
    r = tanet("meeting", "plan", "--start", "2027-01-12", "--count", "3", ok=False)
    assert "within 2 weeks of a meeting already planned (meeting #1 on 2027-01-12 first)" in r.stderr
    assert len(tanet("meeting", "list", "--format", "json", ok=True).json()) == 3
    tanet("meeting", "add", "2027-01-12", "--time", "15:45", ok=True)  # an after-school run the same day is fine
    tanet("meeting", "add", "2027-01-12", ok=False)


def test_rotating_times_and_until(tanet):
    rows = plan(tanet, "--start", "2027-01-12", "--until", "2027-09-30", "--times", "10:00,15:45")
    assert [r["start"] for r in rows] == ["10:00", "15:45", "10:00", "15:45", "10:00"]
    assert rows[-1]["date"] <= "2027-09-30"
    saved = tanet("meeting", "list", "--format", "json", ok=True).json()
    assert len(saved) == 5 and len({m["uid"] for m in saved}) == 5


def test_wall_clock_across_daylight_saving(tanet):
    rows = plan(tanet, "--start", "2027-03-09", "--count", "5", "--time", "10:00", "--every", "4", "--no-holidays")
    meetings = {m["date"]: m for m in tanet("meeting", "list", "--format", "json", ok=True).json()}
    assert meetings["2027-03-09"]["starts_at"] == "2027-03-09T10:00:00+00:00"   # GMT
    assert meetings["2027-04-06"]["starts_at"] == "2027-04-06T10:00:00+01:00"   # BST after 28 March
    assert meetings["2027-04-06"]["ends_at"] == "2027-04-06T12:00:00+01:00"
    tanet("meeting", "add", "2027-11-02", "--time", "10:00", ok=True)            # GMT again after 31 October
    assert tanet("meeting", "show", "2027-11-02", "--format", "json", ok=True).json()["starts_at"] == "2027-11-02T10:00:00+00:00"
    assert len(rows) == 5


def test_meeting_object_keys(tanet):
    tanet("meeting", "add", "2027-01-12", "--time", "15:45", "--duration", "90", "--title", "Winter meeting",
          "--location", "Leith Library", "--url", "https://meet.example.org/x", ok=True)
    m = tanet("meeting", "list", "--format", "json", ok=True).json()[0]
    assert list(m) == ["id", "uid", "title", "date", "start", "end", "starts_at", "ends_at", "timezone",
                       "location", "url", "status", "sequence", "present"]
    assert (m["start"], m["end"], m["status"], m["sequence"], m["present"], m["timezone"]) == (
        "15:45", "17:15", "scheduled", 0, 0, "Europe/London")


def test_move_and_cancel_raise_sequence_keep_uid(tanet):
    tanet("meeting", "add", "2027-01-12", ok=True)
    uid = tanet("meeting", "show", "1", "--format", "json", ok=True).json()["uid"]
    tanet("meeting", "move", "2027-01-12", "--to", "2027-01-14", "--time", "15:45", ok=True)
    m = tanet("meeting", "show", "1", "--format", "json", ok=True).json()
    assert (m["date"], m["start"], m["end"], m["sequence"], m["uid"]) == ("2027-01-14", "15:45", "17:45", 1, uid)
    r = tanet("meeting", "cancel", "1", "--reason", "Snow", ok=True)
    m = tanet("meeting", "show", "1", "--format", "json", ok=True).json()
    assert (m["status"], m["sequence"], m["uid"]) == ("cancelled", 2, uid)
    assert "already cancelled" in tanet("meeting", "cancel", "1", ok=False).stderr
    assert r.exit_code == 0


def test_move_onto_public_holiday_warns(tanet):
    tanet("meeting", "add", "2026-12-22", ok=True)
    r = tanet("meeting", "move", "1", "--to", "2026-12-25", ok=True)
    assert "public holiday" in r.stderr and "Christmas" in r.stderr


def test_references(tanet):
    tanet("meeting", "add", "2026-10-06", ok=True)
    tanet("meeting", "add", "2026-12-01", "--time", "10:00", ok=True)
    tanet("meeting", "add", "2026-12-01", "--time", "15:45", ok=True)
    tanet("meeting", "add", "2027-01-26", ok=True)
    assert tanet("meeting", "show", "last", "--format", "json", ok=True).json()["id"] == 1
    r = tanet("meeting", "show", "2026-12-01", ok=False)
    assert "#2" in r.stderr and "#3" in r.stderr
    assert tanet("meeting", "show", "next", "--format", "json", ok=True).json()["id"] == 2
    tanet("meeting", "cancel", "3", ok=True)
    assert tanet("meeting", "show", "2026-12-01", "--format", "json", ok=True).json()["id"] == 2
    assert tanet("meeting", "show", "01/12/2026", "--format", "json", ok=True).json()["id"] == 2
    assert "no meeting #99" in tanet("meeting", "show", "99", ok=False).stderr
    assert "no meeting on 2026-12-02" in tanet("meeting", "show", "2026-12-02", ok=False).stderr
    assert "not a meeting" in tanet("meeting", "show", "soon", ok=False).stderr
    upcoming = tanet("meeting", "list", "--upcoming", "--format", "json", ok=True).json()
    assert [m["id"] for m in upcoming] == [2, 4]
    assert [m["id"] for m in tanet("meeting", "list", "--past", "--format", "json", ok=True).json()] == [1]


def test_bad_input(tanet):
    assert "no month 13" in tanet("meeting", "add", "2027-13-01", ok=False).stderr
    assert "not a time" in tanet("meeting", "add", "2027-01-12", "--time", "25:00", ok=False).stderr
    assert "at least one minute" in tanet("meeting", "add", "2027-01-12", "--duration", "0", ok=False).stderr
    assert "at least one minute" in tanet("meeting", "add", "2027-01-12", "--duration=-30", ok=False).stderr
    assert "past midnight" in tanet("meeting", "add", "2027-01-12", "--time", "23:00", "--duration", "120", ok=False).stderr
    assert "at least 1 week" in tanet("meeting", "plan", "--start", "2027-01-12", "--every", "0", ok=False).stderr
    assert "not both" in tanet("meeting", "plan", "--start", "2027-01-12", "--count", "3", "--until", "2027-06-01", ok=False).stderr
    assert tanet("meeting", "list", "--format", "json", ok=True).json() == []


def test_avoid_file_not_icalendar(tanet, tmp_path):
    bad = tmp_path / "holidays.ics"
    bad.write_text("Autumn holiday, 12/10/2026 - 23/10/2026\n")
    r = tanet("meeting", "plan", "--start", "2026-10-12", "--avoid", bad, ok=False)
    assert "is not an iCalendar" in r.stderr
    assert "There is no file" in tanet("meeting", "plan", "--start", "2026-10-12", "--avoid", tmp_path / "nope.ics", ok=False).stderr


def test_sessions(tanet):
    add_member(tanet, "Ann Able", "ann@example.org")
    add_member(tanet, "Gone Person", "gone@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("member", "leave", "Gone", "--on", "2026-02-01", ok=True)
    tanet("meeting", "add", "2027-01-12", ok=True)
    s = tanet("session", "add", "1", "--kind", "spotlight", "--title", "Housing first", "--presenter", "Ann",
              "--format", "json", ok=True).json()
    assert s == {"id": 1, "meeting_id": 1, "kind": "spotlight", "title": "Housing first", "presenter": "Ann Able",
                 "guest": None, "guest_org": None}
    tanet("session", "add", "next", "--kind", "guest", "--title", "Self-harm: what helps",
          "--guest", "Dr Harriet Vale", "--guest-org", "Self-Harm Network", ok=True)
    assert "not a session kind" in tanet("session", "add", "1", "--kind", "lecture", "--title", "x", ok=False).stderr
    assert "is not a member on" in tanet("session", "add", "1", "--kind", "spotlight", "--title", "x",
                                        "--presenter", "gone@example.org", ok=False).stderr
    rows = tanet("session", "list", "1", "--format", "json", ok=True).json()
    assert [(r["kind"], r["guest_org"]) for r in rows] == [("spotlight", None), ("guest", "Self-Harm Network")]
    tanet("session", "remove", "1", ok=True)
    assert len(tanet("session", "list", "--format", "json", ok=True).json()) == 1
    tanet("session", "remove", "1", ok=False)


def test_themes(tanet):
    tanet("meeting", "add", "2026-10-06", ok=True)
    t = tanet("theme", "add", "Waiting lists for CAMHS", "--kind", "Pain point", "--meeting", "last",
              "--format", "json", ok=True).json()
    assert t == {"id": 1, "text": "Waiting lists for CAMHS", "kind": "pain-point", "status": "open",
                 "meeting_id": 1, "note": None}
    tanet("theme", "add", "Shared risk model", "--kind", "solution", ok=True)
    tanet("theme", "status", "1", "raised", "--note", "Raised with the partnership board", ok=True)
    assert [t["id"] for t in tanet("theme", "list", "--status", "raised", "--format", "json", ok=True).json()] == [1]
    assert [t["id"] for t in tanet("theme", "list", "--kind", "solution", "--format", "json", ok=True).json()] == [2]
    assert "not a theme status" in tanet("theme", "status", "1", "done", ok=False).stderr
    assert "not a theme kind" in tanet("theme", "add", "x", "--kind", "moan", ok=False).stderr


def _network(tanet):
    people = [("Pat Public", "public", "housing"), ("Tia Third", "third", "housing"),
              ("Paul Public", "public", "education"), ("Tom Third", "third", "mental health"),
              ("Pam Public", "public", "justice"), ("Priv Ate", "private", "residential services")]
    for i, (name, sector, area) in enumerate(people):
        add_member(tanet, name, f"m{i}@example.org", area, sector, "frontline", "Org", "--joined", "2025-01-01")


def test_rota_pairs_span_sectors_and_share_the_load(tanet):
    _network(tanet)
    plan(tanet, "--start", "2027-01-12", "--count", "6", "--no-holidays")
    proposals = tanet("meeting", "rota", "--count", "3", "--format", "json", ok=True).json()
    assert len(proposals) == 3
    seen = []
    for p in proposals:
        a, b = p["facilitators"]
        assert a["sector"] != b["sector"]
        assert set(p["meeting"]) >= {"id", "uid", "date", "start"}
        seen += [a["id"], b["id"]]
    assert len(set(seen)) == 6  # nobody twice while others wait
    assert tanet("meeting", "show", "1", "--format", "json", ok=True).json()["facilitators"] == []
    tanet("meeting", "rota", "--count", "3", "--apply", ok=True)
    assert len(tanet("meeting", "show", "1", "--format", "json", ok=True).json()["facilitators"]) == 2
    # The next proposal covers the meetings still without facilitators.
    later = tanet("meeting", "rota", "--count", "3", "--format", "json", ok=True).json()
    assert [p["meeting"]["id"] for p in later] == [4, 5, 6]


def test_rota_falls_back_to_service_areas(tanet):
    add_member(tanet, "A One", "a@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    add_member(tanet, "B Two", "b@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    add_member(tanet, "C Three", "c@example.org", "education", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-01-12", ok=True)
    p = tanet("meeting", "rota", "--format", "json", ok=True).json()[0]
    assert {f["service_area"] for f in p["facilitators"]} == {"housing", "education"}


def test_facilitate(tanet):
    _network(tanet)
    tanet("meeting", "add", "2027-01-12", ok=True)
    tanet("meeting", "facilitate", "1", "Pat", "Tia", ok=True)
    names = [f["name"] for f in tanet("meeting", "show", "1", "--format", "json", ok=True).json()["facilitators"]]
    assert names == ["Pat Public", "Tia Third"]
    tanet("meeting", "facilitate", "1", "Nobody Known", ok=False)
