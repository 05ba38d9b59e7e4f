"""The auditor's speed-ups change nothing it finds: literal prefilters, rewritten patterns, postings
and the one-pass helpers give exactly what the plain forms give (the plain forms are written out
here as the reference). No timings: benchmarks/bench_audit.py measures speed."""

from __future__ import annotations

import re
import string

import numpy as np
import pytest

from rigorlab.disclosure import vagueness
from rigorlab.disclosure.audit import markdown as M
from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.document import Document, Passage
from rigorlab.disclosure.audit.features import combine, combine_values, indicator_profile, passage_stats
from rigorlab.disclosure.audit.retrieval import PassageIndex, make_query
from rigorlab.disclosure.audit.scoring import score_framework
from rigorlab.disclosure.literals import CASE_ODD, AnyOf, Prefiltered, foldable, required_literals

TEXTS = [
    "", "a", "We used 1.5T tokens from Common Crawl (CC-MAIN-2023-50) and $2.4M of compute.",
    "Trained on 2,048 H100s for 30 days in March 2024; see https://example.org/card and www.x.ai/about.",
    "Contact us at team@lab.ai. Data tables (see Gebru et al.) were not disclosed.",
    "ID 7B3; v2.1-beta; 3.5x; .5 B; x2 GPUs; 12%; 10 percent; 400 thousand pairs; 5kWh", "$ 5 K and \u20ac3m, \u00a37b",
    "PUBLICLY AVAILABLE DATA from the İnternet; ſtate of the art techniques; \u212aL distance",
    "publicly-available sources, a large corpus, various sources, a lot of data, upon request, on request",
    "Not disclosed.\nNone\nn/a\n  TBD .\nWe do not publicly disclose this. Proprietary and confidential.",
    "the model card by Gebru and the datasheet by Mitchell; open-sourced models; weights are fully open source",
    "perplexity of 3.2 nats per token; KL-distance; Kullback Leibler distance", "Jan 5, dec. 2023, Sept 30, may 4",
    "e.g. 1990s; 2019-2020; the years 1899 and 2100; 20th; x2020y; 1.2019", "a--b a-b-c don't 'quoted' -x- état",
    "github.com/org/repo and org.com/path and sub.example.io/x?y=1)", "\u00e9t\u00e9 2023 \u2014 \u201cquoted name\u201d",
]


def _spans(rx, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in rx.finditer(text)]


# ---- literals: what every match must contain --------------------------------------------------

def test_required_literals_are_read_from_the_pattern():
    assert required_literals(re.compile(r"\bdata[- ]?tables?\b", re.I)) == (("data",), ("table",))
    assert required_literals(re.compile(r"(?:foo|bar)\d+baz")) == (("foo", "bar"), ("baz",))
    assert required_literals(re.compile(r"x?y*")) == ()              # can match anywhere: no literal
    assert required_literals(re.compile(r"a(?i:bc)d")) == (("a",), ("d",))   # a case change is not read


def test_case_odd_is_every_non_ascii_character_that_folds_to_ascii():
    """`foldable` relies on this list: re.IGNORECASE matches an ASCII letter to exactly these."""
    every = "".join(chr(i) for i in range(0x80, 0x110000) if not 0xD800 <= i < 0xE000)
    odd = {c for a in string.ascii_lowercase for c in re.findall(a, every, re.IGNORECASE)}
    assert odd == set(CASE_ODD)
    assert foldable("caf\u00e9") and not foldable("İnternet")


@pytest.mark.parametrize("pattern, flags", [
    (r"\bdata[- ]?tables?\b", re.I), (r"\bKL[- ]distance\b", re.I), (r"\bperplexit(?:y|ies)\b[^.;]{0,40}?\bnats?", re.I),
    (r"star", re.I), (r"\u017ftar", re.I), (r"(?:foo|bar)+baz", re.I), (r"kelvin", re.I), (r"Gebru", 0),
])
def test_prefiltered_finds_exactly_what_the_pattern_finds(pattern, flags):
    rx = re.compile(pattern, flags)
    pf = Prefiltered(rx)
    for text in TEXTS + ["\u212aelvin", "\u017fTAR", "FOOBARbaz", "data-table", "Perplexity of 3 nats"]:
        assert _spans(pf, text) == _spans(rx, text)
        assert pf.findall(text) == rx.findall(text)


def test_any_of_matches_the_whole_alternation():
    whole = vagueness.VAGUE if isinstance(vagueness.VAGUE, re.Pattern) else vagueness.VAGUE.rx
    vague = AnyOf(r"\b", vagueness._GENERIC, r"\b", re.IGNORECASE)
    assert vague.pattern == whole.pattern
    anchored = AnyOf(r"\b", (r"not (?:shared|disclosed)", r"^\s*(?:none|n/?a)\s*$"), "", re.I | re.M)
    anchored_whole = re.compile(anchored.pattern, re.I | re.M)
    for text in TEXTS:
        assert _spans(vague, text) == _spans(whole, text)
        assert vague.sub(" ", text) == whole.sub(" ", text)
        assert _spans(anchored, text) == _spans(anchored_whole, text)


# ---- text: rewritten patterns against their plain forms ----------------------------------------

UNITS = (r"(?:%|percent|[kKmMbBtT]\b|thousand|million|billion|trillion|tokens?|parameters?|params|"
         r"examples?|samples?|documents?|images?|hours?|gpus?|tpus?|h100s?|a100s?|h800s?|flops?|days?|"
         r"languages?|tb|gb|mb|kwh|mwh|tco2e?|tons?|words?|pairs?|prompts?|annotators?|people|employees?|"
         r"steps?|epochs?|layers?|seeds?|runs?|nodes?|kg|kw|w)\b")
PLAIN = {
    "URL": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+|https?://[^\s)>\]\"']+|www\.[^\s)>\]\"']+|"
                      r"\b[\w.-]+\.(?:com|org|ai|io|net|edu|gov)/[^\s)>\]]*"),
    "NUMBER": re.compile(r"(?<![\w.])\d[\d,.]*(?:\s*(?:%|[kmbt]\b|[KMBT]\b))?"),
    "NUMBER_WITH_UNIT": re.compile(r"[$\u20ac\u00a3]\s?\d[\d,.]*\s*[kKmMbB]?\b|(?<![\w.])\d[\d,.]*\s*" + UNITS,
                                   re.IGNORECASE),
    "YEAR_OR_DATE": re.compile(r"\b(?:(?:19|20)\d\d\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
                               r"[a-z]{0,6}\.?\s+\d{1,4}\b)", re.IGNORECASE),
    "PROPER": re.compile(r"(?<=[a-z0-9,;:(]\s)(?:[A-Z][a-z]*[A-Z0-9][\w-]*|[A-Z][a-z]{2,}|[A-Z]{2,}[\w-]*)"),
}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_text_patterns_match_their_plain_forms(name):
    fast, plain = getattr(T, name), PLAIN[name]
    for text in TEXTS + [" ".join(TEXTS)]:
        assert fast.findall(text) == plain.findall(text)
        assert _spans(fast, text) == _spans(plain, text)
        got, want = fast.search(text), plain.search(text)
        assert (got and got.span()) == (want and want.span())


def test_content_tokens_of_raw_words_is_tokenize():
    for text in TEXTS:
        assert T.content_tokens(T.raw_words(text)) == T.tokenize(text)


def test_clean_inline_skips_only_substitutions_that_cannot_apply():
    assert M.clean_inline("> **Bold** [link](https://x.org) ![alt](i.png) <a href='u'>t</a> &amp;\u00a0x") == \
        "Bold link (https://x.org) alt t (u) & x"
    assert M.clean_inline("plain  text\twith   blanks") == "plain text with blanks"


# ---- retrieval: postings give the hits a scan of the whole text gives ---------------------------

def _doc() -> Document:
    texts = [("Training data: we filter toxic web pages.", ("Data",)), ("Terms of use apply.", ("License",)),
             ("The data source is Common Crawl; a data-source list follows.", ("Data", "Sources")),
             ("No keyword here.", ("Other",)), ("Opt-out requests: opt out by e-mail.", ("Data", "Sources"))]
    return Document(path="d.md", kind="markdown", title="d",
                    passages=[Passage(index=i, text=t, heading_path=h, line_start=i, line_end=i)
                              for i, (t, h) in enumerate(texts)])


def test_phrase_hits_equal_a_scan_of_each_passage():
    doc = _doc()
    idx = PassageIndex(doc)
    for phrase in [("data",), ("data", "source"), ("terms", "of", "use"), ("opt", "out"), ("sources",),
                   ("source",), ("nowhere",), ("data", "nowhere")]:
        needle = " " + " ".join(phrase) + " "
        body = [needle in " " + " ".join(T.phrase_tokens(p.text)) + " " for p in doc.passages]
        head = [needle in " " + " ".join(T.phrase_tokens(" ".join(p.heading_path))) + " " for p in doc.passages]
        got_body, got_head = idx.phrase_hits(phrase)
        assert got_body.tolist() == body and got_head.tolist() == head


def test_keyword_signals_are_computed_once_and_read_only():
    idx = PassageIndex(_doc())
    q = make_query("Data sources", "Which data sources were used?", ["data source", "crawl", "nowhere at all"])
    kw = idx.keyword_evidence(q)
    assert idx.keyword_evidence(q) is kw and not kw.flags.writeable
    assert idx.keyword_hits(q)
    assert not idx.keyword_hits(make_query("X", "Y?", ["zzz"]))
    assert q.needles == (" data source ", " crawl ", " nowhere at all ")
    assert q.question_total == pytest.approx(sum(w for _, w in q.question_weights))


# ---- features and scores ------------------------------------------------------------------------

def test_combine_values_is_combine():
    prof = indicator_profile("Training compute", "How much compute (FLOPs, GPU hours) was used?")
    for text in TEXTS:
        st = passage_stats(text)
        assert np.array_equal(combine(prof, st), np.array(combine_values(prof, st)))


def test_framework_score_is_the_weighted_share_disclosed():
    from rigorlab.disclosure.audit.engine import audit_text
    from rigorlab.disclosure.frameworks import load_framework

    fw = load_framework("ddt")
    findings = audit_text(TEXTS[2] + "\n\n" + TEXTS[3], "ddt", learned=False).findings
    got = score_framework(fw, findings)
    total = sum(f.weight for f in findings)
    assert got.score == round(100.0 * sum(f.weight for f in findings if f.level == "disclosed") / total, 1)
    assert got.disclosed + got.vague + got.absent == len(findings)
    for s in got.sections:
        mine = [f for f in findings if f.section == s.id]
        assert (s.disclosed, s.vague, s.absent) == tuple(sum(f.level == lv for f in mine)
                                                         for lv in ("disclosed", "vague", "absent"))


def test_fewer_collections_raises_the_first_threshold_and_restores_it_even_on_error():
    import gc

    from rigorlab.disclosure.audit.engine import fewer_collections

    old = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_collections(gen0=12_345):
            assert gc.get_threshold() == (12_345, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
        with pytest.raises(RuntimeError), fewer_collections(gen0=12_345):
            raise RuntimeError("boom")
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(99_999, 10, 10)            # never lowers a threshold the user raised
        with fewer_collections(gen0=12_345):
            assert gc.get_threshold() == (99_999, 10, 10)
    finally:
        gc.set_threshold(*old)
