"""pi* as beta varies: where the optimum of a regularised objective becomes one mode.

For reverse KL the log-odds of two outcomes grow like (r1 - r2) / beta
(docs/theory.md section 3), so the natural second axis is the reward gap in units
of beta; for forward KL and entropy regularisation the optimum also collapses
as beta -> 0, more slowly or at a different place (section 3, third bullet).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rigorlab.errors import UserError
from rigorlab.rl.mara import mara_augment
from rigorlab.theory.optima import DIRECTIONS, optimum_logp
from rigorlab.theory.summaries import entropy, n_modes


def parse_range(text: str, name: str = "--sweep-beta") -> tuple[float, float]:
    """'1e-4:10' -> (1e-4, 10.0), both positive and increasing."""
    parts = text.split(":")
    try:
        lo, hi = (float(x) for x in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or hi is None:
        raise UserError(f"{name} must look like LOW:HIGH (e.g. 1e-4:10), got {text!r}")
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo < hi):
        raise UserError(f"{name} needs 0 < LOW < HIGH, got {text!r}")
    return lo, hi


def best_and_runner_up(ref_logp: np.ndarray, rewards: np.ndarray) -> tuple[int, int]:
    """The best outcome (highest reward, then highest pi_ref) and the next one by the same order."""
    order = np.lexsort((-np.asarray(ref_logp), -np.asarray(rewards)))
    return int(order[0]), int(order[1]) if order.size > 1 else int(order[0])


def smallest_reward_gap(rewards: np.ndarray) -> float | None:
    """The best reward minus the next distinct one (None when all rewards are equal)."""
    distinct = np.unique(np.asarray(rewards, dtype=float))
    return None if distinct.size < 2 else float(distinct[-1] - distinct[-2])


@dataclass
class SweepResult:
    betas: np.ndarray          # (n,)
    logp: np.ndarray           # (n, K) log pi* at each beta
    direction: str
    best: int                  # index of the best outcome
    runner_up: int             # index of the runner-up
    one_mode_mass: float
    one_mode_beta: float | None  # largest beta with top mass >= one_mode_mass (None: never on the grid)

    @property
    def probs(self) -> np.ndarray:
        return np.exp(self.logp)

    @property
    def top_mass(self) -> np.ndarray:
        return self.probs.max(axis=1)

    @property
    def log_odds(self) -> np.ndarray:
        """log pi*(best) - log pi*(runner-up), exact even when the runner-up underflows."""
        return self.logp[:, self.best] - self.logp[:, self.runner_up]

    def rows(self, min_mass: float = 0.01) -> list[dict]:
        return [{"beta": float(b), "pi_star": self.probs[i].tolist(), "top_mass": float(self.top_mass[i]),
                 "entropy": entropy(self.probs[i]), "n_modes": n_modes(self.probs[i], min_mass),
                 "log_odds_best_runner_up": float(self.log_odds[i])} for i, b in enumerate(self.betas)]


def sweep_beta(ref_logp: np.ndarray, rewards: np.ndarray, lo: float, hi: float, points: int = 81,
               direction: str = "reverse", mara_tau: float | None = None,
               one_mode_mass: float = 0.99) -> SweepResult:
    """pi* on a log-spaced grid of beta, and the largest beta at which it is one mode.

    The last grid point with top mass >= `one_mode_mass` is refined by bisection
    towards the next one. (With a unique best outcome and no MARA its mass falls
    monotonically with beta in every direction, so this is the transition.)
    """
    if direction not in DIRECTIONS:
        raise UserError(f"unknown direction {direction!r}; expected one of {', '.join(DIRECTIONS)}")
    if points < 2:
        raise UserError(f"a sweep needs at least 2 points, got {points}")
    betas = np.geomspace(lo, hi, points)
    logp = np.stack([optimum_logp(ref_logp, rewards, b, direction, mara_tau) for b in betas])
    r = np.asarray(rewards, dtype=float)
    shaped = r if mara_tau is None else mara_augment(r, np.asarray(ref_logp, float), float(lo), mara_tau)[0]
    best, runner = best_and_runner_up(ref_logp, shaped)
    top = np.exp(logp).max(axis=1)
    one = np.flatnonzero(top >= one_mode_mass)
    one_beta: float | None = None
    if one.size:
        i = int(one.max())
        one_beta = float(betas[i])
        if i + 1 < points:
            a, b = np.log(betas[i]), np.log(betas[i + 1])
            for _ in range(50):
                mid = 0.5 * (a + b)
                m = np.exp(optimum_logp(ref_logp, rewards, float(np.exp(mid)), direction, mara_tau)).max()
                a, b = (mid, b) if m >= one_mode_mass else (a, mid)
            one_beta = float(np.exp(a))
    return SweepResult(betas=betas, logp=logp, direction=direction, best=best, runner_up=runner,
                       one_mode_mass=one_mode_mass, one_mode_beta=one_beta)


def pair_top_mass(p_best: float, gap: np.ndarray, beta: np.ndarray, direction: str) -> np.ndarray:
    """pi*(better) for two outcomes with pi_ref (p_best, 1 - p_best) and reward gap >= 0, vectorised.

    reverse: sigmoid(log(p / (1 - p)) + gap / beta); entropy: sigmoid(gap / beta);
    forward: beta p / delta with delta = Lambda - r_best the positive root of
    delta^2 + delta (gap - beta) - beta p gap = 0 (sum of the two masses = 1),
    written without cancellation. Used for the figure's (beta, gap) map.
    """
    gap, beta = np.broadcast_arrays(np.asarray(gap, float), np.asarray(beta, float))
    if direction == "entropy":
        return 1.0 / (1.0 + np.exp(-gap / beta))
    if direction == "reverse":
        return 1.0 / (1.0 + np.exp(-(np.log(p_best / (1 - p_best)) + gap / beta)))
    b = gap - beta
    root = np.sqrt(b * b + 4 * beta * p_best * gap)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(b >= 0, 2 * beta * p_best * gap / (b + root), (root - b) / 2)
        out = np.where(gap > 0, beta * p_best / delta, p_best)
    return np.minimum(out, 1.0)


def plot_sweep(result: SweepResult, ref_logp: np.ndarray, rewards: np.ndarray,
               labels: list[str] | None = None, mara_tau: float | None = None) -> bytes:
    """A two-panel PNG: pi*(y) against beta (top axis: reward gap / beta), and a map
    over (beta, reward gap) of the better of two answers' mass, with the one-mode
    boundary and the paper's example. Returns the PNG bytes."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = np.asarray(rewards, dtype=float)
    p = np.exp(np.asarray(ref_logp, dtype=float))
    K = r.size
    labels = labels or [f"y{i + 1}" for i in range(K)]
    betas = result.betas
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5), constrained_layout=True)
    colors = plt.cm.tab10(np.arange(K) % 10)
    for k in range(K):
        ax.plot(betas, result.probs[:, k], color=colors[k], lw=2,
                label=f"{labels[k]}: r={r[k]:g}, pi_ref={p[k]:.3g}")
    if result.one_mode_beta is not None:
        ax.axvspan(betas[0], result.one_mode_beta, color="0.88", zorder=0,
                   label=f"one mode (top mass >= {result.one_mode_mass:g})")
        ax.axvline(result.one_mode_beta, color="0.4", ls="--", lw=1)
        ax.annotate(f"beta = {result.one_mode_beta:.3g}", (result.one_mode_beta, 0.5), rotation=90,
                    ha="right", va="center", fontsize=9, color="0.3")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(betas[0], betas[-1])
    ax.set_xlabel("beta (regularisation strength)")
    ax.set_ylabel("pi*(y)")
    title = f"{result.direction} optimum" + (f" with MARA (tau={mara_tau:g})" if mara_tau is not None else "")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right")
    gap = smallest_reward_gap(r)
    if gap is not None:
        sec = ax.secondary_xaxis("top", functions=(lambda b: gap / np.maximum(b, 1e-300),
                                                   lambda x: gap / np.maximum(x, 1e-300)))
        sec.set_xlabel(f"reward gap / beta  (gap = {gap:g}): the log-odds reverse KL adds")

    # (beta, gap) map for the best and runner-up outcomes alone
    i, j = result.best, result.runner_up
    p_best = p[i] / (p[i] + p[j]) if i != j else 0.5
    g_lo = min(1e-3, gap / 10) if gap else 1e-3
    g_hi = max(10.0, gap * 10) if gap else 10.0
    gaps = np.geomspace(g_lo, g_hi, 200)
    bb = np.geomspace(betas[0], betas[-1], 240)
    BB, GG = np.meshgrid(bb, gaps)
    direction = result.direction
    mass = pair_top_mass(p_best, GG, BB, direction)
    mesh = ax2.pcolormesh(BB, GG, mass, cmap="viridis", vmin=min(p_best, 0.5), vmax=1.0, shading="auto")
    fig.colorbar(mesh, ax=ax2, label="pi*(better) of the two")
    ax2.contour(BB, GG, mass, levels=[result.one_mode_mass], colors="black", linestyles="--", linewidths=1.5)
    ax2.plot([], [], "k--", label=f"one mode: pi*(better) = {result.one_mode_mass:g}")  # legend entry
    ax2.plot([1e-3], [0.1], "o", color="red", ms=7)
    paper = float(pair_top_mass(0.5, 0.1, 1e-3, direction))
    note = "odds e^100 = 2.7e43" if direction != "forward" else f"pi*(better) = {paper:.4g}"
    ax2.annotate(f"paper: gap 0.1, beta 1e-3, equal pi_ref\n{direction}: {note}", (1e-3, 0.1),
                 xytext=(-40, 70), textcoords="offset points", color="red", fontsize=8,
                 arrowprops={"arrowstyle": "->", "color": "red"})
    if r[i] > r[j]:
        ax2.axhline(r[i] - r[j], color="white", ls=":", lw=1.5)
        ax2.annotate(f"this input: gap {r[i] - r[j]:g}", (bb[-1], r[i] - r[j]), xytext=(-4, 4),
                     textcoords="offset points", ha="right", color="white", fontsize=8)
    ax2.legend(fontsize=8, loc="lower right")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlim(bb[0], bb[-1])
    ax2.set_xlabel("beta")
    ax2.set_ylabel("reward gap between the two answers")
    ax2.set_title(f"{labels[i]} vs {labels[j]} alone ({direction}, pi_ref ratio {p_best:.2g}:{1 - p_best:.2g})")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
