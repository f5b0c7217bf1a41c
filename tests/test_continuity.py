"""The handover pack (read in a real browser), a new organiser, outreach and
its figures, and keeping only what is needed (checked in the file's raw bytes)."""

import email
import os
import resource
import shutil
import sqlite3
import stat
import subprocess
from email import policy
from pathlib import Path

import icalendar
import pytest
from conftest import FIXTURES, TANET, add_member
from test_calendar import libical_errors

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]

NOTE = "Struggling after the Jones case, wants to talk"
COMMENT = "Sorry, I'm in the Sheriff Court that morning"
FOLLOW_NOTE = "Referred to staff support, spoke on the phone"


def chromium(tmp_path, *args):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed; .ci/system-deps installs it")
        pytest.skip("Chromium is not installed (Debian: chromium; make test installs it)")
    profile = tmp_path / "chromium-profile"
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120)


def network(tanet, tmp_path):
    tanet("init", "--network", "Lothian TIP Network", "--organiser-name", "Alex Morgan",
          "--organiser-email", "alex.morgan@council.example", ok=True)
    tanet("member", "import", FIXTURES / "members-signup-form.csv", ok=True)
    tanet("member", "edit", "1", "--joined", "2025-01-01", ok=True)
    tanet("member", "edit", "2", "--joined", "2025-01-01", ok=True)
    tanet("meeting", "add", "2026-11-17", "--location", "Leith Library", ok=True)
    tanet("meeting", "add", "2027-01-19", "--location", "Leith Library", ok=True)
    tanet("checkin", "record", "1", "1", "--note", NOTE, "--follow-up", ok=True)
    tanet("followup", "close", "1", "--note", FOLLOW_NOTE, ok=True)
    tanet("checkin", "record", "1", "2", "--follow-up", ok=True)
    tanet("theme", "add", "Waiting lists for CAMHS", "--kind", "pain-point", ok=True)
    tanet("resource", "add", "Risk assessment model", "--on", "2026-11-17", ok=True)
    tanet("resource", "adopt", "1", "--org", "City Council", "--on", "2026-11-20", ok=True)
    tanet("outreach", "add", "Leith Academy", "--area", "education", "--on", "2026-10-01", "--how", "visit", ok=True)
    tanet("invite", "2", "-o", tmp_path / "invites", ok=True)


def test_handover_pack_is_whole_private_and_readable_in_a_browser(tanet, tmp_path, own_database):
    network(tanet, tmp_path)
    with sqlite3.connect(own_database) as c:  # a reply comment, as rsvp import keeps it
        c.execute("INSERT INTO responses(meeting_id, member_id, response, comment) VALUES (2, 1, 'declined', ?)",
                  [COMMENT])
    pack = tmp_path / "pack"
    r = tanet("handover", "-o", pack, ok=True)
    assert "index.html" in r.stdout
    names = sorted(str(p.relative_to(pack)) for p in pack.rglob("*"))
    assert names[:4] == ["calendar.ics", "index.html", "members.csv", "summaries"]
    assert "tanet.db" in names and any(n.startswith("summaries/") and n.endswith(".html") for n in names)
    assert stat.S_IMODE(pack.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600) for p in pack.rglob("*"))
    # Private notes live in tanet.db only.
    for p in pack.rglob("*"):
        if p.is_file() and p.name != "tanet.db":
            data = p.read_bytes()
            for secret in (NOTE, COMMENT, FOLLOW_NOTE):
                assert secret.encode() not in data, (p.name, secret)
    with sqlite3.connect(pack / "tanet.db") as c:
        assert c.execute("SELECT note FROM checkins WHERE note IS NOT NULL").fetchone()[0] == NOTE
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # A real browser shows every section.
    dom = chromium(tmp_path, "--dump-dom", (pack / "index.html").as_uri()).stdout
    for section in ("next-steps", "settings", "members", "meetings", "follow-ups", "themes", "resources", "outreach",
                    "files"):
        assert f'id="{section}"' in dom, section
    for text in ("Lothian TIP Network", "Leith Academy", "Risk assessment model", "City Council",
                 "Waiting lists for CAMHS", "tanet organiser change"):
        assert text in dom, text
    shot = tmp_path / "handover.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", (pack / "index.html").as_uri())
    assert shot.stat().st_size > 10_000
    # Not into a folder that holds something already.
    assert "not empty" in tanet("handover", "-o", pack, ok=False).stderr


def test_handover_on_a_full_disk_leaves_nothing(tmp_path, cli_env, tanet, monkeypatch):
    monkeypatch.setenv("TANET_DB", cli_env["TANET_DB"])
    network(tanet, tmp_path)

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    r = subprocess.run(TANET + ["handover", "-o", str(tmp_path / "pack")], env=cli_env, capture_output=True,
                       text=True, preexec_fn=small_files)
    assert r.returncode == 1 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "pack").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".pack")] == []


def test_organiser_change_updates_every_upcoming_invitation(tanet, tmp_path):
    network(tanet, tmp_path)
    r = tanet("organiser", "change", "--name", "Sam Reid", "--email", "sam.reid@council.example", ok=True)
    assert "The organiser is now Sam Reid" in r.stdout and "updates" in r.stdout
    assert tanet("config", "get", "organiser.email", ok=True).stdout.strip() == "sam.reid@council.example"
    files = sorted((Path("invites")).glob("2027-01-19-*/*.eml"))
    assert files, "the updates go to the meeting's own folder"
    for i, path in enumerate(files):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert msg["From"].addresses[0].addr_spec == "sam.reid@council.example"
        assert "Organiser: Alex Morgan <alex.morgan@council.example> -> Sam Reid <sam.reid@council.example>" in \
            msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
        ics = msg.get_body(("calendar",)).get_payload(decode=True)
        ev = icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]
        assert str(ev["ORGANIZER"]) == "mailto:sam.reid@council.example" and ev["SEQUENCE"] == 1
        (tmp_path / f"{i}.ics").write_bytes(ics)
    assert all(v == [] for v in libical_errors(*tmp_path.glob("*.ics")).values())
    kinds = {r["kind"] for r in tanet("outbox", "list", "2", "--format", "json", ok=True).json() if r["sequence"] == 1}
    assert kinds == {"update"}
    shutil.rmtree("invites", ignore_errors=True)
    assert "not a valid e-mail" in tanet("organiser", "change", "--name", "X", "--email", "nope", ok=False).stderr
    assert "line break" in tanet("organiser", "change", "--name", "A\nB", "--email", "a@example.org",
                                 ok=False).stderr
    assert tanet("config", "get", "organiser.name", ok=True).stdout.strip() == "Sam Reid"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # invite folders default to ./invites/


def test_outreach_figures_on_a_hand_built_case(tanet, monkeypatch):
    tanet("init", ok=True)
    add_member(tanet, "Old Hand", "old@example.org", "housing", "public", "frontline", "City Council",
               "--joined", "2025-01-01")
    monkeypatch.setenv("TANET_TODAY", "2027-06-30")
    tanet("outreach", "add", "Leith Academy", "--area", "Education", "--contact", "Head teacher",
          "--on", "2027-01-12", "--how", "talk", "--outcome", "Will tell staff at the in-service day", ok=True)
    add_member(tanet, "Teacher One", "t1@example.org", "education", "public", "frontline", "Leith Academy",
               "--joined", "2027-03-03")
    add_member(tanet, "Teacher Two", "t2@example.org", "education", "public", "frontline", "LEITH ACADEMY",
               "--joined", "2027-03-20")
    add_member(tanet, "Elsewhere", "e@example.org", "education", "public", "frontline", "Other School",
               "--joined", "2027-03-20")
    tanet("meeting", "add", "2027-05-11", "--location", "x", ok=True)
    tanet("attendance", "mark", "1", "t1@example.org", "old@example.org", ok=True)
    q1 = tanet("report", "quarter", "2027Q1", "--format", "json", ok=True).json()["outreach"]
    assert q1 == [{"service_area": "education", "contacts": 1, "organisations": 1, "joined_after": 2,
                   "came_after": 1}]
    assert tanet("report", "quarter", "2027Q2", "--format", "json", ok=True).json()["outreach"] == []
    listed = tanet("outreach", "list", "--format", "json", ok=True).json()
    assert listed == [{"id": 1, "organisation": "Leith Academy", "service_area": "education",
                       "contact": "Head teacher", "on": "2027-01-12", "how": "talk",
                       "outcome": "Will tell staff at the in-service day"}]
    assert "Did you mean 'education'" in tanet("outreach", "add", "X", "--area", "educaton", ok=False).stderr
    assert "future" in tanet("outreach", "add", "X", "--area", "education", "--on", "2027-07-01", ok=False).stderr
    assert "Outreach to under-engaged services" in tanet("report", "quarter", "2027Q1", ok=True).stdout


def test_privacy_review_lists_exactly_what_is_due_and_apply_erases_it(tanet, own_database, monkeypatch):
    tanet("init", ok=True)
    add_member(tanet, "Left Long Ago", "long.gone@example.org", "housing", "public", "frontline", "Org",
               "--joined", "2020-01-01")
    add_member(tanet, "Left Recently", "recent@example.org", "housing", "public", "frontline", "Org",
               "--joined", "2020-01-01")
    add_member(tanet, "Still Here", "here@example.org", "housing", "public", "frontline", "Org",
               "--joined", "2020-01-01")
    tanet("member", "leave", "1", "--on", "2024-10-25", ok=True)  # 25 months before 2026-11-25
    tanet("member", "leave", "2", "--on", "2024-12-25", ok=True)  # 23 months
    tanet("meeting", "add", "2025-10-21", "--location", "x", ok=True)  # 13 months ago
    tanet("meeting", "add", "2025-12-16", "--location", "x", ok=True)  # 11 months ago
    tanet("checkin", "record", "1", "3", "--note", "thirteen months old note", "--follow-up", ok=True)
    tanet("checkin", "record", "2", "3", "--note", "eleven months old note", ok=True)
    review = tanet("privacy", "review", "--format", "json", ok=True).json()
    assert review == {"retain_months": 24, "notes_months": 12, "members_due": [1], "notes_due": 1,
                      "members": [{"id": 1, "name": "Left Long Ago", "left_on": "2024-10-25"}]}
    assert "#1" in tanet("privacy", "review", ok=True).stdout
    done = tanet("privacy", "review", "--apply", "--format", "json", ok=True).json()
    assert done["members_forgotten"] == 1 and done["notes_erased"] == 1
    raw = own_database.read_bytes() + (Path(f"{own_database}-wal").read_bytes()
                                       if Path(f"{own_database}-wal").exists() else b"")
    assert b"long.gone@example.org" not in raw and b"thirteen months old note" not in raw
    assert b"eleven months old note" in raw and b"recent@example.org" in raw
    assert tanet("privacy", "review", "--format", "json", ok=True).json()["members_due"] == []
    tanet("config", "set", "privacy.retain_months", "12", ok=True)
    assert tanet("privacy", "review", "--format", "json", ok=True).json()["members_due"] == [2]


def test_forgetting_a_member_with_a_future_leaving_date_ends_their_membership(tanet):
    tanet("init", ok=True)
    add_member(tanet, "Ann Able", "ann@example.org", "housing", "public", "frontline", "Org", "--joined", "2025-01-01")
    tanet("member", "leave", "1", "--on", "2027-06-30", ok=True)
    tanet("member", "forget", "1", "--yes", ok=True)
    shown = tanet("member", "show", "1", "--format", "json", ok=True).json()
    assert shown["left_on"] == "2026-11-25" and shown["active"] is False
    assert tanet("member", "list", "--format", "json", ok=True).json() == []
