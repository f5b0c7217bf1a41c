import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

FIXTURES = Path(__file__).parent / "fixtures"

# Property tests explore new examples on every local run; on CI they replay a fixed
# sequence, so a red CI always means a change broke something (and says which example).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
TODAY = "2026-11-25"


@pytest.fixture(autouse=True)
def own_database(tmp_path, monkeypatch):
    """Every test gets its own database file (made as `tanet init` makes it), a fixed
    'today', and none of the caller's terminal or tanet settings."""
    for name in list(os.environ):
        if name.startswith("TANET_") or name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TZ"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # the mail settings trusted here
    monkeypatch.setenv("TANET_DB", str(tmp_path / "tanet.db"))
    monkeypatch.setenv("TANET_TODAY", TODAY)
    from tanet.store import db as dbmod
    from tanet.output import render

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


def add_member(tanet, name, email, area="housing", sector="public", role="frontline", org="City Council", *extra):
    return tanet("member", "add", name, "--email", email, "--org", org, "--area", area,
                 "--sector", sector, "--role", role, *extra, ok=True)
