"""A region's register: the handover pack's members.csv is written as it is read, the same
bytes as `member export`, and a Forms export of thousands of responses imports as a small
one does."""

import tracemalloc
from datetime import date
from pathlib import Path

from tanet.register import member_files
from tanet.store import db as dbmod
from tanet.store.files import NewFolder
from tanet.summary import handover

TODAY = date(2026, 11, 25)


def register(path: Path, count: int):
    """`count` members, among them every kind of cell the export treats specially."""
    conn = dbmod.open_db(path, create=True)
    odd = [("=SUM(A1:A9)", "+44 131 496 0000", "'quoted", None), ("Dr Aoife O'Neill", None, "-minus", "Aoife"),
           ("Barr, Seonaid", "", "@at", None), ("Mrs. Zoë Ó Briain", "\t0131", "''=x", "Zo")]
    with dbmod.transaction(conn):
        for i in range(count):
            name, phone, notes, known = odd[i % len(odd)] if i < 40 else (f"Member {i} Lastname", None, None, None)
            conn.execute("""INSERT INTO members (name, email, phone, organisation, service_area, sector, role,
                            ambassador, joined_on, left_on, notes, known_as)
                            VALUES (?, ?, ?, 'Leith Family Hub', 'housing', 'public', 'frontline', ?, '2025-01-01',
                                    ?, ?, ?)""",
                         [name, f"m{i}@example.org", phone, i % 7 == 0, "2026-01-01" if i % 5 == 0 else None,
                          notes, known])
        conn.execute("UPDATE members SET forgotten_on = '2026-02-01' WHERE id % 11 = 0")
    return conn


def test_the_packs_members_csv_is_member_exports_bytes(tmp_path):
    conn = register(tmp_path / "tanet.db", 200)
    with NewFolder(tmp_path / "pack") as out:
        handover.write_members_csv(out, conn, tmp_path / "pack")
        written = (out.path / "members.csv").read_bytes()
    assert written == member_files.to_csv(member_files.export_rows(conn)).encode("utf-8-sig")
    assert written.count(b"\r\n") == 1 + conn.execute(
        "SELECT count(*) FROM members WHERE forgotten_on IS NULL").fetchone()[0]


def test_a_cell_another_program_wrote_as_a_blob_is_guarded_too(tmp_path):
    """A blob sorts after every text in SQLite: it must not pass the quick test for a cell that
    needs no guard, or a formula stored as bytes would reach Excel as a formula."""
    conn = register(tmp_path / "tanet.db", 3)
    conn.execute("UPDATE members SET notes = CAST('=1+1' AS BLOB) WHERE id = 2")
    conn.commit()
    with NewFolder(tmp_path / "pack") as out:
        handover.write_members_csv(out, conn, tmp_path / "pack")
        lines = (out.path / "members.csv").read_text(encoding="utf-8-sig").splitlines()
    assert next(line for line in lines if line.startswith("2,")).endswith(",'=1+1")


def test_the_packs_members_csv_never_holds_the_register(tmp_path):
    """20,000 members take some 30 MB as rows held at once; written line by line, the
    memory used stays that of a few lines whatever the size."""
    conn = register(tmp_path / "tanet.db", 20_000)
    with NewFolder(tmp_path / "pack") as out:
        tracemalloc.start()
        try:
            handover.write_members_csv(out, conn, tmp_path / "pack")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (out.path / "members.csv").stat().st_size > 1_000_000
    assert peak < 2 * 2**20


def test_a_large_forms_export_imports_every_response(tanet, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent.parent / "benchmarks"))
    import forms_xlsx  # the benchmark's workbook, laid out as Forms writes it

    form = tmp_path / "form.xlsx"
    forms_xlsx.build(form, 3000)
    tanet("meeting", "add", "2026-11-17", "--location", "Leith Library", ok=True)
    done = tanet("feedback", "import", "1", form, "--format", "json", ok=True).json()
    assert (done["responses"], done["added"], done["unchanged"]) == (3000, 3000, 0)
    assert len(done["not_members"]) == 1000  # every third response is named, by no member
    shown = tanet("feedback", "show", "1", "--format", "json", ok=True).json()
    assert shown["will_use"] == {"yes": 1800, "no": 600, "maybe": 600}
    assert shown["anonymous"] == 2000
    again = tanet("feedback", "import", "1", form, "--format", "json", ok=True).json()
    assert (again["added"], again["unchanged"]) == (0, 3000)
