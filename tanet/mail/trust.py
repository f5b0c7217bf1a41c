"""Mail settings are used only once they were set on this computer.

A database can come from elsewhere: a backup handed back, a predecessor's handover pack
opened with --db. Its mail settings could send every invitation to a stranger's server,
hand it the password, or run a command (smtp.oauth2_token_command). So tanet keeps, in
the user's own configuration folder (never in the database), a fingerprint of each set of
mail settings typed here with `tanet config set smtp...` (or accepted with `restore
--keep-mail-settings`), and sends or reads mail only with a set it knows.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from tanet.errors import TanetError

KEYS = ("smtp.host", "smtp.port", "smtp.security", "smtp.user", "smtp.auth", "smtp.oauth2_token_command",
        "smtp.ca_file")


def fingerprint(values: dict) -> str:
    return hashlib.sha256(json.dumps([values.get(k) or "" for k in KEYS]).encode()).hexdigest()


def _file() -> Path:
    import platformdirs

    return platformdirs.user_config_path("tanet") / "trusted-mail-settings"


def trust(values: dict) -> None:
    """Remember this set of mail settings as the coordinator's own."""
    if not values.get("smtp.host"):
        return
    path = _file()
    if fingerprint(values) in _known(path):
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as f:
            f.write(fingerprint(values) + "\n")
    except OSError as e:  # the setting itself is saved; only sending will ask again
        import sys

        sys.stderr.write(f"Warning: tanet cannot note these mail settings as yours in {path} ({e.strerror}), "
                         "so sending will ask you to confirm them; check that you can write to that folder.\n")


def _known(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except (OSError, UnicodeDecodeError):
        return set()


def check(values: dict) -> None:
    """Refuse mail settings that were not set on this computer, showing them."""
    if not values.get("smtp.host") or fingerprint(values) in _known(_file()):
        return
    shown = "; ".join(f"{k} = {values[k]!r}" for k in KEYS if values.get(k))
    raise TanetError(f"The mail settings in this database were not set on this computer (it may be a backup or a "
                     f"handover pack from someone else), so nothing was sent or read: {shown}. If they are right, "
                     f"confirm them with: tanet config set smtp.host {values['smtp.host']}")
