"""rigorlab's KL choices, shapers and collapse diagnostics for a stock TRL `GRPOTrainer`.

    rewards.py   task correctness, format, length and the count bonus as TRL reward functions
    kl.py        k1 in the reward: the unbiased reverse-KL gradient (TRL issue #4967)
    mara.py      MARA as a TRL reward function
    callback.py  collapse diagnostics in TRL's log history, and a periodic pass@k evaluation

Reward functions that read the policy (`KLRewardPenalty`, `MARAReward`, and the
diagnostics' cov(log pi, A)) need `bind(trainer)` once the trainer is built.
"""

from rigorlab.integrations.trl.callback import CollapseDiagnostics
from rigorlab.integrations.trl.kl import KLRewardPenalty, PolicyScorer, sequence_k1
from rigorlab.integrations.trl.mara import MARAReward
from rigorlab.integrations.trl.rewards import (
    CompletionLength,
    CountBonusReward,
    TaskCorrectness,
    TaskFormat,
    completion_text,
    extract_final_answer,
    prompt_key,
    task_dataset,
)

__all__ = ["CollapseDiagnostics", "CompletionLength", "CountBonusReward", "KLRewardPenalty", "MARAReward",
           "PolicyScorer", "TaskCorrectness", "TaskFormat", "completion_text", "extract_final_answer",
           "prompt_key", "sequence_k1", "task_dataset"]
