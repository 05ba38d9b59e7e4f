"""Evidence sentences: how a passage is split into sentences and which one is quoted.

The rule judge and the exemplar layer quote the same way, so a finding's evidence is one sentence
(plus its neighbour when short) of the passage that decided it, never a paraphrase.
"""

from __future__ import annotations

import re

from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.features import Profile
from rigorlab.disclosure.audit.retrieval import Query

QUOTE_CHARS = 320
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])|\n+")

Sentence = tuple[str, str, frozenset[str], bool]   # text, ' words with stop words ', content tokens, has a fact


def sentences_and_tokens(text: str) -> tuple[list[Sentence], list[list[str]]]:
    """The sentences of `text`, and each one's `text.tokenize` (kept for the layer's TF-IDF rows,
    so a quoted passage is not tokenised twice)."""
    out, token_lists = [], []
    for sent in _SENT.split(text):
        sent = sent.strip() if sent else ""
        if sent:
            fact = bool(T.NUMBER_WITH_UNIT.search(sent) or T.URL.search(sent))
            content, words = T.both_tokens(sent)
            out.append((sent, " " + " ".join(words) + " ", frozenset(content), fact))
            token_lists.append(content)
    return out, token_lists


def best_quote(sentences: list[Sentence], query: Query, profile: Profile, limit: int = QUOTE_CHARS) -> str:
    """The sentence (plus its neighbour when short) that best answers the indicator."""
    if not sentences:
        return ""
    phrases = query.needles
    if len(sentences) == 1:
        i = 0
    else:
        words = profile.words

        def score(k: int) -> tuple[float, int]:
            sent, norm, toks, fact = sentences[k]
            return (2.0 * sum(map(norm.__contains__, phrases)) + 0.2 * len(words & toks) + 0.5 * fact, -k)

        i = max(range(len(sentences)), key=score)
    quote = sentences[i][0]
    if len(quote) < limit // 2 and i + 1 < len(sentences):
        quote = f"{quote} {sentences[i + 1][0]}"
    if len(quote) > limit:
        quote = quote[: limit - 1].rsplit(" ", 1)[0] + "\u2026"
    return quote
