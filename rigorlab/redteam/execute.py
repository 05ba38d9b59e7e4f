"""Run a whole campaign into an output directory: log, results.json, session.json, report.html.

OUT/log.jsonl        every query and answer (append-only; the resume cache)
OUT/campaign.json    the campaign as run (a resume must match it)
OUT/results.json     per goal: static and dynamic ASR with intervals, cost, operators, transcripts
OUT/session.json     this session's wall time, the campaign's own overhead, queries sent and replayed, retries
OUT/report.html      static vs dynamic side by side, transcripts escaped

API keys are read by the target from the environment variable the campaign
names; neither the key nor its value ever reaches these files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Optional

from filelock import FileLock, Timeout

from rigorlab.errors import UserError
from rigorlab.io import atomic_write_json, atomic_write_text, read_jsonl
from rigorlab.redteam.campaign import Campaign
from rigorlab.redteam.ledger import Ledger, LoggedTarget
from rigorlab.redteam.results import SCHEMA, goal_summary
from rigorlab.redteam.runner import GoalRunner, ProgressFn, QueryEngine, build_operators
from rigorlab.redteam.targets.base import Target, TargetSpec, build_target


def target_label(spec: TargetSpec) -> str:
    return spec.name or spec.model or spec.path or spec.kind


def _check(camp: Campaign) -> None:
    """Mistakes found before anything is written: unreadable suites, a judge goal without a judge."""
    from rigorlab.redteam.suites import load_suite

    build_operators(camp, object() if camp.attacker is not None else None)   # unknown names, bad parameters
    for goal in camp.goals:
        goal.build_detectors(judge_target=object())   # a bad pattern or parameter fails here, not mid-run
        suite = load_suite(goal.static or goal.default_static())
        if suite.goal not in (None, goal.kind):
            raise UserError(f"static suite {suite.name!r} is for {suite.goal} goals, "
                            f"but goal {goal.label!r} is a {goal.kind} goal")
        if camp.judge is None and any(d.name == "llm_judge" and "target" not in d.params
                                      for d in (goal.detectors or goal.default_detectors())):
            raise UserError(f"goal {goal.label!r} uses the llm_judge detector but the campaign has no "
                            "'judge:' model (or give the goal a regex/refusal detector)")


def _prepare(camp: Campaign, out: Path, resume: bool) -> None:
    log = out / "log.jsonl"
    saved = out / "campaign.json"
    if log.exists() and log.stat().st_size > 0 and not resume:
        raise UserError(f"{out} already holds a campaign log; pass --resume to continue it, or choose another --out")
    if resume and saved.exists():
        import json

        try:
            before = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise UserError(f"{saved} is not readable JSON; cannot resume from {out}") from None
        if before != camp.model_dump(mode="json"):
            raise UserError(f"--resume: {saved} describes a different campaign than the one given; "
                            "resume with the same campaign or choose another --out")
    atomic_write_json(saved, camp.model_dump(mode="json"))


def run_campaign(camp: Campaign, out: str | Path, *, resume: bool = False, target: Optional[Target] = None,
                 label: Optional[str] = None, progress: Optional[ProgressFn] = None) -> dict[str, Any]:
    """Run `camp` into `out` (see the module docstring); returns the results written to results.json."""
    _check(camp)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / ".campaign.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise UserError(f"another campaign is writing to {out}") from None
    try:
        return _run_locked(camp, out, resume, target, label, progress)
    finally:
        lock.release()


def _run_locked(camp: Campaign, out: Path, resume: bool, target: Optional[Target], label: Optional[str],
                progress: Optional[ProgressFn]) -> dict[str, Any]:
    _prepare(camp, out, resume)
    t0 = time.perf_counter()
    ledger = Ledger(out / "log.jsonl")
    opened: list[Target] = []
    try:
        if target is None:
            target = build_target(camp.target_spec())
            opened.append(target)
        if label is None:
            given = getattr(target, "name", "target")
            label = given if given and given != "target" else target_label(camp.target)
        judge = attacker = None
        if camp.judge is not None:
            opened.append(build_target(camp.judge))
            judge = LoggedTarget(opened[-1], ledger, "judge")
        if camp.attacker is not None:
            opened.append(build_target(camp.attacker))
            attacker = LoggedTarget(opened[-1], ledger, "attacker")
        engine = QueryEngine(target, ledger, camp.sampling.model_dump(exclude_none=True), label)
        operators = build_operators(camp, attacker)
        goals = []
        for goal in camp.goals:
            runner = GoalRunner(camp, goal, engine, goal.build_detectors(judge), operators, progress)
            static = runner.static(camp.seeds) if "static" in camp.phases else []
            seeds = [runner.dynamic(s) for s in camp.seeds] if "dynamic" in camp.phases else []
            goals.append(goal_summary(goal, runner.suite.name, static, seeds, camp.alpha, camp.transcripts))
    finally:
        for t in opened:   # a target passed in by the caller stays open
            t.close()
        ledger.close()
    results = {"schema": SCHEMA, "campaign": camp.name, "target": label, "seeds": camp.seeds,
               "budget": camp.budget.model_dump(), "sampling": camp.sampling.model_dump(), "goals": goals}
    atomic_write_json(out / "results.json", results)
    wall = time.perf_counter() - t0
    rows = read_jsonl(out / "log.jsonl")
    session = {"wall_s": round(wall, 3), "target_s": round(engine.target_seconds, 3),
               "overhead_share": round(max(0.0, wall - engine.target_seconds) / wall, 4) if wall > 0 else None,
               "queries_sent": engine.sent, "queries_replayed": ledger.replayed,
               "queries_per_minute": round(60 * engine.sent / engine.target_seconds, 2) if engine.target_seconds else None,
               "retries_this_session": engine.retries, "retries_logged": sum(r.get("retries", 0) or 0 for r in rows),
               "failed_queries_logged": sum(1 for r in rows if r.get("error"))}
    atomic_write_json(out / "session.json", session)
    from rigorlab.redteam.report import render_report

    atomic_write_text(out / "report.html", render_report(results))
    return results
