"""Imports say what they understood (issue 23): which column gave each field,
what was left alone and what was filled in; Microsoft Forms' own columns never win over
the answers; unknown words are listed once each with the --map that fixes them; reworded
feedback questions are matched, and one that is not can be mapped with --question."""

import shlex

from test_feedback import write_xlsx

FORMS_META = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
ANSWERS = ["Full name", "Work email", "Organisation", "Job title", "Service area", "Date joined"]


def forms_signups(rows):
    """A Microsoft Forms sign-up export: Forms' columns first (anonymous, no name), then the answers."""
    return [FORMS_META + ANSWERS] + [[str(i), "1/19/2027 12:01:00", "1/19/2027 12:03:00", "anonymous", "", ""] + r
                                     for i, r in enumerate(rows, start=1)]


PEOPLE = [["Ann Able", "ann@example.org", "NHS Lothian", "Manager", "Housing", "03/02/2025"],
          ["Ben Bold", "ben@example.org", "Women's Aid", "Team leader", "CAMHS", ""],
          ["Cat Crane", "cat@example.org", "City Council", "Practitioner", "", "10/10/2025"]]


def write_csv(path, rows):
    import csv

    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        csv.writer(f).writerows(rows)
    return path


def _line(stdout, start):
    return next(line.strip() for line in stdout.splitlines() if line.strip().startswith(start))


def _says_what_it_read(r):
    assert _line(r.stdout, "name ") == "name          <- 'Full name'"
    assert _line(r.stdout, "email ") == "email         <- 'Work email'"
    assert _line(r.stdout, "role ") == "role          <- 'Job title'"
    assert _line(r.stdout, "joined_on ") == "joined_on     <- 'Date joined'"
    assert _line(r.stdout, "not used:") == "not used: " + ", ".join(f"'{h}'" for h in FORMS_META)
    assert "joined_on: 1 empty, set to today (2026-11-25)" in r.stdout
    assert "consent_on: no column: 3 new members agreed to their details being held on the day they joined" in r.stdout
    assert "service_area: 1 empty, set to 'other'" in r.stdout
    assert "sector: no column: 3 new members set to 'other'" in r.stdout


def test_a_forms_signup_csv_is_read_from_the_answers_and_said_before_anything_is_written(tanet, tmp_path):
    path = write_csv(tmp_path / "signups.csv", forms_signups(PEOPLE))
    r = tanet("member", "import", path, "--dry-run", ok=True)
    _says_what_it_read(r)
    assert "3 new" in r.stdout and tanet("member", "list", "--format", "json", ok=True).json() == []
    r = tanet("member", "import", path, ok=True)
    _says_what_it_read(r)
    got = {m["email"]: (m["name"], m["role"], m["service_area"], m["joined_on"])
           for m in tanet("member", "list", "--format", "json", ok=True).json()}
    assert got == {"ann@example.org": ("Ann Able", "manager", "housing", "2025-02-03"),
                   "ben@example.org": ("Ben Bold", "supervisor", "CAMHS", "2026-11-25"),
                   "cat@example.org": ("Cat Crane", "frontline", "other", "2025-10-10")}


def test_a_forms_signup_workbook_is_read_the_same_way(tanet, tmp_path):
    path = tmp_path / "signups.xlsx"
    write_xlsx(path, forms_signups(PEOPLE))
    _says_what_it_read(tanet("member", "import", path, ok=True))
    assert len(tanet("member", "list", "--format", "json", ok=True).json()) == 3


def test_forms_own_email_is_used_when_the_form_asked_for_none(tanet, tmp_path):
    # A form with sign-in required: Forms' Email holds the real address and is the only one.
    rows = [FORMS_META + ["Full name", "Role"], ["1", "x", "y", "ann@example.org", "Ann Able", "", "Ann Able", "manager"]]
    r = tanet("member", "import", write_csv(tmp_path / "s.csv", rows), ok=True)
    assert _line(r.stdout, "email ") == "email         <- 'Email'"
    assert "joined_on: no column" in r.stdout and "--column joined_on='Completion time'" in r.stdout


def test_column_picks_a_column_and_a_wrong_choice_names_the_choices(tanet, tmp_path):
    path = write_csv(tmp_path / "s.csv", [["Name", "Home email", "Work email", "Grade"],
                                          ["Ann Able", "ann@home.example", "ann@work.example", "Manager"]])
    r = tanet("member", "import", path, "--column", "email=Home email", "--column", "role=grade", "--dry-run", ok=True)
    assert _line(r.stdout, "email ") == "email         <- 'Home email'"
    assert _line(r.stdout, "role ") == "role          <- 'Grade'"
    assert "not used: 'Work email'" in r.stdout
    assert "--column 'email=Home email' --column role=grade" in r.stdout  # the command to run next keeps them
    r = tanet("member", "import", path, "--column", "colour=Name", ok=False)
    assert "'colour' is not a member field" in r.stderr and "name, first_name, last_name, email" in r.stderr
    r = tanet("member", "import", path, "--column", "email=Mail", ok=False)
    assert "has no column headed 'Mail'" in r.stderr and "'Home email', 'Work email', 'Grade'" in r.stderr
    assert "FIELD=HEADER" in tanet("member", "import", path, "--column", "email", ok=False).stderr
    assert tanet("member", "list", "--format", "json", ok=True).json() == []


def _free_text_roles(tmp_path):
    rows = [["Name", "Email", "Job title", "Service area"]]
    rows += [[f"OT {i}", f"ot{i}@example.org", "OT", "occupational therapy"] for i in range(12)]
    rows += [["Sam Senior", "sam@example.org", "Senior Social Worker", "social work"],
             ["Hal Hous", "hal@example.org", "manager", "Housng"]]
    return write_csv(tmp_path / "roles.csv", rows)


def test_unknown_words_are_listed_once_each_with_the_map_that_fixes_them(tanet, tmp_path):
    path = _free_text_roles(tmp_path)
    r = tanet("member", "import", path, ok=False)
    lines = r.stderr.splitlines()
    ot = [line for line in lines if "'OT'" in line]
    assert len(ot) == 1 and ot[0].startswith("'OT' in 12 rows (lines 2, 3, 4, 5, 6, 7, …) is not a role")
    assert ot[0].endswith("Fix them all with: --map role:OT=ROLE") and "did you mean" not in ot[0]
    senior = next(line for line in lines if "Senior Social Worker" in line)
    assert senior.startswith("line 14: 'Senior Social Worker' is not a role") and "senior-leader" not in senior
    housng = next(line for line in lines if "Housng" in line)
    assert "did you mean 'housing'?" in housng and housng.endswith("--map area:Housng=housing")
    assert "empty" not in r.stderr + r.stdout  # the cells are full, not empty
    assert "14 problems" in r.stderr and tanet("member", "list", "--format", "json", ok=True).json() == []


def test_a_dry_run_prints_the_command_to_run_next_with_every_map(tanet, tmp_path):
    path = _free_text_roles(tmp_path)
    maps = ["--map", "role:OT=frontline", "--map", "role:Senior Social Worker=supervisor"]
    r = tanet("member", "import", path, "--dry-run", *maps, ok=False)  # one word still unknown
    command = r.stderr.split("Then run:\n")[1].splitlines()[0].strip()
    assert command.endswith("--map role:OT=frontline --map role:'Senior Social Worker'=supervisor "
                            "--map area:Housng=housing")
    # The dry run saved nothing, its --map options included: the command carries them.
    assert "'OT' in 12 rows" in tanet("member", "import", path, "--dry-run", ok=False).stderr
    r = tanet("member", "import", *shlex.split(command)[3:], "--dry-run", ok=True)
    assert "Dry run: 14 new" in r.stdout
    again = r.stdout.split("To import, run:\n")[1].strip()
    assert again == command
    tanet(*shlex.split(again)[1:], ok=True)
    roles = {m["name"]: m["role"] for m in tanet("member", "list", "--format", "json", ok=True).json()}
    assert roles["OT 0"] == "frontline" and roles["Sam Senior"] == "supervisor" and len(roles) == 14


FEEDBACK = ["How useful was today's meeting for your practice?", "Will you use something from today in your work?",
            "What will you take back to your service?", "What should we cover at future meetings?",
            "Which service area do you work in?"]


def _feedback_setup(tanet, tmp_path, questions):
    tanet("meeting", "add", "2026-11-20", "--location", "x", ok=True)
    path = tmp_path / "feedback.xlsx"
    write_xlsx(path, [FORMS_META + questions,
                      ["1", "2026-11-20 12:00:00", "2026-11-20 12:05:00", "anonymous", "", "", "4", "Yes", "Grounding",
                       "Supervision", "Housing"]])
    return path


def test_a_reworded_forms_question_is_matched(tanet, tmp_path):
    path = _feedback_setup(tanet, tmp_path, FEEDBACK)
    r = tanet("feedback", "import", "1", path, "--format", "json", ok=True).json()
    assert r["added"] == 1 and r["questions"]["next_topic"] == "What should we cover at future meetings?"
    assert r["columns_not_used"] == FORMS_META
    assert tanet("feedback", "show", "1", "--format", "json", ok=True).json()["next_topics"] == ["Supervision"]


def test_an_unmatched_question_names_the_real_questions_and_can_be_mapped(tanet, tmp_path):
    path = _feedback_setup(tanet, tmp_path, FEEDBACK[:3] + ["Anything else for us?"] + FEEDBACK[4:])
    r = tanet("feedback", "import", "1", path, ok=False)
    assert "no question found for what to cover next" in r.stderr and "'Anything else for us?'" in r.stderr
    assert "--question next_topic='Anything else for us?'" in r.stderr
    for meta in FORMS_META[1:]:
        assert meta not in r.stderr
    r = tanet("feedback", "import", "1", path, "--question", "next_topic=Anything else for us?", ok=True)
    assert "next_topic    <- 'Anything else for us?'" in r.stdout
    assert "'Last modified time'" in _line(r.stdout, "not used:")
    assert tanet("feedback", "show", "1", "--format", "json", ok=True).json()["next_topics"] == ["Supervision"]
    r = tanet("feedback", "import", "1", path, "--question", "topics=Anything else for us?", ok=False)
    assert "usefulness, will_use, take_back, next_topic, service_area" in r.stderr
    r = tanet("feedback", "import", "1", path, "--question", "next_topic=Last modified time", ok=False)
    assert "has no question headed 'Last modified time'" in r.stderr


def test_forms_anonymous_email_is_one_line_that_says_which_column_to_choose(tanet, tmp_path):
    rows = [FORMS_META + ["Full name", "Your address"]]
    rows += [[str(i), "x", "y", "anonymous", "", "", f"P {i}", f"p{i}@example.org"] for i in range(30)]
    path = write_csv(tmp_path / "s.csv", rows)
    r = tanet("member", "import", path, "--dry-run", ok=False)
    assert _line(r.stdout, "email ") == "email         <- 'Email'"  # nothing else looks like an e-mail column
    assert [line for line in r.stderr.splitlines() if line.startswith("'anonymous'")] == [
        "'anonymous' in 30 rows (lines 2, 3, 4, 5, 6, 7, …) is the e-mail column: the form did not record who "
        "filled it in. Choose the column that holds their e-mail address with --column email=HEADER, or add that "
        "question to the form."]
    r = tanet("member", "import", path, "--column", "email=Your address", ok=True)
    assert "30 new" in r.stdout and "'Email'" in _line(r.stdout, "not used:")
