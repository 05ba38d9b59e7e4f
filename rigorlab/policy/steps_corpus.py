"""The pretraining corpus of the `steps` task: chains with controlled rates of checking,
repetition, restatement, looping and error.

Each rate is independent of the others and of the slip, so the reference
holds no built-in link between redundancy and correctness; the one causal
link is the check: a slip followed by a check is found and fixed, a slip
without one reaches the answer. With error rate e and check rate c per
addition, a chain of k additions is right with probability about
1 - e (1 - c) (one slip per erroneous chain, at a uniform addition), so RL
has a useful way to lengthen chains (check more) beside useless ones.
`corpus_rates` measures the realised rates from the labels, which the tests
compare with the parameters.
"""

from __future__ import annotations

import random

from rigorlab.tasks.steps import StepsTask, label_steps

MAX_LOOP_COPIES = 1          # a looping chain writes its last block once more


def steps_chain(numbers: list[int], rng: random.Random, error_rate: float, check_rate: float,
                repeat_rate: float, restate_rate: float, loop_rate: float) -> str:
    """One completion for `numbers`, its habits drawn from `rng` at the given rates."""
    slip_at = rng.randrange(len(numbers) - 1) if rng.random() < error_rate else -1
    texts: list[str] = []
    if rng.random() < restate_rate:
        texts.append("+".join(map(str, numbers)))
    acc = numbers[0]
    for j, b in enumerate(numbers[1:]):
        right = acc + b
        c = right + rng.choice([-2, -1, 1, 2]) if j == slip_at else right    # right >= 2: c >= 0
        texts.append(f"{acc}+{b}={c}")
        if rng.random() < check_rate:
            texts.append(f"?{c}-{b}={c - b}")
            if c != right:                       # the check finds the slip: redo the addition
                texts.append(f"{acc}+{b}={right}")
                c = right
        acc = c
    if rng.random() < repeat_rate:               # one earlier step written again, later on
        i = rng.randrange(len(texts))
        texts.insert(rng.randint(i + 1, len(texts)), texts[i])
    if rng.random() < loop_rate and len(texts) >= 2:
        block = texts[-2:]
        texts += block * rng.randint(1, MAX_LOOP_COPIES)
    return ",".join(texts) + f";{acc}"


def steps_corpus(task: StepsTask, examples: int, error_rate: float, seed: int) -> list[tuple[str, str]]:
    """`examples` (prompt, completion) pairs, deterministic in `seed`."""
    rng = random.Random(f"steps-corpus/{seed}")
    out = []
    for prompt in task.prompts("pretrain", examples, seed):
        out.append((prompt.text, steps_chain(prompt.meta["numbers"], rng, error_rate, task.check_rate,
                                             task.repeat_rate, task.restate_rate, task.loop_rate)))
    return out


def corpus_rates(task: StepsTask, corpus: list[tuple[str, str]]) -> dict[str, float]:
    """Realised rates, read back through the labels: share of chains with a check, a repeat, a
    restatement, a loop; share with a wrong answer; accuracy with and without a check."""
    flags = {k: 0 for k in ("check", "repeat", "restate", "loop")}
    wrong, with_check, right_with_check, right_without = 0, 0, 0, 0
    for prompt_text, completion in corpus:
        numbers = [int(x) for x in prompt_text.rstrip(":").split("+")]
        kinds = {lab.kind for lab in label_steps(numbers, completion)}
        for k in flags:
            flags[k] += k in kinds
        right = completion.rpartition(";")[2] == str(sum(numbers))
        wrong += not right
        with_check += "check" in kinds
        right_with_check += right and "check" in kinds
        right_without += right and "check" not in kinds
    n = max(len(corpus), 1)
    out = {f"{k}_chains": v / n for k, v in flags.items()}
    out["wrong_answers"] = wrong / n
    out["accuracy_with_check"] = right_with_check / max(with_check, 1)
    out["accuracy_without_check"] = right_without / max(n - with_check, 1)
    return out
