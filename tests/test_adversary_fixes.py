"""What an adversary found in the released code, each fixed and kept fixed."""

from conftest import add_member
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
