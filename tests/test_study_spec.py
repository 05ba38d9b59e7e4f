"""Study files: arms from explicit lists, groups and axes; errors that name the axis, arm and value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from rigorlab.errors import UserError
from rigorlab.rl.controllers import CONTROLLERS
from rigorlab.rl.policy_loss import POLICY_LOSSES
from rigorlab.rl.shapers import REWARD_SHAPERS
from rigorlab.study.spec import is_published_grpo, load_study


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "study.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def _err(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as exc:
        load_study(_write(tmp_path, text))
    return str(exc.value)


def test_axes_form_the_product_with_short_names(tmp_path):
    s = load_study(_write(tmp_path, """
        name: grid
        base: {grpo: {steps: 5}}
        axes:
          grpo.kl.estimator: [k1, k3]
          grpo.kl.placement: [loss, reward]
          grpo.beta: [0.0, 0.04]
        seeds: [3, 7]
    """))
    assert len(s.arms) == 8 and s.seeds == [3, 7]
    assert s.arms[0].name == "estimator=k1,placement=loss,beta=0.0"
    cfg = {a.name: a.config for a in s.arms}["estimator=k3,placement=loss,beta=0.04"]
    assert (cfg.grpo.kl.estimator, cfg.grpo.kl.placement, cfg.grpo.beta, cfg.grpo.steps) == ("k3", "loss", 0.04, 5)
    # no arm is named; the one that is GRPO as published becomes the baseline
    assert s.baseline == "estimator=k3,placement=loss,beta=0.04"
    assert "published" in s.baseline_reason
    assert s.arms[0].for_seed(7).seed == 7 and s.arms[0].config.seed == 0


def test_explicit_arms_cross_groups_and_labelled_axis_values(tmp_path):
    s = load_study(_write(tmp_path, """
        name: g
        arms:
          - {name: grpo}
          - {name: mara, set: {reward.shapers: [{name: mara, params: {tau: 1.0}}]}}
        groups:
          - {name: pairs, set: {task.name: pairs}}
          - {name: chain, set: {task: {name: chain}, grpo.max_completion_length: 40}}
        axes:
          reward.format: {no-format: 0.0, format: 0.5}
        seeds: 2
        baseline: grpo,format=no-format
    """))
    assert len(s.arms) == 2 * 2 * 2
    names = [a.name for a in s.arms]
    assert "mara,format=format,chain" in names
    arm = {a.name: a for a in s.arms}["mara,format=format,chain"]
    assert arm.label == "mara,format=format" and arm.group == "chain"
    assert arm.config.task.name == "chain" and arm.config.grpo.max_completion_length == 40
    assert arm.config.reward.format == 0.5 and arm.config.reward.shapers[0].name == "mara"
    assert s.baseline == "grpo,format=no-format" and s.seeds == [0, 1]
    assert len({a.slug for a in s.arms}) == len(s.arms)


def test_task_axis_is_compared_within_by_default(tmp_path):
    s = load_study(_write(tmp_path, """
        axes: {task.name: [pairs, chain], grpo.beta: [0.0, 0.04]}
    """))
    a = {x.name: x for x in s.arms}["beta=0.04,name=chain"]
    assert (a.label, a.group) == ("beta=0.04", "name=chain")


@pytest.mark.parametrize("text, expected", [
    ("axes: {grpo.betta: [0.1]}",
     "axis 'grpo.betta', which is not a training-config field (did you mean 'grpo.beta'?)"),
    ("axes: {grpo.kl.estimator: [k3, k5]}", "axis 'grpo.kl.estimator' value 'k5': field 'grpo.kl.estimator'"),
    ("axes: {grpo.beta: [0.04, -1]}",
     "axis 'grpo.beta' value '-1': field 'grpo.beta': Input should be greater than or equal to 0"),
    ("axes: {grpo.beta: []}", "axis 'grpo.beta' has no values"),
    ("axes: {seed: [1, 2]}", "axis 'seed', which cannot vary by arm"),
    ("arms: [{name: a, set: {grpo.stepz: 1}}]", "arm 'a' sets 'grpo.stepz', which is not a training-config field"),
    ("arms: [{name: a, set: {reward.shapers: [{name: maraa}]}}]", "arm 'a': unknown reward shaper 'maraa'"),
    ("arms: [{name: a, set: {loss: {name: clip_cov, params: {ratio: 2.0}}}}]",
     "arm 'a': clip_cov ratio must be in (0, 1]"),
    ("arms: [{name: a}, {name: a}]", "two arms are named 'a'"),
    ("arms: [{name: a}]\nbaseline: b", "baseline 'b' is not an arm"),
    ("seeds: 0", "study field 'seeds'"),
    ("seeds: [1, 1]", "lists seed 1 twice"),
    ("base: {seed: 3}", "list the seeds in the study's 'seeds' field"),
    ("metrics: [accuracy, recall]", "unknown study metric 'recall'"),
    ("nme: x", "unknown study field 'nme'"),
    ("axes: {reward.format: {off: 0.0, on: 0.2}}",
     "axis 'reward.format' has the label False, which YAML did not read as text"),
    ("axes: {reward.format: 0.2}", "axis 'reward.format' must be a list of values or a mapping label -> value"),
    ("axes: {grpo.beta: [0.0]}\nwithin: [task.name]", "'within' names 'task.name', which is not one of the axes"),
])
def test_errors_name_the_axis_arm_and_value(tmp_path, text, expected):
    msg = _err(tmp_path, text)
    assert msg.startswith(str(tmp_path / "study.yaml")), msg
    assert expected in msg, msg


def test_a_combination_error_names_the_arm_and_its_axis_values(tmp_path):
    msg = _err(tmp_path, """
        axes: {grpo.kl.direction: [reverse, forward], grpo.kl.estimator: [k3, full]}
    """)
    assert "arm 'direction=forward,estimator=k3' (grpo.kl.direction=forward, grpo.kl.estimator=k3)" in msg, msg
    assert "needs grpo.kl.estimator 'full'" in msg, msg


def test_overrides_and_seed_count_from_the_command_line(tmp_path):
    p = _write(tmp_path, "arms: [{name: a}, {name: b, set: {grpo.beta: 0}}]\nseeds: [4, 5, 6]")
    s = load_study(p, overrides=["grpo.steps=7"], seeds=2)
    assert s.seeds == [0, 1] and all(a.config.grpo.steps == 7 for a in s.arms)
    with pytest.raises(UserError, match="--set 'grpo.stepz', which is not a training-config field"):
        load_study(p, overrides=["grpo.stepz=7"])


def test_baseline_falls_back_to_the_first_arm_and_says_so(tmp_path):
    s = load_study(_write(tmp_path, "arms: [{name: a, set: {grpo.beta: 0}}, {name: b, set: {grpo.entropy_coef: 0.1}}]"))
    assert s.baseline == "a" and "first arm" in s.baseline_reason


def test_base_config_file_is_read_relative_to_the_study(tmp_path):
    (tmp_path / "train.yaml").write_text(yaml.safe_dump({"grpo": {"steps": 11, "beta": 0.02}}))
    s = load_study(_write(tmp_path, "base_config: train.yaml\nbase: {grpo: {beta: 0.03}}\narms: [{name: a}]"))
    assert s.arms[0].config.grpo.steps == 11 and s.arms[0].config.grpo.beta == 0.03


def test_quick_default_is_the_issues_study():
    s = load_study(None, "quick")
    assert [a.name for a in s.arms] == ["grpo", "beta0", "k1-reward", "forward-kl", "entropy-bonus",
                                        "count-bonus", "mara", "target-entropy", "clip-cov"]
    assert s.seeds == [0, 1, 2] and s.baseline == "grpo" and "published" in s.baseline_reason
    cfg = {a.name: a.config for a in s.arms}
    assert is_published_grpo(cfg["grpo"]) and cfg["grpo"].grpo.beta == 0.04
    assert all(a.config.task.name == "pairs" for a in s.arms)
    assert cfg["beta0"].grpo.beta == 0
    assert (cfg["k1-reward"].grpo.kl.estimator, cfg["k1-reward"].grpo.kl.placement) == ("k1", "reward")
    assert (cfg["forward-kl"].grpo.kl.estimator, cfg["forward-kl"].grpo.kl.direction) == ("full", "forward")
    assert cfg["entropy-bonus"].grpo.entropy_coef > 0
    # the remedies by their registered names
    assert cfg["count-bonus"].reward.shapers[0].name == "count_bonus" in REWARD_SHAPERS.names()
    assert cfg["mara"].reward.shapers[0].name == "mara" in REWARD_SHAPERS.names()
    assert cfg["target-entropy"].controllers["entropy_coef"].name == "target_entropy" in CONTROLLERS.names()
    assert cfg["clip-cov"].loss.name == "clip_cov" in POLICY_LOSSES.names()


def test_full_default_adds_chain_and_more_seeds():
    quick, full = load_study(None, "quick"), load_study(None, "full")
    assert {a.config.task.name for a in full.arms} == {"pairs", "chain"}
    assert len(full.seeds) > len(quick.seeds)
    labels = {a.label for a in full.arms}
    assert {a.name for a in quick.arms} <= labels
    for a in full.arms:
        same = next(q for q in quick.arms if q.name == a.label) if a.label in {q.name for q in quick.arms} else None
        if same is not None and a.config.task.name == "pairs":
            assert a.config.grpo.steps > same.config.grpo.steps
    with pytest.raises(UserError, match="unknown study profile 'huge'"):
        load_study(None, "huge")
    with pytest.raises(UserError, match=r"^study file .*nowhere\.yaml does not exist$"):
        load_study("nowhere.yaml")
