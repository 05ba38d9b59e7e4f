"""Skip regular-expression scans that cannot match: the literal text every match must contain.

Python's `re` tries a pattern at every position of a text, so a check such as
`\\bdata[- ]?tables?\\b` costs as much on a passage that never says "data" as
on one that does. Every match of it contains 'data' and 'table', which
`str.__contains__` finds many times faster. `Prefiltered` wraps a compiled
pattern with such necessary literals, read from the pattern's own parse tree
(`re._parser`; none when it cannot be read), and scans only the texts that
hold them: its matches are exactly the pattern's.

A case-insensitive pattern is tested on the lower-cased text where the literal
is ASCII and the text holds none of the four characters that `re` matches
case-insensitively to an ASCII letter or that lower-case into one (dotted and
dotless i, long s, the Kelvin sign): there lower-casing is exactly what `re`'s
case-insensitive matching does. Any other text is scanned as is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Each clause: literals of which one must occur; every clause must hold.
Clauses = tuple[tuple[str, ...], ...]
# The non-ASCII characters `re.IGNORECASE` matches to an ASCII letter (or that lower-case into one).
CASE_ODD = "\u0130\u0131\u017f\u212a"


def foldable(text: str) -> bool:
    """Lower-casing `text` shows every case-insensitive match of an ASCII literal in it."""
    return text.isascii() or not any(c in text for c in CASE_ODD)


def required_literals(rx: re.Pattern[str]) -> Clauses:
    """Literal strings every match of `rx` contains, as clauses (any literal of each clause, all clauses);
    () when nothing is known (the pattern can then match anywhere)."""
    if rx.flags & re.LOCALE or not isinstance(rx.pattern, str):
        return ()
    try:
        from re import _constants, _parser  # type: ignore[attr-defined]

        return tuple(dict.fromkeys(_clauses(list(_parser.parse(rx.pattern, rx.flags)),
                                            bool(rx.flags & re.IGNORECASE), _constants)))
    except Exception:        # another Python's private parser: no prefilter, never a wrong answer
        return ()


def _clauses(seq: list[Any], ci: bool, C: Any) -> list[tuple[str, ...]]:
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
                out += _clauses(list(sub), ci, C)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            lo, _hi, sub = av
            if lo >= 1:
                out += _clauses(list(sub), ci, C)
        elif op is C.ATOMIC_GROUP:
            out += _clauses(list(av), ci, C)
        elif op is C.BRANCH:
            alts = [_clauses(list(a), ci, C) for a in av[1]]
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
            if not foldable(text):
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


class AnyOf:
    """The pattern `head(?:a|b|c)tail`, each text searched with only the alternatives whose
    `required_literals` it holds (compiled once per combination). The matches are exactly the whole
    pattern's: an alternative that can match nowhere in a text changes nothing at any position,
    while `re` would try it at every one. Offers search, finditer, findall and sub.

    `needs`: per alternative, clauses to use instead of the derived ones, where the author knows
    rarer literals that every match holds (an e-mail address holds '@'); they are not checked."""

    def __init__(self, head: str, alternatives: tuple[str, ...], tail: str = "", flags: int = 0,
                 needs: tuple[Clauses, ...] | None = None) -> None:
        self._head, self._alternatives, self._tail, self.flags = head, alternatives, tail, flags
        self.pattern = head + "(?:" + "|".join(alternatives) + ")" + tail
        self.rx = re.compile(self.pattern, flags)          # the whole pattern: for texts the test cannot read
        # per alternative, its clauses with the longest (rarest) literals first, so that a test fails soon
        derived = needs if needs is not None else [required_literals(re.compile(a, flags)) for a in alternatives]
        self._needs = [sorted(cs, key=lambda c: -min(map(len, c))) for cs in derived]
        common = Prefiltered(re.compile(head + "(?:" + tail + ")", flags))
        self._common = common if common.clauses else None
        self._ci = bool(flags & re.IGNORECASE)
        self._compiled: dict[tuple[bool, ...], re.Pattern[str] | None] = {}

    def _for(self, text: str) -> re.Pattern[str] | None:
        if self._ci and not foldable(text):
            return self.rx
        hay = text.lower() if self._ci else text
        if self._common is not None and not self._common.possible(text, lower=hay):
            return None
        keep = []
        for needs in self._needs:          # plain loops: this runs for every text, before any regex
            ok = True
            for clause in needs:
                for lit in clause:
                    if lit in hay:
                        break
                else:
                    ok = False
                    break
            keep.append(ok)
        key = tuple(keep)
        got = self._compiled.get(key, False)
        if got is False:
            parts = [a for use, a in zip(key, self._alternatives) if use]
            got = re.compile(self._head + "(?:" + "|".join(parts) + ")" + self._tail, self.flags) if parts else None
            if len(self._compiled) >= 512:
                self._compiled.clear()
            self._compiled[key] = got
        return got

    def search(self, text: str) -> re.Match[str] | None:
        rx = self._for(text)
        return rx.search(text) if rx is not None else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        rx = self._for(text)
        return rx.finditer(text) if rx is not None else iter(())

    def findall(self, text: str) -> list[Any]:
        rx = self._for(text)
        return rx.findall(text) if rx is not None else []

    def sub(self, repl: str, text: str) -> str:
        rx = self._for(text)
        return rx.sub(repl, text) if rx is not None else text
