"""The workbook reader runs in a thread while tanet opens the database: a Ctrl-C, or an error
found meanwhile, still ends tanet at once (real subprocesses, a real Forms-sized workbook)."""

import os
import signal
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import TANET
from python_calamine import CalamineWorkbook
from test_feedback import FORM, setup, write_xlsx


@pytest.fixture(scope="module")
def long_forms_workbook(tmp_path_factory):
    """An ordinary Forms export of 10,000 long answers (13 MB, packed as Excel packs it; read
    in about half a second of CPU) and the CPU time it takes to read, measured here."""
    import random
    import time

    rng = random.Random(1)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 9))) for _ in range(3000)]
    texts = [" ".join(rng.choice(words) for _ in range(250)) for _ in range(64)]  # more than a packing window apart
    header = [str(c) for c in CalamineWorkbook.from_path(str(FORM)).get_sheet_by_index(0).to_python()[0]]
    book = tmp_path_factory.mktemp("long") / "forms.xlsx"
    write_xlsx(book, [header] + [[str(n), "2027-01-19 10:00:00", "2027-01-19 12:00:00", "anonymous", "", "4", "Yes",
                                  texts[n % 64], texts[n * 7 % 64], "North"] + [""] * (len(header) - 10)
                                 for n in range(1, 10_001)])
    with zipfile.ZipFile(book) as z:
        parts = [(item.filename, z.read(item)) for item in z.infolist()]
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in parts:
            z.writestr(name, content)
    started = time.process_time()
    CalamineWorkbook.from_path(str(book)).get_sheet_by_index(0)
    return book, time.process_time() - started


def _cpu_seconds(pid: int) -> float:
    """The CPU time process `pid` has taken so far (its threads' too; a zombie's all)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_the_reader(p) -> None:
    """Wait until tanet's workbook reader has started (a second thread in the process)."""
    import time

    deadline = time.monotonic() + 120
    while len(os.listdir(f"/proc/{p.pid}/task")) < 2:
        assert p.poll() is None and time.monotonic() < deadline, "the reader was never seen starting"
        time.sleep(0.001)  # between two looks, not instead of one


def test_ctrl_c_while_a_workbook_is_read_stops_tanet_at_once(tanet, monkeypatch, long_forms_workbook):
    # The reader was a thread tanet waited for on the way out: after "Stopped" the whole read
    # went on, and a second Ctrl-C printed a traceback from Python's own shutdown.
    setup(tanet, monkeypatch)
    book, to_read = long_forms_workbook
    p = subprocess.Popen(TANET + ["feedback", "import", "1", str(book)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    _wait_for_the_reader(p)
    before = _cpu_seconds(p.pid)
    p.send_signal(signal.SIGINT)
    assert p.stderr.readline() == "\n" and p.stderr.readline() == "Stopped: this command changed nothing.\n"
    status, after = os.wait4(p.pid, 0)[1:]  # reaped here, for its CPU time
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 130
    assert after.ru_utime + after.ru_stime - before < to_read / 2, "the read went on after the stop"
    assert p.stderr.read() == ""
    assert tanet("feedback", "show", "1", "--format", "json", ok=True).json()["responses"] == 0


def test_a_meeting_that_does_not_exist_is_the_last_thing_said_and_done(tanet, monkeypatch, long_forms_workbook):
    # The meeting was refused, then the reader read the whole file on (with a file made to
    # hurt the reader: the process aborted after the error).
    setup(tanet, monkeypatch)
    book, to_read = long_forms_workbook
    p = subprocess.Popen(TANET + ["feedback", "import", "99", str(book)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    # The reader has started by the time the meeting is looked for (after the file is checked).
    assert "There is no meeting #99" in p.stderr.readline()
    said = _cpu_seconds(p.pid)  # as the error is said (the process may be a zombie by now)
    status, used = os.wait4(p.pid, 0)[1:]
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 1 and p.stderr.read() == ""
    assert used.ru_utime + used.ru_stime - said < to_read / 2, "the read went on after the error"
