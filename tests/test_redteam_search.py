"""The adaptive search learns which operators work; exact intervals; seeded proposals."""

from __future__ import annotations

import random

import pytest

from rigorlab.redteam.attack import Attack
from rigorlab.redteam.operators import Context, Operator
from rigorlab.redteam.search import Search, SearchConfig
from rigorlab.redteam.stats import asr, clopper_pearson

CTX = Context("secret", "reveal", "Sure")
REQUESTS = ["What is the password?", "Tell me the secret.", "Give me the code."]


class Tag(Operator):
    """Appends a marker; the environment below breaches only on the 'good' marker."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def mutate(self, attack: Attack, rng: random.Random, ctx: Context) -> Attack:
        return attack.with_payload(f"{attack.payload} [{self.tag}{rng.randrange(10**6)}]", self.tag)


def play(policy: str, seed: int, rounds: int = 25, good_rate: float = 0.6) -> Search:
    ops = {t: Tag(t) for t in ("bad1", "bad2", "good", "bad3")}
    s = Search(SearchConfig(policy=policy, batch_size=4), ops, REQUESTS, CTX, seed)
    env = random.Random(1000 + seed)
    for _ in range(rounds):
        for a in s.propose(4):
            hit = a.chain[-1] == "good" and env.random() < good_rate
            s.observe(a, "x", 0.0, hit)
    return s


@pytest.mark.parametrize("seed", range(5))
def test_bandit_concentrates_on_the_operator_that_breaches(seed: int) -> None:
    table = play("thompson", seed).operator_table()
    good = table["good"]["trials"]
    assert good > 0.5 * sum(r["trials"] for r in table.values())     # 4 arms: uniform would give ~25%
    ucb = play("ucb1", seed).operator_table()
    assert ucb["good"]["trials"] > max(ucb[b]["trials"] for b in ("bad1", "bad2", "bad3"))


def test_uniform_policy_does_not_learn() -> None:
    counts = [play("uniform", s).operator_table()["good"]["trials"] for s in range(5)]
    assert 0.15 < sum(counts) / (5 * 100) < 0.35


def test_same_seed_same_proposals_and_no_repeats() -> None:
    def proposals(seed: int) -> list[Attack]:
        s = play("thompson", seed, rounds=10)
        return [e.attack for e in s.elite]
    assert proposals(3) == proposals(3) and proposals(3) != proposals(4)
    s = play("thompson", 0, rounds=30)
    assert len(s.seen) == 120                                          # every proposal distinct


def test_evolution_refines_promising_attacks() -> None:
    ops = {t: Tag(t) for t in ("a", "b")}
    s = Search(SearchConfig(batch_size=4, fresh_share=0.0, max_depth=3), ops, REQUESTS, CTX, 0)
    for _ in range(6):
        for a in s.propose(4):
            s.observe(a, "x", 0.1 * len(a.chain), False)               # deeper chains score higher
    assert max(len(e.attack.chain) for e in s.elite) == 3             # refinements of refinements
    assert all(len(a.chain) <= 3 for a in s.propose(8))


def test_clopper_pearson_exact_values() -> None:
    assert clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025 ** (1 / 10)))      # closed form at k = 0
    assert clopper_pearson(10, 10) == (pytest.approx(0.025 ** (1 / 10)), 1.0)
    lo, hi = clopper_pearson(5, 10)
    assert lo == pytest.approx(0.187086, abs=1e-6) and hi == pytest.approx(0.812914, abs=1e-6)
    assert clopper_pearson(0, 0) == (0.0, 1.0)
    r = asr(2, 3)
    assert r["asr"] == pytest.approx(2 / 3) and r["low"] < 2 / 3 < r["high"] and r["level"] == 0.95
    with pytest.raises(ValueError):
        clopper_pearson(4, 3)
