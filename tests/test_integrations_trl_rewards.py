"""The reward components as TRL reward callables `(prompts, completions, **kwargs) -> list[float]`."""

from __future__ import annotations

import json

import pytest

from rigorlab.errors import UserError
from rigorlab.integrations.trl.rewards import (
    CompletionLength,
    CountBonusReward,
    TaskCorrectness,
    TaskFormat,
    completion_text,
    extract_final_answer,
    task_dataset,
)


def test_completion_text_and_answer_extraction():
    assert completion_text("4+5") == "4+5"
    assert completion_text([{"role": "assistant", "content": "so \\boxed{7}"}]) == "so \\boxed{7}"
    assert extract_final_answer("first 3, then \\boxed{\\frac{1}{2}} done") == "\\frac{1}{2}"
    assert extract_final_answer("we get 1,234 and then 56.5") == "56.5"
    assert extract_final_answer("no number here") is None


def test_count_bonus_reward_groups_by_prompt_and_counts_across_calls():
    f = CountBonusReward(historical=1.0, batch=0.5)
    assert f.__name__ == "count_bonus"
    prompts = ["p"] * 4 + ["q"] * 4
    completions = ["= 3", "= 3", "= 4", "nothing"] + ["= 3", "= 5", "= 6", "= 7"]
    logged = {}
    first = f(prompts, completions, log_metric=lambda k, v: logged.__setitem__(k, v))
    # group p: 1 - 0.5 * 1/4 for the two 3s, 1 for the 4, 0 for no answer; group q: four singletons
    assert first == pytest.approx([0.875, 0.875, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0])
    assert logged["count_bonus/answer/distinct"] == pytest.approx((2 + 4) / 2)
    second = f(["p", "p"], [[{"content": "= 3"}], [{"content": "= 9"}]])
    assert second == pytest.approx([1 / 2 ** 0.5 - 0.0, 1.0])      # N(p, 3) = 2 -> 1/sqrt(2)
    state = json.loads(json.dumps(f.state_dict()))                  # plain JSON
    g = CountBonusReward(historical=1.0, batch=0.5)
    g.load_state_dict(state)
    assert g(["p"], ["= 3"]) == f(["p"], ["= 3"]) == pytest.approx([1 / 3 ** 0.5])


def test_count_bonus_reward_on_correct_only_with_a_verifier():
    rows = task_dataset("pairs", 2, seed=1)
    verifier = TaskCorrectness("pairs")
    f = CountBonusReward(historical=1.0, extract="pairs", apply_to="correct", verifier=verifier)
    n = json.loads(rows[0]["rigorlab_prompt"])["meta"]["n"]
    good, bad = f"{n - 1 if n >= 1 else 0}+{1 if n >= 1 else 0}", "9+9" if n != 18 else "0+0"
    out = f([rows[0]["prompt"]] * 2, [good, bad], rigorlab_prompt=[rows[0]["rigorlab_prompt"]] * 2)
    assert out == [1.0, 0.0]
    with pytest.raises(UserError, match="verifier"):
        CountBonusReward(apply_to="correct")


def test_task_components():
    rows = task_dataset("pairs", 3, seed=0)
    prompts = [r["prompt"] for r in rows]
    n = [json.loads(r["rigorlab_prompt"])["meta"]["n"] for r in rows]
    completions = [f"{min(k, 9)}+{k - min(k, 9)}" for k in n[:2]] + ["oops"]
    assert TaskCorrectness("pairs")(prompts, completions, rigorlab_prompt=[r["rigorlab_prompt"] for r in rows]) \
        == [1.0, 1.0, 0.0]
    assert TaskFormat("pairs")(prompts, completions) == [1.0, 1.0, 0.0]
    assert CompletionLength(8)(prompts, completions, completion_ids=[[1] * 4, [1] * 8, [1] * 12]) == [-0.5, -1.0, -1.0]
    with pytest.raises(UserError, match="rigorlab_prompt"):
        TaskCorrectness("pairs")(prompts, completions)


def test_trl_grpo_trainer_runs_with_the_rigorlab_rewards(tmp_path, monkeypatch):
    """TRL's own GRPOTrainer trains the tiny reference with these rewards and logs each one."""
    pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("RIGORLAB_CACHE", str(tmp_path / "cache"))
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from rigorlab.config import load_config
    from rigorlab.rl.trainer import resolve_reference

    ref = resolve_reference(load_config(None, ["policy.pretrain.steps=30", "policy.pretrain.examples=500"]))
    bonus = CountBonusReward(historical=0.5, batch=0.5, extract="pairs")
    args = GRPOConfig(output_dir=str(tmp_path / "trl"), use_cpu=True, bf16=False, per_device_train_batch_size=8,
                      num_generations=4, max_completion_length=6, max_steps=2, report_to=[], logging_steps=1,
                      save_strategy="no", seed=0)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(ref), args=args,
                          reward_funcs=[TaskCorrectness("pairs"), TaskFormat("pairs"), bonus, CompletionLength(6)],
                          train_dataset=datasets.Dataset.from_list(task_dataset("pairs", 16, seed=0)),
                          processing_class=AutoTokenizer.from_pretrained(ref))
    trainer.train()
    logged = [h for h in trainer.state.log_history if "rewards/count_bonus/mean" in h]
    assert len(logged) == 2 and bonus.calls == 2
    assert all("rewards/correctness/mean" in h and "count_bonus/answer/bonus_mean" in h for h in logged)
    assert sum(sum(t.values()) for t in bonus.state_dict()["counts"].values()) > 0
