"""The peer of `tanet privacy review --apply`: the same erasure as plain set-based SQL.

    python benchmarks/erase_peer.py DATABASE LEFT_BEFORE NOTES_BEFORE

Only the standard library's sqlite3: in one transaction, with freed bytes overwritten
(secure_delete), the members who left before LEFT_BEFORE are forgotten (name, address,
phone, notes; their messages' addresses and files, check-in notes, reply comments,
follow-up notes, availability; their feedback made anonymous) and every private note of a
meeting before NOTES_BEFORE is erased; then the write-ahead log is copied into the file
and emptied, as tanet does so that no old copy is left. On a demo file (no outbox, no
feedback) this leaves the same rows as tanet; run.py checks that once before timing.
"""

from __future__ import annotations

import sqlite3
import sys

DUE = "(SELECT id FROM temp.due)"
STATEMENTS = (
    f"""UPDATE members SET name = 'Former member #' || id, email = NULL, phone = NULL, notes = NULL,
            known_as = NULL, forgotten_on = :today,
            left_on = CASE WHEN left_on IS NOT NULL AND left_on <= :today THEN left_on
                           WHEN joined_on < :today THEN :today ELSE joined_on END
        WHERE id IN {DUE}""",
    f"UPDATE feedback SET member_id = NULL, anonymous = 1 WHERE member_id IN {DUE}",
    f"UPDATE outbox SET email = NULL, file = NULL WHERE member_id IN {DUE}",
    f"UPDATE checkins SET note = NULL WHERE member_id IN {DUE} AND note IS NOT NULL",
    f"UPDATE responses SET comment = NULL, message_id = NULL WHERE member_id IN {DUE}",
    f"UPDATE followups SET note = NULL, about = NULL WHERE member_id IN {DUE}",
    f"DELETE FROM availability WHERE member_id IN {DUE}",
    """UPDATE checkins SET note = NULL WHERE note IS NOT NULL
         AND meeting_id IN (SELECT id FROM meetings WHERE date < :notes)""",
    """UPDATE responses SET comment = NULL WHERE comment IS NOT NULL
         AND meeting_id IN (SELECT id FROM meetings WHERE date < :notes)""",
    """UPDATE followups SET note = NULL WHERE note IS NOT NULL
         AND coalesce((SELECT date FROM meetings m WHERE m.id = meeting_id), raised_on) < :notes""",
    """UPDATE followups SET about = NULL WHERE about IS NOT NULL
         AND coalesce((SELECT date FROM meetings m WHERE m.id = meeting_id), raised_on) < :notes""",
)


def main(db: str, left_before: str, notes_before: str, today: str) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("""CREATE TEMP TABLE due AS SELECT id FROM members
                    WHERE forgotten_on IS NULL AND left_on IS NOT NULL AND left_on < ?""", [left_before])
    for sql in STATEMENTS:
        conn.execute(sql, {"today": today, "notes": notes_before})
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
