"""The report's figures as PNG bytes (matplotlib, Agg): nothing is fetched when the report is viewed.

Each function takes plain data (dicts of arrays) and returns one PNG, so the
figures can be tested and reused without a study on disk.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np

BASELINE_COLOR = "#111111"
REFERENCE_COLOR = "#8a8a8a"


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titlesize": 10, "legend.fontsize": 8, "figure.dpi": 110})
    return plt


def png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def arm_colors(arms: Sequence[str], baseline: str | None) -> dict[str, str]:
    """A stable colour per arm; the baseline is black."""
    plt = _plt()
    others = [a for a in arms if a != baseline]
    if len(others) <= 9:      # tab10 without its grey, which is the reference's colour
        palette = [plt.get_cmap("tab10")(i) for i in range(10) if i != 7]
    else:
        palette = [plt.get_cmap("tab20")(i) for i in range(20) if i not in (14, 15)]
    out = {a: palette[i % len(palette)] for i, a in enumerate(others)}
    if baseline is not None:
        out[baseline] = BASELINE_COLOR
    return out


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average (shorter at the ends), so a 5-step window never shifts a curve."""
    window = min(window, values.size - (values.size + 1) % 2)    # odd and no longer than the series
    if window <= 1:
        return values
    k = np.ones(window)
    num = np.convolve(values, k, mode="same")
    den = np.convolve(np.ones_like(values), k, mode="same")
    return num / den


def training_curves(curves: dict[str, dict[str, list[tuple[np.ndarray, np.ndarray]]]],
                    panels: Sequence[tuple[str, str]], colors: dict[str, str], baseline: str | None,
                    window: int = 9) -> bytes:
    """One panel per metric: each arm's mean over seeds (smoothed) with the seeds' min-max band.

    curves: metric -> arm -> [(steps, values) per seed].
    """
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(4.0 * len(panels), 3.2), squeeze=False)
    for ax, (key, title) in zip(axes[0], panels):
        for arm, seeds in curves.get(key, {}).items():
            seeds = [(s, v) for s, v in seeds if len(s)]
            if not seeds:
                continue
            n = min(len(s) for s, _ in seeds)
            steps = seeds[0][0][:n]
            mat = np.vstack([smooth(v[:n], window) for _, v in seeds])
            lw = 2.2 if arm == baseline else 1.3
            ax.plot(steps, mat.mean(0), color=colors[arm], lw=lw, label=arm)
            if len(seeds) > 1:
                ax.fill_between(steps, mat.min(0), mat.max(0), color=colors[arm], alpha=0.12, lw=0)
        ax.set_title(title)
        ax.set_xlabel("training step")
        ax.grid(alpha=0.25)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False,
                   bbox_to_anchor=(0.5, -0.02 - 0.045 * ((len(labels) - 1) // 5)))
        fig.subplots_adjust(bottom=0.28 + 0.06 * ((len(labels) - 1) // 5))
    return png(fig)


def pass_at_k(curves: dict[str, dict[int, float]], reference: dict[int, float] | None,
              colors: dict[str, str], baseline: str | None) -> bytes:
    """pass@k against k (log2 axis) for every arm and the reference policy; and 1 - pass@k on a log scale,
    where curves that all reach ~1 still separate."""
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    series = list(curves.items()) + ([("reference (pi_ref)", reference)] if reference else [])
    for arm, curve in series:
        ks = sorted(curve)
        ys = np.array([curve[k] for k in ks])
        ref = arm == "reference (pi_ref)"
        style = dict(color=REFERENCE_COLOR if ref else colors[arm], lw=2.2 if arm == baseline else 1.3,
                     ls="--" if ref else "-", marker="o", ms=3, label=arm)
        ax.plot(ks, ys, **style)
        miss = np.maximum(1.0 - ys, 1e-6)
        ax2.plot(ks, miss, **style)
    for a in (ax, ax2):
        a.set_xscale("log", base=2)
        a.set_xlabel("k (samples)")
        a.grid(alpha=0.25, which="both")
    ax.set_ylabel("pass@k")
    ax.set_title("pass@k")
    ax2.set_yscale("log")
    from matplotlib.ticker import NullFormatter

    ax2.yaxis.set_minor_formatter(NullFormatter())   # minor labels collide with the axis label on short ranges
    ax2.set_ylabel("1 - pass@k (floor 1e-6)")
    ax2.set_title("failures left at k (log scale)")
    ax2.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    return png(fig)


def answer_distributions(prompt: str, outcomes: Sequence[str], ref: np.ndarray, correct: np.ndarray,
                         arms: dict[str, tuple[np.ndarray, float, np.ndarray, str]], colors: dict[str, str],
                         max_cols: int = 3) -> bytes:
    """Per arm: pi_ref, pi* and the arm's sampled answers on one prompt, over its correct answers.

    arms: name -> (sampled distribution over `outcomes` plus a last entry for answers outside
    the set, the outside share, pi* over outcomes, a caption for pi*).
    Bars are the correct answers in pi_ref's order, then 'wrong' (all incorrect outcomes together)
    and 'other' (no well-formed answer).
    """
    plt = _plt()
    idx = np.flatnonzero(correct)
    idx = idx[np.argsort(-ref[idx], kind="stable")]
    labels = [outcomes[i] for i in idx] + ["wrong", "other"]
    wrong = ~np.asarray(correct, dtype=bool)

    def bars(p: np.ndarray, outside: float) -> np.ndarray:
        return np.concatenate([p[idx], [p[wrong].sum(), outside]])

    n = len(arms)
    cols = min(max_cols, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.3 * cols, 2.6 * rows), squeeze=False, sharey=True)
    x = np.arange(len(labels))
    w = 0.28
    for ax, (arm, (emp, outside, opt, caption)) in zip(axes.flat, arms.items()):
        ax.bar(x - w, bars(ref, 0.0), w, color=REFERENCE_COLOR, label="pi_ref")
        ax.bar(x, bars(opt, 0.0), w, color="white", edgecolor="#333333", hatch="///", lw=0.6, label=caption)
        ax.bar(x + w, bars(emp, outside), w, color=colors.get(arm, "#1f77b4"), label=f"{arm} (samples)")
        ax.set_title(arm)
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=60, fontsize=7)
        ax.grid(alpha=0.2, axis="y")
        ax.legend(fontsize=6.5, frameon=False, loc="upper right")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("probability")
    fig.suptitle(f"answer distribution on {prompt}: correct answers in pi_ref's order", y=1.0)
    fig.tight_layout()
    return png(fig)


def intervals(stats: dict[str, dict], arms: Sequence[str], colors: dict[str, str], baseline: str | None,
              keys: Sequence[str], max_cols: int = 4) -> bytes:
    """Forest plot: each arm's mean and 95% interval per metric; the reference (if any) as a grey band."""
    plt = _plt()
    keys = [k for k in keys if k in stats]
    cols = min(max_cols, max(len(keys), 1))
    rows = int(np.ceil(len(keys) / cols)) or 1
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 0.32 * len(arms) * rows + 1.2 * rows),
                             squeeze=False, sharey=True)
    y = np.arange(len(arms))[::-1]
    for ax, key in zip(axes.flat, keys):
        s = stats[key]
        for yi, arm in zip(y, arms):
            iv = s["arms"].get(arm)
            if iv is None:
                continue
            c = colors.get(arm, "#1f77b4")
            ax.plot([iv["lo"], iv["hi"]], [yi, yi], color=c, lw=2.0 if arm == baseline else 1.4)
            ax.plot(iv["mean"], yi, "o", color=c, ms=4)
        for ref in (s.get("reference") or {}).values():
            ax.axvspan(ref["lo"], ref["hi"], color=REFERENCE_COLOR, alpha=0.18, lw=0)
            ax.axvline(ref["mean"], color=REFERENCE_COLOR, lw=1, ls="--")
        if baseline in s["arms"]:
            ax.axvline(s["arms"][baseline]["mean"], color=BASELINE_COLOR, lw=0.6, ls=":")
        ax.set_title(s["label"], fontsize=9)
        ax.grid(alpha=0.2, axis="x")
        ax.set_yticks(y)
        ax.set_yticklabels(arms, fontsize=8)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.tight_layout()
    return png(fig)
