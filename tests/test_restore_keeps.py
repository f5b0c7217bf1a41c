"""A restore never undoes what happened in the world: an erased person stays erased, and a
message sent since the backup stays sent (so it never goes twice)."""

import sqlite3

from test_outbox import ca, network, smtp, use_server  # noqa: F401 (fixtures)


def test_restoring_an_older_backup_keeps_erasures_and_sent_messages(tanet, tmp_path, smtp, own_database,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)
    network(tanet, members=4)
    inbox, port = smtp()
    use_server(tanet, port)
    backup = tmp_path / "before.db"
    tanet("backup", backup, ok=True)
    tanet("member", "forget", "orla@example.org", "--yes", ok=True)
    tanet("invite", "1", "--send", ok=True)
    assert len(inbox.messages) == 3
    r = tanet("restore", backup, "--yes", ok=True)
    assert "1 member forgotten since the backup was made was forgotten again" in r.stdout
    assert "3 messages sent since the backup was made stay recorded as sent" in r.stdout
    addresses = [m["email"] for m in tanet("member", "list", "--format", "json", ok=True).json()]
    assert "orla@example.org" not in addresses and len(addresses) == 3
    for path in (own_database, own_database.with_name(own_database.name + "-wal")):
        if path.exists():
            assert b"Orla Quinn" not in path.read_bytes() and b"orla@example.org" not in path.read_bytes(), path
    with sqlite3.connect(own_database) as c:
        assert c.execute("SELECT name FROM members WHERE forgotten_on IS NOT NULL").fetchall() == [("Former member #4",)]
    again = tanet("invite", "1", "--send", ok=True)
    assert "already had this message" in again.stdout
    assert len(inbox.messages) == 3  # nobody got a second copy
