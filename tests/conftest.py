"""Shared test settings: an isolated pretrain cache and a fast tiny-model config."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# One small reference policy shared by every LM test in a session (cached by config hash).
FAST = [
    "policy.tiny.hidden_size=64", "policy.tiny.num_hidden_layers=2", "policy.tiny.intermediate_size=128",
    "policy.pretrain.steps=500", "policy.pretrain.examples=4000", "policy.pretrain.batch_size=64",
    "policy.pretrain.learning_rate=5e-3",
    "grpo.prompts_per_step=4", "grpo.num_generations=8", "grpo.max_completion_length=6",
    "eval.samples=16", "eval.ks=[1,4,16]", "threads=1",
]

if "RIGORLAB_CACHE" not in os.environ:
    os.environ["RIGORLAB_CACHE"] = tempfile.mkdtemp(prefix="rigorlab-test-cache-")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED
