"""Which findings to take on trust: the margin beyond which a fitted judge's levels reach the targets.

Why: the auditor's overall agreement with people on new documents (kappa about 0.6) is too low to take
every level on trust, but a level given far from the decision cut agrees with people much more often.
Each fitted judge (the exemplar layer, the FMTI classifier) stores the smallest margin, in logits, at
which its own cross-fitted training rows reach the targets below; a finding at least that far inside
its level's region is marked sure, the others are for a person to check (docs/audit.md, "Sure findings").
"""

from __future__ import annotations

import math

import numpy as np

from rigorlab.disclosure.audit.labelset import cohen_kappa

SURE_KAPPA, SURE_ACCURACY = 0.8, 0.8              # the agreement with people a sure finding is held to
MARGIN_GRID = tuple(0.25 * k for k in range(25))  # candidate margins, 0 ... 6 logits
MIN_COVERAGE = 0.05                               # a margin that leaves fewer rows than this is no use


def logit(p: float) -> float:
    """log(p / (1 - p)), with p clipped to [1e-4, 1 - 1e-4] (a probability of 0 is the hurdle's, not infinity)."""
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def binary_margin(disclosed: bool, p: float, threshold: float) -> float:
    """How far, in logits, a probability sits on the side of the cut that its level is on (a one-cut
    judge: disclosed or not); negative when a rule gave the other level."""
    a = logit(p) - logit(threshold)
    return a if disclosed else -a


def choose_margin(margin: np.ndarray, truth: list[str], pred: list[str],
                  positive: str = "disclosed") -> dict[str, float] | None:
    """The smallest margin of MARGIN_GRID at which the rows whose margin reaches it agree with people at
    kappa (`positive` vs not) >= SURE_KAPPA and accuracy (over all levels) >= SURE_ACCURACY, with those
    two figures and the share of rows it covers; None when no margin gets there on MIN_COVERAGE of them."""
    margin = np.asarray(margin, dtype=float)
    t_bin = np.asarray([t == positive for t in truth], dtype=int)
    p_bin = np.asarray([p == positive for p in pred], dtype=int)
    same = np.asarray([t == p for t, p in zip(truth, pred)])
    for m in MARGIN_GRID:
        on = margin >= m
        if not len(margin) or on.mean() < MIN_COVERAGE:
            return None
        kappa = cohen_kappa(t_bin[on], p_bin[on])
        accuracy = float(same[on].mean())
        if kappa >= SURE_KAPPA and accuracy >= SURE_ACCURACY:
            return {"margin": float(m), "kappa": round(float(kappa), 4), "accuracy": round(accuracy, 4),
                    "coverage": round(float(on.mean()), 4)}
    return None
