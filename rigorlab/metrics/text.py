"""Lexical diversity of a set of texts (docs/theory.md section 8).

The definitions of `ngram_diversity_score`, `compression_ratio`,
`self_repetition_score` and `homogenization_rougel` are those of the
`diversity` package (Shaib et al. 2024, "Standardizing the Measurement of Text
Diversity", PyPI `diversity` 0.3.1), so numbers are comparable with papers
that used it. Two deliberate differences, both documented where they occur:
we return full precision (the package rounds to 3 decimals), and the ROUGE-L
homogenisation returns 0.0, not 1.0, when every pair scores 0.

All functions take a list of strings and run in time linear in the total
number of tokens (except the pairwise ROUGE-L, see `rouge.py`).
"""

from __future__ import annotations

import gzip
import lzma
import zlib
from typing import Sequence

import numpy as np

from rigorlab.metrics import _tokens
from rigorlab.metrics.bleu import self_bleu
from rigorlab.metrics.errors import MetricInputError, check_positive_int, check_texts
from rigorlab.metrics.rouge import homogenization_rougel
from rigorlab.metrics.vendi import ngram_vendi_score

GZIP_MTIME = 1_700_000_000  # a fixed, ordinary timestamp for the inner gzip header

__all__ = [
    "distinct_n",
    "ngram_diversity_score",
    "compression_ratio",
    "self_repetition_score",
    "self_bleu",
    "homogenization_rougel",
    "ngram_vendi_score",
]


def distinct_n(texts: Sequence[str], n: int = 2) -> float:
    """Distinct-n (Li et al. 2016): distinct n-grams / all n-grams, n-grams inside texts.

    Tokens are `str.split()`. Range (0, 1], higher = more diverse; nan when no
    text has n tokens.
    """
    texts = check_texts(texts)
    n = check_positive_int(n, "n")
    keys, _ = _tokens.text_ngrams(_tokens.whitespace_tokens(texts), n)
    if keys.size == 0:
        return float("nan")
    return _tokens.count_distinct(keys) / keys.size


def ngram_diversity_score(texts: Sequence[str], num_n: int = 4) -> float:
    """N-gram diversity score (Meister et al. 2023; `diversity.ngram_diversity_score`).

        NDS = sum_{n=1}^{num_n} |distinct n-grams| / |n-grams|

    over the token list `" ".join(texts).split(" ")`, exactly as the package:
    n-grams run across text boundaries and runs of spaces give empty tokens.
    Range (0, num_n], higher = more diverse. The package rounds to 3 decimals;
    this returns full precision.
    """
    texts = check_texts(texts)
    num_n = check_positive_int(num_n, "num_n")
    tokens = _tokens.encode([" ".join(texts).split(" ")])
    ids, v = tokens.ids, tokens.vocab_size
    t = len(ids)
    if t < num_n:
        raise MetricInputError(f"the texts have {t} token(s) in all, fewer than num_n={num_n}")
    if v ** num_n < (1 << 62):
        return _nds_one_sort(ids, v, num_n)
    return float(sum(_tokens.count_distinct(_tokens.ngram_keys(ids, n, v)) / (t - n + 1)
                     for n in range(1, num_n + 1)))


def _nds_one_sort(ids: np.ndarray, v: int, num_n: int) -> float:
    """All orders from one sort: an m-gram key is the num_n-gram key // V**(num_n - m)."""
    t = len(ids)
    full = np.sort(_tokens.ngram_keys(ids, num_n, v))          # (t - num_n + 1,)
    score = 0.0
    for m in range(1, num_n + 1):
        shift = v ** (num_n - m)
        pref = full // shift if shift > 1 else full             # sorted m-gram keys
        distinct = pref[np.concatenate(([True], pref[1:] != pref[:-1]))]
        # the last num_n - m m-grams are not prefixes of any num_n-gram
        tail = _tokens.ngram_keys(ids[t - num_n + 1:], m, v) if m < num_n else np.zeros(0, np.int64)
        tail = np.unique(tail)
        pos = np.searchsorted(distinct, tail)
        found = (pos < distinct.size) & (distinct[np.minimum(pos, distinct.size - 1)] == tail)
        score += (distinct.size + int(np.count_nonzero(~found))) / (t - m + 1)
    return float(score)


def compression_ratio(texts: Sequence[str], algorithm: str = "gzip") -> float:
    """Compression ratio, byte-for-byte the `diversity` package's definition.

        CR = len(utf8(" ".join(texts))) / compressed size

    gzip: the package writes `gzip.compress(data)` (level 9) into a
    `gzip.GzipFile` named "compressed.gz" (level 9), i.e. it gzips twice; we
    compute the size of exactly that file in memory (the second pass adds
    ~0.04% on large inputs). The inner stream's header holds the current
    time, which can move the package's size by a byte from run to run; we fix
    that time (GZIP_MTIME) so results are deterministic.
    xz: an .xz stream, preset 6, CRC64 check.
    Range > 0 (about 1 for incompressible text), higher = more redundant.
    Sizes depend on the zlib/liblzma build; results match the package on the
    same build. The package rounds to 3 decimals; this returns full precision.
    """
    texts = check_texts(texts)
    data = " ".join(texts).encode("utf-8")
    if not data:
        raise MetricInputError("compression ratio needs non-empty text")
    if algorithm == "gzip":
        inner = gzip.compress(data, compresslevel=9, mtime=GZIP_MTIME)
        # GzipFile header: 10 bytes + file name "compressed" + NUL; trailer: CRC32 + size
        deflated = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = deflated.compress(inner) + deflated.flush()
        size = 10 + len(b"compressed\x00") + len(body) + 8
    elif algorithm == "xz":
        size = len(lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=6))
    else:
        raise MetricInputError(f"algorithm must be 'gzip' or 'xz', got {algorithm!r}")
    return len(data) / size


def self_repetition_score(texts: Sequence[str], n: int = 4) -> float:
    """Self-repetition (Salkar et al. 2022; `diversity.self_repetition_score`).

        SR = mean_i log(1 + sum_{g in U_i} (c(g) - 1))

    U_i: the distinct n-grams of text i (`str.split()` tokens); c(g): the
    number of texts containing g. So each text scores the log of how many
    times its n-grams reappear in OTHER texts. Range [0, inf), higher = more
    repetition across texts. The package's quadratic list concatenation is
    replaced by two sorts: O(T log T).
    """
    texts = check_texts(texts)
    n = check_positive_int(n, "n")
    keys, doc = _tokens.text_ngrams(_tokens.whitespace_tokens(texts), n)
    if keys.size == 0:
        return 0.0
    uniq, rank = np.unique(keys, return_inverse=True)
    u = len(uniq)
    pair = np.unique(doc * u + rank)                 # distinct (text, n-gram)
    pair_doc, pair_rank = pair // u, pair % u
    n_texts_with = np.bincount(pair_rank, minlength=u)  # c(g)
    others = np.bincount(pair_doc, weights=n_texts_with[pair_rank] - 1, minlength=len(texts))
    return float(np.log1p(others).sum() / len(texts))
