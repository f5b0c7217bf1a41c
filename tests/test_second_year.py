"""The coordinator's second year: plans that always finish, call-ahead check-ins, follow-ups
with a reason, undo (meeting delete, resource unadopt), one area's availability, fiscal labels."""

import sqlite3

from conftest import add_member

SUMMER = """BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:summer-2027@test\r
DTSTAMP:20260101T000000Z\r\nDTSTART;VALUE=DATE:20270701\r\nDTEND;VALUE=DATE:20270818\r
SUMMARY:Summer holidays\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"""


def test_a_plan_over_a_long_summer_break_finishes(tanet, tmp_path):
    ics = tmp_path / "summer.ics"
    ics.write_text(SUMMER)
    args = ["meeting", "plan", "--start", "2027-01-19", "--until", "2027-12-31", "--avoid", ics, "--format", "json"]
    r = tanet(*args, "--dry-run", ok=True)
    planned = r.json()
    # 6 July has no free working day in the 31 days after: it moves to the nearest free day before.
    summer = next(p for p in planned if p["original_date"] == "2027-07-06")
    assert (summer["date"], summer["moved"]) == ("2027-06-30", True)
    assert summer["reason"].startswith("moved earlier") and "Summer holidays" in summer["reason"]
    # The cadence carries on from the original dates.
    assert [p["original_date"] for p in planned] == ["2027-01-19", "2027-03-16", "2027-05-11", "2027-07-06",
                                                     "2027-08-31", "2027-10-26", "2027-12-21"]
    skipped = tanet(*args, "--skip-blocked", ok=True)
    assert [p["date"] for p in skipped.json()] == ["2027-01-19", "2027-03-16", "2027-05-11", "2027-08-31",
                                                   "2027-10-26", "2027-12-21"]
    assert "Skipped Tue 06 Jul 2027" in skipped.stderr
    assert [m["date"] for m in tanet("meeting", "list", "--format", "json", ok=True).json()][3] == "2027-08-31"


def test_moved_earlier_never_lands_on_or_before_the_meeting_before(tanet, tmp_path):
    ics = tmp_path / "long.ics"
    ics.write_text(SUMMER.replace("20270818", "20271001").replace("20270701", "20270610"))
    planned = tanet("meeting", "plan", "--start", "2027-06-08", "--count", "3", "--every", "2", "--avoid", ics,
                    "--dry-run", "--format", "json", ok=True)
    dates = [p["date"] for p in planned.json()]
    # 22 June and 6 July: nothing free after, and before only days crowding the meeting before.
    assert dates == ["2027-06-08"]
    assert planned.stderr.count("Skipped") == 2


def test_meeting_delete_only_when_nobody_was_sent_it(tanet, tmp_path, own_database):
    tanet("init", "--organiser-name", "Org Aniser", "--organiser-email", "org@example.org", ok=True)
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2027-02-02", ok=True)
    tanet("meeting", "add", "2027-03-02", "--location", "Leith Community Centre", ok=True)
    tanet("session", "add", "1", "--kind", "spotlight", "--title", "Talk", ok=True)
    tanet("theme", "add", "Waiting lists", "--meeting", "1", "--kind", "pain-point", ok=True)
    r = tanet("meeting", "delete", "1", ok=False)
    assert "--yes" in r.stderr
    tanet("meeting", "delete", "2027-02-02", "--yes", ok=True)
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT id FROM meetings").fetchall() == [(2,)]
        assert c.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
        assert c.execute("SELECT meeting_id FROM themes").fetchall() == [(None,)]  # the theme is kept
    tanet("invite", "2", "-o", tmp_path / "inv", ok=True)
    r = tanet("meeting", "delete", "2", "--yes", ok=False)
    assert "meeting cancel 2" in r.stderr
    assert len(tanet("meeting", "list", "--format", "json", ok=True).json()) == 1


def test_meeting_delete_keeps_a_meeting_with_attendance(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-11-03", ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)
    assert "attendance" in tanet("meeting", "delete", "1", "--yes", ok=False).stderr


def test_a_check_in_before_the_day_is_a_call_ahead(tanet, own_database):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-12-08", ok=True)  # today is 2026-11-25
    r = tanet("checkin", "record", "1", "Ann", "--note", "Rang her: new job, may be late", ok=True)
    assert "call-ahead" in r.stdout and "not marked present" in r.stdout
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT note FROM checkins").fetchall() == [("Rang her: new job, may be late",)]
        assert c.execute("SELECT count(*) FROM attendance").fetchone()[0] == 0
    assert tanet("meeting", "show", "1", "--format", "json", ok=True).json()["present"] == 0
    # On the day she is still to be marked present, and the note is kept.
    r = tanet("checkin", "record", "1", "Ann", env={"TANET_TODAY": "2026-12-08"}, ok=True)
    assert "(present)" in r.stdout
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT note FROM checkins").fetchall() == [("Rang her: new job, may be late",)]
        assert c.execute("SELECT status FROM attendance").fetchall() == [("present",)]


def test_the_round_still_asks_someone_called_ahead(tanet):
    from tanet.cli.common import connection, state
    from tanet.meetings import attendance

    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    add_member(tanet, "Ben Bold", "ben@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-12-08", ok=True)
    tanet("checkin", "record", "1", "Ann", "--note", "By phone", ok=True)
    state.db_option = None
    conn = connection()
    try:
        meeting = conn.execute("SELECT * FROM meetings").fetchone()
        assert [p["name"] for p in attendance.expected(conn, meeting)] == ["Ann Able", "Ben Bold"]
    finally:
        conn.close()
        state.conn = None
    tanet("checkin", "record", "1", "Ben", env={"TANET_TODAY": "2026-12-08"}, ok=True)
    conn = connection()
    try:
        assert [p["name"] for p in attendance.expected(conn, meeting)] == ["Ann Able"]
    finally:
        conn.close()
        state.conn = None


def test_followup_edit(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    add_member(tanet, "Ben Bold", "ben@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-11-03", ok=True)
    tanet("checkin", "record", "1", "Ann", "--follow-up", ok=True)
    r = tanet("followup", "edit", "1", "--about", "Chase supervision cover", "--owner", "Ben", "--due", "2026-12-01",
              ok=True)
    assert "Chase supervision cover" in r.stdout
    f = tanet("followup", "list", "--format", "json", ok=True).json()[0]
    assert (f["about"], f["owner"], f["due_on"]) == ("Chase supervision cover", "Ben Bold", "2026-12-01")
    tanet("followup", "edit", "1", "--note", "Left a message", ok=True)
    assert tanet("followup", "list", "--format", "json", ok=True).json()[0]["note"] == "Left a message"
    assert "Say what to change" in tanet("followup", "edit", "1", ok=False).stderr
    assert "no follow-up #9" in tanet("followup", "edit", "9", "--about", "x", ok=False).stderr
    assert "already passed" in tanet("followup", "edit", "1", "--due", "2026-01-01", ok=False).stderr


def test_unadopt_and_organisations_matched_blind_to_case_accents_and_punctuation(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "third", "frontline", "Barnardo's Scotland")
    tanet("resource", "add", "Supervision model", "--on", "2026-01-10", ok=True)
    r = tanet("resource", "adopt", "supervision", "--org", "barnardos  scotland", ok=True)
    assert "taken as Barnardo's Scotland" in r.stdout
    assert "already adopted" in tanet("resource", "adopt", "1", "--org", "BARNARDO’S SCOTLAND", ok=False).stderr
    tanet("resource", "adopt", "1", "--org", "Café Néo Housing", ok=True)
    tanet("resource", "adopt", "1", "--org", "cafe neo housing", ok=False)
    shown = tanet("resource", "show", "1", "--format", "json", ok=True).json()
    assert sorted(a["organisation"] for a in shown["adopted_by"]) == ["Barnardo's Scotland", "Café Néo Housing"]
    r = tanet("resource", "unadopt", "1", "--org", "cafe neo housing", ok=True)
    assert "Removed Café Néo Housing's adoption" in r.stdout
    assert tanet("resource", "show", "1", "--format", "json", ok=True).json()["adoptions"] == 1
    assert "was adopted by: Barnardo's Scotland" in tanet("resource", "unadopt", "1", "--org", "Nobody Ltd",
                                                          ok=False).stderr


def test_availability_suggest_for_one_area(tanet):
    add_member(tanet, "Eve Teacher", "eve@example.org", "education", "public", "frontline", "School")
    add_member(tanet, "Hal Housing", "hal@example.org", "housing", "public", "frontline", "Council")
    tanet("availability", "set", "Eve", "--busy", "mon-fri 08:45-15:30", ok=True)
    tanet("availability", "set", "Hal", "--busy", "tue-thu 15:00-18:00", ok=True)
    slots = tanet("availability", "suggest", "--area", "education", "--format", "json", ok=True).json()
    assert {(s["weekday"], s["start"]) for s in slots if s["available"] == 1} == {
        ("tue", "15:45"), ("wed", "15:45"), ("thu", "15:45")}
    assert all([a["service_area"] for a in s["by_service_area"]] == ["education"] for s in slots)
    assert "did you mean" in tanet("availability", "suggest", "--area", "educaton", ok=False).stderr.lower()


def test_fiscal_quarters_are_labelled_by_the_years_they_span(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    p = tanet("report", "quarter", "2026/27 Q3", "--fiscal", "--format", "json", ok=True).json()["period"]
    # Today (2026-11-25) is inside it, so it is marked as not over yet.
    assert p == {"label": "2026/27 Q3", "start": "2026-10-01", "end": "2026-12-31", "fiscal": True,
                 "in_progress": True}
    assert tanet("report", "quarter", "2026Q3", "--fiscal", "--format", "json", ok=True).json()["period"] == p
    assert "2026/27 Q3" in tanet("report", "quarter", "2026/28 Q3", "--fiscal", ok=False).stderr


def test_past_meetings_read_as_held_in_the_table(tanet):
    tanet("meeting", "add", "2026-11-03", ok=True)
    tanet("meeting", "add", "2026-12-08", ok=True)
    tanet("meeting", "add", "2026-12-15", ok=True)
    tanet("meeting", "cancel", "3", ok=True)
    table = tanet("meeting", "list", ok=True).stdout
    rows = [line for line in table.splitlines() if "2026-" in line]
    assert ["held" in rows[0], "scheduled" in rows[1], "cancelled" in rows[2]] == [True, True, True]
    assert [m["status"] for m in tanet("meeting", "list", "--format", "json", ok=True).json()] == [
        "scheduled", "scheduled", "cancelled"]


def test_the_first_summary_does_not_compare_with_an_empty_quarter(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2026-05-01")
    tanet("meeting", "add", "2026-11-03", ok=True)
    tanet("attendance", "mark", "1", "Ann", ok=True)
    text = tanet("report", "quarter", "2026Q4", "--format", "markdown", ok=True).stdout
    assert "No meeting was held in 2026Q3, so there is nothing to compare with." in text
    assert "| Meetings held | 1 | 0 |" not in text
    assert tanet("report", "quarter", "2026Q4", "--format", "json", ok=True).json()["previous"]["meetings_held"] == 0


def test_rsvp_list_puts_declines_before_those_who_have_not_answered(tanet, tmp_path, own_database):
    tanet("init", "--organiser-name", "Org Aniser", "--organiser-email", "org@example.org", ok=True)
    for name, address in (("Ann Able", "ann@example.org"), ("Ben Bold", "ben@example.org"),
                          ("Cat Crane", "cat@example.org")):
        add_member(tanet, name, address, "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-12-08", "--location", "Leith", ok=True)
    tanet("invite", "1", "-o", tmp_path / "i", ok=True)
    with sqlite3.connect(own_database) as c:
        c.execute("INSERT INTO responses(meeting_id, member_id, response, responded_at, sequence) "
                  "VALUES (1, 3, 'declined', '2026-11-20T10:00:00+00:00', 0)")
    rows = tanet("rsvp", "list", "1", "--format", "json", ok=True).json()
    assert [(r["name"], r["response"]) for r in rows] == [("Cat Crane", "declined"), ("Ann Able", "none"),
                                                           ("Ben Bold", "none")]


def test_outbox_unsent_leaves_out_older_versions_and_erased_addresses(tanet, tmp_path):
    tanet("init", "--organiser-name", "Org Aniser", "--organiser-email", "org@example.org", ok=True)
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    add_member(tanet, "Ben Bold", "ben@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-12-08", "--location", "Leith", ok=True)
    tanet("invite", "1", "-o", tmp_path / "i", ok=True)
    tanet("meeting", "edit", "1", "--location", "Granton", ok=True)
    tanet("invite", "1", "-o", tmp_path / "i", ok=True)
    tanet("member", "forget", "ben@example.org", "--yes", ok=True)
    rows = tanet("outbox", "list", "--unsent", "--format", "json", ok=True).json()
    assert [(r["email"], r["sequence"]) for r in rows] == [("ann@example.org", 1)]
    assert len(tanet("outbox", "list", "--format", "json", ok=True).json()) >= 4  # the full record stays


def test_organiser_change_without_send_says_how_to_send_and_mentions_the_login(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tanet("init", "--organiser-name", "Alex Morgan", "--organiser-email", "alex@example.org", ok=True)
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-12-08", "--location", "Leith", ok=True)
    tanet("invite", "1", ok=True)
    out = tanet("organiser", "change", "--name", "Sam Reid", "--email", "sam@example.org", ok=True).stdout
    assert "Not sent yet" in out and "tanet invite 1 --send" in out
    assert "tanet config set smtp.user" in out


def test_help_lists_every_command_whole_at_80_columns(tanet):
    for group in ([], ["member"], ["meeting"], ["report"], ["checkin"]):
        text = tanet(*group, "--help", env={"COLUMNS": "80"}, ok=True).stdout
        lines = text.splitlines()
        assert all(len(line) <= 80 for line in lines), group
        assert [line for line in lines if "..." in line and not line.startswith("Usage:")] == [], group
