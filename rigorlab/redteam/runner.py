"""Run a campaign: the static suite, then each seed's adaptive search, every query through the log.

The runner owns the order of queries, so that a resumed campaign asks for
exactly the same conversations in the same order and takes the ones already
answered from the log (`rigorlab.redteam.ledger`). Against a deterministic
target, an interrupted and resumed campaign therefore gives the same results
as an uninterrupted one, without repeating or losing a query.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import rigorlab.redteam.attacker  # noqa: F401  (registers the "pair" operator)
from rigorlab.errors import UserError
from rigorlab.redteam.attack import Attack
from rigorlab.redteam.campaign import Campaign
from rigorlab.redteam.detectors import Detector
from rigorlab.redteam.goals import assess
from rigorlab.redteam.ledger import Ledger
from rigorlab.redteam.operators import OPERATORS, Context, Operator
from rigorlab.redteam.search import Search
from rigorlab.redteam.suites import Suite, load_suite
from rigorlab.redteam.targets.base import Target, TargetReply
from rigorlab.redteam.verdict import Verdict

ProgressFn = Callable[[str, int, int, dict], None]


@dataclass
class Answer:
    text: str
    tokens: int
    seconds: float
    retries: int


@dataclass
class Outcome:
    """One attack, answered: its transcript, the verdict on it, and what it cost."""

    attack: Attack
    transcript: list[dict[str, str]]
    verdict: Verdict
    queries: int
    tokens: int
    seconds: float

    def record(self) -> dict[str, Any]:
        return {"chain": list(self.attack.chain), "origin": self.attack.origin, "attack": self.attack.to_dict(),
                "transcript": self.transcript, "verdict": self.verdict.to_dict(), "queries": self.queries}


# An OpenAI-compatible server answers 400/413/422 to a request it will never accept (too long for
# the model, a content filter); the openai target reports it as "... answered HTTP 400: ...".
_REJECTED = re.compile(r"answered HTTP (?:400|413|422)\b")


def rejection(reply: TargetReply) -> Optional[str]:
    """The reason a target refused a query for good (retrying cannot help), or None.

    Such a query was answered, by a refusal, so it is logged and counted; any
    other error (timeouts, 5xx after retries, a bad key) is a failure.
    """
    if reply.error and (getattr(reply, "rejected", False) or _REJECTED.search(reply.error)):
        return reply.error
    return None


class QueryEngine:
    """Sends batches of conversations to the target, through the log (cached answers are not re-sent)."""

    def __init__(self, target: Target, ledger: Ledger, sampling: dict[str, Any], label: str) -> None:
        self.target, self.ledger, self.sampling, self.label = target, ledger, sampling, label
        self.sent = 0
        self.retries = 0
        self.target_seconds = 0.0

    def ask(self, scope: tuple, convs: list[list[dict[str, str]]], meta: list[dict[str, Any]]) -> list[Answer]:
        """Answers in order; each query is sampled with its own seed (from its log key), so a seeded
        target's answer depends on that query alone, not on which others share its batch."""
        keys = [self.ledger.key(scope, m) for m in convs]
        rows: dict[int, dict[str, Any]] = {}
        for i, k in enumerate(keys):
            row = self.ledger.lookup(k)
            if row is not None:
                rows[i] = row
        pending = [i for i in range(len(convs)) if i not in rows]
        failures = []
        if pending:
            t0 = time.perf_counter()
            replies = self.target.respond_batch([convs[i] for i in pending],
                                                seeds=[int(keys[i][:8], 16) % 2**31 for i in pending], **self.sampling)
            spent = time.perf_counter() - t0
            self.target_seconds += spent
            share = spent / len(pending)
            for i, reply in zip(pending, replies):
                # A rejection (too long, content filter) is the target's answer to this query: logged,
                # counted, never a breach, and replayed on resume. Any other error is a failure.
                rejected = rejection(reply)
                tokens = (reply.prompt_tokens or 0) + (reply.completion_tokens or 0)
                if reply.prompt_tokens is None or reply.completion_tokens is None:
                    chars = sum(len(m["content"]) for m in convs[i]) + len(reply.text)
                    tokens = math.ceil(chars / 4)
                row = {"key": keys[i], "scope": list(scope), **meta[i], "messages": convs[i],
                       "response": "" if rejected else reply.text, "error": None if rejected else reply.error,
                       "rejected": rejected, "retries": reply.retries, "tokens": tokens, "seconds": round(share, 6)}
                self.ledger.append(row)
                self.sent += 1
                self.retries += reply.retries
                if row["error"]:
                    failures.append(reply.error)
                rows[i] = row
        if failures:
            raise UserError(f"target {self.label} kept failing ({len(failures)} of {len(pending)} queries in a "
                            f"batch, after retries): {failures[0]}; answers received so far are in the log, "
                            "rerun with --resume to continue")
        return [Answer(rows[i]["response"], rows[i]["tokens"], rows[i]["seconds"], rows[i].get("retries", 0))
                for i in range(len(convs))]


@dataclass
class SeedResult:
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)
    queries: int = 0
    tokens: int = 0
    seconds: float = 0.0
    first_breach: Optional[int] = None          # queries spent up to and including the first breach
    operators: dict[str, dict] = field(default_factory=dict)
    stopped_by: str = "budget"


class GoalRunner:
    """Static suite and adaptive search for one goal."""

    def __init__(self, camp: Campaign, goal: Any, engine: QueryEngine, detectors: list[Detector],
                 operators: dict[str, Operator], progress: Optional[ProgressFn] = None) -> None:
        self.camp, self.goal, self.engine, self.detectors = camp, goal, engine, detectors
        self.operators, self.progress = operators, progress or (lambda *a: None)
        self.suite: Suite = load_suite(goal.static or goal.default_static())
        if self.suite.goal not in (None, goal.kind):
            raise UserError(f"static suite {self.suite.name!r} is for {self.suite.goal} goals, "
                            f"but goal {goal.label!r} is a {goal.kind} goal")

    def _run_attacks(self, phase: str, seed: int, rnd: int, attacks: list[Attack]) -> list[Outcome]:
        """Answer attacks turn by turn (all first turns in one batch, then all second turns, ...)."""
        replies: list[list[str]] = [[] for _ in attacks]
        tokens, seconds = [0] * len(attacks), [0.0] * len(attacks)
        for t in range(max(len(a.turns) for a in attacks)):
            live = [i for i, a in enumerate(attacks) if t < len(a.turns)]
            convs = [self.goal.conversation(attacks[i], replies[i], t) for i in live]
            meta = [{"goal": self.goal.label, "phase": phase, "seed": seed, "round": rnd, "index": i, "turn": t,
                     "chain": list(attacks[i].chain)} for i in live]
            answers = self.engine.ask((self.goal.label, phase, seed), convs, meta)
            for i, ans in zip(live, answers):
                replies[i].append(ans.text)
                tokens[i] += ans.tokens
                seconds[i] += ans.seconds
        outcomes = []
        for i, a in enumerate(attacks):
            verdict, at = None, len(a.turns) - 1
            for t, text in enumerate(replies[i]):   # a leak at any turn of an escalation is a breach
                v = assess(self.detectors, text, self.goal.conversation(a, replies[i], t))
                if v.breached:
                    verdict, at = v, t
                    break
                if verdict is None or v.progress > verdict.progress:
                    verdict = v
            assert verdict is not None
            transcript = self.goal.conversation(a, replies[i], at) + [{"role": "assistant", "content": replies[i][at]}]
            outcomes.append(Outcome(a, transcript, verdict, len(a.turns), tokens[i], seconds[i]))
        return outcomes

    def static(self, seeds: list[int]) -> list[Outcome]:
        """The suite's prompts as they are, once per seed (once only when sampling is greedy)."""
        runs = seeds if self.camp.sampling.temperature > 0 else seeds[:1]
        prompts = self.suite.prompts
        out: list[Outcome] = []
        step = self.camp.search.batch_size
        total = len(runs) * len(prompts)
        for seed in runs:
            for b in range(0, len(prompts), step):
                attacks = [Attack.direct(p) for p in prompts[b:b + step]]
                out.extend(self._run_attacks("static", seed, b // step, attacks))
                self.progress(f"{self.goal.label} static", len(out), total, {})
        return out

    def dynamic(self, seed: int) -> SeedResult:
        """One seed's adaptive search within the budget."""
        g, budget = self.goal, self.camp.budget
        ctx = Context(g.kind, g.objective, g.affirmative)
        usable = {n: op for n, op in self.operators.items() if g.kind in op.kinds}
        if not usable:
            raise UserError(f"none of the campaign's operators applies to goal {g.label!r} ({g.kind})")
        search = Search(self.camp.search, usable, self.suite.prompts, ctx, seed)
        res = SeedResult(seed)
        rnd = 0
        while True:
            if budget.tokens is not None and res.tokens >= budget.tokens:
                res.stopped_by = "tokens"
                break
            if budget.seconds is not None and res.seconds >= budget.seconds:
                res.stopped_by = "seconds"
                break
            left = budget.queries - res.queries
            if left <= 0:
                break
            attacks, spend = [], 0
            for a in search.propose(min(self.camp.search.batch_size, left)):
                if spend + len(a.turns) <= left:
                    attacks.append(a)
                    spend += len(a.turns)
            if not attacks:
                break
            for o in self._run_attacks("dynamic", seed, rnd, attacks):
                res.queries += o.queries
                res.tokens += o.tokens
                res.seconds += o.seconds
                res.outcomes.append(o)
                search.observe(o.attack, o.transcript[-1]["content"], o.verdict.progress, o.verdict.breached)
                if o.verdict.breached and res.first_breach is None:
                    res.first_breach = res.queries
            rnd += 1
            self.progress(f"{g.label} dynamic seed {seed}", res.queries, budget.queries, {})
            if res.first_breach is not None and self.camp.search.stop_on_breach:
                res.stopped_by = "breach"
                break
        res.operators = search.operator_table()
        return res


def build_operators(camp: Campaign, attacker: Any) -> dict[str, Operator]:
    """The campaign's operators by label (`pair` gets the logged attacker model)."""
    ops: dict[str, Operator] = {}
    for spec in camp.operator_specs():
        params = dict(spec.params)
        if spec.name == "pair":
            if attacker is None:
                raise UserError("operator 'pair' needs an attacker model: add an 'attacker:' section to the campaign")
            params.setdefault("target", attacker)
        label = spec.label or spec.name
        if label in ops:
            raise UserError(f"operator {label!r} is listed twice; give one a 'label'")
        op = OPERATORS.build(spec.name, **params)
        if not isinstance(op, Operator):
            raise UserError(f"operator {spec.name!r} is not a rigorlab.redteam.operators.Operator")
        ops[label] = op
    return ops
