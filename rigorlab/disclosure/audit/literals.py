"""Skip regular-expression scans that cannot match: the literal text every match must contain.

Python's `re` tries a pattern at every position of a text, so a check such as
`\\bdata[- ]?tables?\\b` costs as much on a passage that never says "data" as
on one that does. Every match of it contains 'data' and 'table', which
`str.__contains__` finds many times faster. `Prefiltered` wraps a compiled
pattern with such necessary literals, read from the pattern's own parse tree
(`re._parser`; none when it cannot be read), and scans only the texts that
hold them: its matches are exactly the pattern's.

A case-insensitive pattern is tested on the lower-cased text only where the
text and the literal are ASCII (there lower-casing is exactly what `re`'s
case-insensitive matching does); any other text is scanned as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Each clause: literals of which one must occur; every clause must hold.
Clauses = tuple[tuple[str, ...], ...]


def required_literals(rx: re.Pattern[str]) -> Clauses:
    """Literal strings every match of `rx` contains, as clauses (any literal of each clause, all clauses);
    () when nothing is known (the pattern can then match anywhere)."""
    if rx.flags & re.LOCALE or not isinstance(rx.pattern, str):
        return ()
    try:
        from re import _parser  # type: ignore[attr-defined]

        tree = _parser.parse(rx.pattern, rx.flags)
    except Exception:        # another Python's private parser: no prefilter, never a wrong answer
        return ()
    return tuple(dict.fromkeys(_clauses(list(tree), bool(rx.flags & re.IGNORECASE))))


def _clauses(seq: list[Any], ci: bool) -> list[tuple[str, ...]]:
    from re import _constants as C  # type: ignore[attr-defined]

    out: list[tuple[str, ...]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(("".join(run),))
            run.clear()

    for op, av in seq:
        if op is C.LITERAL:
            ch = chr(av)
            if ci and not ch.isascii():
                flush()
            else:
                run.append(ch.lower() if ci else ch)
            continue
        flush()
        if op is C.SUBPATTERN:
            _group, add, delete, sub = av
            if not (add | delete) & re.IGNORECASE.value:
                out += _clauses(list(sub), ci)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, _hi, sub = av
            if lo >= 1:
                out += _clauses(list(sub), ci)
        elif op is C.ATOMIC_GROUP:
            out += _clauses(list(av), ci)
        elif op is C.BRANCH:
            alts = [_clauses(list(a), ci) for a in av[1]]
            if alts and all(alts):
                # one clause per alternative (its longest shortest-literal), any of them
                picks = [max(a, key=lambda c: min(map(len, c))) for a in alts]
                out.append(tuple(dict.fromkeys(lit for c in picks for lit in c)))
    flush()
    return out


class Prefiltered:
    """A compiled pattern that scans only texts holding its `required_literals` (same matches).
    Offers search, finditer and findall; `possible(text, lower)` is the test alone, with the
    lower-cased text given once by a caller that checks several patterns on it."""

    def __init__(self, rx: re.Pattern[str]) -> None:
        self.rx = rx
        self.pattern = rx.pattern
        self.flags = rx.flags
        self.clauses = required_literals(rx)
        self._ci = bool(rx.flags & re.IGNORECASE)

    def possible(self, text: str, *, lower: str | None = None) -> bool:
        """False only when no match can exist in `text` (`lower`: text.lower(), if already made)."""
        if not self.clauses:
            return True
        if self._ci:
            if not text.isascii():
                return True
            hay = lower if lower is not None else text.lower()
        else:
            hay = text
        return all(any(lit in hay for lit in clause) for clause in self.clauses)

    def search(self, text: str, *, lower: str | None = None) -> re.Match[str] | None:
        return self.rx.search(text) if self.possible(text, lower=lower) else None

    def finditer(self, text: str, *, lower: str | None = None) -> Iterator[re.Match[str]]:
        return self.rx.finditer(text) if self.possible(text, lower=lower) else iter(())

    def findall(self, text: str, *, lower: str | None = None) -> list[Any]:
        return self.rx.findall(text) if self.possible(text, lower=lower) else []
