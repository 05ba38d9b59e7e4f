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
    task = StepsTask(check_rate=0.3, repeat_rate=0.15, restate_rate=0.1, loop_rate=0.1)
    rates = corpus_rates(task, steps_corpus(task, 20000, 0.25, seed=0))
    assert rates["restate_chains"] == pytest.approx(0.10, abs=0.012)
    assert rates["loop_chains"] == pytest.approx(0.10, abs=0.015)       # a loop is always labelled a loop
    # repeats: the inserted duplicate, except where a loop's copies absorb it
    assert 0.12 < rates["repeat_chains"] < 0.17
    # at least one check among 2-3 additions at 0.3 each: 1 - 0.7^2 = 0.51 or 1 - 0.7^3 = 0.657
    assert rates["check_chains"] == pytest.approx(0.5 * 0.51 + 0.5 * 0.657, abs=0.02)
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
    assert by_len["<20"] == (1, 1.0) and by_len["20-29"] == (2, 0.5) and by_len["30-39"] == (1, 0.0)


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
    assert bucket_of(19) == "<20" and bucket_of(20) == "20-29" and bucket_of(80) == ">=50"
