"""Split Markdown (and plain text) into located passages.

A line scanner rather than a full CommonMark parser: the auditor needs
blocks, their heading path and their line range, fast (the corpus
benchmark audits 24 cards a second with every framework). It knows fenced
code, ATX and setext headings, HTML headings, bold-only pseudo-headings
(common in model cards), tables, lists and YAML front matter.
"""

from __future__ import annotations

import html
import re
from typing import Any

import yaml

from rigorlab.disclosure.audit.document import Passage

MAX_BLOCK_LINES = 12          # longer blocks (big tables, long lists) are cut in windows
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_HTML_HEADING = re.compile(r"^\s*<h([1-6])\b[^>]*>(.*?)</h\1>\s*$", re.IGNORECASE)
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)([^*_]{2,80}?)(?:\*\*|__)\s*:?\s*$")
_TABLE_ROW = re.compile(r"^\s*\|")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((\S+?)(?:\s+\"[^\"]*\")?\)")
_HREF = re.compile(r"<a\b[^>]*?href=[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_IMG_ALT = re.compile(r"<img\b[^>]*?alt=[\"']([^\"']*)[\"'][^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|<[^>]+>", re.DOTALL)
_EMPH = re.compile(r"(\*\*|__|`+|~~)")
_BADGE_ONLY = re.compile(r"^[\s|()\[\]:,.\-]*$")
_BLANKS = re.compile(r"[ \t]+")
# the Markdown comment idiom, a link reference definition with an empty target: `[comment]: <> (text)`,
# `[//]: # (text)`; never rendered, so never evidence (data/audit/tools/adjudications.yaml: commented-out text
# was withdrawn by its authors and counts for nothing)
_COMMENT_LINE = re.compile(r"^ {0,3}\[[^\]]*\]:[ \t]*(?:<>|#)(?:\s|$)")
_QUOTE = re.compile(r"(?m)^\s*>\s?(?:\[!(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*)?")


def clean_inline(text: str) -> str:
    """Markdown/HTML markup to readable text; link targets are kept (they are evidence).
    Each substitution runs only where the characters it needs are present (same result, sooner)."""
    if ">" in text:
        text = _QUOTE.sub("", text)
    if "](" in text:
        text = _IMAGE.sub(lambda m: m.group(1), text)
        text = _LINK.sub(lambda m: m.group(1) if m.group(2).startswith("#") else f"{m.group(1)} ({m.group(2)})", text)
    if "<" in text:
        text = _HREF.sub(lambda m: f"{_TAG.sub('', m.group(2)).strip()} ({m.group(1)})"
                         if not m.group(1).startswith("#") else m.group(2), text)
        text = _IMG_ALT.sub(lambda m: m.group(1), text)
        text = _TAG.sub(" ", text)
    if "*" in text or "_" in text or "`" in text or "~" in text:
        text = _EMPH.sub("", text)
    text = html.unescape(text).replace("\u00a0", " ")
    if "\t" in text or "  " in text:           # else every run of blanks is one space already
        text = _BLANKS.sub(" ", text)
    return text.strip()


def _heading_text(raw: str) -> str:
    return clean_inline(raw).strip(" #:") or "(untitled)"


def split_front_matter(lines: list[str]) -> tuple[int, dict[str, Any], str | None]:
    """(number of front-matter lines, parsed mapping, problem or None)."""
    if not lines or lines[0].strip() != "---":
        return 0, {}, None
    for i in range(1, min(len(lines), 2000)):
        if lines[i].strip() in ("---", "..."):
            body = "\n".join(lines[1:i])
            first = next((ln for ln in lines[1:i] if ln.strip() and not ln.lstrip().startswith("#")), "")
            if not re.match(r"^[A-Za-z_][\w\- ]*:", first):
                return 0, {}, None            # a horizontal rule, not front matter
            try:
                data = yaml.safe_load(body) if body.strip() else {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" at line {mark.line + 2}" if mark is not None else ""
                return i + 1, {}, f"the YAML front matter (lines 1-{i + 1}) is malformed{where}; it was read as plain text"
            if not isinstance(data, dict):
                return i + 1, {}, f"the YAML front matter (lines 1-{i + 1}) is not a mapping; it was read as plain text"
            return i + 1, data, None
    return 0, {}, None


def _front_matter_passages(lines: list[str], n: int, parsed: bool) -> list[tuple]:
    """One block per top-level key (or one for the whole header when it did not parse)."""
    if not parsed:
        return [(("front matter",), 2, n - 1, "\n".join(lines[1:n - 1]), "front-matter")]
    out, start = [], None
    for i in range(1, n - 1):
        if re.match(r"^[A-Za-z_][\w\- ]*:", lines[i]):
            if start is not None:
                out.append((start, i))
            start = i
    if start is not None:
        out.append((start, n - 1))
    return [(("front matter",), a + 1, b, "\n".join(lines[a:b]), "front-matter") for a, b in out]


def split_markdown(text: str, headings: list[tuple[str, ...]] | None = None
                   ) -> tuple[list[Passage], dict[str, Any], str, list[str]]:
    """(passages, front matter, title, notices) of a Markdown or plain-text document; `headings`, when
    given, receives every heading's path in order, those with no text under them included (an empty
    section is an empty answer in a report laid out by indicator, `layout.py`)."""
    lines = text.split("\n")
    notices: list[str] = []
    n_fm, front, problem = split_front_matter(lines)
    if problem:
        notices.append(problem)
    raw_blocks: list[tuple] = _front_matter_passages(lines, n_fm, not problem) if n_fm else []
    stack: list[tuple[int, str]] = []            # (level, heading)
    title = ""
    block: list[int] = []                        # line indices of the current block
    fence: str | None = None

    def path() -> tuple[str, ...]:
        return tuple(h for _, h in stack)

    def flush() -> None:
        if block:
            raw_blocks.append((path(), block[0] + 1, block[-1] + 1, "\n".join(lines[i] for i in block), None))
            block.clear()

    def push(level: int, heading: str) -> None:
        nonlocal title
        flush()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
        if headings is not None:
            headings.append(path())
        if not title and level == 1 and "contents" not in heading.lower():
            title = heading

    for i in range(n_fm, len(lines)):
        line = lines[i]
        if fence is not None:
            block.append(i)
            if line.strip().startswith(fence):
                fence = None
                flush()
            continue
        m = _FENCE.match(line)
        if m:
            flush()
            fence = m.group(1)[0] * 3
            block.append(i)
            continue
        if not line.strip() or (line.startswith(("[", " ")) and _COMMENT_LINE.match(line)):
            flush()
            continue
        m = _ATX.match(line)
        if m and not line.lstrip().startswith("#!"):
            push(len(m.group(1)), _heading_text(m.group(2) or ""))
            continue
        m = _HTML_HEADING.match(line)
        if m:
            push(int(m.group(1)), _heading_text(m.group(2)))
            continue
        m = _SETEXT.match(line)
        if m and len(block) == 1 and not _TABLE_ROW.match(lines[block[0]]) and not _LIST_ITEM.match(lines[block[0]]):
            heading = _heading_text(lines[block.pop()])
            push(1 if m.group(1)[0] == "=" else 2, heading)
            continue
        m = _BOLD_LINE.match(line)
        if m and not block:
            push(7, _heading_text(m.group(1)))
            continue
        block.append(i)
    flush()
    passages = _to_passages(raw_blocks)
    if not title:
        title = str(front.get("model_name") or front.get("pretty_name") or front.get("title") or "")
    return passages, front, title, notices


def _kind(first_line: str) -> str:
    if _FENCE.match(first_line):
        return "code"
    if _TABLE_ROW.match(first_line):
        return "table"
    if _LIST_ITEM.match(first_line):
        return "list"
    return "text"


def _to_passages(raw_blocks: list[tuple]) -> list[Passage]:
    out: list[Passage] = []
    for heading, a, b, raw, kind in raw_blocks:
        rows = raw.split("\n")
        kind = kind or _kind(rows[0])
        header = rows[:2] if kind == "table" and len(rows) > 2 and _TABLE_RULE.match(rows[1]) else []
        body_start = len(header)
        step = MAX_BLOCK_LINES
        for s in range(body_start, max(len(rows), body_start + 1), step):
            chunk = rows[s:s + step]
            if not chunk:
                break
            shown = ([header[0]] if header and s > body_start else []) + chunk
            if header and s == body_start:
                shown = header + chunk
            if kind == "table":
                txt = "\n".join(clean_inline(" | ".join(c.strip() for c in r.strip().strip("|").split("|")))
                                for r in shown if not _TABLE_RULE.match(r))
            elif kind == "code":
                txt = "\n".join(r for r in chunk if not _FENCE.match(r)).strip()
            else:
                txt = clean_inline("\n".join(shown).replace("\n", " \n"))
            if not txt or _BADGE_ONLY.match(txt):
                continue
            start = a if s == body_start and not header else a + s
            if header and s == body_start:
                start = a
            end = min(b, a + s + len(chunk) - 1)
            out.append(Passage(index=len(out), text=txt, heading_path=heading,
                               line_start=start, line_end=end, kind=kind))
    return out
