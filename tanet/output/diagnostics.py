"""Something to diagnose with: `--verbose`, `--debug` and the crash report.

`--verbose` says on stderr what tanet is doing: the database it opened, the files it
read, wrote and removed, the programs it ran, and its conversation with the mail servers
(tanet/mail/smtp.py and imap.py log that; passwords and tokens never appear). It uses the
standard `logging` module, one logger per room (`tanet.mail.smtp`, `tanet.store.files`...).
Files and the database are seen through Python's audit events (PEP 578), so every module
that opens a file is covered without logging code of its own.

`--debug` also shows the traceback of an error. An error in tanet itself (any exception
that is not a TanetError, a usage error or Ctrl-C) prints one line naming what failed and
a crash report, written 0600 in the user log folder, holding the traceback, the version
and the command line with secrets removed; the exit code is 1, as for any failed command.

Nothing here is imported unless a command fails or a flag asks for it: `logging` and
`traceback` are imported inside the functions.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path

SHOWN = {"verbose": False, "debug": False}
_seen: set[tuple[str, str]] = set()  # (verb, path) already said by this command
_hooked = False
_inside = threading.local()

# Folders whose files are Python's and the libraries', not the coordinator's.
_SYSTEM = ("/usr/", "/lib/", "/lib64/", "/proc/", "/sys/", "/dev/", "/etc/")
_CODE = (".py", ".pyc", ".pyi", ".so", ".pth", ".mo", ".json.gz")


def start(verbose: bool, debug: bool) -> None:
    """Turn the log on for this command (or off again, when neither flag is given)."""
    import logging

    SHOWN["verbose"], SHOWN["debug"] = verbose or debug, debug
    _seen.clear()
    logger = logging.getLogger("tanet")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.propagate = False
    if not (verbose or debug):
        logger.setLevel(logging.WARNING)
        return
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.addHandler(stderr_handler())
    _hook_once()


def stop() -> None:
    """The log off again (at the end of each command)."""
    if SHOWN["verbose"]:
        start(False, False)


def stderr_handler():
    """A handler writing `room: message` to whatever sys.stderr is now (a test swaps it),
    with control characters shown, never obeyed."""
    import logging

    from tanet.text import for_screen

    class Handler(logging.Handler):
        def emit(self, record):
            try:
                room = record.name.removeprefix("tanet.")
                sys.stderr.write(f"{room}: {for_screen(record.getMessage())}\n")
            except Exception:  # a log line never stops the command
                pass

    return Handler()


def _hook_once() -> None:
    global _hooked
    if not _hooked:
        sys.addaudithook(_audited)
        _hooked = True


def _audited(event: str, args: tuple) -> None:
    """Python's audit events, told in words while --verbose is on (a hook cannot be
    removed, so it does nothing otherwise); it never raises, which would stop the call."""
    if not SHOWN["verbose"] or event not in _VERBS or getattr(_inside, "busy", False):
        return
    _inside.busy = True
    try:
        said = _VERBS[event](args)
        if said:
            _say(*said)
    except Exception:
        pass
    finally:
        _inside.busy = False


def _path(value) -> str | None:
    if isinstance(value, int) or value is None:
        return None
    text = os.fsdecode(os.fspath(value))
    if text == ":memory:" or text.startswith("file:") and "mode=memory" in text:
        return None
    full = os.path.abspath(text)
    if full.startswith(_SYSTEM) or full.endswith(_CODE) or "__pycache__" in full:
        return None
    if any(prefix and full.startswith(prefix + os.sep) for prefix in _python_places()):
        return None
    return text


def _python_places() -> tuple[str, ...]:
    import tanet

    return (sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.abspath(tanet.__file__)))


def _opened(args) -> tuple[str, str, str] | None:
    path = _path(args[0])
    if path is None or _staged(path) or os.path.isdir(path):
        return None
    mode, flags = args[1] or "", args[2] or 0
    writes = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND)
    return ("store.files", "write" if writes else "read", path)


def _staged(path: str) -> bool:
    """Inside a file or folder tanet is still writing (`.NAME.XXXX.tmp`) or setting aside
    (`.NAME.XXXX.old`): said once, when it takes its real name, not file by file."""
    return any(part.startswith(".") and part.endswith((".tmp", ".old")) for part in Path(path).parts)


def _renamed(args) -> tuple[str, str, str] | None:
    source, target = _path(args[0]), _path(args[1])
    if target is None or _staged(target):
        return None
    if source is not None and _staged(source):
        if os.path.isdir(source):
            return ("store.files", "write folder", f"{target} ({len(os.listdir(source))} files)")
        return ("store.files", "write", target)
    return ("store.files", "move", f"{source} -> {target}")


def _removed(args) -> tuple[str, str, str] | None:
    path = _path(args[0])
    return ("store.files", "remove", path) if path and not _staged(path) else None


def _database(args) -> tuple[str, str, str] | None:
    name = os.fsdecode(os.fspath(args[0]))
    if name.startswith("file:"):  # a URI: file:PATH?mode=ro
        from urllib.parse import unquote

        path, _, query = name[5:].partition("?")
        shown = _path(unquote(path))
        if shown and _staged(shown):
            return None
        return ("store.db", "open database", f"{shown} (read-only)" if "mode=ro" in query else shown) \
            if shown else None
    shown = _path(name)
    return ("store.db", "open database", shown) if shown and not _staged(shown) else None


def _ran(args) -> tuple[str, str, str] | None:
    # Only the program's name: its arguments may hold a token (smtp.oauth2_token_command).
    program = args[1][0] if isinstance(args[1], (list, tuple)) and args[1] else args[0] or args[1]
    if isinstance(program, str) and " " in program:
        program = program.split()[0]
    return ("system", "run", os.path.basename(os.fsdecode(program))) if program else None


_VERBS = {"open": _opened, "os.rename": _renamed, "os.remove": _removed, "sqlite3.connect": _database,
          "subprocess.Popen": _ran}


def _say(room: str, verb: str, what: str) -> None:
    import logging

    if (verb, what) in _seen:
        return
    _seen.add((verb, what))
    logging.getLogger(f"tanet.{room}").info("%s %s", verb, what)


# --- the crash report -------------------------------------------------------------------

_SECRET_WORDS = re.compile(r"pass|token|secret|credential", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/@:\s]*):[^/@\s]*@", re.IGNORECASE)


def without_secrets(args: list[str]) -> list[str]:
    """The command line as a report may show it: a password in a link (imaps://u:PW@host)
    and the value after anything named like a password or token are replaced by ***."""
    shown = []
    hide_next = False
    for arg in args:
        if hide_next:
            shown.append("***")
            hide_next = False
            continue
        name, equals, _value = arg.partition("=")
        if equals and name.startswith("-") and _SECRET_WORDS.search(name):
            shown.append(f"{name}=***")
            continue
        hide_next = not equals and bool(_SECRET_WORDS.search(arg))
        shown.append(_URL_PASSWORD.sub(r"\g<head>:***@", arg))
    return shown


def crash_folder() -> Path:
    import platformdirs

    return platformdirs.user_log_path("tanet")


def write_crash_report(error: BaseException, args: list[str]) -> Path:
    """The report of an error in tanet itself, 0600 in the user log folder; its path."""
    import platform
    import traceback
    from datetime import datetime, timezone

    from tanet import __version__
    from tanet.store import files

    now = datetime.now(timezone.utc)
    command = " ".join(["tanet", *without_secrets(args)])
    settings = [f"{name}={os.environ[name] if name in ('TANET_DB', 'TANET_TODAY') else '(set)'}"
                for name in sorted(os.environ) if name.startswith("TANET_")]
    text = "\n".join([
        "tanet crash report: an error in tanet itself, not in what was typed.",
        f"When: {now.isoformat(timespec='seconds')}",
        f"tanet: {__version__}",
        f"Python: {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}",
        f"Command: {command}",
        f"Settings in the environment: {', '.join(settings) or 'none'}",
        "",
        "".join(traceback.format_exception(error)),
    ])
    name = f"crash-{now:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    return files.write_file(crash_folder() / name, text)


def scrub_crash_reports(erased) -> int:
    """Put `erased(text)` (what a forgotten member's name or address typed on a command line
    left, made [erased]) in place of every crash report in the user log folder. Each report
    is rewritten whole; the number rewritten."""
    from tanet.store import files

    folder, rewritten = crash_folder(), 0
    if not folder.is_dir():
        return 0
    for report in sorted(folder.glob("crash-*.txt")):
        try:
            text = report.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        scrubbed = erased(text)
        if scrubbed != text:
            files.write_file(report, scrubbed)
            rewritten += 1
    return rewritten


def crash_message(error: BaseException, args: list[str], report: Path | None) -> str:
    """The one line a crash prints."""
    from tanet.text import for_screen

    command = " ".join(["tanet", *without_secrets(args)])
    what = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    where = (f"The details are in {report}: send that file to whoever looks after tanet."
             if report else "No crash report could be written; run the command again with --debug to see it.")
    return for_screen(f"Error: '{command}' stopped on a fault in tanet itself, not in what you typed ({what}). {where}")


def crash(error: BaseException, args: list[str]) -> None:
    """Say an unexpected error in one line (and the traceback with --debug); write the report."""
    try:
        report = write_crash_report(error, args)
    except Exception:
        report = None
    if SHOWN["debug"]:
        show_traceback(error)
    sys.stderr.write(crash_message(error, args, report) + "\n")


def show_traceback(error: BaseException | None = None) -> None:
    """The traceback of `error` (or of the one being handled) on stderr, for --debug."""
    import traceback

    error = error or sys.exc_info()[1]
    if error is not None:
        sys.stderr.write("".join(traceback.format_exception(error)))
