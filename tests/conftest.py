import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"

# The SMTP and IMAP servers (fixtures `ca`, `smtp`) live in tests/servers.py.
pytest_plugins = ["servers"]

# Property tests explore new examples on every local run; on CI they replay a fixed
# sequence, so a red CI always means a change broke something (and says which example).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
TODAY = "2026-11-25"


_registry_answer: list[str] = []  # asked once a run: "" when reachable, else why not


def registry_unreachable() -> str:
    """Why pip cannot fetch from the package registry here ("" when it can): the build needs
    setuptools from it, so that is what is asked for, with a short timeout and no retries."""
    if not _registry_answer:
        import subprocess
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--timeout", "15",
                                "--retries", "0", "--dest", folder, "setuptools>=77"], capture_output=True, text=True)
        _registry_answer.append("" if r.returncode == 0 else (r.stderr.strip().splitlines() or ["pip failed"])[-1])
    return _registry_answer[0]


def pytest_runtest_setup(item):
    """A test marked `registry` needs the package registry: skipped where none is reachable,
    except on CI, where it always runs (and fails if the registry is down)."""
    if item.get_closest_marker("registry") and not os.environ.get("CI"):
        why = registry_unreachable()
        if why:
            pytest.skip(f"no package registry reachable ({why})")


UNIT = Path(__file__).parent / "unit"  # the pure parts: no database (make test-fast)


@pytest.fixture(autouse=True)
def own_database(request, tmp_path, monkeypatch):
    """Every test gets its own database file (made as `tanet init` makes it), a fixed
    'today', and none of the caller's terminal or tanet settings. Unit tests (tests/unit)
    open no database, so none is made for them."""
    if UNIT in Path(request.node.path).parents:
        yield None
        return
    for name in list(os.environ):
        if name.startswith("TANET_") or name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TZ"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the mail settings trusted here
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # crash reports
    monkeypatch.setenv("TANET_DB", str(tmp_path / "tanet.db"))
    monkeypatch.setenv("TANET_TODAY", TODAY)
    from tanet.output import render
    from tanet.store import db as dbmod

    dbmod.open_db(tmp_path / "tanet.db", create=True).close()
    render.reset()
    yield tmp_path / "tanet.db"


class Result:
    def __init__(self, r):
        self.exit_code = r.exit_code
        self.stdout = r.stdout
        self.stderr = r.stderr
        self.exception = r.exception

    def json(self):
        return json.loads(self.stdout)

    def __repr__(self):
        return f"<exit {self.exit_code}\nstdout: {self.stdout}\nstderr: {self.stderr}>"


@pytest.fixture
def tanet():
    """Run tanet in-process: tanet("member", "list", ok=True)."""
    from tanet.cli import app

    runner = CliRunner()

    def run(*args, input=None, ok=None, env=None):
        r = Result(runner.invoke(app, [str(a) for a in args], input=input, env=env))
        if ok is True:
            assert r.exit_code == 0, r
        elif ok is False:
            assert r.exit_code == 1, r
            assert "Traceback" not in r.stderr + r.stdout
            assert len(r.stderr.strip().splitlines()) >= 1
        return r

    return run


@pytest.fixture
def cli_env(tmp_path):
    """Environment for running the installed `tanet` in a subprocess."""
    env = dict(os.environ)
    env["TANET_DB"] = str(tmp_path / "tanet.db")
    env["TANET_TODAY"] = TODAY
    return env


TANET = [sys.executable, "-m", "tanet"]


def wal_size(db) -> int:
    wal = Path(f"{db}-wal")
    return wal.stat().st_size if wal.exists() else 0


def wait_for_wal(p, db, size: int) -> bool:
    """Wait until the running process `p` has written more than `size` bytes to the database's
    WAL: observed progress, whatever the load (the deadline only guards against a hang).
    False if it finished first (it closed the file, and SQLite removed the WAL)."""
    import time

    deadline = time.monotonic() + 120
    while wal_size(db) <= size:
        if p.poll() is not None:
            return False
        assert time.monotonic() < deadline, "the command was never seen writing"
        time.sleep(0.005)  # between two looks, not instead of one
    return True


def add_member(tanet, name, email, area="housing", sector="public", role="frontline", org="City Council", *extra):
    return tanet("member", "add", name, "--email", email, "--org", org, "--area", area,
                 "--sector", sector, "--role", role, *extra, ok=True)


# Permissions as an ordinary user sees them (root ignores them) -----------------------------

def as_nobody(tanet, *args):
    """Run a command in-process as the user nobody, so the system enforces permissions
    (root ignores them). Returns (exit code, stderr)."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.close(read)
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            r = tanet(*args)
            os.write(write, json.dumps([r.exit_code, r.stderr or repr(r.exception)]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        result = json.loads(f.read())
    os.waitpid(pid, 0)
    return result


@pytest.fixture
def nobodys_folder(tanet, monkeypatch):
    """A database in a folder owned by nobody (pytest's own folders are closed to others)."""
    import pwd
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    nobody = pwd.getpwnam("nobody")
    folder = Path(tempfile.mkdtemp(prefix="tanet-nobody-"))
    os.chmod(folder, 0o711)
    db = folder / "t.db"
    monkeypatch.setenv("TANET_DB", str(db))
    tanet("init", ok=True)
    tanet("member", "add", "Ann", "--email", "a@example.org", "--org", "O", "--area", "housing",
          "--sector", "public", "--role", "frontline", ok=True)  # also loads every module before giving up root
    for p in [folder, *folder.iterdir()]:
        os.chown(p, nobody.pw_uid, nobody.pw_gid)
    yield folder
    shutil.rmtree(folder)


def limit_file_size(limit):
    import resource

    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply
