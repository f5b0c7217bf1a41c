"""Clearing away what a stopped command began is not cut short by a second Ctrl-C, and a
clearing that was cut short is still finished at the next start."""

import os
import signal

import pytest

from tanet.store import unfinished
from tanet.store.files import NewFolder, interrupts_held


def test_ctrl_c_during_the_clearing_takes_effect_only_once_it_is_done():
    """Also with another thread running, which the kernel may hand the signal to."""
    import threading

    done, other = [], threading.Event()
    busy = threading.Thread(target=other.wait)
    busy.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            with interrupts_held():
                for _ in range(3):
                    os.kill(os.getpid(), signal.SIGINT)  # pressed while clearing
                done.append("cleared")  # still reached: the interrupt waits
    finally:
        other.set()
        busy.join()
    assert done == ["cleared"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_while_a_folder_is_abandoned_leaves_none_of_it(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    out = NewFolder(here / "pack")
    for i in range(20):
        out.write(f"f{i}.txt", "private")
    real_unlink, pressed = os.unlink, []

    def unlink_with_a_ctrl_c(path, *args, **kwargs):
        if not pressed:
            pressed.append(path)
            os.kill(os.getpid(), signal.SIGINT)
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink_with_a_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        out.abandon()
    assert pressed and list(here.iterdir()) == []


def test_the_record_of_a_copy_stays_while_its_hidden_folder_is_still_there(tmp_path):
    db, target = tmp_path / "tanet.db", tmp_path / "pack"
    db.touch()
    with unfinished.partial_copies(db, target):
        hidden = tmp_path / ".pack.abcd.tmp"
        hidden.mkdir()
        (hidden / "tanet.db").write_text("private")
    assert f"\t{target}" in unfinished.record_path(db).read_text()  # the clearing was cut short
    with unfinished.partial_copies(db, tmp_path / "other"):
        pass
    assert f"\t{tmp_path / 'other'}" not in unfinished.record_path(db).read_text()  # a whole run's line goes
