"""Fictional people and organisations for the demo network (all invented)."""

from __future__ import annotations

import random
from datetime import date, timedelta

FIRST = ("Niamh", "Oskar", "Callum", "Catriona", "Amir", "Duncan", "Ailsa", "Tomasz", "Fiona", "Hamish",
         "Priya", "Morag", "Euan", "Zainab", "Kwame", "Rory", "Isla", "Mhairi", "Leah", "Seán", "Zoë",
         "Siobhán", "Chloé", "Aoife", "Łukasz", "Renée", "José", "Björn", "Eilidh", "Ciarán", "Grace",
         "Yusuf", "Mei", "Ravi", "Agnieszka", "Donald", "Kirsty", "Fraser", "Shona", "Ewan", "Amara",
         "Dylan", "Hannah", "Innes", "Jamila", "Kenny", "Lorna", "Malik", "Nadia", "Orla")
LAST = ("Bell", "Mensah", "Reid", "Fraser", "Munro", "MacLeod", "O'Brien", "O'Neill", "D'Souza",
        "Nowak", "Kerr", "Patel", "Khan", "Hussain", "Campbell", "Sinclair", "Doyle", "Robertson",
        "Ó Súilleabháin", "Müller", "García", "Kowalczyk", "McAllister", "Stewart", "Thomson",
        "Henderson", "Mackenzie", "Ogunleye", "Chen", "Wiśniewska", "Lindqvist", "MacDonald",
        "Paterson", "Ross", "Duffy", "Gallacher", "Baxter", "Nakamura", "Abbasi", "Ferreira")

# organisation, sector, domain, service areas it employs people in
ORGANISATIONS = (
    ("City Council", "public", "citycouncil.example.org",
     ("housing", "social work", "education", "early years", "justice", "residential services")),
    ("NHS Lothian", "public", "nhslothian.example.org",
     ("mental health", "CAMHS", "psychology", "occupational therapy", "health")),
    ("Police Scotland", "public", "policescotland.example.org", ("justice",)),
    ("Scottish Prison Service", "public", "sps.example.org", ("justice", "education", "psychology")),
    ("Leith Academy", "public", "leithacademy.example.org", ("education",)),
    ("Craigmount High School", "public", "craigmount.example.org", ("education",)),
    ("Portobello Primary School", "public", "portyprimary.example.org", ("education", "early years")),
    ("Harbour Housing Trust", "third", "harbourhousing.example.org", ("housing", "residential services")),
    ("Women's Aid East", "third", "womensaideast.example.org", ("residential services", "social work", "other")),
    ("Canongate Youth Project", "third", "canongateyouth.example.org", ("education", "mental health", "other")),
    ("Meadows Mental Health Collective", "third", "meadowsmh.example.org", ("mental health", "psychology")),
    ("Northlight Family Support", "third", "northlight.example.org", ("early years", "social work")),
    ("Pentland Recovery Network", "third", "pentlandrecovery.example.org", ("health", "justice", "housing")),
    ("Rosebank Residential Care", "third", "rosebankcare.example.org", ("residential services",)),
    ("Calder Care Homes Ltd", "private", "caldercare.example.co.uk", ("residential services", "health")),
    ("Speyside Therapy Practice", "private", "speysidetherapy.example.co.uk", ("psychology", "occupational therapy")),
)
ROLES = ("frontline",) * 11 + ("supervisor",) * 4 + ("manager",) * 3 + ("senior-leader",) * 2


def _ascii(s: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if c.isalnum() and c.isascii()).lower()


def make_members(rng: random.Random, n: int, first_joined: date, last_joined: date) -> list[dict]:
    """n fictional members with unique e-mail addresses, spread like a real network."""
    people, used = [], set()
    span = (last_joined - first_joined).days
    # Weight organisations so that every area and both main sectors are well represented.
    weights = [5, 5, 2, 2, 2, 2, 2, 3, 2, 2, 2, 2, 2, 1, 1, 1]
    while len(people) < n:
        org, sector, domain, areas = rng.choices(ORGANISATIONS, weights)[0]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        local = f"{_ascii(first)}.{_ascii(last)}"
        email, k = f"{local}@{domain}", 2
        while email in used:
            email, k = f"{local}{k}@{domain}", k + 1
        used.add(email)
        joined = first_joined + timedelta(days=rng.randrange(span + 1))
        people.append({
            "name": f"{first} {last}", "email": email,
            "phone": f"0131 496 {rng.randrange(10000):04d}" if rng.random() < 0.4 else "",
            "organisation": org, "service_area": rng.choice(areas), "sector": sector,
            "role": rng.choice(ROLES), "ambassador": "yes" if rng.random() < 0.8 else "no",
            "joined_on": joined.isoformat(),
        })
    return people


def write_examples(path, seed: int = 2024) -> None:
    """Regenerate examples/members.csv (140 members) in the sign-up sheet's own style."""
    import csv

    rng = random.Random(seed)
    people = make_members(rng, 140, date(2023, 9, 1), date(2026, 10, 31))
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Full name", "E-mail address", "Phone", "Organisation / employer", "Service area",
                    "Sector", "Role level", "Ambassador", "Date joined"])
        for p in sorted(people, key=lambda p: p["joined_on"]):
            d = date.fromisoformat(p["joined_on"])
            w.writerow([p["name"], p["email"], p["phone"], p["organisation"], p["service_area"],
                        "Third sector" if p["sector"] == "third" and rng.random() < 0.5 else p["sector"],
                        p["role"], p["ambassador"], f"{d:%d/%m/%Y}"])


if __name__ == "__main__":
    import sys

    write_examples(sys.argv[1] if len(sys.argv) > 1 else "examples/members.csv")
