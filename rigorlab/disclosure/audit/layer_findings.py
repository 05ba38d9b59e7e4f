"""How the learned layer turns the level it gives into a finding: which passage and sentence it quotes,
and the reason it writes.

The layer's level comes from `exemplars.ExemplarModel` (its document stage); this module only
decides what the finding then says. Rules it keeps: an explicit refusal stays absent; a vague
formula is never "disclosed"; a mentioned level quotes the passage the layer ranked first for it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from scipy import sparse

from rigorlab.disclosure.audit.document import Document
from rigorlab.disclosure.audit.judge import DocumentJudge, Finding
from rigorlab.disclosure.audit.layer_parts import PairBlock
from rigorlab.disclosure.audit.tfidf import Vectoriser, fold_numbers


class SentenceQuoter(Protocol):
    """What the quoting needs from the fitted model: its TF-IDF vectoriser, and which of a passage's
    sentences reads most like an indicator's labelled evidence of a level."""

    vectoriser: Vectoriser

    def best_sentence(self, indicator: str, level: str, sents: list[str],
                      rows: sparse.csr_matrix | None) -> str: ...


def refined_finding(doc: Document, block: PairBlock, f: Finding, level: str, best: tuple[int, int],
                    pd: float, pm: float, rules: DocumentJudge, quoter: SentenceQuoter) -> Finding:
    """One finding with the layer's level, evidence and reason (`rules`: this document's rule judge,
    whose passage statistics and sentence splits are reused).

    Where the layer gives a mentioned level, its quote comes from the passage it ranked first for
    that level, also where it agrees with the rule judge or lowers its "disclosed" to "vague": on
    the development folds that passage held people's quote more often than the rule judge's
    keyword-ranked one (0.55 of items against 0.52; README, "Which passage and sentence the layer
    quotes")."""
    probs = f"P(disclosed) {pd:.2f}, P(mentioned) {pm:.2f}"
    if f.level == "absent" and f.evidence:
        # the rule judge's only "absent" with evidence is an explicit refusal, "we do not disclose
        # ...", which the guidelines call absent (rule 4), whatever the regression says
        return f
    jd, jm = best
    at = block.indices                                  # block row -> document passage
    if level == f.level:
        if level == "absent" or not f.evidence:
            return f
        lines = (f.location or {}).get("lines") or []
        where = f"lines {lines[0]}-{lines[-1]}" if lines else "another passage"
        return _layer_quote(doc, block, f, level, jd if level == "disclosed" else jm, at, rules, quoter,
                            f"learned layer: {level}, as the rule judge ({probs}); quoted from the "
                            f"passage the layer ranked first (the rule judge quoted {where}: {f.reason})")
    if level == "disclosed" and rules.stats(at[jd]).formula:
        # the frameworks' own definition (FRAMEWORKS.md): a vague formula with no number, link,
        # date or name is never a disclosure, whatever the regression says; the rule judge's quote
        # stands
        if f.level == "vague":
            return f
        if f.level == "disclosed":
            return replace(f, level="vague", reason=f"learned layer: vague ({probs}; rule judge: {f.level})")
        level = "vague"
    if level == "absent":
        return replace(f, level="absent", evidence="", location=None,
                       reason=f"learned layer: nothing reads like this indicator's labelled evidence ({probs})")
    return _layer_quote(doc, block, f, level, jd if level == "disclosed" else jm, at, rules, quoter,
                        f"learned layer: reads like labelled {level} evidence of {f.id} "
                        f"({probs}; rule judge: {f.level})", keep_same=f.level == "disclosed")


def _layer_quote(doc: Document, block: PairBlock, f: Finding, level: str, j: int, at: list[int],
                 rules: DocumentJudge, quoter: SentenceQuoter, reason: str, keep_same: bool = True) -> Finding:
    """`f` at `level`, quoting the best sentence of block passage `j` (`keep_same`: the rule judge's
    quote is kept where `j` is the passage it quoted)."""
    passage = block.passages[j]
    location = passage.location(doc.path)
    if keep_same and f.evidence and f.location and f.location.get("lines") == location.get("lines"):
        return replace(f, level=level, reason=reason if level != f.level else f.reason)
    got = block.sentences.get(j)
    if got is None:
        sents = [s[0] for s in rules.sentences(at[j])] or [passage.text]
        rows = quoter.vectoriser.from_tokens([fold_numbers(t) for t in rules.sentence_tokens(at[j])]) \
            if len(sents) > 1 else None
        got = block.sentences[j] = (sents, rows)
    return replace(f, level=level, evidence=quoter.best_sentence(f.id, level, *got),
                   location=location, reason=reason)
