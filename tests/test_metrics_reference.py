"""Shared metrics against the reference packages' own numbers on fixed inputs.

EXPECTED was printed by `benchmarks/make_diversity_expected.py` run with
diversity 0.3.1, rouge-score 0.1.2, nltk 3.10 and vendi-score 0.0.3 (none of
them is a rigorlab dependency); the inputs come from that script's
`fixtures()` and `embeddings()`. The package rounds its outputs to 3
decimals, hence the 5e-4 tolerance on those; unrounded references are
compared at 1e-9.
"""

from __future__ import annotations

import importlib.util
import lzma
import zlib
from pathlib import Path

import numpy as np
import pytest

from rigorlab.metrics import embedding, text

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "make_diversity_expected.py"
_spec = importlib.util.spec_from_file_location("make_diversity_expected", _SCRIPT)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)
FIXTURES = ref.fixtures()

ROUNDED = 5e-4 + 1e-12   # the package rounds to 3 decimals

EXPECTED = {'_versions': {'lzma': 'xz-size-88', 'python': '3.11.7', 'zlib': '1.2.13'},
 'disjoint': {'gzip': 0.56,
              'hom_package': 1.0,
              'hom_unrounded': 0.0,
              'nds2': 2.0,
              'nds4': 4.0,
              'self_bleu': 0.0,
              'sr2': 0.0,
              'sr4': 0.0,
              'vendi': 2.98518332218057,
              'xz': 0.5},
 'edge': {'gzip': 0.94,
          'hom_package': 0.054,
          'hom_unrounded': 0.05396825396825397,
          'nds2': 1.094,
          'nds4': 2.506,
          'self_bleu': 0.2031791488918182,
          'sr2': 0.3662040962227033,
          'sr4': 0.23104906018664842,
          'xz': 0.875},
 'embeddings': {'chamfer': 0.279, 'remote_clique': 0.9860000014305115},
 'generated': {'gzip': 5.85,
               'hom_package': 0.315,
               'hom_unrounded': 0.31457020406387315,
               'nds2': 0.273,
               'nds4': 1.302,
               'self_bleu': 0.6655315897364056,
               'sr2': 6.211985455000484,
               'sr4': 5.657604443766899,
               'vendi': 11.524684737031345,
               'xz': 5.978},
 'identical': {'gzip': 2.0,
               'hom_package': 1.0,
               'hom_unrounded': 1.0,
               'nds2': 0.405,
               'nds4': 0.832,
               'self_bleu': 1.0,
               'sr2': 3.3672958299864737,
               'sr4': 3.044522437723423,
               'vendi': 1.0000000000000013,
               'xz': 1.704},
 'readme': {'gzip': 1.641,
            'hom_package': 0.318,
            'hom_unrounded': 0.3182117150657731,
            'nds2': 1.456,
            'nds4': 3.315,
            'self_bleu': 0.16132020773332337,
            'sr2': 2.511587552345846,
            'sr4': 2.0349310774716614,
            'vendi': 2.8617979102021978,
            'xz': 1.423}}


def _same_compressors() -> bool:
    v = EXPECTED["_versions"]
    return v["zlib"] == zlib.ZLIB_RUNTIME_VERSION and v["lzma"] == f"xz-size-{len(lzma.compress(b'rigorlab ' * 100))}"


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_ngram_diversity_score_matches_package(name):
    e = EXPECTED[name]
    assert text.ngram_diversity_score(FIXTURES[name], 4) == pytest.approx(e["nds4"], abs=ROUNDED)
    assert text.ngram_diversity_score(FIXTURES[name], 2) == pytest.approx(e["nds2"], abs=ROUNDED)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_self_repetition_matches_package_unrounded(name):
    e = EXPECTED[name]
    assert text.self_repetition_score(FIXTURES[name], 4) == pytest.approx(e["sr4"], rel=1e-12, abs=1e-12)
    assert text.self_repetition_score(FIXTURES[name], 2) == pytest.approx(e["sr2"], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_compression_ratio_matches_package(name):
    if not _same_compressors():
        pytest.skip("zlib/liblzma build differs from the one the reference values were made with")
    e = EXPECTED[name]
    assert text.compression_ratio(FIXTURES[name], "gzip") == pytest.approx(e["gzip"], abs=ROUNDED)
    assert text.compression_ratio(FIXTURES[name], "xz") == pytest.approx(e["xz"], abs=ROUNDED)


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_rouge_l_homogenisation_matches_rouge_score(name):
    e = EXPECTED[name]
    got = text.homogenization_rougel(FIXTURES[name])
    assert got.exact and got.half_width == 0.0
    assert got.value == pytest.approx(e["hom_unrounded"], abs=1e-12)
    if name != "disjoint":
        assert got.value == pytest.approx(e["hom_package"], abs=ROUNDED)


def test_rouge_l_all_zero_pairs_fixed():
    # the package returns 1.0 (maximally homogeneous) when no pair shares a token
    assert EXPECTED["disjoint"]["hom_package"] == 1.0
    assert EXPECTED["disjoint"]["hom_unrounded"] == 0.0
    assert text.homogenization_rougel(FIXTURES["disjoint"]).value == 0.0


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_self_bleu_matches_nltk(name):
    assert text.self_bleu(FIXTURES[name]) == pytest.approx(EXPECTED[name]["self_bleu"], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(n for n in FIXTURES if "vendi" in EXPECTED[n]))
def test_ngram_vendi_matches_vendi_score(name):
    got = text.ngram_vendi_score(FIXTURES[name], mode="exact")
    assert got.value == pytest.approx(EXPECTED[name]["vendi"], rel=1e-9)


def test_embedding_metrics_match_package():
    emb = np.array(ref.embeddings(), dtype=np.float32)
    e = EXPECTED["embeddings"]
    assert embedding.remote_clique(emb) == pytest.approx(e["remote_clique"], abs=ROUNDED)
    assert embedding.chamfer_distance(emb) == pytest.approx(e["chamfer"], abs=ROUNDED)
