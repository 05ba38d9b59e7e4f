"""Running studies: local processes and Ray give identical runs; re-runs skip; a crashed run resumes exactly.

One tiny study (2 arms x 2 seeds, 4 steps of the small test model) is run
once with two local worker processes and reused by every test here.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conftest import FAST
from rigorlab.cli import main
from rigorlab.config import parse_overrides
from rigorlab.errors import UserError
from rigorlab.io import read_jsonl
from rigorlab.report.build import build_report
from rigorlab.store import RunIndex
from rigorlab.study import load_study, run_study

TIMING = ("time/", "tokens_per_s")
RUNS = ["tiny/beta0/seed-0", "tiny/beta0/seed-1", "tiny/grpo/seed-0", "tiny/grpo/seed-1"]


def _study_file(tmp: Path, steps: int = 4) -> Path:
    base: dict = {}
    for key, value in parse_overrides(FAST + [f"grpo.steps={steps}", "save_every=2", "eval.samples=16",
                                              "eval.ks=[1,4,16]"]):
        base[key] = value
    p = tmp / "tiny.yaml"
    p.write_text(textwrap.dedent(f"""
        name: tiny
        description: two arms of the small test model
        base: {json.dumps(base)}
        arms:
          - {{name: grpo}}
          - {{name: beta0, set: {{grpo.beta: 0.0}}}}
        seeds: 2
        metrics: [accuracy, pass@4, distinct_correct, coverage, tv_reverse, token_entropy]
    """))
    return p


def _strip(rows):
    return [{k: v for k, v in r.items() if not k.startswith(TIMING)} for r in rows]


def _outputs(study_dir: Path, run: str) -> tuple:
    d = study_dir / "runs" / run.split("/")[1] / run.split("/")[2]
    return json.loads((d / "eval.json").read_text()), _strip(read_jsonl(d / "metrics.jsonl"))


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    path = _study_file(tmp)
    result = run_study(load_study(path), out=tmp / "out", workers=2, display=False, reporter=build_report)
    return tmp, path, result


def test_local_study_runs_everything_and_indexes_it(local):
    tmp, _, result = local
    assert result.counts == {"done": 4, "skipped": 0, "resumed": 0, "failed": 0}, result.failures
    index = RunIndex.at(tmp / "out")
    runs = index.runs(study="tiny")
    assert [r.run_id for r in runs] == RUNS and {r.status for r in runs} == {"done"}
    for r in runs:
        assert r.path.is_dir() and (r.path / "model" / "config.json").is_file()
        assert r.documents["datasheet"].is_file() and r.documents["model_card"].is_file()
        assert index.metrics(r.run_id)["trained.samples_per_prompt"] == 16
        assert len(read_jsonl(r.path / "metrics.jsonl")) == 4
    study = json.loads((result.study_dir / "study.json").read_text())
    assert study["baseline"] == "grpo" and [a["name"] for a in study["arms"]] == ["grpo", "beta0"]
    stats = json.loads((result.study_dir / "stats.json").read_text())
    assert set(stats["metrics"]) == {"accuracy", "pass@4", "distinct_correct", "coverage", "tv_reverse",
                                     "token_entropy"}
    acc = stats["metrics"]["accuracy"]
    assert acc["arms"]["grpo"]["n_seeds"] == 2 and acc["arms"]["grpo"]["n_prompts"] == 13
    assert "beta0" in acc["vs_baseline"] and "reference" in acc["reference"]
    assert result.report_path == result.study_dir / "report.html" and result.report_path.is_file()


def test_different_seeds_differ_and_arms_differ(local):
    tmp, _, result = local
    e00, m00 = _outputs(result.study_dir, "tiny/grpo/seed-0")
    e01, m01 = _outputs(result.study_dir, "tiny/grpo/seed-1")
    eb0, mb0 = _outputs(result.study_dir, "tiny/beta0/seed-0")
    assert m00 != m01 and m00 != mb0
    assert all(r["coef/beta"] == 0.04 for r in m00) and "coef/beta" not in mb0[0]


def test_rerun_skips_finished_runs(local):
    tmp, path, result = local
    before = {r: (result.study_dir / "runs" / r.split("/")[1] / r.split("/")[2] / "summary.json").stat().st_mtime_ns
              for r in RUNS}
    again = run_study(load_study(path), out=tmp / "out", workers=2, display=False)
    assert again.counts == {"done": 0, "skipped": 4, "resumed": 0, "failed": 0}
    after = {r: (result.study_dir / "runs" / r.split("/")[1] / r.split("/")[2] / "summary.json").stat().st_mtime_ns
             for r in RUNS}
    assert before == after


def test_ray_backend_gives_identical_runs(local):
    ray = pytest.importorskip("ray")
    tmp, path, result = local
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:       # seed 0 of both arms: two Ray tasks at once
        res = run_study(load_study(path, seeds=1), out=tmp / "ray", backend="ray", workers=2, display=False)
    finally:
        ray.shutdown()
    assert res.counts["done"] == 2, res.failures
    for run in RUNS[::2]:
        assert _outputs(res.study_dir, run) == _outputs(result.study_dir, run), run


def test_crashed_run_is_recorded_and_resumes_exactly(local, monkeypatch):
    """A run that dies at step 3 (checkpoint at step 2) is marked failed; the re-run resumes it from
    its checkpoint and ends with the numbers of the uninterrupted run."""
    from rigorlab.rl.trainer import GRPOTrainer

    tmp, path, result = local
    out = tmp / "crash"
    real_step = GRPOTrainer.train_step

    def dying_step(self):
        if self.cfg.seed == 1 and self.step == 3:
            raise RuntimeError("simulated crash")
        return real_step(self)

    monkeypatch.setattr(GRPOTrainer, "train_step", dying_step)
    first = run_study(load_study(path), out=out, workers=1, display=False)
    assert first.counts["done"] == 2 and first.counts["failed"] == 2
    index = RunIndex.at(out)
    failed = index.runs(status="failed")
    assert [r.run_id for r in failed] == ["tiny/beta0/seed-1", "tiny/grpo/seed-1"]
    assert "RuntimeError: simulated crash" in failed[0].error
    assert "simulated crash" in (failed[0].path / "error.log").read_text()
    assert (failed[0].path / "checkpoint.pt").is_file() and not (failed[0].path / "eval.json").exists()

    monkeypatch.setattr(GRPOTrainer, "train_step", real_step)
    second = run_study(load_study(path), out=out, workers=1, display=False)
    assert second.counts == {"done": 2, "skipped": 2, "resumed": 2, "failed": 0}
    assert {r.status for r in RunIndex.at(out).runs()} == {"done"}
    for run in RUNS:
        assert _outputs(second.study_dir, run) == _outputs(result.study_dir, run), run


def test_interrupt_leaves_finished_runs_done_and_the_rest_interrupted(local, monkeypatch):
    from rigorlab.rl.trainer import GRPOTrainer

    tmp, path, _ = local
    out = tmp / "interrupt"
    real_step = GRPOTrainer.train_step

    def ctrl_c(self):
        if self.cfg.seed == 1 and self.cfg.grpo.beta == 0.0 and self.step == 1:
            raise KeyboardInterrupt
        return real_step(self)

    monkeypatch.setattr(GRPOTrainer, "train_step", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        run_study(load_study(path), out=out, workers=1, display=False)
    status = {r.run_id: r.status for r in RunIndex.at(out).runs()}
    assert status["tiny/grpo/seed-0"] == "done" and status["tiny/beta0/seed-1"] == "interrupted"


def test_a_run_directory_with_another_config_is_refused(local):
    tmp, path, _ = local
    with pytest.raises(UserError, match="holds a run of a different config"):
        run_study(load_study(path, overrides=["grpo.learning_rate=0.01"]), out=tmp / "out", display=False)


def test_cli_lists_runs_and_rebuilds_the_report(local, capsys):
    tmp, _, result = local
    assert main(["runs", "list", "--out", str(tmp / "out"), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["run_id"] for r in rows] == RUNS and all(r["status"] == "done" for r in rows)
    assert all(0 <= r["metrics"]["trained.accuracy"] <= 1 for r in rows)
    assert main(["runs", "list", "--out", str(tmp / "out"), "--arm", "beta0", "--metric",
                 "trained.pass_at_k.16"]) == 0
    text = capsys.readouterr().out
    assert "beta0" in text and "grpo" not in text and "pass_at_k" not in text
    target = tmp / "rebuilt.html"
    assert main(["report", str(result.study_dir), "--output", str(target)]) == 0
    assert target.is_file() and "data:image/png;base64," in target.read_text()


def test_cli_errors_are_one_sentence(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "study directory" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2
    assert "is not a study directory (no study.json)" in capsys.readouterr().err
    assert main(["runs", "list", "--out", str(tmp_path)]) == 2
    assert "no run index at" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("axes: {grpo.kl.estimator: [k3, k9]}\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "axis 'grpo.kl.estimator' value 'k9'" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert main(["study", "plan", str(bad)]) == 2


def test_a_worker_without_the_study_directory_ships_the_run_back(local, tmp_path):
    """A Ray worker on another machine (no shared file system) trains in a temporary directory and
    returns the run as an archive, which the driver unpacks in place."""
    from rigorlab.store import run_status
    from rigorlab.study.worker import execute_run, make_job, unpack_run

    _, path, result = local
    arm = load_study(path).arms[0]
    remote_view = tmp_path / "not-on-this-worker"
    run_dir = remote_view / "runs" / arm.slug / "seed-0"
    res = execute_run(make_job("tiny/grpo/seed-0", run_dir, remote_view, arm.for_seed(0).model_dump(mode="json"),
                               threads=1, documents=False, ship=True))
    assert res["status"] == "done" and res["archive"] and not remote_view.exists()
    local_dir = tmp_path / "driver" / "runs" / arm.slug / "seed-0"
    unpack_run(res["archive"], local_dir)
    assert run_status(local_dir) == "done"
    ev = json.loads((local_dir / "eval.json").read_text())
    assert ev == json.loads((result.study_dir / "runs" / "grpo" / "seed-0" / "eval.json").read_text())
