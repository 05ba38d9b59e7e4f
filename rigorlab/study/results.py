"""A finished (or partly finished) study read back: runs, per-prompt values, statistics.

`load_results(study_dir)` queries the run index (re-indexing the run
directories when the index is missing or stale), reads each finished run's
eval.json and training log, including the exact pi_ref, pi* and TV of every
eval prompt that the run itself wrote when the task's answer set is finite
(rigorlab.pipeline.optimum): nothing here loads a model. `analyse(results)`
gives the statistics written to stats.json and shown in the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rigorlab.config import TrainConfig, build_config, read_yaml_mapping
from rigorlab.errors import UserError
from rigorlab.io import atomic_write_json, read_jsonl
from rigorlab.store.index import RunIndex, RunRecord, sync_run
from rigorlab.store.rundir import read_eval, read_summary
from rigorlab.study.metrics import metric_info, prompt_values, seed_value
from rigorlab.study.intervals import Cell, compare

STUDY_FILE = "study.json"


@dataclass
class RunResult:
    record: RunRecord
    arm: dict                          # the arm's entry in study.json
    config: TrainConfig
    summary: dict
    eval: dict
    rows: list[dict]                   # metrics.jsonl
    tv: dict[str, dict[str, float]] = field(default_factory=dict)      # direction -> prompt -> TV

    @property
    def seed(self) -> int:
        return self.record.seed


@dataclass
class StudyResults:
    study_dir: Path
    record: dict                       # study.json
    runs: list[RunResult]              # finished runs
    all_runs: list[RunRecord]          # every planned run with its status
    baseline_of: dict[str, str | None]  # arm name -> its baseline arm name (None: it is one)
    optima: dict = field(default_factory=dict)   # group -> prompt -> {"outcomes", "pi_ref", "rewards", ...}

    @property
    def arms(self) -> list[dict]:
        return self.record["arms"]

    def arm_runs(self, name: str) -> list[RunResult]:
        return [r for r in self.runs if r.arm["name"] == name]


def read_study_record(study_dir: Path) -> dict:
    path = Path(study_dir) / STUDY_FILE
    if not path.is_file():
        raise UserError(f"{study_dir} is not a study directory (no {STUDY_FILE}); run 'rigorlab run' first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def baselines(record: dict) -> dict[str, str | None]:
    """Each arm's baseline: the arm labelled `baseline` in the same within-group."""
    by_group = {a["group"]: a["name"] for a in record["arms"] if a["label"] == record["baseline"]}
    return {a["name"]: (None if a["label"] == record["baseline"] else by_group.get(a["group"])) for a in record["arms"]}


def _index_for(study_dir: Path, record: dict, index: RunIndex | None) -> tuple[RunIndex, list[RunRecord]]:
    index = index or RunIndex.at(study_dir.parent)
    known = {r.run_id: r for r in index.runs(study=record["name"])}
    for arm in record["arms"]:
        for seed in record["seeds"]:
            run_id = f"{record['name']}/{arm['slug']}/seed-{seed}"
            run_dir = study_dir / "runs" / arm["slug"] / f"seed-{seed}"
            rec = known.get(run_id)
            if rec is None or rec.path.resolve() != run_dir.resolve() or (
                    rec.status != "done" and (run_dir / "summary.json").is_file()):
                chash = arm.get("run_hashes", {}).get(str(seed), arm["config_hash"])
                index.register(run_id, record["name"], arm["name"], seed, chash, run_dir, arm["task"])
                sync_run(index, run_id, run_dir)
    planned = {f"{record['name']}/{a['slug']}/seed-{s}" for a in record["arms"] for s in record["seeds"]}
    return index, [r for r in index.runs(study=record["name"]) if r.run_id in planned]


def load_results(study_dir: str | Path, index: RunIndex | None = None) -> StudyResults:
    """Every finished run of the study with its values; pi_ref / pi* / TV as each run wrote them."""
    study_dir = Path(study_dir).resolve()
    record = read_study_record(study_dir)
    index, records = _index_for(study_dir, record, index)
    arms = {a["name"]: a for a in record["arms"]}
    runs = []
    for rec in records:
        if rec.status != "done" or rec.arm not in arms:
            continue
        summary, ev = read_summary(rec.path), read_eval(rec.path)
        if summary is None or ev is None:
            continue
        cfg = build_config(read_yaml_mapping(rec.path / "config.yaml"), str(rec.path / "config.yaml"))
        runs.append(RunResult(rec, arms[rec.arm], cfg, summary, ev, read_jsonl(rec.path / "metrics.jsonl")))
    res = StudyResults(study_dir, record, runs, records, baselines(record))
    for run in runs:
        _read_optimum(res, run)
    return res


def _read_optimum(res: StudyResults, run: RunResult) -> None:
    """Fill run.tv (direction -> prompt -> TV) and res.optima[group] from the run's eval.json.

    pi_ref is the same for every run of a within-group (one reference), so
    the first run that has a prompt supplies it.
    """
    prompts = (run.eval.get("trained", {}).get("optimum") or {}).get("prompts") or {}
    group = res.optima.setdefault(run.arm["group"], {}) if prompts else {}
    for pid, entry in prompts.items():
        for direction, value in entry["tv"].items():
            run.tv.setdefault(direction, {})[pid] = float(value)
        if pid not in group:
            group[pid] = {"outcomes": list(entry["outcomes"]), "pi_ref": np.asarray(entry["pi_ref"], dtype=float),
                          "rewards": np.asarray(entry["rewards"], dtype=float),
                          "discarded_mass": float(entry["discarded_mass"])}


def metric_cells(res: StudyResults, key: str, source: str = "trained") -> dict[str, dict[Cell, float]]:
    """arm name -> {(seed, prompt or None): value} of one metric ('reference' reads the reference's eval)."""
    info = metric_info(key)
    out: dict[str, dict[Cell, float]] = {}
    for run in res.runs:
        cells = out.setdefault(run.arm["name"], {})
        if info.level == "seed":
            if source == "trained":
                v = seed_value(run.rows, key)
                if v is not None:
                    cells[(run.seed, None)] = v
            continue
        tv = run.tv if source == "trained" else {}
        for pid, v in prompt_values(run.eval[source]["per_prompt"], key, tv).items():
            cells[(run.seed, pid)] = v
    return out


def reference_cells(res: StudyResults, key: str) -> dict[str, dict[Cell, float]]:
    """The reference policy's values, one pseudo-arm per within-group (from the baseline arm's runs)."""
    info = metric_info(key)
    if info.level == "seed" or key.startswith("tv_"):
        return {}
    out: dict[str, dict[Cell, float]] = {}
    for name, base in res.baseline_of.items():
        if base is not None:
            continue
        group = next(a["group"] for a in res.arms if a["name"] == name)
        cells = metric_cells(res, key, "reference").get(name, {})
        if cells:
            out[f"reference{',' + group if group else ''}"] = cells
    return out


def analyse(res: StudyResults, n_boot: int = 2000) -> dict:
    """Intervals per arm (and for the reference) and paired differences to the baseline, per metric."""
    out = {"study": res.record["name"], "baseline": res.record["baseline"], "metrics": {}}
    for key in res.record["metrics"]:
        info = metric_info(key)
        values = {k: v for k, v in metric_cells(res, key).items() if v}
        if not values:
            continue
        stats = compare(values, {k: res.baseline_of.get(k) for k in values}, info.label, info.higher_is_better,
                        n_boot, info.bounds)
        ref = reference_cells(res, key)
        if ref:
            stats["reference"] = compare(ref, {k: None for k in ref}, info.label, None, n_boot, info.bounds)["arms"]
        stats.update(label=info.label, higher_is_better=info.higher_is_better, level=info.level,
                     description=info.description)
        out["metrics"][key] = stats
    return out


def write_stats(res: StudyResults, n_boot: int = 2000) -> dict:
    stats = analyse(res, n_boot)
    atomic_write_json(res.study_dir / "stats.json", stats)
    return stats


def pooled_pass_at_k(run_results: list[RunResult], source: str = "trained") -> dict[int, float]:
    """Mean pass@k curve over the runs (each run's curve is already the mean over its prompts)."""
    curves = [{int(k): v for k, v in r.eval[source]["pass_at_k"].items()} for r in run_results]
    ks = sorted(set.intersection(*(set(c) for c in curves))) if curves else []
    return {k: float(np.mean([c[k] for c in curves])) for k in ks}
