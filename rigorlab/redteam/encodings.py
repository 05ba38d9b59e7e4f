"""Text encodings shared by the operators (ask for an answer encoded) and the detectors (decode it).

Keeping both directions in one module means every encoding an operator can
request is one the secret-leak detector can read back.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

# Leetspeak: each digit/symbol stands for the letters it commonly replaces.
LEET: dict[str, str] = {"4": "a", "@": "a", "8": "b", "(": "c", "3": "e", "6": "g", "9": "g",
                        "1": "il", "!": "i", "|": "il", "0": "o", "5": "s", "$": "s", "7": "t",
                        "+": "t", "2": "z"}
_TO_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


def rot13(text: str) -> str:
    """ROT13 (its own inverse); characters other than ASCII letters are unchanged."""
    return codecs.encode(text, "rot13")


def to_base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def to_hex(text: str) -> str:
    return text.encode("utf-8").hex()


def to_leet(text: str) -> str:
    return "".join(_TO_LEET.get(c.lower(), c) for c in text)


def spaced(text: str) -> str:
    return " ".join(text)


def reversed_text(text: str) -> str:
    return text[::-1]


ENCODERS = {"base64": to_base64, "hex": to_hex, "rot13": rot13, "leetspeak": to_leet,
            "spaced": spaced, "reversed": reversed_text}

_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_HEX_RUN = re.compile(r"(?:(?:0x|\\x)?[0-9a-fA-F]{2}[\s:,-]?){4,}")


def base64_tokens(text: str) -> list[tuple[int, int, str]]:
    """Substrings that decode as base64 to UTF-8 text: (start, end, decoded)."""
    out = []
    for m in _B64_TOKEN.finditer(text):
        raw = m.group(0)
        body = raw.rstrip("=")
        padded = body + "=" * (-len(body) % 4)
        try:
            if "-" in body or "_" in body:
                data = base64.urlsafe_b64decode(padded)
            else:
                data = base64.b64decode(padded, validate=True)
            decoded = data.decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            continue
        if decoded.isprintable():
            out.append((m.start(), m.end(), decoded))
    return out


def hex_runs(text: str) -> list[tuple[int, int, str]]:
    """Runs of hex byte pairs (optionally 0x / \\x prefixed, separated) that decode to UTF-8 text."""
    out = []
    for m in _HEX_RUN.finditer(text):
        digits = re.sub(r"0x|\\x|[\s:,-]", "", m.group(0))
        if len(digits) % 2:
            digits = digits[:-1]
        try:
            decoded = bytes.fromhex(digits).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if decoded.isprintable():
            out.append((m.start(), m.end(), decoded))
    return out
