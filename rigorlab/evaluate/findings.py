"""One plain sentence per finding of `rigorlab compare`.

A sentence says "higher" or "lower" only when the paired interval of the
difference excludes 0; otherwise it says the data cannot tell the two models
apart and gives the interval, so a reader never mistakes noise for a result.
"""

from __future__ import annotations

from typing import Any


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _num(x: float) -> str:
    return f"{x:.3g}"


def _ci(d: dict, fmt=_num) -> str:
    return f"[{fmt(d['lo'])}, {fmt(d['hi'])}]"


def _versus(what: str, row: dict, names: tuple[str, str], level: str, fmt=_num) -> str:
    """'<what> is higher/lower for RL (a vs b; difference d, interval [..])' or the no-difference form."""
    b, r, d = row["base"], row["rl"], row["diff"]
    values = f"{names[1]} {fmt(r['mean'])} vs {names[0]} {fmt(b['mean'])}"
    if row["separated"]:
        word = "higher" if d["mean"] > 0 else "lower"
        return (f"{what} is {word} for {names[1]} than for {names[0]} ({values}; difference "
                f"{fmt(d['mean'])}, {level} interval {_ci(d, fmt)}).")
    return (f"{what} cannot be told apart ({values}; the {level} interval of the difference, "
            f"{_ci(d, fmt)}, includes 0).")


def findings(result: dict[str, Any], names: tuple[str, str] = ("base", "RL")) -> list[str]:
    """The sentences, in the order of the report."""
    level = f"{round(100 * (1 - result['alpha']))}%"
    base, rl = names
    curves = result["pass_at_k"]
    first, last = curves[0], curves[-1]
    out = [_versus(f"pass@{first['k']}", first, names, level, _pct)]
    if last is not first:
        out.append(_versus(f"pass@{last['k']}", last, names, level, _pct))
    x = result["crossover"]
    if x["k"] is not None:
        tail = (f"; from k = {x['k_separated']} the interval of the difference lies wholly on {base}'s side"
                if x["k_separated"] is not None else
                f", but no interval up to k = {last['k']} separates the two, so the crossover is not established")
        out.append(f"{base}'s pass@k overtakes {rl}'s at k = {x['k']} (the crossover of Yue et al. 2025){tail}.")
    elif all(c["diff"]["mean"] == 0 for c in curves):
        out.append(f"{base} and {rl} have the same pass@k at every k up to {last['k']}: no crossover.")
    elif first["diff"]["mean"] > 0:
        out.append(f"{rl} stays ahead of {base} at every k up to {last['k']}: no crossover in this range.")
    elif x["rl_overtakes_k"] is not None:
        out.append(f"{base} leads at k = {first['k']} and {rl} overtakes it at k = {x['rl_overtakes_k']}.")
    else:
        out.append(f"{base} is at least as good as {rl} at every k up to {last['k']}.")
    s = result["solved"]
    out.append(f"Solved at least once in all samples: {len(s['base_only'])} problems only by {base}, "
               f"{len(s['rl_only'])} only by {rl}, {len(s['both'])} by both, {len(s['neither'])} by neither.")
    a = result["answers"]
    out.append(_versus("The number of distinct final answers per problem", a["distinct"], names, level))
    out.append(_versus("The entropy of the final answers per problem (nats)", a["entropy"], names, level))
    p = result["paths"]
    out.append(_versus("The share of distinct reasoning paths (MinHash near-duplicate clusters per sample)",
                       p["minhash_clusters_per_sample"], names, level))
    if "embedding_clusters_per_sample" in p:
        out.append(_versus("The share of distinct reasoning paths (sentence-embedding clusters per sample)",
                           p["embedding_clusters_per_sample"], names, level))
    length = result["length"]
    out.append(_versus("Chain length (tokens)", length["tokens"], names, level))
    gap = length["correct_minus_incorrect"]
    if gap is None:
        out.append("Too few problems have both correct and incorrect samples in both files to relate length "
                   "to correctness.")
    else:
        for key, name in (("rl", rl), ("base", base)):
            g = gap[key]
            if g["lo"] > 0 or g["hi"] < 0:
                word = "longer" if g["mean"] > 0 else "shorter"
                out.append(f"For {name}, correct chains are {word} than incorrect ones on the same problem by "
                           f"{_num(abs(g['mean']))} tokens ({level} interval {_ci(g)}, {gap['problems']} problems).")
            else:
                out.append(f"For {name}, correct and incorrect chains on the same problem have lengths that cannot "
                           f"be told apart (difference {_num(g['mean'])} tokens, {level} interval {_ci(g)}).")
    rep = result["repetition"]
    out.append(_versus("Repetition inside chains (repeated 4-gram rate)", rep["repeated_ngram_rate"], names, level))
    out.append(_versus("The share of tokens inside repetition loops", rep["loop_share"], names, level))
    return out
