"""`rigorlab compare` on synthetic sample files whose truth is known."""

from __future__ import annotations

import json
from math import comb

import numpy as np
import pytest
from scipy.special import betaln

from rigorlab.cli import main
from rigorlab.evaluate.compare import by_problem, compare, crossover, passk_curves
from rigorlab.evaluate.findings import findings


def _rows(counts: list[int], n: int, tag: str, length=lambda ok: 20) -> list[dict]:
    """Problem i has counts[i] correct samples of n; answers and chains vary with the sample."""
    rows = []
    for i, c in enumerate(counts):
        for s in range(n):
            ok = s < c
            rows.append({"prompt_id": f"p{i}", "sample": s, "correct": ok, "answer": "42" if ok else str(s % 3),
                         "completion": f"{tag} step {s % 4} " + "then add " * (s % 5) + ("42" if ok else "0"),
                         "tokens": length(ok), "finish_reason": "stop"})
    return rows


def _exact(n: int, c: int, k: int) -> float:
    return 1 - comb(n - c, k) / comb(n, k)


# RL: 8 problems at 12/16 and 8 never solved (narrow); base: all 16 problems at 2/16 (wide)
RL_COUNTS, BASE_COUNTS, N = [12] * 8 + [0] * 8, [2] * 16, 16


def test_exact_pass_at_k_and_the_crossover_k():
    res = compare(_rows(BASE_COUNTS, N, "b"), _rows(RL_COUNTS, N, "r"), ks=[1, 2, 4, 8, 16], n_boot=500)
    for row in res["pass_at_k"]:
        k = row["k"]
        assert row["base"]["mean"] == pytest.approx(_exact(16, 2, k), abs=1e-12)
        assert row["rl"]["mean"] == pytest.approx(np.mean([_exact(16, c, k) for c in RL_COUNTS]), abs=1e-12)
    # closed form: RL 0.375, 0.475, 0.4997, 0.5, 0.5 against base 0.125, 0.242, 0.45, 0.767, 1.0 -> base overtakes RL at 8
    assert res["crossover"]["k"] == 8
    assert res["crossover"]["k_separated"] in (8, 16)
    assert res["solved"]["base_only"] == [f"p{i}" for i in range(8, 16)] and res["solved"]["rl_only"] == []
    sentences = findings(res)
    assert any("overtakes RL's at k = 8" in s for s in sentences)


def test_crossover_absent_and_rl_ahead():
    res = compare(_rows([2] * 16, N, "b"), _rows([8] * 16, N, "r"), ks=[1, 4, 16], n_boot=200)
    assert res["crossover"] == {"k": None, "k_separated": None, "rl_overtakes_k": None}
    assert any("stays ahead" in s for s in findings(res))
    curves = [{"k": k, "diff": {"mean": d, "hi": d + 0.01}} for k, d in ((1, -0.1), (2, 0.05), (4, 0.2))]
    assert crossover(curves)["rl_overtakes_k"] == 2


def test_findings_wording_follows_the_intervals():
    # identical files: every difference is 0 and no finding may claim a direction
    same = compare(_rows(BASE_COUNTS, N, "b"), _rows(BASE_COUNTS, N, "b"), ks=[1, 16], n_boot=200)
    text = " ".join(findings(same))
    assert " higher for " not in text and " lower for " not in text and "cannot be told apart" in text
    assert "the same pass@k at every k up to 16" in text
    # RL's chains 40 tokens longer on every problem: separated, said to be higher
    longer = compare(_rows(BASE_COUNTS, N, "b"), _rows(BASE_COUNTS, N, "r", length=lambda ok: 60), ks=[1], n_boot=200)
    assert longer["length"]["tokens"]["separated"]
    assert "Chain length (tokens) is higher for RL than for base" in " ".join(findings(longer))
    # correct chains longer than incorrect ones, on each problem
    gap = compare(_rows(BASE_COUNTS, N, "b", length=lambda ok: 30 if ok else 10), _rows([6] * 16, N, "r"), ks=[1])
    assert gap["length"]["correct_minus_incorrect"]["base"]["mean"] == pytest.approx(20)
    assert any("For base, correct chains are longer" in s for s in findings(gap))


def test_bootstrap_intervals_cover_near_nominal():
    """Problems drawn from a Beta(1, 3) population of success rates: the 95% interval of pass@4 over
    problems holds E[1 - (1 - p)^4] about 95% of the time, and the 50% interval about half of the time."""
    rng = np.random.default_rng(0)
    a, b, n, k, problems, reps = 1.0, 3.0, 16, 4, 40, 300
    truth = 1 - np.exp(betaln(a, b + k) - betaln(a, b))
    hits = {0.05: 0, 0.5: 0}
    for rep in range(reps):
        counts = rng.binomial(n, rng.beta(a, b, size=problems)).tolist()
        groups = by_problem(_rows(counts, n, "x"))
        for alpha in hits:
            row = passk_curves(groups, groups, list(groups), [k], 400, alpha, rep)[0]["base"]
            hits[alpha] += row["lo"] <= truth <= row["hi"]
    # binomial sd of the coverage over 300 replications: 0.013 at 95%, 0.029 at 50%
    assert 0.91 <= hits[0.05] / reps <= 0.98
    assert 0.41 <= hits[0.5] / reps <= 0.59


def test_cli_writes_json_markdown_and_html(tmp_path):
    base, rl = tmp_path / "base.jsonl", tmp_path / "rl.jsonl"
    base.write_text("".join(json.dumps(r) + "\n" for r in _rows(BASE_COUNTS, N, "b")))
    rl.write_text("".join(json.dumps(r) + "\n" for r in _rows(RL_COUNTS, N, "r")))
    assert main(["compare", str(base), str(rl), "--k", "1,2,4,8,16", "--out", str(tmp_path / "cmp"),
                 "--n-boot", "200", "--embeddings", "off"]) == 0
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert data["crossover"]["k"] == 8 and len(data["findings"]) >= 10
    page = (tmp_path / "cmp" / "compare.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "<script" not in page
    assert "| 8 |" in (tmp_path / "cmp" / "compare.md").read_text()
    # bad input: one sentence, exit 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt_id": "p0", "completion": "x"}) + "\n")
    assert main(["compare", str(bad), str(rl), "--embeddings", "off"]) == 2
    assert main(["compare", str(base), str(rl), "--k", "32", "--embeddings", "off"]) == 2


def test_embedding_path_clusters_count_distinct_chains():
    """With an encoder that maps each distinct chain to its own direction, clusters per sample equal
    distinct chains per sample: RL's 16 copies of one chain are one path, base's chains four."""
    def embed(texts):
        keys = sorted(set(texts))
        out = np.zeros((len(texts), len(keys) + 1), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, keys.index(t)] = 1.0
        return out

    base = _rows([0] * 4, N, "b")                      # chains "b step s%4 ..." differ by s % 20
    rl = [dict(r, completion="one path 0") for r in _rows([0] * 4, N, "r")]
    res = compare(base, rl, ks=[1], n_boot=100, embed=embed)
    emb = res["paths"]["embedding_clusters_per_sample"]
    assert emb["rl"]["mean"] == pytest.approx(1 / 16)
    assert emb["base"]["mean"] == pytest.approx(len({r["completion"] for r in base if r["prompt_id"] == "p0"}) / 16)
    assert any("sentence-embedding clusters" in s and "lower for RL" in s for s in findings(res))
