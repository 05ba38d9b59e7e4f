"""Verdicts on completions: math-verify, numeric, exact, or a user's function.

- `math`: the parser and verifier open-r1 uses (Hugging Face `math-verify`):
  the reference is parsed as is, the completion with LaTeX extraction that
  prefers `\\boxed{...}` and never guesses an unanchored number, then
  `verify(gold, answer)` decides symbolic or numeric equality.
- `numeric`: the last `\\boxed{...}` (else the last number) as a float,
  correct within an absolute tolerance of 1e-6 (relative for large values).
- `exact`: the same extraction, whitespace-normalised, compared as a string.
- `module.path:function`: a user's `function(completion, reference)`
  returning a bool, a score in [0, 1] (correct at >= 0.5), or a pair
  `(extracted answer, bool)`.
"""

from __future__ import annotations

import importlib
import math
import re
from dataclasses import dataclass
from typing import Callable

from rigorlab.errors import UserError

_BOXED = "\\boxed{"
_NUMBER = re.compile(r"-?\d+(?:[.,/]\d+)*")
BUILTIN_VERIFIERS = ("math", "numeric", "exact")


@dataclass(frozen=True)
class Verdict:
    """The answer found in a completion (None: none) and whether it is correct."""

    answer: str | None
    correct: bool


def extract_final_answer(text: str) -> str | None:
    """The last `\\boxed{...}` (balanced braces), else the last number in the text, else None."""
    start = text.rfind(_BOXED)
    if start >= 0:
        i, depth = start + len(_BOXED), 1
        for j in range(i, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                inner = " ".join(text[i:j].split())
                return inner or None
    numbers = _NUMBER.findall(text)
    return numbers[-1].replace(",", "") if numbers else None


def _as_float(s: str | None) -> float | None:
    if s is None:
        return None
    s = s.replace(",", "").strip().rstrip(".")
    try:
        if "/" in s:
            num, den = s.split("/", 1)
            return float(num) / float(den)
        return float(s)
    except (ValueError, ZeroDivisionError):
        return None


def numeric_verdict(completion: str, reference: str, tol: float = 1e-6) -> Verdict:
    answer = extract_final_answer(completion)
    a, r = _as_float(answer), _as_float(reference)
    ok = a is not None and r is not None and math.isclose(a, r, rel_tol=tol, abs_tol=tol)
    return Verdict(answer, bool(ok))


def exact_verdict(completion: str, reference: str) -> Verdict:
    answer = extract_final_answer(completion)
    return Verdict(answer, answer is not None and answer == " ".join(reference.split()))


class MathVerifier:
    """open-r1's accuracy check with math-verify (the `evaluate` extra)."""

    def __init__(self) -> None:
        try:
            from latex2sympy2_extended import NormalizationConfig
            from math_verify import LatexExtractionConfig, parse, verify
        except ImportError:
            raise UserError("the 'math' verifier needs math-verify: pip install 'rigorlab[evaluate]'") from None
        self._parse, self._verify = parse, verify
        self._config = [LatexExtractionConfig(
            normalization_config=NormalizationConfig(nits=False, malformed_operators=False, basic_latex=True,
                                                     boxed="all", units=True),
            boxed_match_priority=0, try_extract_without_anchor=False)]
        self._gold: dict[str, list] = {}

    def __call__(self, completion: str, reference: str) -> Verdict:
        gold = self._gold.get(reference)
        if gold is None:
            gold = self._gold[reference] = self._parse(reference, extraction_mode="first_match")
        parsed = self._parse(completion, extraction_config=self._config, extraction_mode="first_match")
        answer = str(parsed[-1]) if parsed else None
        return Verdict(answer, bool(gold) and bool(parsed) and bool(self._verify(gold, parsed)))


def _user_verifier(spec: str) -> Callable[[str, str], Verdict]:
    module, _, name = spec.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        raise UserError(f"--verifier {spec!r}: cannot import {name!r} from module {module!r}") from None
    if not callable(fn):
        raise UserError(f"--verifier {spec!r} is not a function")

    def check(completion: str, reference: str) -> Verdict:
        out = fn(completion, reference)
        if isinstance(out, tuple) and len(out) == 2:
            return Verdict(None if out[0] is None else str(out[0]), bool(out[1]))
        if isinstance(out, (bool, int, float)):
            return Verdict(extract_final_answer(completion), float(out) >= 0.5)
        raise UserError(f"--verifier {spec!r} returned {type(out).__name__}; expected a bool, a score "
                        "in [0, 1] or a pair (answer, bool)")
    return check


def get_verifier(spec: str) -> Callable[[str, str], Verdict]:
    """A verifier by name (math, numeric, exact) or by import path `module:function`."""
    if spec == "math":
        return MathVerifier()
    if spec == "numeric":
        return numeric_verdict
    if spec == "exact":
        return exact_verdict
    if ":" in spec:
        return _user_verifier(spec)
    raise UserError(f"--verifier {spec!r}: expected math, numeric, exact or module.path:function")
