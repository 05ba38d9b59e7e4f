"""Controllers (docs/theory.md section 7): each update rule, checked against its formula."""

from __future__ import annotations

import math

import pytest

from rigorlab.config import build_config
from rigorlab.errors import UserError
from rigorlab.rl.components import build_components
from rigorlab.rl.controllers import (
    CONTROLLERS,
    AdaptiveKL,
    Cosine,
    Linear,
    TargetEntropy,
)


def run(ctrl, rows):
    return [ctrl.update(r) for r in rows]


def test_linear_schedule_reaches_final_and_stays():
    c = Linear(initial=1.0, final=0.2, steps=4)
    assert c.value == 1.0
    values = run(c, [{}] * 6)
    assert values == pytest.approx([0.8, 0.6, 0.4, 0.2, 0.2, 0.2])


def test_cosine_schedule_formula():
    c = Cosine(initial=0.1, final=0.0, steps=8)
    values = run(c, [{}] * 10)
    for s, v in enumerate(values, start=1):
        frac = min(s / 8, 1.0)
        assert v == pytest.approx(0.0 + 0.1 * (1 + math.cos(math.pi * frac)) / 2, abs=1e-15)
    assert values[3] == pytest.approx(0.05)      # half way
    assert values[-1] == 0.0


def test_schedule_rejects_non_positive_steps():
    with pytest.raises(UserError, match="steps"):
        Linear(initial=1.0, final=0.0, steps=0)


@pytest.mark.parametrize("kl, factor", [(0.10, 1.02), (0.055, 1.01), (0.05, 1.0), (0.045, 0.99), (0.0, 0.98)])
def test_adaptive_kl_one_update(kl, factor):
    # e = clip(kl / 0.05 - 1, -0.2, 0.2); beta *= 1 + e * 1 / 10
    c = AdaptiveKL(initial=0.1, target=0.05, horizon=10, n_steps=1, metric="kl/k3")
    assert c.update({"kl/k3": kl}) == pytest.approx(0.1 * factor, rel=1e-12)


def test_adaptive_kl_n_steps_over_horizon_and_nan():
    c = AdaptiveKL(initial=1.0, target=1.0, horizon=10000, n_steps=512)
    assert c.update({"kl/reverse_exact": 3.0}) == pytest.approx(1 + 0.2 * 512 / 10000)
    before = c.value
    assert c.update({"kl/reverse_exact": float("nan")}) == before


def test_adaptive_kl_closes_the_loop():
    # a plant where the observed KL falls as beta rises: KL = 0.004 / beta; target 0.05 -> beta* = 0.08
    c = AdaptiveKL(initial=0.01, target=0.05, horizon=5)
    for _ in range(400):
        c.update({"kl/reverse_exact": 0.004 / c.value})
    assert c.value == pytest.approx(0.08, rel=0.01)


def test_adaptive_kl_errors():
    with pytest.raises(UserError, match="must be > 0"):
        AdaptiveKL(initial=0.0, target=0.1)
    with pytest.raises(UserError, match="< 5"):
        AdaptiveKL(initial=0.1, target=0.1, horizon=1, n_steps=5)
    c = AdaptiveKL(initial=0.1, target=0.1, metric="kl/nope")
    with pytest.raises(UserError, match="kl/nope"):
        c.update({"kl/k1": 0.1})


def test_target_entropy_linear_rule_and_clip():
    c = TargetEntropy(initial=0.0, target=1.0, lr=0.1)
    assert c.update({"entropy": 0.5}) == pytest.approx(0.05)       # 0 + 0.1 * (1 - 0.5)
    assert c.update({"entropy": 0.8}) == pytest.approx(0.07)       # + 0.1 * 0.2
    assert c.update({"entropy": 2.0}) == 0.0                        # 0.07 - 0.1 clipped at min 0
    capped = TargetEntropy(initial=0.0, target=1.0, lr=1.0, max_value=0.3)
    assert capped.update({"entropy": 0.0}) == 0.3


def test_target_entropy_lower_and_log_space():
    beta = TargetEntropy(initial=0.1, target=1.0, lr=0.1, when_low="lower")
    assert beta.update({"entropy": 0.5}) == pytest.approx(0.05)    # beta falls when entropy is low
    c = TargetEntropy(initial=0.1, target=1.0, lr=1.0, space="log")
    assert c.update({"entropy": 0.5}) == pytest.approx(0.1 * math.exp(0.5))


def test_target_entropy_closes_the_loop():
    # entropy rises with the bonus: H = 0.4 + 2 c; target 0.6 -> c* = 0.1
    c = TargetEntropy(initial=0.0, target=0.6, lr=0.2)
    for _ in range(200):
        c.update({"entropy": 0.4 + 2 * c.value})
    assert c.value == pytest.approx(0.1, abs=1e-6)


def test_target_entropy_errors():
    with pytest.raises(UserError, match="when_low"):
        TargetEntropy(initial=0.0, target=1.0, when_low="up")
    with pytest.raises(UserError, match="initial coefficient > 0"):
        TargetEntropy(initial=0.0, target=1.0, space="log")


@pytest.mark.parametrize("name, params", [
    ("linear", {"final": 0.0, "steps": 3}), ("cosine", {"final": 0.0, "steps": 3}),
    ("adaptive_kl", {"target": 0.02}), ("target_entropy", {"target": 1.0}),
])
def test_state_round_trip_resumes_exactly(name, params):
    rows = [{"kl/reverse_exact": 0.01 * (i + 1), "entropy": 0.5 + 0.1 * i} for i in range(6)]
    a = CONTROLLERS.build(name, initial=0.05, **params)
    run(a, rows[:3])
    b = CONTROLLERS.build(name, initial=0.05, **params)
    b.load_state_dict(a.state_dict())
    assert run(a, rows[3:]) == run(b, rows[3:])


def test_controllers_built_from_config():
    cfg = build_config({
        "grpo": {"beta": 0.04},
        "controllers": {"beta": {"name": "adaptive_kl", "params": {"target": 0.05, "horizon": 5}},
                        "entropy_coef": {"name": "target_entropy", "params": {"target": 0.6}}},
    })
    comp = build_components(cfg)
    assert isinstance(comp.controllers["beta"], AdaptiveKL) and comp.controllers["beta"].value == 0.04
    assert isinstance(comp.controllers["entropy_coef"], TargetEntropy)
    assert comp.controllers["entropy_coef"].value == 0.0
    assert {r.coef_name for r in comp.regularisers} == {"beta", "entropy_coef"}
