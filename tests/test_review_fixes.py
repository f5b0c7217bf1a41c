"""What a new coordinator tripped over: a rejoiner invited again, leaving dates checked
against attendance, cancellations of meetings nobody had, undo, clashing meetings,
counts in words, relative dates in months and years, Forms sign-up headings. Against
real files, the real aiosmtpd server and libical."""

import icalendar
from servers import use_server
from test_calendar import libical_errors
from test_folders_and_leavers import leaver_network
from test_outbox import network, outbox


def test_a_member_who_left_and_rejoined_is_invited_again(tanet, tmp_path, smtp, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("invite", "2", "--send", ok=True)
    tanet("member", "leave", "zoe@example.org", "--send", ok=True)
    r = tanet("member", "rejoin", "zoe@example.org", ok=True)
    assert "tanet invite 1 --send --only zoe@example.org" in r.stdout
    assert "tanet invite 2 --send --only zoe@example.org" in r.stdout
    before = len(inbox.messages)
    r = tanet("invite", "2", "--send", "--only", "zoe@example.org", ok=True)
    assert "already had" not in r.stdout and "Only zoe@example.org is sent" in r.stdout
    (rcpt, msg), = inbox.messages[before:]
    assert rcpt == "zoe@example.org"
    ics = msg.get_body(("calendar",)).get_payload(decode=True)
    cal = icalendar.Calendar.from_ical(ics)
    assert cal["METHOD"] == "REQUEST" and int(cal.walk("VEVENT")[0]["SEQUENCE"]) == 0  # the meeting's current one
    path = tmp_path / "again.ics"
    path.write_bytes(ics)
    assert libical_errors(path) == {str(path): []}
    # Leaving a second time withdraws it again.
    r = tanet("member", "leave", "zoe@example.org", "--send", ok=True)
    assert "Wrote 1 cancellation" in r.stdout and "already had" not in r.stdout
    withdrawn = [m["Message-ID"] for _, m in inbox.messages if m["Subject"].startswith("Invitation withdrawn")]
    assert len(withdrawn) == 3 and len(set(withdrawn)) == 3  # the second withdrawal is a new message


def test_rejoining_removes_withdrawal_drafts_never_sent(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    tanet("member", "leave", "zoe@example.org", ok=True)
    folder = tmp_path / "cancellations" / "member-2"
    assert len(list(folder.glob("*.eml"))) == 2
    r = tanet("member", "rejoin", "zoe@example.org", ok=True)
    assert list(folder.glob("*.eml")) == [] and "2 cancellations never sent were removed" in r.stdout
    rows = [r for r in outbox(tanet) if r["email"] == "zoe@example.org" and r["kind"] == "cancellation"]
    assert rows == []


def test_a_leaving_date_before_their_last_attendance_is_refused(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)
    tanet("meeting", "add", "2026-11-24", "--location", "Leith Library", ok=True)
    tanet("attendance", "mark", "2", "zoe@example.org", ok=True)
    r = tanet("member", "leave", "zoe@example.org", "--on", "2025-11-30", ok=False)
    assert r.stderr.count("\n") == 1 and "recorded present at meeting #2 on 2026-11-24" in r.stderr
    assert "--on" in r.stderr
    assert tanet("member", "show", "zoe@example.org", "--format", "json", ok=True).json()["left_on"] is None
    tanet("member", "leave", "zoe@example.org", "--on", "2026-11-24", ok=True)


def test_a_meeting_nobody_was_sent_has_no_cancellation_and_can_be_deleted(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)
    tanet("meeting", "cancel", "1", ok=True)
    r = tanet("invite", "1", ok=False)
    assert r.stderr == "Error: Nobody was sent meeting #1, so there is no cancellation to send.\n"
    assert outbox(tanet) == [] and not (tmp_path / "invites").exists()
    tanet("meeting", "delete", "1", "--yes", ok=True)
    assert tanet("meeting", "list", "--all", "--format", "json", ok=True).json() == []


def test_a_cancelled_meeting_whose_cancellation_drafts_were_never_sent_can_be_deleted(tanet, tmp_path,
                                                                                      monkeypatch, own_database):
    import sqlite3

    monkeypatch.chdir(tmp_path)
    network(tanet)
    tanet("meeting", "cancel", "1", ok=True)
    with sqlite3.connect(own_database) as conn:  # as the old tanet wrote them: a cancellation to everyone
        conn.execute("""INSERT INTO outbox(meeting_id, member_id, email, kind, method, sequence, message_id, written_at)
                        VALUES (1, 1, 'amina@example.org', 'cancellation', 'CANCEL', 1, '<c1@example.org>',
                                '2026-11-25T10:00:00Z')""")
    tanet("meeting", "delete", "1", "--yes", ok=True)
    assert outbox(tanet) == []


def test_a_cancelled_meeting_is_reinstated_and_invited_again_as_the_same_event(tanet, tmp_path, smtp,
                                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)
    inbox, port = smtp()
    use_server(tanet, port)
    tanet("invite", "1", "--send", ok=True)
    tanet("meeting", "cancel", "1", ok=True)
    tanet("invite", "1", "--send", ok=True)
    r = tanet("meeting", "reinstate", "1", ok=True)
    assert "scheduled again" in r.stdout and "tanet invite 1" in r.stdout
    assert tanet("meeting", "show", "1", "--format", "json", ok=True).json()["status"] == "scheduled"
    r = tanet("invite", "1", "--send", ok=True)
    assert "Wrote 3 invitations" in r.stdout
    events = [icalendar.Calendar.from_ical(m.get_body(("calendar",)).get_payload(decode=True)).walk("VEVENT")[0]
              for _, m in inbox.messages]
    assert len(events) == 9 and len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events[6:]] == [2, 2, 2] and events[6].get("STATUS") != "CANCELLED"
    assert sorted(p.name for p in (tmp_path / "invites").rglob("*.eml")) == sorted(
        r["file"].rsplit("/", 1)[1] for r in outbox(tanet) if r["file"])  # the cancellations' files went
    assert "is not cancelled" in tanet("meeting", "reinstate", "1", ok=False).stderr


def test_a_closed_followup_is_reopened(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)
    tanet("followup", "add", "amina@example.org", "--about", "Supervision cover", ok=True)
    tanet("followup", "close", "1", ok=True)
    r = tanet("followup", "edit", "1", "--reopen", ok=True)
    assert "is open again" in r.stdout
    (open_one,) = tanet("followup", "list", "--open", "--format", "json", ok=True).json()
    assert open_one["id"] == 1 and open_one["closed_on"] is None
    assert "open already" in tanet("followup", "edit", "1", "--reopen", ok=False).stderr


def test_feedback_imported_to_the_wrong_meeting_is_removed_and_imported_again(tanet, monkeypatch):
    from test_feedback import FORM, setup

    setup(tanet, monkeypatch)
    added = tanet("feedback", "import", "2", FORM, "--format", "json", ok=True).json()["added"]
    assert "--yes" in tanet("feedback", "remove", "2", ok=False).stderr
    r = tanet("feedback", "remove", "2", "--yes", ok=True)
    assert f"Removed {added} feedback responses from meeting #2" in r.stdout
    assert tanet("feedback", "show", "2", "--format", "json", ok=True).json()["responses"] == 0
    assert tanet("feedback", "import", "1", FORM, "--format", "json", ok=True).json()["added"] == added


def test_moving_onto_another_meetings_slot_warns_naming_it(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)
    tanet("meeting", "add", "2027-02-16", "--time", "10:00", "--title", "Supervision circle", ok=True)
    tanet("meeting", "add", "2027-03-16", ok=True)
    r = tanet("meeting", "move", "3", "--to", "2027-02-16", "--time", "10:30", ok=True)
    assert "meeting #2 (Supervision circle) is already on 2027-02-16 at 10:00-" in r.stderr
    assert r.stderr.count("\n") == 1 and "Moved meeting #3" in r.stdout
    tanet("meeting", "cancel", "1", ok=True)
    assert "tanet meeting reinstate 1" in tanet("meeting", "move", "1", "--to", "2027-03-02", ok=False).stderr


def test_a_plan_mentions_meetings_already_there_and_keeps_two_weeks_from_them(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)  # meeting #1 on 2027-02-09
    r = tanet("meeting", "plan", "--start", "2027-01-19", "--every", "2", "--count", "4", ok=True)
    assert [m["date"] for m in tanet("meeting", "list", "--format", "json", ok=True).json()] == [
        "2027-01-19", "2027-02-09", "2027-03-02"]
    assert "Skipped Tue 02 Feb 2027: meeting #1 is on 2027-02-09" in r.stderr
    assert "Skipped Tue 16 Feb 2027: meeting #1 is on 2027-02-09" in r.stderr
    assert "Already in this span: meeting #1 on 2027-02-09" in r.stdout


def test_the_round_before_the_day_points_to_a_call_ahead_and_to_apologies(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet)  # meeting #1 on 2027-02-09, ahead
    r = tanet("checkin", "round", "next", ok=False)
    assert r.stderr.count("\n") == 1
    assert "tanet checkin record 1 MEMBER --note" in r.stderr and "tanet attendance mark 1 MEMBER --status apologies" \
        in r.stderr


def test_feedback_after_one_meeting_is_counted_in_the_singular(tanet, monkeypatch):
    from test_feedback import FORM, setup

    setup(tanet, monkeypatch)
    added = tanet("feedback", "import", "1", FORM, "--format", "json", ok=True).json()["added"]
    text = tanet("report", "quarter", "2027Q1", "--format", "markdown", ok=True).stdout
    assert f"{added} after 1 meeting" in text and "1 meetings" not in text


def test_relative_dates_in_months_and_years(tanet):
    from datetime import date

    from tanet.dates import parse_date

    today = date(2026, 11, 25)
    assert parse_date("25 months ago", today) == date(2024, 10, 25)
    assert parse_date("in 3 months", today) == date(2027, 2, 25)
    assert parse_date("1 year ago", today) == date(2025, 11, 25)
    assert parse_date("in 1 month", date(2027, 1, 31)) == date(2027, 2, 28)
    tanet("meeting", "add", "25 months ago", ok=True)
    assert tanet("meeting", "list", "--format", "json", ok=True).json()[0]["date"] == "2024-10-25"


def _forms_questions(header_sector, header_role):
    from test_imports_understood import FORMS_META

    header = FORMS_META + ["Full name", "Work email", "Organisation", header_role, "Service area", header_sector]
    people = [["Ann Able", "ann@example.org", "NHS Lothian", "Manager", "Housing", "Public"],
              ["Ben Bold", "ben@example.org", "Women's Aid", "Team leader", "Housing", "Third"]]
    return [header] + [[str(i), "1/19/2027 12:01:00", "1/19/2027 12:03:00", "anonymous", "", ""] + p
                       for i, p in enumerate(people, start=1)]


def test_forms_questions_naming_the_organisation_are_read_as_sector_and_role(tanet, tmp_path):
    from test_feedback import write_xlsx
    from test_imports_understood import write_csv

    csv_rows = _forms_questions("Which sector is your organisation in?", "What is your position in your organisation?")
    xlsx_rows = _forms_questions("Sector of your organisation", "Your role at your organisation")
    for path, rows in ((tmp_path / "signups.csv", csv_rows), (tmp_path / "signups.xlsx", xlsx_rows)):
        write_csv(path, rows) if path.suffix == ".csv" else write_xlsx(path, rows)
        r = tanet("member", "import", path, "--dry-run", ok=True)
        assert f"sector        <- '{rows[0][-1]}'" in r.stdout
        assert f"role          <- '{rows[0][9]}'" in r.stdout
        assert "organisation  <- 'Organisation'" in r.stdout
    tanet("member", "import", tmp_path / "signups.csv", ok=True)
    got = {m["email"]: (m["sector"], m["role"]) for m in tanet("member", "list", "--format", "json", ok=True).json()}
    assert got == {"ann@example.org": ("public", "manager"), "ben@example.org": ("third", "supervisor")}
