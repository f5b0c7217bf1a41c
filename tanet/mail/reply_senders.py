"""Who may answer for a member: the message's own senders, the attendee's address, and a
delegate (SENT-BY) only at the attendee's own organisation's mail, never at a public
webmail service."""

from __future__ import annotations

from email.utils import getaddresses


def address_of(value) -> str | None:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower() or None


def senders_of(msg) -> list[str]:
    """Who the message says sent it: the one From address, and the Sender if there is one."""
    from_ = [a.lower() for _, a in getaddresses([str(msg.get("From", "") or "")]) if a]
    sender = [a.lower() for _, a in getaddresses([str(msg.get("Sender", "") or "")]) if a]
    return (from_ if len(from_) == 1 else []) + sender[:1]


def vouched_attendee(attendees: list, senders: list[str]) -> tuple:
    """The ATTENDEE the sender may answer for: their own address, or one naming them as SENT-BY
    from the attendee's own mail domain (a colleague's delegate, as Exchange writes it). The
    SENT-BY comes in the same message, so a stranger naming themselves is not believed."""
    for params, address in attendees:
        delegate = address_of(params.get("SENT-BY"))
        if address in senders or (delegate in senders and domain_of(delegate) == domain_of(address)
                                  and not is_public_webmail(domain_of(address))):
            return params, address
    return None, None


# Anyone can open an account at these, so sharing the domain says nothing about working together.
PUBLIC_WEBMAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "msn.com", "icloud.com", "me.com", "mac.com", "aol.com",
    "proton.me", "protonmail.com", "web.de", "btinternet.com", "sky.com", "virginmedia.com", "talktalk.net",
    "mail.com", "zoho.com"})


PUBLIC_WEBMAIL_FAMILIES = ("hotmail.", "live.", "yahoo.", "gmx.")


def is_public_webmail(domain: str) -> bool:
    """Whether a mail domain is a public webmail service (any stranger can have an address there)."""
    domain = domain.lower().rstrip(".")
    return domain in PUBLIC_WEBMAIL or domain.startswith(PUBLIC_WEBMAIL_FAMILIES)


def domain_of(address: str | None) -> str:
    return (address or "").rpartition("@")[2].lower()


def not_theirs(senders: list[str], attendees: list) -> str:
    whom = ", ".join(a or "nobody" for _, a in attendees)
    return (f"sent by {' / '.join(senders) or 'an unknown sender'} for {whom}: only that person (or a delegate "
            "at their own organisation's mail, not a public webmail service, that their calendar names as SENT-BY) "
            "can answer for them; if it is genuine, record the answer yourself")
