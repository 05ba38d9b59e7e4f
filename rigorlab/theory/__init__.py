"""Exact optima of KL- and entropy-regularised objectives over a finite outcome set.

- `optima`: closed forms (docs/theory.md section 3) and the MARA reward (section 4), in log space;
- `summaries`: entropy, modes, coverage, mass ratios, TV and KL of distributions;
- `fixed_points`: which closed form (direction, effective beta) a GRPO configuration converges to;
- `bandit`: a tabular policy trained with the same rl/ components as the language model;
- `bridge`: the language-model side (pi_ref over a task's complete answers, TV to pi*);
- `sweep`: pi* as beta varies, and its figure.
"""

from rigorlab.theory.optima import (
    DIRECTIONS,
    entropy_logp,
    forward_kl_lambda,
    forward_kl_logp,
    forward_kl_margin,
    log_distribution,
    mara_rewards,
    optimum,
    optimum_logp,
    reverse_kl_logp,
)

__all__ = [
    "DIRECTIONS",
    "entropy_logp",
    "forward_kl_lambda",
    "forward_kl_logp",
    "forward_kl_margin",
    "log_distribution",
    "mara_rewards",
    "optimum",
    "optimum_logp",
    "reverse_kl_logp",
]
