"""`rigorlab theory`: the exact optimum of a regularised objective, or how it moves with beta."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

import typer

from rigorlab.errors import UserError


def register(app: typer.Typer) -> None:
    app.command("theory")(theory)


def _floats(text: str, name: str) -> list[float]:
    out = []
    for i, part in enumerate(text.split(","), start=1):
        try:
            out.append(float(part))
        except ValueError:
            raise UserError(f"{name} must be comma-separated numbers; item {i} is {part.strip()!r}") from None
    return out


def _fmt_p(p: float, logp: float, digits: int = 4) -> str:
    """A probability that stays readable when it underflows: 0.3, 3.7e-44, e^-3651 or e^-1e+09."""
    if p > 0:
        return f"{p:.{digits}g}"
    if logp == -math.inf:
        return "0"
    return f"e^{logp:.0f}" if abs(logp) < 1e6 else f"e^{logp:.{digits}g}"


def _fmt_log_ratio(x: float) -> str:
    """exp(x) for a log-ratio x >= 0, with the exponent when it is large."""
    if x == 0:
        return "1"
    if x < 700:
        return f"{math.exp(x):.4g} (e^{x:.4g})"
    return f"10^{x / math.log(10):.4g} (e^{x:.4g})"


def _console():
    """A rich console; 120 columns when not a terminal, so piped tables are not cut."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    return console


def _jsonable(x: float | int) -> float | int | None:
    """JSON has no infinity: None for an infinite KL; counts stay ints."""
    if isinstance(x, int):
        return x
    return None if not math.isfinite(x) else float(x)


def theory(
    ref: str = typer.Option(..., "--ref", help="pi_ref over the outcomes, comma-separated (e.g. 0.6,0.3,0.1)."),
    reward: str = typer.Option(..., "--reward", help="Reward of each outcome, comma-separated (e.g. 1,1,0)."),
    beta: Optional[float] = typer.Option(None, "--beta", help="Regularisation strength (> 0)."),
    direction: str = typer.Option("reverse", "--direction",
                                  help="reverse: KL(pi||pi_ref); forward: KL(pi_ref||pi); entropy: -H(pi)."),
    mara_tau: Optional[float] = typer.Option(None, "--mara-tau",
                                             help="Use MARA's augmented rewards with this threshold."),
    labels: Optional[str] = typer.Option(None, "--labels", help="Outcome names, comma-separated."),
    correct_min: Optional[float] = typer.Option(
        None, "--correct-min", help="Rewards >= this count as correct (default: --mara-tau, else reward > 0)."),
    min_mass: float = typer.Option(0.01, "--min-mass", help="Mass an outcome needs to count as a mode / covered."),
    normalise: bool = typer.Option(False, "--normalise", help="Rescale --ref to sum to 1 instead of refusing."),
    sweep: Optional[str] = typer.Option(None, "--sweep-beta", help="Sweep beta over LOW:HIGH (log-spaced)."),
    points: int = typer.Option(81, "--points", help="Grid points of the sweep."),
    one_mode_mass: float = typer.Option(0.99, "--one-mode-mass", help="Top mass that counts as one mode."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="With --sweep-beta: write the figure (PNG) here."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Exact optimum pi* of (expected reward - beta * D(pi, pi_ref)) over a finite outcome set (docs/theory.md sections 3-4)."""
    import numpy as np

    from rigorlab.theory.optima import DIRECTIONS, log_distribution, mara_rewards

    ref_p = _floats(ref, "--ref")
    rewards = _floats(reward, "--reward")
    if len(ref_p) != len(rewards):
        raise UserError(f"--ref has {len(ref_p)} values but --reward has {len(rewards)}; give one per outcome")
    if direction not in DIRECTIONS:
        raise UserError(f"--direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    names = [s.strip() for s in labels.split(",")] if labels else [f"y{i + 1}" for i in range(len(ref_p))]
    if len(names) != len(ref_p):
        raise UserError(f"--labels has {len(names)} names for {len(ref_p)} outcomes")
    if not 0 < min_mass < 1 or not 0 < one_mode_mass <= 1:
        raise UserError("--min-mass must be in (0, 1) and --one-mode-mass in (0, 1]")
    lp = log_distribution(ref_p, "--ref", normalise=normalise)
    r = np.asarray(rewards, dtype=float)
    if not np.all(np.isfinite(r)):
        raise UserError("--reward values must be finite numbers")
    threshold = correct_min if correct_min is not None else mara_tau
    correct = r >= threshold if threshold is not None else r > 0

    if sweep is not None:
        if beta is not None:
            raise UserError("give either --beta (one optimum) or --sweep-beta (a sweep), not both")
        _sweep(lp, r, names, sweep, points, direction, mara_tau, one_mode_mass, min_mass, plot, as_json)
        return
    if plot is not None:
        raise UserError("--plot needs --sweep-beta LOW:HIGH (the figure shows pi* against beta)")
    if beta is None:
        raise UserError("give --beta (e.g. --beta 0.1) or --sweep-beta LOW:HIGH")
    if not math.isfinite(beta) or beta <= 0:
        raise UserError(f"--beta must be a positive number, got {beta:g}")
    used = r if mara_tau is None else mara_rewards(lp, r, beta, mara_tau)
    report = _single(lp, r, used, beta, direction, mara_tau, correct, min_mass)
    if as_json:
        typer.echo(json.dumps(_single_json(report, names, r, used), indent=2))
    else:
        _print_single(report, names, r, used, mara_tau)


def _single(lp, r, used, beta, direction, mara_tau, correct, min_mass) -> dict:
    import numpy as np

    from rigorlab.theory.optima import DIRECTIONS, forward_kl_lambda, optimum_logp
    from rigorlab.theory.summaries import summarise, tv_distance

    logp = optimum_logp(lp, r, beta, direction, mara_tau)
    p = np.exp(logp)
    ref_p = np.exp(lp)
    others = {d: tv_distance(p, np.exp(optimum_logp(lp, r, beta, d, mara_tau)))
              for d in DIRECTIONS if d != direction}
    out = {"direction": direction, "beta": beta, "mara_tau": mara_tau, "logp": logp, "p": p, "ref_logp": lp,
           "summary": summarise(p, correct, ref=ref_p, min_mass=min_mass, logp=logp),
           "summary_ref": summarise(ref_p, correct, min_mass=min_mass, logp=lp),
           "tv_to_other_directions": others, "correct": correct}
    if direction == "forward":
        out["lambda"] = forward_kl_lambda(lp, used, beta)
    return out


def _single_json(rep: dict, names, r, used) -> dict:
    rows = [{"label": n, "pi_ref": math.exp(rep["ref_logp"][i]),
             "reward": float(r[i]), "reward_used": float(used[i]), "correct": bool(rep["correct"][i]),
             "pi_star": float(rep["p"][i]), "log_pi_star": _jsonable(float(rep["logp"][i]))}
            for i, n in enumerate(names)]
    out = {k: rep[k] for k in ("direction", "beta", "mara_tau")}
    out["outcomes"] = rows
    out["summary"] = {k: _jsonable(v) for k, v in rep["summary"].items()}
    out["summary_ref"] = {k: _jsonable(v) for k, v in rep["summary_ref"].items()}
    out["tv_to_other_directions"] = rep["tv_to_other_directions"]
    if "lambda" in rep:
        out["lambda"] = rep["lambda"]
    return out


def _print_single(rep: dict, names, r, used, mara_tau) -> None:
    from rich.table import Table

    console = _console()
    title = f"pi* for {rep['direction']} regularisation, beta = {rep['beta']:g}"
    if mara_tau is not None:
        title += f", MARA tau = {mara_tau:g}"
    t = Table(title=title)
    for col in ("outcome", "pi_ref", "reward") + (("MARA reward",) if mara_tau is not None else ()) + \
            ("pi*", "log10 pi*/pi_ref"):
        t.add_column(col, justify="left" if col == "outcome" else "right")
    for i, n in enumerate(names):
        lr = rep["logp"][i] - rep["ref_logp"][i] if rep["ref_logp"][i] > -math.inf else float("nan")
        cells = [n + (" *" if rep["correct"][i] else ""), _fmt_p(math.exp(rep["ref_logp"][i]), rep["ref_logp"][i]),
                 f"{r[i]:g}"]
        if mara_tau is not None:
            cells.append(f"{used[i]:.6g}")
        cells += [_fmt_p(rep["p"][i], rep["logp"][i]), "-" if math.isnan(lr) else f"{lr / math.log(10):+.4g}"]
        t.add_row(*cells)
    console.print(t)
    s, s0 = rep["summary"], rep["summary_ref"]
    st = Table(title="summaries (* = correct)")
    st.add_column("summary")
    st.add_column("pi*", justify="right")
    st.add_column("pi_ref", justify="right")
    st.add_row("entropy (nats)", f"{s['entropy']:.4g}", f"{s0['entropy']:.4g}")
    st.add_row("modes (mass > min-mass)", str(s["n_modes"]), str(s0["n_modes"]))
    st.add_row("top mass", f"{s['top_mass']:.4g}", f"{s0['top_mass']:.4g}")
    st.add_row("mass on correct", f"{s['correct_mass']:.4g}", f"{s0['correct_mass']:.4g}")
    st.add_row("coverage of correct set", f"{s['coverage']:.4g}", f"{s0['coverage']:.4g}")
    st.add_row("max/min mass among correct", _fmt_log_ratio(s["log_mass_ratio_correct"]),
               _fmt_log_ratio(s0["log_mass_ratio_correct"]))
    st.add_row("TV(pi*, pi_ref)", f"{s['tv_to_ref']:.4g}", "")
    st.add_row("KL(pi* || pi_ref)", f"{s['kl_to_ref']:.4g}", "")
    st.add_row("KL(pi_ref || pi*)", f"{s['kl_from_ref']:.4g}", "")
    for d, v in rep["tv_to_other_directions"].items():
        st.add_row(f"TV to the {d} optimum", f"{v:.4g}", "")
    if "lambda" in rep:
        st.add_row("Lambda (forward KL)", f"{rep['lambda']:.6g}", "")
    console.print(st)


def _sweep(lp, r, names, text, points, direction, mara_tau, one_mode_mass, min_mass, plot, as_json) -> None:
    import numpy as np

    from rigorlab.io import atomic_write_bytes
    from rigorlab.theory.sweep import parse_range, plot_sweep, sweep_beta

    lo, hi = parse_range(text)
    res = sweep_beta(lp, r, lo, hi, points, direction, mara_tau, one_mode_mass)
    if plot is not None:
        if plot.suffix.lower() != ".png":
            raise UserError(f"--plot writes a PNG; give a file name ending in .png, not {plot.name!r}")
        atomic_write_bytes(plot, plot_sweep(res, lp, r, names, mara_tau))
    if as_json:
        out = {"direction": direction, "mara_tau": mara_tau, "labels": names,
               "best": names[res.best], "runner_up": names[res.runner_up],
               "one_mode_mass": one_mode_mass, "one_mode_beta": res.one_mode_beta,
               "rows": res.rows(min_mass), "plot": str(plot) if plot else None}
        typer.echo(json.dumps(out, indent=2))
        return
    from rich.table import Table

    console = _console()
    t = Table(title=f"pi* against beta ({direction}" + (f", MARA tau = {mara_tau:g})" if mara_tau is not None else ")"))
    t.add_column("beta", justify="right")
    show = len(names) <= 8
    if show:
        for n in names:
            t.add_column(n, justify="right")
    for col in ("top mass", "entropy", "modes", f"log10 odds {names[res.best]}:{names[res.runner_up]}"):
        t.add_column(col, justify="right")
    idx = np.unique(np.linspace(0, points - 1, min(points, 13)).round().astype(int))
    rows = res.rows(min_mass)
    for i in idx:
        row = rows[i]
        cells = [f"{row['beta']:.3g}"]
        if show:
            cells += [_fmt_p(res.probs[i, k], res.logp[i, k], 3) for k in range(len(names))]
        cells += [f"{row['top_mass']:.4g}", f"{row['entropy']:.3g}", str(row["n_modes"]),
                  f"{row['log_odds_best_runner_up'] / math.log(10):.4g}"]
        t.add_row(*cells)
    console.print(t)
    if res.one_mode_beta is not None:
        console.print(f"one mode (top mass >= {one_mode_mass:g}) for beta <= {res.one_mode_beta:.4g}")
    else:
        console.print(f"never one mode (top mass >= {one_mode_mass:g}) for beta in [{lo:g}, {hi:g}]")
    if plot is not None:
        console.print(f"wrote {plot}")
