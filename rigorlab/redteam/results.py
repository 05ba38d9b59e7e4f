"""results.json: per goal, static and dynamic ASR with exact intervals, cost, operators, transcripts.

Nothing here depends on timing or on how often the campaign was resumed, so
a deterministic target gives byte-identical results for an interrupted and
an uninterrupted campaign. (Times go to timing.json beside it.)
"""

from __future__ import annotations

import statistics
from typing import Any

from rigorlab.redteam.runner import Outcome, SeedResult
from rigorlab.redteam.stats import asr

SCHEMA = "rigorlab.redteam.results/1"


def _transcripts(outcomes: list[Outcome], keep: int) -> list[dict[str, Any]]:
    return [o.record() for o in outcomes if o.verdict.breached][:keep]


def static_summary(suite: str, outcomes: list[Outcome], alpha: float, keep: int) -> dict[str, Any]:
    """Static ASR: breaching prompts over prompts sent."""
    k = sum(o.verdict.breached for o in outcomes)
    return {"suite": suite, **asr(k, len(outcomes), alpha), "breaches": _transcripts(outcomes, keep)}


def dynamic_summary(seeds: list[SeedResult], alpha: float, keep: int) -> dict[str, Any]:
    """Dynamic ASR over campaign seeds (a seed counts if its search breached within budget), and more."""
    breached = [s for s in seeds if s.first_breach is not None]
    firsts = sorted(s.first_breach for s in breached)  # type: ignore[misc]
    total_q = sum(s.queries for s in seeds)
    total_b = sum(o.verdict.breached for s in seeds for o in s.outcomes)
    ops: dict[str, dict[str, Any]] = {}
    for s in seeds:
        for name, row in s.operators.items():
            agg = ops.setdefault(name, {"trials": 0, "breaches": 0})
            agg["trials"] += row["trials"]
            agg["breaches"] += row["breaches"]
    for name, agg in ops.items():
        agg.update({k: v for k, v in asr(agg["breaches"], agg["trials"], alpha).items() if k in ("asr", "low", "high")})
    keep_list = []
    for s in seeds:   # each seed's first breach first, then more up to `keep`
        first = [o for o in s.outcomes if o.verdict.breached][:1]
        keep_list.extend({"seed": s.seed, **o.record()} for o in first)
    for s in seeds:
        for o in [o for o in s.outcomes if o.verdict.breached][1:]:
            if len(keep_list) >= max(keep, len(breached)):
                break
            keep_list.append({"seed": s.seed, **o.record()})
    encodings: dict[str, int] = {}
    for s in seeds:
        for o in s.outcomes:
            if o.verdict.breached:
                encodings[o.verdict.detail] = encodings.get(o.verdict.detail, 0) + 1
    return {
        **asr(len(breached), len(seeds), alpha),
        "per_seed": [{"seed": s.seed, "breached": s.first_breach is not None, "queries": s.queries,
                      "tokens": s.tokens, "queries_to_first_breach": s.first_breach,
                      "breaching_queries": sum(o.verdict.breached for o in s.outcomes), "stopped_by": s.stopped_by}
                     for s in seeds],
        "queries_to_first_breach": {"median": statistics.median(firsts) if firsts else None,
                                    "distribution": firsts, "not_breached": len(seeds) - len(breached)},
        "query_asr": asr(total_b, total_q, alpha),
        "operators": dict(sorted(ops.items())),
        "breach_details": dict(sorted(encodings.items())),
        "transcripts": keep_list,
    }


def goal_summary(goal: Any, suite: str, static: list[Outcome], seeds: list[SeedResult], alpha: float,
                 keep: int) -> dict[str, Any]:
    return {"goal": goal.label, "kind": goal.kind, "static": static_summary(suite, static, alpha, keep),
            "dynamic": dynamic_summary(seeds, alpha, keep)}
