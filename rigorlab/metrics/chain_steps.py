"""Where a chain's length goes: correct vs incorrect, useful vs redundant steps, loops, accuracy by length.

Liu et al. 2025 (Dr. GRPO) show that GRPO's per-sequence length
normalisation penalises a long wrong answer less than a short one, so length
can grow without reasoning gains (docs/theory.md section 1). Mean length alone
cannot tell that from useful growth; these metrics split it, for any task
whose completions are labelled step by step (a `label_steps(prompt,
completion)` method returning objects with `kind`, `role` and `tokens`, as
rigorlab.tasks.steps does):

- mean length of the correct and of the incorrect completions, separately;
- useful, redundant and erroneous tokens per completion, and the share of
  steps that are redundant (repeat, restate, loop);
- loop rate: share of completions with a loop; check rate: with a check;
- accuracy by length bucket.

Counts are kept as sums (`StepCounts`), so prompts, batches and seeds pool
exactly; the per-completion length is the sampled token count (EOS
included), the step split counts characters, which are tokens for the
embedded character tokenizer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

from rigorlab.metrics.info import describe_metric

BUCKET_EDGES = (20, 26, 32, 40)          # tokens: <20, 20-25, 26-31, 32-39, >=40

# per eval prompt (a study compares them like accuracy); the training log holds them as steps/<name>
_WHERE = "rigorlab.metrics.chain_steps.StepCounts.summary"
STEP_METRICS = tuple(describe_metric(*spec, _WHERE).name for spec in (
    ("length_correct", "length of correct answers (tokens)", None, (0.0, None),
     "mean sampled tokens (EOS included) of a prompt's correct samples"),
    ("length_incorrect", "length of incorrect answers (tokens)", None, (0.0, None),
     "mean sampled tokens (EOS included) of a prompt's incorrect samples"),
    ("useful_tokens", "useful tokens per answer", None, (0.0, None),
     "tokens in steps that advance or check the computation, per sample"),
    ("redundant_tokens", "redundant tokens per answer", False, (0.0, None),
     "tokens in steps that repeat, restate or loop, per sample"),
    ("redundant_share", "share of redundant steps", False, (0.0, 1.0),
     "steps that repeat, restate or loop, over all steps"),
    ("loop_rate", "loop rate", False, (0.0, 1.0),
     "share of samples with a loop (a block of steps written again back to back)"),
    ("check_rate", "check rate", None, (0.0, 1.0), "share of samples with at least one check step"),
))


def bucket_labels(edges: Sequence[int] = BUCKET_EDGES) -> list[str]:
    """Names of the length buckets, shortest first."""
    out = [f"<{edges[0]}"]
    out += [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])]
    return out + [f">={edges[-1]}"]


def bucket_of(tokens: int, edges: Sequence[int] = BUCKET_EDGES) -> str:
    labels = bucket_labels(edges)
    for i, edge in enumerate(edges):
        if tokens < edge:
            return labels[i]
    return labels[-1]


@dataclass
class StepCounts:
    """Sums over a set of labelled completions (pool by adding)."""

    n: int = 0
    n_correct: int = 0
    tokens_correct: int = 0
    tokens_incorrect: int = 0
    useful_tokens: int = 0
    redundant_tokens: int = 0
    error_tokens: int = 0
    steps: int = 0
    redundant_steps: int = 0
    loops: int = 0
    checks: int = 0
    no_answer: int = 0
    buckets: dict[str, list[int]] = field(default_factory=dict)     # bucket -> [n, correct]

    def add(self, labels: Sequence[Any], correct: bool, tokens: int) -> None:
        """Count one completion: its step labels, whether it is right, its sampled length."""
        self.n += 1
        self.n_correct += bool(correct)
        if correct:
            self.tokens_correct += int(tokens)
        else:
            self.tokens_incorrect += int(tokens)
        steps = [lab for lab in labels if lab.role != "answer"]
        self.useful_tokens += sum(lab.tokens for lab in steps if lab.role == "useful")
        self.redundant_tokens += sum(lab.tokens for lab in steps if lab.role == "redundant")
        self.error_tokens += sum(lab.tokens for lab in steps if lab.role == "error")
        self.steps += len(steps)
        self.redundant_steps += sum(lab.role == "redundant" for lab in steps)
        self.loops += any(lab.kind == "loop" for lab in steps)
        self.checks += any(lab.kind == "check" for lab in steps)
        self.no_answer += not any(lab.kind == "answer" for lab in labels)
        cell = self.buckets.setdefault(bucket_of(int(tokens)), [0, 0])
        cell[0] += 1
        cell[1] += bool(correct)

    def merge(self, other: "StepCounts") -> "StepCounts":
        out = StepCounts(**{k: getattr(self, k) + getattr(other, k) for k in _SCALARS})
        for src in (self.buckets, other.buckets):
            for b, (n, c) in src.items():
                cell = out.buckets.setdefault(b, [0, 0])
                cell[0] += n
                cell[1] += c
        return out

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "StepCounts":
        return cls(**{k: int(data[k]) for k in _SCALARS},
                   buckets={b: [int(v[0]), int(v[1])] for b, v in data.get("buckets", {}).items()})

    def summary(self) -> dict[str, float | None]:
        """Means and shares; None where there is nothing to average (no correct completion, ...)."""
        div = lambda a, b: a / b if b else None     # noqa: E731
        return {
            "accuracy": div(self.n_correct, self.n),
            "length_correct": div(self.tokens_correct, self.n_correct),
            "length_incorrect": div(self.tokens_incorrect, self.n - self.n_correct),
            "useful_tokens": div(self.useful_tokens, self.n),
            "redundant_tokens": div(self.redundant_tokens, self.n),
            "error_tokens": div(self.error_tokens, self.n),
            "redundant_share": div(self.redundant_steps, self.steps),
            "loop_rate": div(self.loops, self.n),
            "check_rate": div(self.checks, self.n),
            "no_answer_rate": div(self.no_answer, self.n),
        }

    def accuracy_by_bucket(self) -> dict[str, tuple[int, float | None]]:
        """bucket -> (completions, accuracy), every bucket listed, shortest first."""
        out = {}
        for b in bucket_labels():
            n, c = self.buckets.get(b, [0, 0])
            out[b] = (n, c / n if n else None)
        return out


_SCALARS = [k for k in StepCounts.__dataclass_fields__ if k != "buckets"]


def has_step_labels(task: Any) -> bool:
    """Whether a task labels its completions step by step."""
    return callable(getattr(task, "label_steps", None))


def count_steps(task: Any, prompts: Sequence[Any], completions: Sequence[str], correct: Sequence[float],
                lengths: Sequence[int]) -> StepCounts:
    """Label and count completions (one prompt per completion)."""
    counts = StepCounts()
    for p, c, ok, n in zip(prompts, completions, correct, lengths):
        counts.add(task.label_steps(p, c), bool(ok > 0), int(n))
    return counts


def rollout_step_metrics(task: Any, prompts: Sequence[Any], completions: Sequence[str],
                         correct: Sequence[float], lengths: Sequence[int]) -> dict[str, float]:
    """A training row's `steps/...` entries (empty when the task has no step labels, or for a
    mean with nothing to average, so a row never holds NaN)."""
    if not has_step_labels(task):
        return {}
    summary = count_steps(task, prompts, completions, correct, lengths).summary()
    return {f"steps/{k}": float(v) for k, v in summary.items() if v is not None and k != "accuracy"}
