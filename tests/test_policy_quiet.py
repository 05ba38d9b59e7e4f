"""Importing rigorlab leaves transformers' logging alone; rigorlab quiets only its own calls."""

from __future__ import annotations

import subprocess
import sys


def test_import_keeps_the_callers_transformers_verbosity_and_quiet_restores_it():
    code = """
from transformers.utils import logging as hf
hf.set_verbosity_info()
hf.enable_progress_bar()
import rigorlab.policy, rigorlab.policy.model, rigorlab.rl.trainer, rigorlab.pipeline.run
assert hf.get_verbosity() == hf.INFO and hf.is_progress_bar_enabled(), "import changed the settings"
from rigorlab.policy.quiet import quiet
with quiet():
    assert hf.get_verbosity() == hf.ERROR and not hf.is_progress_bar_enabled()
assert hf.get_verbosity() == hf.INFO and hf.is_progress_bar_enabled(), "quiet() did not restore"
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
