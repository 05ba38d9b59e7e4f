"""One driver per study directory: a second is refused with the holder's pid; a killed holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from rigorlab.errors import UserError
from rigorlab.study.runner import study_lock


def test_second_driver_is_refused_naming_the_holder(tmp_path):
    with study_lock(tmp_path / "s"):
        with pytest.raises(UserError, match=rf"another rigorlab run is writing .*s \(pid {os.getpid()}\)"):
            with study_lock(tmp_path / "s"):
                pass
    with study_lock(tmp_path / "s"):        # released on exit
        pass


def test_a_killed_holder_releases_the_lock(tmp_path):
    d = tmp_path / "s"
    code = ("import sys, time\nfrom rigorlab.study.runner import study_lock\n"
            f"with study_lock(__import__('pathlib').Path({str(d)!r})):\n"
            "    print('held', flush=True)\n    time.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=rf"\(pid {holder.pid}\)"):
            with study_lock(d):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=60)
        deadline = time.monotonic() + 30
        while True:
            try:
                with study_lock(d):
                    break
            except UserError:
                assert time.monotonic() < deadline, "the lock of a killed driver was not released"
                time.sleep(0.2)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.stdout.close()
