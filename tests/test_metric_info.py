"""A metric's label, direction and range are registered with the code that computes it."""

from __future__ import annotations

import importlib

import pytest

from rigorlab.metrics.info import describe_metric, metric_info
from rigorlab.study.metrics import PROMPT_METRICS, SEED_METRICS
from rigorlab.study.metrics import metric_info as study_metric


def _resolve(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name)
        return obj
    raise AssertionError(dotted)


@pytest.mark.parametrize("key", [*PROMPT_METRICS, *SEED_METRICS, "pass@16"])
def test_every_study_metric_names_the_function_that_computes_it(key):
    info = metric_info(key)
    assert callable(_resolve(info.computed_by)), info
    s = study_metric(key)
    assert (s.label, s.higher_is_better, s.bounds) == (info.label, info.higher_is_better, info.bounds)


def test_decorated_functions_carry_their_names():
    assert metric_info("coverage").computed_by == "rigorlab.metrics.answers.coverage"
    assert metric_info("pass@64").label == "pass@64" and metric_info("pass@64").bounds == (0.0, 1.0)
    assert metric_info("tv_reverse").computed_by == "rigorlab.theory.bridge.tv_to_optimum"
    assert metric_info("tv_reverse").higher_is_better is False
    with pytest.raises(KeyError):
        metric_info("pass@0")


def test_a_second_meaning_for_a_name_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        describe_metric("coverage", "coverage", False, (0.0, 1.0), "something else")
