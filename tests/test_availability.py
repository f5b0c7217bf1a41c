"""Flexible meeting times: busy patterns and slot suggestions, on a hand-built case."""

from conftest import add_member


def build(tanet):
    for i in range(3):
        add_member(tanet, f"Teacher {i}", f"t{i}@example.org", "education", "public", "frontline", "School",
                   "--joined", "2025-01-01")
        tanet("availability", "set", f"t{i}@example.org", "--busy", "Mon-Fri 08:45-15:30", ok=True)
    for i in range(2):
        add_member(tanet, f"Housing {i}", f"h{i}@example.org", "housing", "third", "frontline", "Trust",
                   "--joined", "2025-01-01")
        tanet("availability", "set", f"h{i}@example.org", "--busy", "tue 13:00-17:00", ok=True)
    add_member(tanet, "Una Known", "u@example.org", "social work", "public", "manager", "Council", "--joined", "2025-01-01")
    tanet("meeting", "add", "2026-09-08", "--time", "10:00", ok=True)
    tanet("attendance", "mark", "1", "h0@example.org", "h1@example.org", "u@example.org", ok=True)


def test_set_show_clear(tanet):
    build(tanet)
    assert tanet("availability", "show", "t0@example.org", "--format", "json", ok=True).json()["busy"] == ["mon-fri 08:45-15:30"]
    tanet("availability", "set", "Una", "--busy", "TUESDAY,thu 13:00-17:00", "--busy", "wed 9:00-12:30", ok=True)
    assert tanet("availability", "show", "Una", "--format", "json", ok=True).json()["busy"] == [
        "tue,thu 13:00-17:00", "wed 09:00-12:30"]
    tanet("availability", "clear", "Una", ok=True)
    assert tanet("availability", "show", "Una", "--format", "json", ok=True).json()["busy"] == []


def test_suggest_counts(tanet):
    build(tanet)
    slots = tanet("availability", "suggest", "--format", "json", ok=True).json()
    got = {(s["weekday"], s["start"]): (s["available"], s["busy"], s["unknown"]) for s in slots}
    assert got == {
        ("tue", "09:30"): (2, 3, 1), ("tue", "13:00"): (0, 5, 1), ("tue", "15:45"): (3, 2, 1),
        ("wed", "09:30"): (2, 3, 1), ("wed", "13:00"): (2, 3, 1), ("wed", "15:45"): (5, 0, 1),
        ("thu", "09:30"): (2, 3, 1), ("thu", "13:00"): (2, 3, 1), ("thu", "15:45"): (5, 0, 1),
    }
    assert [(s["weekday"], s["start"]) for s in slots[:3]] == [("wed", "15:45"), ("thu", "15:45"), ("tue", "15:45")]
    best = slots[0]
    assert set(best) >= {"weekday", "start", "available", "busy", "unknown", "by_service_area"}
    edu = next(a for a in best["by_service_area"] if a["service_area"] == "education")
    assert (edu["members"], edu["available"], edu["low_participation"]) == (3, 3, True)
    housing = next(a for a in best["by_service_area"] if a["service_area"] == "housing")
    assert housing["low_participation"] is False
    r = tanet("availability", "suggest", "--explain", ok=True)
    assert "education 3 of 3 can come (+3 on the worst slot)" in r.stdout
    assert "unknown" in r.stdout


def test_plan_takes_the_best_slots(tanet):
    build(tanet)
    rows = tanet("meeting", "plan", "--start", "2027-01-13", "--count", "2", "--times", "best:2", "--dry-run",
                 "--format", "json", ok=True).json()
    assert [r["start"] for r in rows] == ["09:00", "15:30"]


def test_bad_input(tanet):
    build(tanet)
    assert "not a day of the week" in tanet("availability", "set", "Una", "--busy", "funday 25:00-26:00", ok=False).stderr
    assert "not HH:MM" in tanet("availability", "set", "Una", "--busy", "mon 25:00-26:00", ok=False).stderr
    assert "is not after the start" in tanet("availability", "set", "Una", "--busy", "mon 15:00-09:00", ok=False).stderr
    assert "not a weekly pattern" in tanet("availability", "set", "Una", "--busy", "mornings", ok=False).stderr
    tanet("member", "leave", "Una", "--on", "2026-10-01", ok=True)
    assert "not an active member" in tanet("availability", "set", "Una", "--busy", "mon 09:00-10:00", ok=False).stderr
    assert "no candidate slots" in tanet("availability", "suggest", "--times", "", ok=False).stderr


def test_all_unknown_is_said_not_ranked(tanet):
    add_member(tanet, "Ann Able", "ann@example.org")
    assert "Nobody has recorded" in tanet("availability", "suggest", ok=False).stderr
