"""Compute the reference values that tests/test_metrics_reference.py stores.

Run it in an environment with the reference packages (NOT a rigorlab
dependency), e.g.

    python -m venv /tmp/divenv --system-site-packages
    /tmp/divenv/bin/pip install diversity==0.3.1 spacy openai vendi-score==0.0.3
    /tmp/divenv/bin/python benchmarks/make_diversity_expected.py

It prints a Python literal to paste into the test as EXPECTED. Sources:
- `diversity` 0.3.1 (Shaib et al. 2024): ngram_diversity_score,
  compression_ratio (gzip, xz), self_repetition_score, homogenization_score
  (rougel), remote_clique and chamfer_dist (with the encoder replaced by
  fixed embeddings, so only the package's metric code runs);
- `rouge_score` (the package's scorer), pair by pair, for an unrounded ROUGE-L mean;
- NLTK `sentence_bleu` with `SmoothingFunction().method1` for self-BLEU;
- `vendi_score` 0.0.3 `text_utils.ngram_vendi_score(tokenizer=str.split)`.

`fixtures()` and `embeddings()` are also imported by the test, so both sides
see identical inputs; keep this module free of top-level third-party imports.
"""

from __future__ import annotations

import sys
import zlib

README_TEXTS = [
    "I enjoy walking with my cute dog for the rest of the day, but this time it was hard for me to figure out what "
    "to do with it. When I finally looked at this for a few moments, I immediately thought.",
    "I enjoy walking with my cute dog. The only time I felt like walking was when I was working, so it was awesome "
    "for me. I didn't want to walk for days. I am really curious how she can walk with me",
    "I enjoy walking with my cute dog (Chama-I-I-I-I-I), and I really enjoy running. I play in a little game I play "
    "with my brother in which I take pictures of our houses.",
]

EDGE_TEXTS = [
    "",
    "  two  spaces  and\ta tab ",
    "Ünïcödé wörds, PUNCT!! and\nnew lines",
    "one",
    "the same the same the same the same",
    "the same the same",
]

DISJOINT_TEXTS = ["alpha beta gamma", "delta epsilon", "zeta eta theta iota", "kappa"]

IDENTICAL_TEXTS = ["we add the two numbers and get seven"] * 5


class _Lcg:
    """A fixed pseudo-random stream (same numbers on every Python)."""

    def __init__(self, seed: int) -> None:
        self.state = seed

    def next(self, bound: int) -> int:
        self.state = (6364136223846793005 * self.state + 1442695040888963407) % (1 << 64)
        return (self.state >> 33) % bound


def _generated(n: int = 60, seed: int = 7) -> list[str]:
    """Texts of 0..130 words over a small vocabulary with shared phrases (LCS beyond 64 tokens)."""
    rng = _Lcg(seed)
    words = [f"w{i}" for i in range(40)] + ["the", "a", "so", "then", "check", "sum"]
    phrases = ["let me check the sum again", "so the answer is", "first we add then we divide"]
    out = []
    for _ in range(n):
        length = rng.next(131)
        toks: list[str] = []
        while len(toks) < length:
            if rng.next(5) == 0:
                toks.extend(phrases[rng.next(len(phrases))].split())
            else:
                toks.append(words[min(rng.next(len(words)), rng.next(len(words)))])
        sep = "  " if rng.next(10) == 0 else " "
        out.append(sep.join(toks[:length]))
    return out


def fixtures() -> dict[str, list[str]]:
    return {"readme": README_TEXTS, "edge": EDGE_TEXTS, "disjoint": DISJOINT_TEXTS,
            "identical": IDENTICAL_TEXTS, "generated": _generated()}


def embeddings(n: int = 50, d: int = 16, seed: int = 3) -> list[list[float]]:
    """Fixed embeddings with some near-duplicate rows."""
    rng = _Lcg(seed)
    rows = [[rng.next(2001) / 1000.0 - 1.0 for _ in range(d)] for _ in range(n)]
    for i in range(0, n, 5):
        rows[i + 1] = [v + (rng.next(21) - 10) / 1000.0 for v in rows[i]]
    return rows


def main() -> None:
    import diversity
    import numpy as np
    import scipy.sparse
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    from rouge_score import rouge_scorer

    if not hasattr(scipy.sparse.csr_matrix, "A"):  # vendi_score 0.0.3 uses the removed .A
        scipy.sparse.csr_matrix.A = property(lambda self: self.toarray())
    from vendi_score import text_utils

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    smooth = SmoothingFunction().method1
    expected: dict = {"_versions": {"zlib": zlib.ZLIB_RUNTIME_VERSION, "lzma": _lzma_version(),
                                    "python": sys.version.split()[0]}}
    for name, texts in fixtures().items():
        e: dict = {}
        e["nds4"] = diversity.ngram_diversity_score(texts, 4)
        e["nds2"] = diversity.ngram_diversity_score(texts, 2)
        e["gzip"] = diversity.compression_ratio(texts, "gzip")
        e["xz"] = diversity.compression_ratio(texts, "xz")
        e["sr4"] = float(diversity.self_repetition_score(texts, 4, verbose=False))
        e["sr2"] = float(diversity.self_repetition_score(texts, 2, verbose=False))
        e["hom_package"] = diversity.homogenization_score(texts, "rougel", verbose=False)
        n = len(texts)
        pairs = [scorer.score(texts[j], texts[i])["rougeL"].fmeasure for i in range(n) for j in range(i + 1, n)]
        e["hom_unrounded"] = sum(pairs) / len(pairs)
        toks = [t.split() for t in texts]
        e["self_bleu"] = sum(sentence_bleu(toks[:i] + toks[i + 1:], toks[i], smoothing_function=smooth)
                             for i in range(n)) / n
        if all(t.split() for t in texts):  # vendi_score divides by zero on a text without tokens
            e["vendi"] = float(text_utils.ngram_vendi_score(texts, tokenizer=str.split))
        expected[name] = e

    emb = np.array(embeddings(), dtype=np.float32)

    class FixedEncoder:  # stands in for SentenceTransformer: the package's metric code runs unchanged
        def __init__(self, *args, **kwargs):
            pass

        def encode(self, data, **kwargs):
            return emb

    diversity.embedding.SentenceTransformer = FixedEncoder
    expected["embeddings"] = {
        "remote_clique": float(diversity.embedding.remote_clique(["x"] * len(emb), verbose=False)),
        "chamfer": float(diversity.embedding.chamfer_dist(["x"] * len(emb), verbose=False)),
    }
    import pprint

    print("EXPECTED = ", end="")
    pprint.pprint(expected, width=110, sort_dicts=True)


def _lzma_version() -> str:
    import lzma

    # liblzma's version is not exposed; the size of a fixed stream identifies the build well enough
    return f"xz-size-{len(lzma.compress(b'rigorlab ' * 100))}"


if __name__ == "__main__":
    main()
