"""The adaptive search: a bandit over operators plus evolutionary refinement of promising attacks.

Each round the search proposes a batch of attacks. For each one it picks a
parent (a fresh request from the static suite, or, by tournament, an elite
attack that came close) and an operator by Thompson sampling over the
operators' Beta posteriors, where an outcome's reward is 1 for a breach and
its partial progress otherwise (a non-refusal, part of a secret shown). The
answers update the posteriors and the elite pool, so the search learns which
operators work on this target and keeps refining the attacks that got
furthest. All randomness comes from one seeded `random.Random`, so against a
deterministic target a seed always proposes the same attacks.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from typing import Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field

from rigorlab.redteam.attack import Attack
from rigorlab.redteam.operators import Context, Operator


class SearchConfig(BaseModel):
    """How the adaptive search proposes attacks (a campaign file's `search:` section)."""

    model_config = ConfigDict(extra="forbid")

    policy: Literal["thompson", "ucb1", "uniform"] = Field(
        "thompson", description="How operators are chosen: Thompson sampling over Beta posteriors, UCB1, "
        "or uniformly at random (a non-adaptive baseline).")
    batch_size: int = Field(8, ge=1, le=256, description="Attacks proposed per round; answers to a round update "
                            "the search before the next. Fixed independently of concurrency so results do not "
                            "depend on it.")
    fresh_share: float = Field(0.3, ge=0, le=1, description="Share of proposals that start from a static request "
                               "instead of refining an elite attack.")
    elite_size: int = Field(8, ge=1, description="Attacks with the highest progress kept for refinement.")
    max_depth: int = Field(3, ge=1, le=10, description="Most operators composed into one attack.")
    stop_on_breach: bool = Field(False, description="Stop a seed's search at its first breach (saves queries; "
                                 "per-operator success rates then see fewer trials).")


@dataclass
class Arm:
    """An operator's record: trials, summed reward and breaches."""

    name: str
    op: Operator
    trials: int = 0
    reward: float = 0.0
    breaches: int = 0


@dataclass(order=True)
class Elite:
    progress: float
    order: int
    attack: Attack = field(compare=False)
    response: str = field(compare=False, default="")


def attack_key(attack: Attack) -> str:
    """A stable fingerprint of what an attack sends (used to avoid sending the same attack twice)."""
    raw = json.dumps([attack.turns, attack.context, attack.prefill], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


class Search:
    """Proposes attacks and learns from their outcomes; see the module docstring."""

    def __init__(self, cfg: SearchConfig, operators: dict[str, Operator], requests: Sequence[str],
                 ctx: Context, seed: int) -> None:
        if not operators:
            raise ValueError("the search needs at least one operator")
        if not requests:
            raise ValueError("the search needs at least one starting request")
        self.cfg, self.ctx, self.requests = cfg, ctx, list(requests)
        self.arms = {name: Arm(name, op) for name, op in operators.items()}
        self.rng = random.Random(seed)
        self.elite: list[Elite] = []
        self.seen: set[str] = set()
        self.rounds = 0
        self._order = 0

    # -- choosing ----------------------------------------------------------------------------
    def _pick_arm(self, allowed: list[Arm]) -> Arm:
        if self.cfg.policy == "uniform":
            return self.rng.choice(allowed)
        if self.cfg.policy == "ucb1":
            untried = [a for a in allowed if a.trials == 0]
            if untried:
                return untried[0]
            total = sum(a.trials for a in allowed)

            return max(allowed, key=lambda a: a.reward / a.trials + math.sqrt(2 * math.log(total) / a.trials))
        draws = [(self.rng.betavariate(1 + a.reward, 1 + a.trials - a.reward), i) for i, a in enumerate(allowed)]
        return allowed[max(draws)[1]]

    def _pick_parent(self) -> tuple[Attack, str, float]:
        if not self.elite or self.rng.random() < self.cfg.fresh_share:
            return Attack.direct(self.rng.choice(self.requests)), "", 0.0
        a, b = self.rng.choice(self.elite), self.rng.choice(self.elite)
        best = max(a, b)
        return best.attack, best.response, best.progress

    def propose(self, n: int) -> list[Attack]:
        """Up to `n` new attacks (distinct from everything proposed before)."""
        out: list[Attack] = []
        for _ in range(n):
            for _try in range(8):
                parent, response, progress = self._pick_parent()
                if len(parent.chain) >= self.cfg.max_depth:
                    parent, response, progress = Attack.direct(self.rng.choice(self.requests)), "", 0.0
                allowed = [a for a in self.arms.values() if self.ctx.kind in a.op.kinds]
                arm = self._pick_arm(allowed)
                ctx = Context(self.ctx.kind, self.ctx.objective, self.ctx.affirmative, response, progress)
                child = arm.op.mutate(parent, self.rng, ctx)
                if child.chain[-1:] != (arm.name,):   # record the arm under its campaign name
                    child = Attack(child.turns, child.context, child.prefill, parent.chain + (arm.name,), child.origin)
                key = attack_key(child)
                if key not in self.seen:
                    self.seen.add(key)
                    out.append(child)
                    break
        self.rounds += 1
        return out

    # -- learning ----------------------------------------------------------------------------
    def observe(self, attack: Attack, response: str, progress: float, breached: bool) -> None:
        """Update the operator's posterior and the elite pool with one outcome."""
        reward = 1.0 if breached else max(0.0, min(1.0, progress))
        arm = self.arms.get(attack.chain[-1]) if attack.chain else None
        if arm is not None:
            arm.trials += 1
            arm.reward += reward
            arm.breaches += int(breached)
        self._order += 1
        self.elite.append(Elite(reward, -self._order, attack, response))
        self.elite.sort(reverse=True)
        del self.elite[self.cfg.elite_size:]

    def operator_table(self) -> dict[str, dict[str, float | int]]:
        """Per operator: trials, breaches, breach rate and mean reward (as the search saw them)."""
        return {a.name: {"trials": a.trials, "breaches": a.breaches,
                         "breach_rate": round(a.breaches / a.trials, 6) if a.trials else None,
                         "mean_reward": round(a.reward / a.trials, 6) if a.trials else None}
                for a in self.arms.values()}
