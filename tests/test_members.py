"""The member register, from the command line, as a coordinator uses it."""

import codecs
import json
import sqlite3

from conftest import FIXTURES, add_member
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def test_add_list_show(tanet):
    add_member(tanet, "Niamh Bell", "niamh.bell@nhs.example", "housing", "Public sector", "Senior leader", "NHS Lothian",
               "--joined", "03/04/2025", "--phone", "0131 000 0000")
    members = tanet("member", "list", "--format", "json", ok=True).json()
    assert members == [{
        "id": 1, "name": "Niamh Bell", "email": "niamh.bell@nhs.example", "phone": "0131 000 0000",
        "organisation": "NHS Lothian", "service_area": "housing", "sector": "public",
        "role": "senior-leader", "ambassador": True, "joined_on": "2025-04-03", "left_on": None,
        "known_as": "Niamh",
    }]
    shown = tanet("member", "show", "NIAMH.BELL@nhs.example", "--format", "json", ok=True).json()
    assert shown["consent_on"] == "2025-04-03"
    assert shown["active"] is True
    r = tanet("member", "list", "--format", "csv", ok=True)
    assert r.stdout.splitlines()[0] == "id,name,email,phone,organisation,service_area,sector,role,ambassador,joined_on,left_on,known_as"
    assert "Niamh Bell" in tanet("member", "list", ok=True).stdout


def test_forgiving_values(tanet):
    add_member(tanet, "A One", "a1@example.org", "mental health", "THIRD", "Front line")
    add_member(tanet, "B Two", "b2@example.org", "camhs", "Third sector", "team leader")
    rows = tanet("member", "list", "--format", "json", ok=True).json()
    assert [(r["service_area"], r["sector"], r["role"]) for r in rows] == [
        ("mental health", "third", "frontline"), ("CAMHS", "third", "supervisor")]


def test_filters_and_all(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "education", "public", "manager", "School")
    add_member(tanet, "Ben Bold", "ben@example.org", "housing", "third", "frontline", "Trust", "--joined", "2025-01-01")
    tanet("member", "leave", "Ben", "--on", "2026-01-31", ok=True)
    assert [m["name"] for m in tanet("member", "list", "--format", "json", ok=True).json()] == ["Ann Able"]
    everyone = tanet("member", "list", "--all", "--format", "json", ok=True).json()
    assert [(m["name"], m["left_on"]) for m in everyone] == [("Ann Able", None), ("Ben Bold", "2026-01-31")]
    assert tanet("member", "list", "--area", "EDUCATION", "--format", "json", ok=True).json()[0]["name"] == "Ann Able"
    assert tanet("member", "list", "--all", "--sector", "third", "--format", "json", ok=True).json()[0]["name"] == "Ben Bold"
    assert tanet("member", "list", "--role", "Manager", "--format", "json", ok=True).json()[0]["name"] == "Ann Able"
    assert tanet("member", "list", "--org", "scho", "--format", "json", ok=True).json()[0]["name"] == "Ann Able"
    tanet("member", "rejoin", "ben@example.org", ok=True)
    assert len(tanet("member", "list", "--format", "json", ok=True).json()) == 2
    tanet("member", "rejoin", "ben@example.org", ok=False)


def test_edit(tanet):
    add_member(tanet, "Ann Able", "ann@example.org")
    r = tanet("member", "edit", "1", "--org", "New Org", "--area", "Social Work", "--no-ambassador",
              "--format", "json", ok=True)
    assert (r.json()["organisation"], r.json()["service_area"], r.json()["ambassador"]) == ("New Org", "social work", False)
    tanet("member", "edit", "1", ok=False)  # nothing to change
    add_member(tanet, "Ben Bold", "ben@example.org")
    r = tanet("member", "edit", "Ben", "--email", "ANN@example.org", ok=False)
    assert "already belongs to member #1" in r.stderr


def test_bad_input_one_clear_line_each(tanet, own_database):
    add_member(tanet, "Ann Able", "ann@example.org")
    cases = {
        ("--email", "ANN@EXAMPLE.ORG"): "already belongs to member #1",
        ("--email", "not-an-email"): "not a valid e-mail",
        ("--area", "housng"): "Did you mean 'housing'",
        ("--joined", "2025-02-30"): "has no day 30",
        ("--sector", "goverment"): "is not a sector",
        ("--role", "boss"): "is not a role",
        ("--joined", "04/25/2025"): "did you mean 25/04/2025",
    }
    for (opt, value), message in cases.items():
        args = {"--email": "new@example.org", "--org": "Org", "--area": "housing", "--sector": "public",
                "--role": "frontline"}
        args[opt] = value
        flat = [x for kv in args.items() for x in kv]
        r = tanet("member", "add", "New Person", *flat, ok=False)
        assert message in r.stderr, (opt, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 1


def test_uk_date_order(tanet):
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "03/04/2025")
    assert tanet("member", "show", "1", "--format", "json", ok=True).json()["joined_on"] == "2025-04-03"


def test_missing_required_option(tanet):
    r = tanet("member", "add", "Ann", "--email", "a@example.org", ok=False)
    assert "--org" in r.stderr


def test_references(tanet):
    add_member(tanet, "Catriona Fraser", "cf@example.org", org="NHS Lothian")
    add_member(tanet, "Duncan Fraser", "df@example.org", org="Youth Project")
    r = tanet("member", "show", "fraser", ok=False)
    assert "#1 Catriona Fraser, NHS Lothian" in r.stderr and "#2 Duncan Fraser, Youth Project" in r.stderr
    assert tanet("member", "show", "dunc", "--format", "json", ok=True).json()["id"] == 2
    assert "no member #9" in tanet("member", "show", "9", ok=False).stderr.lower()
    assert "Did you mean Duncan Fraser" in tanet("member", "show", "duncan frazer", ok=False).stderr


def test_import_signup_sheet(tanet, own_database):
    r = tanet("member", "import", FIXTURES / "members-signup-form.csv", ok=True)
    assert "48 new" in r.stdout
    rows = tanet("member", "list", "--format", "json", ok=True).json()
    assert len(rows) == 48
    catriona = next(m for m in rows if m["name"] == "Catriona Fraser")
    assert (catriona["sector"], catriona["role"], catriona["service_area"], catriona["joined_on"]) == (
        "public", "senior-leader", "CAMHS", "2025-06-25")
    # Importing again skips every known e-mail and changes nothing.
    r = tanet("member", "import", FIXTURES / "members-signup-form.csv", ok=True)
    assert "0 new, 0 updated, 48 skipped" in r.stdout


def test_import_dry_run_saves_nothing(tanet, own_database):
    r = tanet("member", "import", FIXTURES / "members-signup-form.csv", "--dry-run", ok=True)
    assert "48 new" in r.stdout and "Nothing was saved" in r.stdout
    assert tanet("member", "list", "--format", "json", ok=True).json() == []


def test_import_update(tanet, tmp_path):
    add_member(tanet, "Niamh Bell", "niamh.bell@nhslothian.org.uk", "education", "third", "manager", "Old Org")
    r = tanet("member", "import", FIXTURES / "members-signup-form.csv", "--update", ok=True)
    assert "47 new, 1 updated, 0 skipped" in r.stdout
    niamh = tanet("member", "show", "niamh.bell@nhslothian.org.uk", "--format", "json", ok=True).json()
    assert (niamh["organisation"], niamh["service_area"], niamh["joined_on"]) == ("NHS Lothian", "housing", "2024-12-31")


def test_import_excel_unicode_text(tanet, tmp_path):
    text = "Full name\tE-mail address\tOrganisation / employer\tService area\tSector\tRole level\n" \
           "Zoë O'Brien\tzoe@example.org\tCafé Trust, Leith\tEarly Years\tThird sector\tManager\n"
    path = tmp_path / "unicode.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"))
    tanet("member", "import", path, ok=True)
    m = tanet("member", "list", "--format", "json", ok=True).json()[0]
    assert (m["name"], m["organisation"], m["service_area"], m["sector"], m["role"]) == (
        "Zoë O'Brien", "Café Trust, Leith", "early years", "third", "manager")


def test_import_windows_1252_and_semicolons(tanet, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes((
            "Name;Email;Organisation;Area;Sector;Role\r\nRenée "
            "Dupré;renee@example.org;Mairie;housing;public;frontline\r\n"
        ).encode("cp1252"))
    tanet("member", "import", path, ok=True)
    assert tanet("member", "list", "--format", "json", ok=True).json()[0]["name"] == "Renée Dupré"


def test_import_excel_sep_line(tanet, tmp_path):
    path = tmp_path / "excel-sep.csv"
    path.write_text("sep=;\r\nName;Email;Organisation;Area;Sector;Role\r\nAnn Able;ann@example.org;Org, Ltd;housing;public;frontline\r\n"
                    "Bad Row;bad-email;Org;housing;public;frontline\r\n")
    assert "line 4:" in tanet("member", "import", path, ok=False).stderr  # the file's own line numbers
    path.write_text(path.read_text().splitlines()[0] + "\n" + "\n".join(path.read_text().splitlines()[1:3]) + "\n")
    tanet("member", "import", path, ok=True)
    assert tanet("member", "list", "--format", "json", ok=True).json()[0]["organisation"] == "Org, Ltd"


def test_import_bad_rows_named_and_nothing_imported(tanet, tmp_path, own_database):
    path = tmp_path / "bad.csv"
    path.write_text(
        "Name,Email,Organisation,Service area,Sector,Role,Date joined\n"
        "Good One,good@example.org,Org,housing,public,frontline,01/02/2025\n"
        "Bad Email,not-an-email,Org,housing,public,frontline,01/02/2025\n"
        "Bad Area,ba@example.org,Org,housng,public,frontline,01/02/2025\n"
        "Bad Date,bd@example.org,Org,housing,public,frontline,02/30/2025\n"
        "Dup,GOOD@example.org,Org,housing,public,frontline,01/02/2025\n", encoding="utf-8")
    r = tanet("member", "import", path, ok=False)
    for line in ("line 3:", "line 4:", "line 5:", "line 6:"):
        assert line in r.stderr
    assert "line 2:" not in r.stderr
    assert "nothing was imported" in r.stderr
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT count(*) FROM members").fetchone()[0] == 0


def test_import_unreadable_files(tanet, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in tanet("member", "import", empty, ok=False).stderr
    header_only = tmp_path / "header.csv"
    header_only.write_text("Name,Email\n")
    assert "no members in it" in tanet("member", "import", header_only, ok=False).stderr
    no_name = tmp_path / "noname.csv"
    no_name.write_text("Email,Organisation\na@example.org,Org\n")
    assert "no name column" in tanet("member", "import", no_name, ok=False).stderr
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    assert "not a text file" in tanet("member", "import", binary, ok=False).stderr
    assert "There is no file" in tanet("member", "import", tmp_path / "missing.csv", ok=False).stderr


def test_export_round_trips_through_import(tanet, tmp_path, monkeypatch):
    tanet("member", "import", FIXTURES / "members-signup-form.csv", ok=True)
    tanet("member", "edit", "1", "--notes", 'Prefers "afternoons", 3pm; thanks', ok=True)
    tanet("member", "leave", "2", "--on", "2026-06-30", ok=True)
    out = tmp_path / "members.csv"
    tanet("member", "export", "-o", out, ok=True)
    before = tanet("member", "export", "--format", "json", ok=True).json()
    monkeypatch.setenv("TANET_DB", str(tmp_path / "second.db"))
    tanet("init", ok=True)
    tanet("member", "import", out, ok=True)
    after = tanet("member", "export", "--format", "json", ok=True).json()
    assert after == before
    # The JSON export imports back too.
    json_out = tmp_path / "members.json"
    tanet("member", "export", "--format", "json", "-o", json_out, ok=True)
    monkeypatch.setenv("TANET_DB", str(tmp_path / "third.db"))
    tanet("init", ok=True)
    tanet("member", "import", json_out, ok=True)
    assert tanet("member", "export", "--format", "json", ok=True).json() == before


def test_forget_erases_personal_data(tanet, own_database):
    add_member(tanet, "Secret Person", "secret@example.org", "housing", "public", "frontline", "Org",
               "--phone", "07700 900123", "--notes", "private remark")
    tanet("member", "forget", "1", ok=False)  # needs --yes
    tanet("member", "forget", "secret@example.org", "--yes", ok=True)
    m = tanet("member", "show", "1", "--format", "json", ok=True).json()
    assert (m["name"], m["email"], m["phone"], m["notes"]) == ("Former member #1", None, None, None)
    assert m["service_area"] == "housing"
    raw = b"".join(p.read_bytes() for p in own_database.parent.glob("tanet.db*"))
    for secret in (b"Secret Person", b"secret@example.org", b"07700 900123", b"private remark"):
        assert secret not in raw
    tanet("member", "forget", "1", "--yes", ok=False)


def test_data_subject_access(tanet, tmp_path):
    add_member(tanet, "Ann Able", "ann@example.org")
    out = tmp_path / "ann.json"
    tanet("member", "data", "ann", "-o", out, ok=True)
    doc = json.loads(out.read_text())
    assert doc["member"]["email"] == "ann@example.org"
    assert set(doc) >= {"member", "attendance", "checkins", "follow_ups", "facilitated", "resources"}


def test_areas(tanet):
    assert len(tanet("area", "list", "--format", "json", ok=True).json()) == 12
    tanet("area", "add", "Youth work", ok=True)
    tanet("area", "add", "youth WORK", ok=False)
    add_member(tanet, "Ann Able", "ann@example.org", "youth work")
    tanet("area", "rename", "Youth Work", "Youth and community work", ok=True)
    assert tanet("member", "show", "1", "--format", "json", ok=True).json()["service_area"] == "Youth and community work"
    assert "Did you mean 'psychology'" in tanet("area", "rename", "psycology", "x", ok=False).stderr


def test_settings(tanet):
    tanet("init", "--network", "Lothian Network", "--organiser-email", "c@example.org", ok=True)
    assert tanet("config", "get", "network", ok=True).stdout.strip() == "Lothian Network"
    tanet("config", "set", "meeting.duration", "90", ok=True)
    shown = tanet("config", "show", "--format", "json", ok=True).json()
    assert shown["meeting.duration"] == "90" and shown["timezone"] == "Europe/London"
    assert shown["meeting.cadence_weeks"] == "8" and shown["report.fiscal_year_start"] == "4"
    for key, value in (("meeting.duration", "0"), ("timezone", "Mars/Base"), ("report.gap_threshold", "2"),
                       ("organiser.email", "nope"), ("colour", "red"), ("meeting.url", "zoom")):
        tanet("config", "set", key, value, ok=False)
    tanet("init", "--timezone", "Nowhere/Town", ok=False)


def is_text(c: str) -> bool:
    """Characters a name may hold: not noncharacters (U+FDD0-U+FDEF, U+xFFFE, U+xFFFF) or
    bidirectional overrides, which tanet refuses on purpose (tanet/text.py)."""
    p = ord(c)
    return not (0xFDD0 <= p <= 0xFDEF or p & 0xFFFE == 0xFFFE or 0x202A <= p <= 0x202E or 0x2066 <= p <= 0x2069)


names = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")).filter(is_text),
                min_size=1, max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names.map(lambda s: " ".join(s.split())).filter(bool), org=names)
def test_any_unicode_name_round_trips_through_csv(tmp_path_factory, name, org):
    from datetime import date

    from tanet.register import member_files, members
    from tanet.store import db as dbmod

    d = tmp_path_factory.mktemp("rt")
    today = date(2026, 11, 25)
    a = dbmod.open_db(d / "a.db", create=True)
    members.add_member(a, name=name, email="x@example.org", organisation=org, service_area="housing",
                       sector="third", role="frontline", today=today)
    path = d / "out.csv"
    path.write_text(member_files.to_csv(member_files.export_rows(a)), encoding="utf-8-sig", newline="")
    b = dbmod.open_db(d / "b.db", create=True)
    member_files.apply_import(b, member_files.plan_import(b, path, today, False))
    assert member_files.export_rows(b) == member_files.export_rows(a)
