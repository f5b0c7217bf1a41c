"""Every list and show command at 80 and 100 columns, on a file with long names, e-mails,
organisations, titles and service areas: no line is wider than the terminal, and no word,
e-mail address or date is broken across lines: an e-mail may wrap only after its `@`, and a
compound word after a hyphen between letters, once the columns that may go have gone."""

import os
import re
import shutil
from itertools import pairwise

import pytest
from conftest import FIXTURES
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tanet.output.table import width

TODAY = "2027-01-25"
LONG_AREA = "children and families social work"
PEOPLE = [
    ("Wilhelmina Featherstonehaugh-Cholmondeley",
     "wilhelmina.featherstonehaugh@edinburghhscpartnership.example",
     "Edinburgh Health and Social Care Partnership Community Mental Health Team", LONG_AREA, "public", "senior-leader"),
    ("Maximilian Alexander Lindqvist-Oyelaran", "maximilian.lindqvist-oyelaran@childrensreporter.example",
     "Scottish Children's Reporter Administration", "justice", "public", "manager"),
    ("Siobhán Nic Fhionnlaoich-MacGillivray", "siobhan.nicfhionnlaoich@forthvalleyhousing.example",
     "Forth Valley Housing Association and Tenancy Sustainment Service", "housing", "third", "frontline"),
    ("Zoë Fraser", "zoe.fraser@pentlandprimary.example", "Pentland Primary School", "education", "public", "frontline"),
    ("Peadar Ó Súilleabháin", "peadar.osuilleabhain@edinburghyouthjustice.example",
     "Edinburgh Youth Justice Service", "justice", "public", "supervisor"),
    ("Long Gone Leaver", "long.gone@example.org", "Org", "housing", "public", "frontline"),
]
PAST_TITLE = "Trauma-informed supervision and reflective practice across statutory and voluntary services"
NEXT_TITLE = "Working with families through transitions: education, housing and children's social work"
PLACE = "Conference Room 2.14, Waverley Court, 4 East Market Street, Edinburgh EH8 8BG"
SESSION = "Trauma-informed approaches to housing-related supervision in multi-agency settings"
THEME = ("Supervision time is squeezed out by caseload pressure across children-and-families teams; "
         "ask senior leaders to protect reflective supervision")
RESOURCE = "Reflective supervision framework for trauma-informed multi-agency practice (second edition)"
ADOPTER = "Edinburgh Health and Social Care Partnership Community Mental Health Team"
FOLLOW_UP = "Chase supervision cover for the tenancy sustainment team before the February meeting"
OUTREACH = "Queensferry High School Additional Support for Learning and Pupil Support Department"


def build(path, folder):
    """The file every check reads: long everything, every kind of record."""
    runner = CliRunner()
    env = {"TANET_DB": str(path), "TANET_TODAY": "2024-11-01", "COLUMNS": "200", "NO_COLOR": "1"}
    from tanet.cli import app

    def run(*args, today=None):
        r = runner.invoke(app, [str(a) for a in args], env={**env, **({"TANET_TODAY": today} if today else {})})
        assert r.exit_code == 0, (args, r.stdout, r.stderr)
        return r

    run("init", "--network", "Lothian and Forth Valley Trauma-Informed Practice Network",
        "--organiser-name", "Alexandra Morgan-Whitfield", "--organiser-email",
        "alex.morgan@edinburgh.example")
    run("area", "add", LONG_AREA)
    for name, address, org, area, sector, role in PEOPLE:
        run("member", "add", name, "--email", address, "--org", org, "--area", area, "--sector", sector,
            "--role", role, "--joined", "2023-09-01")
    run("member", "leave", "Long Gone", "--on", "2024-10-01")
    env["TANET_TODAY"] = TODAY
    run("meeting", "add", "2025-10-21", "--title", PAST_TITLE, "--location", PLACE)
    run("meeting", "add", "2027-01-19", "--title", PAST_TITLE, "--location", PLACE, "--time", "13:00")
    run("meeting", "add", "2027-02-16", "--title", NEXT_TITLE, "--location", PLACE, "--time", "15:45")
    run("checkin", "record", "1", "Zoë", "--note", "Thirteen months old note about the supervision group")
    run("attendance", "mark", "2", "Wilhelmina", "Maximilian", "Zoë")
    run("attendance", "mark", "2", "Siobhán", "--status", "apologies")
    run("checkin", "record", "2", "Wilhelmina", "--note",
        "Struggling with caseload since the restructure; wants a supervision-cover arrangement", "--follow-up")
    run("followup", "add", "Siobhán", "--about", FOLLOW_UP, "--owner", "Maximilian Alexander Lindqvist-Oyelaran",
        "--due", "2027-02-10")
    run("meeting", "facilitate", "3", "Wilhelmina", "Siobhán")
    run("meeting", "add", "2027-04-13", "--title", NEXT_TITLE, "--location", PLACE)  # for the rota
    run("session", "add", "3", "--kind", "spotlight", "--title", SESSION, "--presenter", "Wilhelmina")
    run("session", "add", "3", "--kind", "guest", "--title", SESSION, "--guest", "Professor Bartholomew Okonkwo-Ashworth",
        "--guest-org", "University of Edinburgh School of Health in Social Science")
    run("theme", "add", THEME, "--kind", "policy", "--meeting", "2")
    run("resource", "add", RESOURCE, "--kind", "guide", "--description", "A framework", "--meeting", "2",
        "--by", "Wilhelmina", "--by", "Maximilian")
    run("resource", "adopt", "1", "--org", ADOPTER)
    run("outreach", "add", OUTREACH, "--area", "education", "--contact", "Depute Head Teacher Marguerite Abernethy-Stewart",
        "--how", "visit", "--outcome", "Will bring two pupil support teachers to the February meeting")
    run("availability", "set", "Zoë", "--busy", "mon-fri 08:45-15:30")
    run("availability", "set", "Wilhelmina", "--busy", "tue 13:00-17:00", "--busy", "thu 09:00-12:00")
    run("feedback", "import", "2", FIXTURES / "feedback-forms-2027-01-19.xlsx")
    run("invite", "3", "--output", folder / "invites")
    run("report", "note", "2027Q1", "Supervision cover across children-and-families-social-work teams "
        "was the theme of the quarter; wilhelmina.featherstonehaugh@edinburghhscpartnership.example "
        "leads the follow-up")


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    folder = tmp_path_factory.mktemp("widths")
    build(folder / "tanet.db", folder)
    return folder / "tanet.db"


DATES = ["2023-09-01", "2024-10-01", "2025-10-21", "2027-01-19", "2027-01-25", "2027-02-10", "2027-02-16"]
# Everything typed into the file: each of its words must come out whole (or not at all).
DATA = [text for person in PEOPLE for text in person] + DATES + [
    PAST_TITLE, NEXT_TITLE, PLACE, SESSION, THEME, RESOURCE, ADOPTER, FOLLOW_UP, OUTREACH,
    "Professor Bartholomew Okonkwo-Ashworth", "University of Edinburgh School of Health in Social Science",
    "Depute Head Teacher Marguerite Abernethy-Stewart", "Will bring two pupil support teachers to the February meeting",
    "Struggling with caseload since the restructure; wants a supervision-cover arrangement",
    "Lothian and Forth Valley Trauma-Informed Practice Network", "Alexandra Morgan-Whitfield", "alex.morgan@edinburgh.example"]
NAMES = [p[0] for p in PEOPLE[:5]]
EMAILS = [p[1] for p in PEOPLE[:5]]

# Each command, and what it must show (whole, or wrapped only at a natural point).
COMMANDS = [
    ("member list", NAMES + EMAILS),
    ("member list --all", [p[0] for p in PEOPLE] + EMAILS + ["2024-10-01"]),
    ("member show 1", [PEOPLE[0][0], PEOPLE[0][1], PEOPLE[0][2], LONG_AREA, PAST_TITLE, SESSION, RESOURCE]),
    ("meeting list", [PAST_TITLE, NEXT_TITLE, PLACE] + DATES[2:4] + DATES[6:]),
    ("meeting show 3", [NEXT_TITLE, PLACE, PEOPLE[0][0], PEOPLE[2][0], SESSION, PEOPLE[0][0]]),
    ("session list", [SESSION, PEOPLE[0][0]]),
    ("theme list", [THEME]),
    ("outbox list", EMAILS),
    ("rsvp list 3", NAMES),
    ("followup list", [PEOPLE[0][0], PEOPLE[2][0], "2027-02-10"]),
    ("resource list", [RESOURCE]),
    ("resource show 1", [RESOURCE, ADOPTER]),
    ("outreach list", [OUTREACH, "2027-01-25"]),
    ("availability show 1", [PEOPLE[0][0]]),
    ("availability suggest", []),
    ("availability suggest --explain", []),
    ("attendance show 2", NAMES[:4]),
    ("attendance show 2 --register", NAMES),
    ("checkin list 2", [PEOPLE[0][0], "Struggling with caseload since the restructure; wants a supervision-cover arrangement"]),
    ("privacy review", []),
    ("config show", ["Lothian and Forth Valley Trauma-Informed Practice Network", "alex.morgan@edinburgh.example"]),
    ("feedback show 2", ["Reflective supervision prompts for the team and the compassion fatigue checklist"]),
    ("report quarter 2027Q1", ["2027-01-19", PAST_TITLE, RESOURCE, ADOPTER, THEME]),
    ("area list", [LONG_AREA]),
    ("meeting rota", []),
    ("meeting plan --start 2027-03-16 --count 3 --dry-run", []),
    ("meeting list --past", [PAST_TITLE]),
    ("followup list --open", [PEOPLE[2][0], FOLLOW_UP]),
    ("info", []),
    ("check", []),
]


def test_every_list_and_show_command_of_the_reference_is_checked():
    docs = (FIXTURES.parent.parent / "docs" / "commands.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^### `tanet (\w+ (?:list|show|review|suggest))", docs, re.M))
    checked = {" ".join(c[0].split()[:2]) for c in COMMANDS}
    assert listed and listed <= checked, listed - checked


def screen_words(out: str) -> set[str]:
    """The words on the screen: the text between spaces and table rules, line by line."""
    return set(re.sub(r"[│┃|]", " ", out).split())


def natural_pieces(word: str) -> list[list[str]]:
    """The ways a word may be wrapped: whole, an e-mail after its `@`, a compound after a
    hyphen between letters (only when the columns that may go have gone)."""
    ways = [[word]]
    if "@" in word:
        local, domain = word.split("@", 1)
        ways.append([local + "@", domain])
    elif re.search(r"[^\W\d_]-[^\W\d_]", word):
        ways.append(re.split(r"(?<=[^\W\d_]-)(?=[^\W\d_])", word))
    return ways


def cleaned(word: str) -> str:
    return word.strip(".,;:()'")


DATA_WORDS = {cleaned(w) for text in DATA for w in text.split()}


def line_joins(out: str):
    """Each place text runs on from one line to the next: the last word of a line (or of a
    table cell) and the first word of the next line (or of the cell below)."""
    lines = out.splitlines()
    for above, below in pairwise(lines):
        cells_above, cells_below = re.split(r"[│┃]", above), re.split(r"[│┃]", below)
        if len(cells_above) != len(cells_below):
            cells_above, cells_below = [above], [below]
        for x, y in zip(cells_above, cells_below):
            if x.split() and y.split():
                yield x.split()[-1], y.split()[0]


def natural_break(left: str) -> bool:
    """After an e-mail's `@`, or after a hyphen between letters (the last step, when the
    columns that may go have gone)."""
    return left.endswith("@") or bool(re.search(r"[^\W\d_]-$", left))


def broken_words(out: str) -> list[str]:
    """Data words split across lines anywhere but at a natural point."""
    return [left + "|" + right for left, right in line_joins(out)
            if not natural_break(left) and re.search(r"[^\W\d_]", left + right) and re.search(r"\w", right)
            and any(left + right in w for w in DATA_WORDS)]


def check_fits(out: str, columns: int, shown: list[str]) -> None:
    lines = out.splitlines()
    too_wide = [line for line in lines if width(line) > columns]
    assert not too_wide, f"{len(too_wide)} lines wider than {columns}:\n" + "\n".join(too_wide)
    words = {cleaned(w) for w in screen_words(out)} | screen_words(out)
    cut = broken_words(out) + [w for w in out.split() if "…" in w]  # Rich's mark for text cut short
    assert not cut, f"broken at {columns} columns: {cut}\n{out}"
    for text in shown:
        missing = [w for w in map(cleaned, text.split())
                   if not any(all(p in words for p in way) for way in natural_pieces(w))]
        assert not missing, f"not shown whole at {columns} columns: {missing}\n{out}"


@pytest.fixture
def on_network(network, monkeypatch):
    monkeypatch.setenv("TANET_DB", str(network))
    monkeypatch.setenv("TANET_TODAY", TODAY)
    return network


@pytest.mark.parametrize("columns", [80, 100])
@pytest.mark.parametrize("command,shown", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_list_and_show_command_fits_without_breaking_words(tanet, on_network, monkeypatch, command, shown,
                                                                  columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    check_fits(tanet(*command.split(), ok=True).stdout, columns, shown)


def help_commands():
    from tanet.cli import COMMANDS as GROUPS
    from tanet.cli import load_app

    yield []
    for name in GROUPS:
        yield [name]
        group = load_app(name)
        for command in group.registered_commands:
            if command.name:
                yield [name, command.name]


@pytest.mark.parametrize("columns", [80, 100])
def test_every_help_page_fits_and_cuts_nothing(tanet, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    docs = (FIXTURES.parent.parent / "docs" / "commands.md").read_text(encoding="utf-8")
    described = {cleaned(w) for w in docs.split() if cleaned(w).isalpha()}
    for args in help_commands():
        out = tanet(*args, "--help", ok=True).stdout
        assert max(width(line) for line in out.splitlines()) <= columns, (args, out)
        # Click cuts a description that does not fit with '...'; `[ARGS]...` is usage, not a cut.
        assert not [w for w in out.split() if w.endswith("...") and w != "..." and not re.fullmatch(r"\[?[A-Z][A-Z:,]*\]?\.\.\.", w)], out
        # A word cut at the end of a line: its two halves make a word of the reference.
        cut = [(left, right) for left, right in line_joins(out)
               if cleaned(left + right) in described and cleaned(left) not in described]
        assert not cut, (args, cut, out)


def test_the_rounds_question_keeps_its_choices_on_one_line_in_an_80_column_terminal(network, tmp_path):
    import fcntl
    import pty
    import select
    import struct
    import sys
    import termios
    import time

    db = tmp_path / "round.db"
    shutil.copy(network, db)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env.update(TANET_DB=str(db), TANET_TODAY="2027-02-16", NO_COLOR="1")
    pid, fd = pty.fork()
    if pid == 0:  # an 80-column terminal from the start
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
        os.execve(sys.executable, [sys.executable, "-m", "tanet", "checkin", "round", "3"], env)
    seen, end = b"", time.monotonic() + 60

    def wait_for_question(count):
        nonlocal seen
        while seen.count(b"(s): ") < count:
            assert time.monotonic() < end, seen
            if select.select([fd], [], [], 0.5)[0]:
                seen += os.read(fd, 4096)

    for asked in range(1, 6):  # every member's question, each skipped with s
        wait_for_question(asked)
        os.write(fd, b"s\n")
    os.waitpid(pid, 0)
    screen = re.sub(r"\x1b\[[0-9;]*m", "", seen.decode().replace("\r", ""))  # bold stays without colour
    assert max(width(line) for line in screen.splitlines()) <= 80, screen
    # Each question's choices on one line, wherever the member's name and organisation end.
    assert sum("[y/n/a/s/q or a name] (s)" in line for line in screen.splitlines()) == 5, screen


def test_what_gives_way_first_columns_then_the_at_then_a_hyphen():
    from tanet.output.table import render

    headers = ["Id", "Name", "E-mail", "Joined"]
    rows = [["1", PEOPLE[0][0], PEOPLE[0][1], "2023-09-01"]]
    drop = [0, 0, 0, 1]
    wide = render(headers, rows, total_width=120, drop=drop)
    assert PEOPLE[0][1] in wide and "2023-09-01" in wide
    # 110 columns: the joining date goes, so that the address stays whole.
    assert "Joined" not in render(headers, rows, total_width=110, drop=drop)
    assert PEOPLE[0][1] in render(headers, rows, total_width=110, drop=drop)
    # 100: even without it the address would not fit whole, so it wraps and the date stays.
    assert "2023-09-01" in render(headers, rows, total_width=100, drop=drop)
    at = render(headers, rows, total_width=80, drop=drop)
    lines = at.splitlines()
    first = next(i for i, line in enumerate(lines) if "wilhelmina.featherstonehaugh@" in line)
    assert "edinburghhscpartnership.example" in lines[first + 1] and "Joined" not in at
    assert "Featherstonehaugh-Cholmondeley" in at
    hyphen = render(headers, rows, total_width=60, drop=drop)
    assert "Featherstonehaugh-" in hyphen and "Cholmondeley" in hyphen and "Featherstonehaugh-Cholmondeley" not in hyphen
    assert max(width(line) for line in hyphen.splitlines()) <= 60
    assert "2027-01-19" in render(["Date", "Title"], [["2027-01-19", PAST_TITLE]], total_width=30)


WORDS = st.text(st.sampled_from("abcdeé@-.1 Zöﾃ"), max_size=40)


@given(st.lists(st.lists(WORDS, min_size=3, max_size=3), min_size=1, max_size=4), st.integers(30, 160))
def test_no_line_is_ever_wider_than_the_terminal(rows, total):
    from tanet.output.table import render

    out = render(["Name", "E-mail", "Joined"], rows, total_width=total, drop=[0, 0, 1])
    assert max(width(line) for line in out.splitlines()) <= total


def test_a_message_wraps_at_spaces_and_leaves_a_long_path_whole_to_be_copied(tanet, monkeypatch, tmp_path):
    from tanet.output.table import wrap_text

    path = "/home/coordinator/Documents/Lothian-and-Forth-Valley-network/handover/2027-01-25/network-handover"
    text = wrap_text(f"Wrote the pack to {path} for Wilhelmina Featherstonehaugh-Cholmondeley.", 60)
    assert text.splitlines() == ["Wrote the pack to", path, "for Wilhelmina Featherstonehaugh-Cholmondeley."]
    bullet = wrap_text("  - Using 'what happened to you' rather than 'what's wrong with you' in first meetings", 40)
    assert bullet.splitlines() == ["  - Using 'what happened to you' rather", "    than 'what's wrong with you' in",
                                   "    first meetings"]
