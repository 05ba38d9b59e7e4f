"""Small Markdown helpers shared by the document generators."""

from __future__ import annotations

from typing import Any, Sequence


def cell(value: Any) -> str:
    """A value as one Markdown table cell (pipes escaped, newlines flattened)."""
    if isinstance(value, (list, tuple)):
        text = ", ".join(str(v) for v in value) if value else "[]"
    elif value is None:
        text = "null"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def num(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
