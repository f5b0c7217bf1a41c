"""A restore never undoes what happened in the world: an erased person stays erased, and a
message sent since the backup stays sent (so it never goes twice)."""

import sqlite3

from servers import use_server
from test_outbox import network


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


def test_mail_settings_that_came_with_a_file_are_never_used_until_confirmed(tanet, tmp_path, cli_env):
    """A predecessor's handover pack opened with --db: its token command never runs, and its
    server is never sent to, until the coordinator confirms the settings on this computer."""
    import subprocess

    from conftest import TANET

    marker = tmp_path / "PWNED"
    network(tanet, members=2)
    tanet("config", "set", "smtp.host", "127.0.0.1", ok=True)
    tanet("config", "set", "smtp.user", "x@example.org", ok=True)
    tanet("config", "set", "smtp.auth", "xoauth2", ok=True)
    tanet("config", "set", "smtp.oauth2_token_command", f"touch {marker}; echo token", ok=True)
    tanet("handover", "-o", tmp_path / "pack", ok=True)
    elsewhere = {**cli_env, "XDG_CONFIG_HOME": str(tmp_path / "another-computer"),
                 "TANET_DB": str(tmp_path / "pack" / "tanet.db")}
    r = subprocess.run(TANET + ["invite", "1", "--send", "-o", str(tmp_path / "i")], env=elsewhere,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "were not set on this computer" in r.stderr, r.stderr
    assert "smtp.oauth2_token_command = " in r.stderr and "confirm them with: tanet config set smtp.host" in r.stderr
    assert not marker.exists()
