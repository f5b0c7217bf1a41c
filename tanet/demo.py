"""`tanet demo`: a realistic, fictional network in a fresh file — never the coordinator's own."""

from __future__ import annotations

import random
import tempfile
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from tanet import db as dbmod
from tanet import render
from tanet.errors import TanetError


def _target(path: Path | None) -> Path:
    if path is None:
        folder = Path(tempfile.mkdtemp(prefix="tanet-demo-"))
        return folder / "demo.db"
    if path.exists() and path.stat().st_size > 0:
        raise TanetError(f"{path} already exists and is not empty; the demo only builds a new file. "
                         "Give another --db PATH, or leave it out for a temporary file.")
    return path


def example_members() -> Path:
    return Path(str(resources.files("tanet") / "data" / "members.csv"))


def build(path: Path, *, members: int, years: int, seed: int, today: date, progress=None) -> None:
    from tanet import member_files, settings
    from tanet.demo_people import make_members

    rng = random.Random(seed)
    conn = dbmod.open_db(path)
    with dbmod.transaction(conn):
        for key, value in {
            "network": "Lothian Trauma-Informed Practice Network",
            "organiser.name": "Alex Morgan", "organiser.email": "network.coordinator@example.org",
            "meeting.location": "Community Room, Leith Library, 28 Ferry Road, Edinburgh",
            "meeting.url": "https://meet.example.org/tip-network",
        }.items():
            settings.set_value(conn, key, value)
        plan = member_files.plan_import(conn, example_members(), today, False)
        if plan.errors:
            raise TanetError("The example members file has problems: " + "; ".join(plan.errors[:3]))
        people = plan.new[:members]
        if members > len(people):
            start = today - timedelta(days=365 * years + 180)
            extra = make_members(rng, members - len(people), start, today - timedelta(days=30))
            known = {p["email"] for p in people}
            for p in extra:
                if p["email"] in known:
                    p["email"] = p["email"].replace("@", f".{len(known)}@")
                known.add(p["email"])
                people.append({**p, "ambassador": int(p["ambassador"] == "yes"), "left_on": None,
                               "consent_on": p["joined_on"], "notes": None, "phone": p["phone"] or None})
        plan.new = people
        member_files.apply_import(conn, plan)
    conn.close()


def run_demo(path: Path | None, *, members: int, years: int, seed: int, today: date, quiet: bool) -> Path:
    target = _target(path)
    build(target, members=members, years=years, seed=seed, today=today)
    if quiet:
        render.say(str(target))
        return target
    conn = dbmod.open_db(target)
    rows = [dict(r) for r in conn.execute(
        """SELECT service_area, sum(sector = 'public') AS public, sum(sector = 'third') AS third,
                  sum(sector NOT IN ('public', 'third')) AS other, count(*) AS members
           FROM members WHERE left_on IS NULL OR left_on > ? GROUP BY service_area
           ORDER BY members DESC""", [today.isoformat()])]
    render.table(rows, [("service_area", "Service area"), ("public", "Public"), ("third", "Third"),
                        ("other", "Private/other"), ("members", "Members")],
                 title="Active members by service area and sector")
    conn.close()
    render.say(f"\nThe demo network is in {target}")
    render.say(f"Try:  tanet --db {target} member list")
    return target
