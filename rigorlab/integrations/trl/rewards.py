"""rigorlab's reward components as TRL reward functions.

TRL's GRPOTrainer takes plain callables `(prompts, completions, **kwargs) ->
list[float]` and logs each one under its `__name__`; `reward_weights` in
GRPOConfig weighs them, so a component is switched off by weight 0 or by
leaving it out. These wrap the same code the rigorlab trainer runs:

- `TaskCorrectness`, `TaskFormat`, `CompletionLength`: the weighted reward
  components of rl/rewards.py (correctness needs the dataset column
  `rigorlab_prompt` that `task_dataset` writes);
- `CountBonusReward`: the count-based exploration bonus of rl/count_bonus.py
  (docs/theory.md section 6) over final answers or path sketches of free text.

Completions may be strings or conversational message lists (the text is the
concatenated `content`). Groups are the completions that share a prompt in
one call, which is how TRL lays out its G generations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from rigorlab.errors import UserError
from rigorlab.evaluate.verify import extract_final_answer
from rigorlab.rl.count_bonus import CountBonus
from rigorlab.rl.shapers import ScoredGroup
from rigorlab.tasks import Prompt, build_task

__all__ = ["CompletionLength", "CountBonusReward", "TaskCorrectness", "TaskFormat", "completion_text",
           "extract_final_answer", "prompt_key", "task_dataset"]


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or a list of messages with `content`."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        return "".join(m.get("content", "") for m in completion
                       if isinstance(m, dict) and isinstance(m.get("content", ""), str))
    raise TypeError(f"a completion must be a string or a list of messages, got {type(completion).__name__}")


def prompt_key(prompt: Any) -> str:
    """A stable key for a prompt (its text, or its messages as sorted JSON)."""
    return prompt if isinstance(prompt, str) else json.dumps(prompt, sort_keys=True, ensure_ascii=False)


def _extractor(extract: Callable[[str], Hashable | None] | str | None) -> Callable[[str], Hashable | None]:
    if extract is None:
        return extract_final_answer
    if isinstance(extract, str):
        return build_task(extract).extract
    if callable(extract):
        return extract
    raise UserError(f"extract must be a callable, a rigorlab task name or None, got {extract!r}")


def _log(kwargs: dict, metrics: dict[str, float]) -> None:
    """Send metrics to TRL's `log_metric` kwarg when the trainer passes one."""
    log_metric = kwargs.get("log_metric")
    if callable(log_metric):
        for k, v in metrics.items():
            log_metric(k, v)


def task_dataset(task: str, n: int, split: str = "train", seed: int = 0, **params: Any) -> list[dict]:
    """Rows `{"prompt", "rigorlab_prompt"}` of a rigorlab task, for `datasets.Dataset.from_list`."""
    t = build_task(task, **params)
    return [{"prompt": p.text, "rigorlab_prompt": json.dumps({"id": p.id, "text": p.text, "target": p.target,
                                                              "meta": p.meta}, sort_keys=True)}
            for p in t.prompts(split, n, seed)]


class TaskCorrectness:
    """The task verifier's score in [0, 1] (needs the `rigorlab_prompt` column of `task_dataset`)."""

    def __init__(self, task: str = "pairs", name: str = "correctness", **params: Any) -> None:
        self.task = build_task(task, **params)
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        rows = kwargs.get("rigorlab_prompt")
        if rows is None or len(rows) != len(completions):
            raise UserError("TaskCorrectness needs the dataset column 'rigorlab_prompt' (build the dataset "
                            "with rigorlab.integrations.trl.task_dataset)")
        out = []
        for row, c in zip(rows, completions):
            p = Prompt(**json.loads(row))
            out.append(float(self.task.verify(p, self.task.extract(completion_text(c)))))
        return out


class TaskFormat:
    """1.0 when the completion follows the task's format, else 0.0."""

    def __init__(self, task: str = "pairs", name: str = "format", **params: Any) -> None:
        self.task = build_task(task, **params)
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        return [float(self.task.format_ok(completion_text(c))) for c in completions]


class CompletionLength:
    """-(tokens / max_new_tokens) in [-1, 0], from TRL's `completion_ids` (characters if absent)."""

    def __init__(self, max_new_tokens: int, name: str = "length") -> None:
        if max_new_tokens <= 0:
            raise UserError(f"max_new_tokens must be > 0, got {max_new_tokens!r}")
        self.max_new_tokens = int(max_new_tokens)
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        ids = kwargs.get("completion_ids")
        lengths = [len(x) for x in ids] if ids is not None else [len(completion_text(c)) for c in completions]
        return [-min(n, self.max_new_tokens) / self.max_new_tokens for n in lengths]


class CountBonusReward:
    """Count-based exploration bonus as a TRL reward function (docs/theory.md section 6).

    Returns only the bonus (c_h * min(1, 1/sqrt(N)) - c_b * same/G); TRL adds it
    to the other reward functions. N counts the keys seen in EARLIER calls (one
    call = one generation batch), per prompt. `extract` is a callable
    `text -> answer | None`, a rigorlab task name, or None for
    `extract_final_answer`. `apply_to="correct"` needs `verifier`, another
    reward function whose score > 0 marks a correct completion. Save the counts
    with your checkpoints through `state_dict()` / `load_state_dict()` (plain
    JSON-able dicts) so a resumed run continues exactly.
    """

    def __init__(self, historical: float = 0.5, batch: float = 0.0, over: str = "answer",
                 extract: Callable[[str], Hashable | None] | str | None = None, apply_to: str = "all",
                 verifier: Callable[..., list[float]] | None = None, name: str = "count_bonus",
                 sketch_rows: int = 2, sketch_ngram: int = 3) -> None:
        if apply_to == "correct" and verifier is None:
            raise UserError("CountBonusReward apply_to='correct' needs a verifier reward function")
        self.shaper = CountBonus(historical=historical, batch=batch, over=over, apply_to=apply_to,
                                 sketch_rows=sketch_rows, sketch_ngram=sketch_ngram)
        self.extract = _extractor(extract)
        self.verifier = verifier
        self.calls = 0
        self.__name__ = name

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        if len(prompts) != len(completions):
            raise ValueError(f"{len(prompts)} prompts for {len(completions)} completions")
        texts = [completion_text(c) for c in completions]
        correct = (np.asarray(self.verifier(prompts, completions, **kwargs), dtype=float)
                   if self.verifier is not None else None)
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(prompt_key(p), []).append(i)
        out = np.zeros(len(texts))
        sums: dict[str, float] = {}
        for key, idx in groups.items():
            group = ScoredGroup(prompt=key, completions=[texts[i] for i in idx],
                                answers=[self.extract(texts[i]) for i in idx], rewards=np.zeros(len(idx)),
                                correct=None if correct is None else correct[idx])
            shaped, m = self.shaper.shape(group, self.calls)
            out[idx] = shaped
            for k, v in m.items():
                sums[k] = sums.get(k, 0.0) + v / len(groups)
        self.calls += 1
        _log(kwargs, sums)
        return out.tolist()

    def state_dict(self) -> dict[str, Any]:
        return {"counts": self.shaper.state_dict()["counts"], "calls": self.calls}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.shaper.load_state_dict({"counts": state["counts"]})
        self.calls = int(state["calls"])
