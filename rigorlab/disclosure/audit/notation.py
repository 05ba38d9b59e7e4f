"""Notation check: a KL divergence called "reverse" or "forward" must be written that way.

Convention (docs/theory.md, as in RL fine-tuning and variational inference):
the reverse KL is KL(trained || reference), e.g. D_KL(pi_theta || pi_ref),
mode-seeking; the forward KL is KL(reference || trained), mass-covering. A
sentence that names one direction and writes the other's formula gets a
finding. Which symbols are "trained" and which "reference" is data
(`glossary.yaml`, `notation.kl_direction`); a formula whose arguments are not
recognised, or a sentence naming both directions away from the formula, is
left alone: the check must stay silent rather than guess.
"""

from __future__ import annotations

import re
from pydantic import BaseModel, ConfigDict

from rigorlab.disclosure.audit.document import Document, Passage
from rigorlab.disclosure.audit.wording import TermFinding, sentence_spans

# "KL" as an operator name: KL(, D_KL(, D_{KL}(, D_{\mathrm{KL}}\left(, \operatorname{KL}[ ...
_KL = re.compile(r"(?<![A-Za-z])KL(?![A-Za-z])")
_PREFIX = re.compile(r"(?:\\mathbb\{D\}|\\mathcal\{D\}|D)?\s*_?\s*\{?\s*(?:\\(?:mathrm|operatorname|text)\s*\{)?$")
_OPEN = re.compile(r"[\s}]*(?:\\left|\\bigl?|\\Bigl?|\\biggl?)?\s*([(\[])")
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_DOUBLE_SEPS = ("\\parallel", "\\Vert", "\\|", "||", "\u2016", "\u2225")
_SIZERS = re.compile(r"\\(?:right|left|bigr|bigl|Bigr|Bigl|biggr|biggl|big|Big|bigg)(?![A-Za-z])")
# "Unlike the forward KL, we use KL(...)": a direction named only to be set aside does not name the formula.
_CONTRAST = re.compile(r"\b(?:unlike|instead of|rather than|not|as opposed to|in contrast to|contrary to|"
                       r"compared (?:with|to)|versus|vs\.?)\s+(?:the\s+|a\s+)?$", re.IGNORECASE)
ADJACENT = 24   # characters between a direction phrase and its formula that still bind them when both directions occur


def normalise_symbol(sym: str) -> str:
    """'\\pi_{\\theta}(\\cdot \\mid x)' and 'pi_theta' both become 'π_θ'."""
    s = _SIZERS.sub("", sym)
    s = re.sub(r"\\(?:mathrm|text|textrm|operatorname|mathit|mathbf|boldsymbol|rm|mathsf)\s*\{([^{}]*)\}", r"\1", s)
    for tex, uni in (("\\theta", "θ"), ("\\phi", "φ"), ("\\pi", "π"), ("\\star", "*"), ("\\ast", "*")):
        s = s.replace(tex, uni)
    s = re.sub(r"\\[A-Za-z]+", "", s)
    s = re.sub(r"[{}\s$]", "", s)
    s = re.sub(r"(?<![A-Za-z])pi(?![a-z])", "π", s, flags=re.IGNORECASE)
    s = re.sub(r"(?<![A-Za-z])theta(?![A-Za-z])", "θ", s, flags=re.IGNORECASE)
    s = re.sub(r"(?<![A-Za-z])phi(?![A-Za-z])", "φ", s, flags=re.IGNORECASE)
    s = re.sub(r"\(.*\)$", "", s)          # arguments: (·|x), (y|x)
    return s.replace("^", "").strip("_").lower()


def _match_close(text: str, i: int) -> int | None:
    """Index of the bracket closing text[i], counting (), [], {}; None if it never closes."""
    stack = [_CLOSE[text[i]]]
    for j in range(i + 1, min(len(text), i + 400)):
        c = text[j]
        if c in _CLOSE:
            stack.append(_CLOSE[c])
        elif c in ")]}":
            if c != stack[-1]:
                return None
            stack.pop()
            if not stack:
                return j
    return None


def split_arguments(inner: str) -> tuple[str, str] | None:
    """The two arguments of KL(a || b) at bracket depth 0 (a single | only when no double bar is there)."""
    depth, singles = 0, []
    i = 0
    while i < len(inner):
        c = inner[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            for sep in _DOUBLE_SEPS:
                if inner.startswith(sep, i):
                    return inner[:i].strip(), inner[i + len(sep):].strip()
            if c == "|":
                singles.append(i)
        i += 1
    if len(singles) == 1:
        return inner[:singles[0]].strip(), inner[singles[0] + 1:].strip()
    return None


class KLNotation(BaseModel):
    """Which symbols are the trained distribution and which the reference, and the direction words
    (`notation.kl_direction` of glossary.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    trained: list[str]
    reference: list[str]
    reverse: list[str]
    forward: list[str]


class KLChecker:
    """Applies `notation.kl_direction` of the glossary to one passage at a time."""

    def __init__(self, spec: KLNotation) -> None:
        self.spec = spec
        self.trained = {normalise_symbol(s) for s in spec.trained}
        self.reference = {normalise_symbol(s) for s in spec.reference}
        words = {"reverse": "|".join(spec.reverse), "forward": "|".join(spec.forward)}
        self.phrases = {
            d: [re.compile(rf"\b(?:{w})\b[- ](?:[\w-]+\s+){{0,3}}?(?:KL\b|Kullback|divergence|relative entropy)",
                           re.IGNORECASE),
                re.compile(rf"(?:\bKL\b|Kullback[- ]Leibler)[^.;]{{0,30}}?\b(?:{w})\b", re.IGNORECASE)]
            for d, w in words.items()}

    def side(self, symbol: str) -> str | None:
        s = normalise_symbol(symbol)
        return "trained" if s in self.trained else "reference" if s in self.reference else None

    def formulas(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, first argument, second argument) of each KL(a || b) in `text`."""
        out = []
        for m in _KL.finditer(text):
            pre = _PREFIX.search(text[max(0, m.start() - 24):m.start()])
            k = m.start() - (len(pre.group(0)) if pre else 0)
            o = _OPEN.match(text, m.end())
            if not o:
                continue
            open_at = o.start(1)
            close_at = _match_close(text, open_at)
            if close_at is None:
                continue
            args = split_arguments(_SIZERS.sub("", text[open_at + 1:close_at]))
            if args:
                out.append((k, close_at + 1, *args))
        return out

    def _named(self, window: str, formula_at: int) -> tuple[str, str] | None:
        """(direction, phrase) the window names for the formula at `formula_at`, or None if unclear."""
        hits = [(abs(formula_at - m.start()) if m.start() < formula_at else abs(m.start() - formula_at), d, m)
                for d, rxs in self.phrases.items() for rx in rxs for m in rx.finditer(window)
                if not _CONTRAST.search(window[max(0, m.start() - 24):m.start()])]
        if not hits:
            return None
        hits.sort(key=lambda h: h[0])
        dist, d, m = hits[0]
        if len({h[1] for h in hits}) > 1:
            gap = formula_at - m.end() if m.start() < formula_at else m.start() - formula_at
            if gap > ADJACENT:
                return None
        return d, " ".join(m.group(0).split())

    def findings(self, doc: Document, p: Passage) -> list[TermFinding]:
        text = p.text
        if "KL" not in text:
            return []
        spans = sentence_spans(text)
        out = []
        for start, end, a, b in self.formulas(text):
            sa, sb = self.side(a), self.side(b)
            if not sa or not sb or sa == sb:
                continue
            actual = "reverse" if sa == "trained" else "forward"
            i = next((n for n, (x, y) in enumerate(spans) if x <= start < y), len(spans) - 1)
            lo = spans[i][0]
            named = self._named(text[lo:spans[i][1]], start - lo)
            if named is None and i > 0:
                lo = spans[i - 1][0]
                named = self._named(text[lo:spans[i][1]], start - lo)
            if named is None or named[0] == actual:
                continue
            formula = " ".join(text[start:end].split())
            wanted = f"KL({b} \u2016 {a})"
            out.append(TermFinding(
                "notation", "kl-direction", f"{named[0]} KL",
                f"\"{named[1]}\" is written as {formula}: with {a} the {sa} distribution and {b} the {sb} one, "
                f"that is the {actual} KL; the {named[0]} KL is {wanted}.",
                text[lo:spans[i][1]].strip(), p.location(doc.path)))
        return out
