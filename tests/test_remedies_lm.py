"""Each remedy's example config trains the tiny LM on `pairs` for a few seeded steps, logs its
metrics, and moves its coefficients exactly as its rule says; the count bonus resumes exactly."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from rigorlab.config import load_config

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# a few seconds per run: two targets (so prompts and answers repeat within 3 steps) and a short pretraining
SHORT = ["grpo.steps=3", "grpo.prompts_per_step=2", "task.params={min_target: 9, max_target: 10}",
         "policy.pretrain.steps=30", "policy.pretrain.examples=500", "policy.pretrain.batch_size=32"]


@pytest.fixture(scope="module", autouse=True)
def isolated_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RIGORLAB_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


def train(tmp_path, example: str, extra: list[str] = (), name: str = "run") -> list[dict]:
    from rigorlab.rl.trainer import GRPOTrainer

    cfg = load_config(EXAMPLES / example, SHORT + list(extra))
    return GRPOTrainer(cfg, tmp_path / name).train()


def clip(x, lo, hi):
    return min(max(x, lo), hi)


def assert_resume_is_exact(tmp_path, example: str, full: list[dict], extra: list[str]) -> None:
    """Kill after step 2's checkpoint, resume: the rows of steps 2.. equal the uninterrupted run's."""
    from rigorlab.rl.trainer import GRPOTrainer

    cfg = load_config(EXAMPLES / example, SHORT + extra)
    first = GRPOTrainer(cfg, tmp_path / "split")
    first.setup()
    first.train_step(), first.train_step()
    first.save()
    tail = GRPOTrainer(cfg, tmp_path / "split", resume=True).train()
    skip = ("time/", "tokens_per_s")
    assert [r["step"] for r in tail] == [r["step"] for r in full[2:]]
    for a, b in zip(full[2:], tail):
        assert {k: v for k, v in a.items() if not k.startswith(skip)} == \
               {k: v for k, v in b.items() if not k.startswith(skip)}


def test_count_bonus_run_logs_and_resumes_exactly(tmp_path):
    from rigorlab.rl.checkpoint import load_checkpoint

    extra = ["grpo.steps=4", "save_every=2"]
    rows = train(tmp_path, "pairs_count_bonus.yaml", extra, "full")
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    assert rows[0]["count_bonus/answer/novel_frac"] == 1.0           # nothing counted before step 0
    # step 0: every completion with an answer (format 1) gets the full c_h = 0.5
    assert rows[0]["count_bonus/answer/bonus_mean"] == pytest.approx(0.5 * rows[0]["reward/format"])
    # the checkpoint holds one count per answered completion of the 4 steps (2 prompts x G = 8)
    counts = load_checkpoint(tmp_path / "full")["shapers"][0]["counts"]
    assert sum(sum(t.values()) for t in counts.values()) == round(sum(r["reward/format"] * 16 for r in rows))
    assert_resume_is_exact(tmp_path, "pairs_count_bonus.yaml", rows, extra)


@pytest.mark.parametrize("example, coef, target", [
    ("pairs_adaptive_kl.yaml", "beta", []),
    # the briefly pretrained policy is far more entropic than the example's target of 0.6
    ("pairs_target_entropy.yaml", "entropy_coef", ["controllers.entropy_coef.params.target=4.0"]),
])
def test_controlled_coefficients_resume_exactly(tmp_path, example, coef, target):
    extra = ["grpo.steps=4", "save_every=2"] + target
    rows = train(tmp_path, example, extra, "full")
    assert len({r[f"coef/{coef}"] for r in rows}) > 1                # the controller moved it
    assert_resume_is_exact(tmp_path, example, rows, extra)


def test_mara_run_couples_beta_and_logs(tmp_path):
    rows = train(tmp_path, "pairs_mara.yaml")
    for r in rows:
        assert 0.0 <= r["mara/anchored"] <= 1.0        # share of groups with an anchor
        assert 0.0 <= r["mara/above_tau_frac"] <= 1.0
        assert r["mara/reward_shift_mean"] >= 0.0      # r' - r = beta (log p(z) - log p(y)) >= 0 for tau = 1
        assert r["coef/beta"] == 0.04
        assert "kl/reward_penalty" in r                # k1 placed in the reward


def test_target_entropy_run_follows_its_rule(tmp_path):
    rows = train(tmp_path, "pairs_target_entropy.yaml")
    assert rows[0]["coef/entropy_coef"] == 0.0
    for prev, cur in pairwise(rows):
        expected = clip(prev["coef/entropy_coef"] + 0.05 * (0.6 - prev["entropy"]), 0.0, 0.2)
        assert cur["coef/entropy_coef"] == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert "entropy/value" in cur


def test_adaptive_kl_run_follows_its_rule(tmp_path):
    rows = train(tmp_path, "pairs_adaptive_kl.yaml")
    assert rows[0]["coef/beta"] == 0.04
    for prev, cur in pairwise(rows):
        e = clip(prev["kl/reverse_exact"] / 0.05 - 1, -0.2, 0.2)
        assert cur["coef/beta"] == pytest.approx(prev["coef/beta"] * (1 + e / 5), rel=1e-12)


@pytest.mark.parametrize("extra, key", [
    ([], "clip_cov/token_frac"),
    (["grpo.num_iterations=2", "grpo.epsilon_high=0.28"], "clip_cov/token_frac"),
    (["loss.name=kl_cov", "loss.params={k_ratio: 0.002, coef: 1.0}", "grpo.num_iterations=2"], "kl_cov/token_frac"),
])
def test_cov_runs_log_the_share_of_tokens_touched(tmp_path, extra, key):
    rows = train(tmp_path, "pairs_clip_cov.yaml", extra)
    for r in rows:
        assert 0.0 <= r[key] <= 1.0
        assert 0.0 <= r["clip_ratio/higher_released"] <= 1.0
        if key == "clip_cov/token_frac":
            assert r[key] <= r["clip_cov/candidate_frac"]
        else:
            assert r[key] > 0.0                        # KL-Cov always touches max(1, k) tokens
