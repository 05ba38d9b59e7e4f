"""Silence transformers' logging and progress bars for rigorlab's own calls only.

Loading or saving the tiny model makes transformers log notes meant for
people fine-tuning hub models; rigorlab wraps its own calls in `quiet()` and
restores the previous settings afterwards, so a program that imports rigorlab
keeps whatever transformers verbosity it chose.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def quiet() -> Iterator[None]:
    """transformers at error level, without progress bars, for the duration of the block."""
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
