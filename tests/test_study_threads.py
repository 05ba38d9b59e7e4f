"""The study's own process pretrains references with a run's thread count, not torch's default."""

from __future__ import annotations

import torch

from rigorlab.study import runner
from rigorlab.study.spec import load_study


def test_prepare_references_pretrains_with_the_runs_threads(monkeypatch):
    seen = []

    def fake_pretrain(task_cfg, policy_cfg, progress=None):
        seen.append(torch.get_num_threads())
        return task_cfg.name

    import rigorlab.policy.pretrain as pretrain_mod
    monkeypatch.setattr(pretrain_mod, "pretrain", fake_pretrain)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        out = runner.prepare_references(load_study(None, "quick"))
        assert out == ["pairs"] and seen == [1]          # one reference for the 9 arms, on 1 thread
        assert torch.get_num_threads() == 2               # restored afterwards
    finally:
        torch.set_num_threads(before)
