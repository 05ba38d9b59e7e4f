"""The meaning of the numbers rl/ computes inline, registered by name (rigorlab.metrics.info).

The evaluation's mean completion length and the training log's columns are
computed in the middle of larger functions (rl/evaluate.py, rl/trainer.py,
rl/regularisers.kl_diagnostics), so they are described here, beside them in
the package, instead of in a study's table. Kept free of torch so that a
report can read the meanings without loading the training stack.
"""

from __future__ import annotations

from rigorlab.metrics.info import describe_metric

describe_metric("mean_length", "completion length (tokens)", None, (0.0, None),
                "mean completion length in tokens", "rigorlab.rl.evaluate.evaluate")
# training-log columns (metrics.jsonl), as a study summarises them: the mean over the last tenth of the steps
describe_metric("token_entropy", "token entropy, end of training", None, (0.0, None),
                "mean per-token entropy of the policy over the last tenth of the steps (log column 'entropy')",
                "rigorlab.rl.trainer.GRPOTrainer.train_step")
describe_metric("reward", "reward, end of training", True, (None, None),
                "mean shaped reward over the last tenth of the steps (log column 'reward/mean')",
                "rigorlab.rl.trainer.GRPOTrainer.train_step")
describe_metric("kl", "KL(pi||pi_ref) per token, end", None, (0.0, None),
                "exact per-token reverse KL to the reference over the last tenth of the steps "
                "(log column 'kl/reverse_exact')", "rigorlab.rl.regularisers.kl_diagnostics")

# the study metric -> the metrics.jsonl column it summarises
TRAIN_LOG_COLUMNS = {"token_entropy": "entropy", "reward": "reward/mean", "kl": "kl/reverse_exact"}
