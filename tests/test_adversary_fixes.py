"""What an adversary found in the released code, each fixed and kept fixed."""

import sqlite3

from conftest import add_member
from servers import free_port, use_server
from test_folders_and_leavers import leaver_network
from test_replies import answers, network
from test_reply_trust import imported, reasons, reply


def test_a_stranger_at_a_public_webmail_domain_cannot_answer_as_a_delegate(tanet, tmp_path):
    network(tanet, tmp_path)
    add_member(tanet, "Chloe Wilson", "chloe.w@gmail.com", "housing", "public", "frontline", "Org",
               "--joined", "2025-01-01")
    forged = reply(tmp_path, "forged", sender="Stranger <stranger123@gmail.com>", attendee="chloe.w@gmail.com",
                   params=';SENT-BY="mailto:stranger123@gmail.com"', partstat="DECLINED")
    # The same delegate rule at an organisation's own domain is still believed.
    delegate = reply(tmp_path, "delegate", sender="Pat Assistant <pa@pentlandprimary.example>",
                     params=';SENT-BY="mailto:pa@pentlandprimary.example"', partstat="TENTATIVE")
    result = imported(tanet, forged, delegate)
    assert result["applied"] == 1
    assert list(reasons(result)) == ["forged.eml"]
    assert "not a public webmail service" in reasons(result)["forged.eml"]
    assert reasons(result)["forged.eml"].startswith("sent by stranger123@gmail.com for chloe.w@gmail.com")
    assert answers(tanet).get("chloe.w@gmail.com", "none") == "none"
    assert answers(tanet)["zoe.fraser@pentlandprimary.example"] == "tentative"


# A leaver whose address bounces is still forgotten ----------------------------------------

def member_email(tanet, ref):
    return tanet("member", "show", ref, "--format", "json", ok=True).json()["email"]


def test_forget_erases_a_leaver_whose_address_refuses_mail_for_good(tanet, tmp_path, smtp, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    inbox, port = smtp(refuse=["zoe@example.org"])
    use_server(tanet, port)
    r = tanet("member", "forget", "zoe@example.org", "--yes", "--send", ok=True)
    assert "The cancellations could not be delivered: the mail server refused" in r.stderr
    assert "Member #2 has been forgotten." in r.stdout
    assert inbox.messages == [] and member_email(tanet, "2") is None


def test_forget_stopped_by_an_unreachable_server_says_the_member_was_not_forgotten(tanet, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    use_server(tanet, free_port())  # nothing listens there
    r = tanet("member", "forget", "zoe@example.org", "--yes", "--send", ok=False)
    (error,) = [line for line in r.stderr.splitlines() if line.startswith("Error:")]
    assert error.startswith("Error: Member #2 was NOT forgotten: ")
    assert error.endswith("Run the same command again when the mail server answers, or without --send "
                                      "to erase now (the cancellations are then written, not sent).")
    assert member_email(tanet, "2") == "zoe@example.org"
    tanet("member", "forget", "zoe@example.org", "--yes", ok=True)
    assert member_email(tanet, "2") is None


def test_privacy_review_erases_a_leaver_whose_address_refuses_mail_for_good(tanet, tmp_path, smtp, monkeypatch,
                                                                             own_database):
    monkeypatch.chdir(tmp_path)
    leaver_network(tanet)
    with sqlite3.connect(own_database) as db:
        db.execute("UPDATE members SET left_on = '2024-01-01' WHERE email = 'zoe@example.org'")
    inbox, port = smtp(refuse=["zoe@example.org"])
    use_server(tanet, port)
    r = tanet("privacy", "review", "--apply", "--send", "--format", "json", ok=True)
    assert r.json()["members_forgotten"] == 1 and "could not be delivered" in r.stderr
    assert inbox.messages == [] and member_email(tanet, "2") is None


# A small CSV of mixed encodings is refused as a large one is --------------------------------

def test_a_small_csv_mixing_utf8_with_other_bytes_is_refused_not_garbled(tanet, tmp_path):
    tanet("init", "--network", "Net", "--organiser-name", "Alex Morgan", "--organiser-email", "alex@example.org",
          ok=True)
    sheet = tmp_path / "members.csv"
    sheet.write_bytes("name,email,org,area,sector,role\n".encode()
                      + "Zoë Fraser ".encode() + b"\xff\xfe,zoe@example.org,Org,housing,public,frontline\n")
    r = tanet("member", "import", sheet, ok=False)
    assert r.stderr.strip() == (f"Error: {sheet} is mostly UTF-8, but line 2 is in another encoding. Save the whole "
                                "file from the spreadsheet as 'CSV UTF-8' and try again.")
    assert tanet("member", "list", "--format", "json", ok=True).json() == []
    # A file wholly in Windows-1252 is still read as such.
    sheet.write_bytes(b"name,email,org,area,sector,role\nZo\xeb Fraser,zoe@example.org,Org,housing,public,frontline\n")
    tanet("member", "import", sheet, ok=True)
    assert [m["name"] for m in tanet("member", "list", "--format", "json", ok=True).json()] == ["Zoë Fraser"]
