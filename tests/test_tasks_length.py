"""The `steps` task: step labels on hand-made chains, the corpus's realised rates, the length metrics."""

from __future__ import annotations

import pytest

from rigorlab.metrics.chain_steps import (StepCounts, bucket_labels, bucket_of, count_steps, has_step_labels,
                                          rollout_step_metrics)
from rigorlab.policy.corpus import build_corpus
from rigorlab.policy.steps_corpus import corpus_rates, steps_chain, steps_corpus
from rigorlab.tasks import build_task
from rigorlab.tasks.steps import StepsTask, label_steps, loop_positions


def kinds(numbers, completion):
    return [lab.kind for lab in label_steps(numbers, completion)]


# ------------------------------------------------------------------ labels
def test_shortest_correct_chain_is_all_useful():
    assert kinds([3, 5, 2], "3+5=8,8+2=10;10") == ["advance", "advance", "answer"]


def test_check_that_finds_a_slip_and_the_fix_are_useful():
    labels = label_steps([8, 2, 4], "8+2=11,?11-2=9,8+2=10,10+4=14;14")
    assert [lab.kind for lab in labels] == ["error", "check", "advance", "advance", "answer"]
    assert [lab.role for lab in labels] == ["error", "useful", "useful", "useful", "answer"]


def test_check_that_confirms_is_useful_and_a_wrong_check_is_not():
    assert kinds([3, 5, 2], "3+5=8,?8-5=3,8+2=10;10") == ["advance", "check", "advance", "answer"]
    assert kinds([3, 5, 2], "3+5=8,?8-5=4,8+2=10;10") == ["advance", "error", "advance", "answer"]
    # a check of an addition that was never written validates nothing
    assert kinds([3, 5, 2], "3+5=8,?9-5=4,8+2=10;10") == ["advance", "error", "advance", "answer"]


def test_repeat_and_restatement_are_redundant():
    labels = label_steps([3, 5, 2], "3+5+2,3+5=8,3+5=8,8+2=10;10")
    assert [lab.kind for lab in labels] == ["restate", "advance", "repeat", "advance", "answer"]
    assert [lab.role for lab in labels[:3]] == ["redundant", "useful", "redundant"]
    # a repeated check is a repeat too, not a second validation
    assert kinds([3, 5, 2], "3+5=8,?8-5=3,?8-5=3,8+2=10;10") == ["advance", "check", "repeat", "advance", "answer"]


def test_loops_block_repeated_back_to_back_and_one_step_thrice():
    assert kinds([3, 5, 2], "3+5=8,8+2=10,3+5=8,8+2=10;10") == ["advance", "advance", "loop", "loop", "answer"]
    assert kinds([3, 5, 2], "3+5=8,8+2=10,8+2=10,8+2=10;10") == ["advance", "advance", "loop", "loop", "answer"]
    # twice in a row is a repeat, not yet a loop
    assert kinds([3, 5, 2], "3+5=8,8+2=10,8+2=10;10") == ["advance", "advance", "repeat", "answer"]
    # a truncated loop has no answer
    assert kinds([3, 5, 2], "3+5=8,?8-5=3,3+5=8,?8-5=3,3+5=8,?8-5") == [
        "advance", "check", "loop", "loop", "loop", "error"]
    assert loop_positions(["a", "b", "c"]) == set()


def test_wrong_and_off_track_steps_are_errors():
    assert kinds([3, 5, 2], "3+5=9,9+2=11;11") == ["error", "advance", "answer"]     # a slip, then consistent
    assert kinds([3, 5, 2], "3+2=5,5+5=10;10") == ["error", "error", "answer"]       # off the order
    assert kinds([3, 5, 2], "hello;10") == ["error", "answer"]


def test_tokens_decompose_the_completion_exactly():
    for completion in ("3+5+2,3+5=8,?8-5=3,8+2=10,8+2=10,8+2=10;10", "3+5=8,8+2", "3+5=8;"):
        assert sum(lab.tokens for lab in label_steps([3, 5, 2], completion)) == len(completion)


def test_task_extract_verify_and_format():
    task = build_task("steps")
    p = task.make_prompt([3, 5, 2])
    assert p.text == "3+5+2:" and p.target == "10"
    assert task.verify(p, task.extract("3+5=8,8+2=10;10")) == 1.0
    assert task.verify(p, task.extract("3+5=8,8+2=11;11")) == 0.0
    assert task.extract("3+5=8,8+2=10") is None
    assert task.format_ok("3+5+2,3+5=8,?8-5=3,8+2=10;10")
    assert not task.format_ok("3+5=8,oops;10")
    assert task.signature("3+5=8,?8-5=3,8+2=10;10") == "add|check|add"
    with pytest.raises(ValueError, match="loop_rate"):
        StepsTask(loop_rate=1.5)


# ------------------------------------------------------------------ corpus
def test_corpus_is_deterministic_and_dispatched():
    task = build_task("steps")
    a = build_corpus(task, 200, 1.0, 0.25, seed=3)
    assert a == steps_corpus(task, 200, 0.25, seed=3)
    assert a != steps_corpus(task, 200, 0.25, seed=4)


def test_corpus_rates_match_the_parameters():
    """Realised rates read back through the labels; n = 20000, so the tolerances are > 5 standard errors."""
    task = StepsTask(max_terms=3, check_rate=0.3, repeat_rate=0.15, restate_rate=0.1, loop_rate=0.1)
    rates = corpus_rates(task, steps_corpus(task, 20000, 0.25, seed=0))
    assert rates["restate_chains"] == pytest.approx(0.10, abs=0.012)
    assert rates["loop_chains"] == pytest.approx(0.10, abs=0.015)       # a loop is always labelled a loop
    # repeats: the inserted duplicate, except where a loop's copies absorb it
    assert 0.12 < rates["repeat_chains"] < 0.17
    # at least one check among the 2 additions, at 0.3 each: 1 - 0.7^2 = 0.51
    assert rates["check_chains"] == pytest.approx(0.51, abs=0.02)
    # a slip reaches the answer only when no check follows it: 0.25 * 0.7
    assert rates["wrong_answers"] == pytest.approx(0.25 * 0.7, abs=0.015)
    assert rates["accuracy_with_check"] > rates["accuracy_without_check"] + 0.08


def test_corpus_without_habits_is_the_shortest_chain():
    import random

    rng = random.Random(0)
    chain = steps_chain([3, 5, 2, 4], rng, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert chain == "3+5=8,8+2=10,10+4=14;14"
    always = steps_chain([3, 5, 2], random.Random(0), 1.0, 1.0, 0.0, 0.0, 0.0)
    assert always.endswith(";10") and kinds([3, 5, 2], always).count("check") == 2


# ----------------------------------------------------------------- metrics
def test_counts_split_length_by_correctness_and_role():
    task = build_task("steps")
    p = task.make_prompt([3, 5, 2])
    comps = ["3+5=8,8+2=10;10", "3+5=8,?8-5=3,8+2=10;10", "3+5+2,3+5=9,9+2=11;11",
             "3+5=8,8+2=10,3+5=8,8+2=10,3+5=8,8+"]
    correct = [task.verify(p, task.extract(c)) for c in comps]
    lengths = [len(c) + 1 for c in comps]
    counts = count_steps(task, [p] * 4, comps, correct, lengths)
    s = counts.summary()
    assert s["accuracy"] == 0.5
    assert s["length_correct"] == pytest.approx((16 + 23) / 2)
    assert s["length_incorrect"] == pytest.approx((22 + 35) / 2)
    assert s["loop_rate"] == 0.25 and s["check_rate"] == 0.25 and s["no_answer_rate"] == 0.25
    # redundant steps: the restatement (3rd) and the loop copies (4th: 3 of its 6 steps); 14 steps in all
    assert counts.steps == 2 + 3 + 3 + 6
    assert s["redundant_share"] == pytest.approx(4 / 14)
    assert s["redundant_tokens"] == pytest.approx((6 + (6 + 7 + 6)) / 4)
    by_len = counts.accuracy_by_bucket()
    assert list(by_len) == bucket_labels()
    assert by_len["<20"] == (1, 1.0) and by_len["20-25"] == (2, 0.5) and by_len["32-39"] == (1, 0.0)


def test_counts_pool_exactly_and_round_trip():
    task = build_task("steps")
    p = task.make_prompt([3, 5, 2])
    a = count_steps(task, [p], ["3+5=8,8+2=10;10"], [1.0], [16])
    b = count_steps(task, [p], ["3+5=9,9+2=11;11"], [0.0], [16])
    both = count_steps(task, [p, p], ["3+5=8,8+2=10;10", "3+5=9,9+2=11;11"], [1.0, 0.0], [16, 16])
    assert a.merge(b) == both
    assert StepCounts.from_dict(both.as_dict()) == both


def test_rollout_metrics_only_for_labelled_tasks_and_never_nan():
    task = build_task("steps")
    p = task.make_prompt([3, 5, 2])
    row = rollout_step_metrics(task, [p], ["3+5=9,9+2=11;11"], [0.0], [16])
    assert row["steps/length_incorrect"] == 16 and "steps/length_correct" not in row
    assert rollout_step_metrics(build_task("pairs"), [], [], [], []) == {}
    assert has_step_labels(task) and not has_step_labels(build_task("chain"))
    assert bucket_of(19) == "<20" and bucket_of(20) == "20-25" and bucket_of(80) == ">=40"


# ---------------------------------------------------------- study analysis
def _fake_study(growth_by_arm: dict[str, dict[str, float]], seeds=range(5)):
    """Runs whose reference and trained evaluations differ by the given amounts (plus seed noise)."""
    import random
    from types import SimpleNamespace

    from rigorlab.study.results import RunResult, StudyResults

    rng = random.Random(0)
    arms = [{"name": n, "label": n, "group": ""} for n in growth_by_arm]
    runs = []
    for name, growth in growth_by_arm.items():
        for s in seeds:
            ref = {"accuracy": 0.6, "length_correct": 30.0, "length_incorrect": 34.0, "useful_tokens": 25.0,
                   "redundant_tokens": 3.0, "error_tokens": 2.0, "redundant_share": 0.1, "loop_rate": 0.1,
                   "check_rate": 0.5, "no_answer_rate": 0.02}
            ref = {k: v + rng.gauss(0, 0.01) for k, v in ref.items()}
            tr = {k: v + growth.get(k, 0.0) + rng.gauss(0, 0.3 if "length" in k or "tokens" in k else 0.01)
                  for k, v in ref.items()}

            def ev(d):
                n, n_ok = 100, int(round(d["accuracy"] * 100))
                counts = {"n": n, "n_correct": n_ok, "tokens_correct": d["length_correct"] * n_ok,
                          "tokens_incorrect": d["length_incorrect"] * (n - n_ok), "buckets": {"20-25": [n, n_ok]}}
                return {"steps": {**d, "counts": counts}}

            runs.append(RunResult(SimpleNamespace(seed=s), arms[[a["name"] for a in arms].index(name)], None, {},
                                  {"reference": ev(ref), "trained": ev(tr)}, []))
    base = next(iter(growth_by_arm))
    record = {"name": "t", "baseline": base, "arms": arms}
    return StudyResults(None, record, runs, [], {a["name"]: (None if a["name"] == base else base) for a in arms})


def test_length_analysis_answers_the_four_questions_with_intervals():
    from rigorlab.study.length import length_analysis, pooled_buckets

    res = _fake_study({"grpo": {"length_incorrect": 6.0, "redundant_tokens": 4.0},
                       "dr_grpo": {"useful_tokens": 3.0, "length_correct": 3.0, "accuracy": 0.1}})
    out = length_analysis(res, n_boot=400)
    grpo, dr = out["arms"]["grpo"], out["arms"]["dr_grpo"]
    q = grpo["quantities"]
    assert q["length_incorrect"]["verdict"]["direction"] == "up"
    assert q["length_correct"]["verdict"]["direction"] == "none"
    assert q["redundant_tokens"]["verdict"]["direction"] == "up"
    assert q["useful_tokens"]["verdict"]["direction"] == "none"
    g = q["length_incorrect"]["growth"]
    assert g["lo"] < 6.0 < g["hi"] and g["n_seeds"] == 5
    assert "grew in incorrect answers" in grpo["answers"]["where"]
    assert "no detectable change in correct answers" in grpo["answers"]["where"]
    assert "grew in redundant steps" in grpo["answers"]["how"]
    assert dr["quantities"]["accuracy"]["verdict"]["direction"] == "up"
    assert "grew in useful steps" in dr["answers"]["how"] and "grew in correct answers" in dr["answers"]["where"]
    # dr_grpo vs the grpo baseline: incorrect answers shorter, paired by seed
    d = dr["vs_baseline"]["quantities"]["length_incorrect"]["diff"]
    assert d["hi"] < 0 and "vs_baseline" not in grpo
    assert pooled_buckets(res.arm_runs("grpo"), "trained")["20-25"][0] == 500


def test_length_analysis_is_none_without_step_labels():
    from rigorlab.study.length import length_analysis

    res = _fake_study({"grpo": {}})
    for r in res.runs:
        r.eval = {"trained": {}, "reference": {}}
    assert length_analysis(res) is None


def test_report_section_states_each_arm_and_escapes():
    from rigorlab.report.length import length_section
    from rigorlab.study.length import length_analysis

    res = _fake_study({"grpo": {"length_incorrect": 6.0}, "<b>x</b>": {}}, seeds=range(3))
    html = length_section(res, length_analysis(res, n_boot=200))
    assert html.count("Did length grow?") == 2 and "Did accuracy follow?" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert html.count("data:image/png;base64,") == 2          # growth and buckets (no training rows here)
    assert length_section(res, None) == ""


def test_one_seed_has_no_interval_and_no_verdict():
    from rigorlab.study.length import length_analysis

    res = _fake_study({"grpo": {"length_incorrect": 6.0}}, seeds=[0])
    q = length_analysis(res, n_boot=100)["arms"]["grpo"]["quantities"]["length_incorrect"]
    assert q["verdict"]["direction"] == "unknown" and "one seed" in q["verdict"]["text"]


def test_markdown_length_tables_bold_only_separated_growth():
    import re

    from rigorlab.report.markdown import _length_tables
    from rigorlab.study.length import LABELS, length_analysis

    res = _fake_study({"grpo": {"length_incorrect": 6.0}, "dr_grpo": {}}, seeds=range(5))
    md = "\n".join(_length_tables(length_analysis(res, n_boot=200)))
    assert md.count("did length grow?") == 2 and md.count("Did accuracy follow?") == 2
    growth = md.split("Growth, trained - reference")[1].split("Difference to the baseline")[0]
    grpo_row = next(line for line in growth.splitlines() if line.startswith("| grpo |"))
    cells = [c.strip() for c in grpo_row.strip("|").split("|")]
    assert cells[1 + list(LABELS).index("length_incorrect")].startswith("**+")     # +6 tokens: separated
    n_cells = 0
    for line in growth.splitlines():
        for cell in line.strip("|").split("|")[1:]:
            m = re.fullmatch(r"\s*(\*\*)?([-+][0-9.e-]+) \[([-+][0-9.e-]+), ([-+][0-9.e-]+)\](\*\*)?\s*", cell)
            if m:
                n_cells += 1
                lo, hi = float(m.group(3)), float(m.group(4))
                assert bool(m.group(1)) == (lo > 0 or hi < 0), cell          # bold exactly when 0 is excluded
    assert n_cells == 2 * len(LABELS)
