"""HTML building blocks for the study report: escaped text, tables, inline figures, its stylesheet.

The page shell is rigorlab.html's one Jinja2 base template (autoescaping,
Content-Security-Policy without scripts or fetches); this module builds the
body from fragments escaped on the way in, so the page is static HTML with
its figures inlined as data: URIs and opens from disk, offline.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from rigorlab.html import Markup, data_uri, escape, render_page

from rigorlab.study.intervals import num

STYLE = """
body { max-width: none; padding: 0; }
:root { --ink:#1d1d1f; --mute:#5f6368; --line:#e3e3e6; --good:#0b7a3b; --bad:#b3261e; --bg:#fafafa; }
* { box-sizing: border-box; }
body { font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0; background: white; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; }
header { border-bottom: 1px solid var(--line); margin-bottom: 12px; }
h1 { font-size: 24px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.meta, .note, figcaption { color: var(--mute); font-size: 12.5px; }
nav a { margin-right: 14px; font-size: 13px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: right; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.l, th.l { text-align: left; }
td:first-child { white-space: nowrap; }
td.base { font-weight: 600; }
tr.ref td { color: var(--mute); font-style: italic; }
.ci { color: var(--mute); font-size: 11.5px; white-space: nowrap; }
.sep-good { color: var(--good); font-weight: 600; } .sep-bad { color: var(--bad); font-weight: 600; }
.ovl { color: var(--mute); }
code { font: 11.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--bg); padding: 0 3px; }
figure { margin: 10px 0 18px; } figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
ul.findings li { margin: 3px 0; } h4 { font-size: 13.5px; margin: 12px 0 2px; }
details { margin: 6px 0 12px; } summary { cursor: pointer; color: var(--mute); }
.status-done { color: var(--good); } .status-failed { color: var(--bad); font-weight: 600; }
.status-interrupted, .status-pending, .status-running { color: #9a6700; }
"""


def esc(text: object) -> str:
    return str(escape(str(text)))


def figure(png: bytes, alt: str, caption: str, fig_id: str) -> str:
    return (f'<figure id="{esc(fig_id)}"><img class="figure" src="{data_uri(png)}" alt="{esc(alt)}">'
            f"<figcaption>{caption}</figcaption></figure>")


def table(header: Sequence[str], rows: Iterable[Sequence[str]], left: int = 1, row_class: Sequence[str] = ()) -> str:
    """Cells are trusted HTML (escape them first); the first `left` columns are left-aligned."""
    th = "".join(f'<th class="l">{h}</th>' if i < left else f"<th>{h}</th>" for i, h in enumerate(header))
    body = []
    classes = list(row_class)
    for n, row in enumerate(rows):
        cls = f' class="{classes[n]}"' if n < len(classes) and classes[n] else ""
        tds = "".join(f'<td class="l">{c}</td>' if i < left else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr{cls}>{tds}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            "</div>")


def link(href: str, text: str) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def page(title: str, body: str) -> str:
    """The whole page: `body` is trusted HTML built from escaped fragments; the title is escaped."""
    return render_page(title, body=Markup(f"<main>{body}</main>"), css=STYLE)


def fmt(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "-"
    return f"{v:.{digits}f}"


def interval_cell(iv: dict | None) -> str:
    if iv is None:
        return "-"
    return f'{num(iv["mean"])}&nbsp;<span class="ci">[{num(iv["lo"])}, {num(iv["hi"])}]</span>'


def diff_cell(entry: dict | None, higher_is_better: bool | None) -> str:
    """A paired difference with its interval, marked when the interval excludes 0."""
    if entry is None or entry.get("diff") is None:
        return "-"
    d = entry["diff"]
    text = f'{num(d["mean"], True)}&nbsp;<span class="ci">[{num(d["lo"], True)}, {num(d["hi"], True)}]</span>'
    if not entry["excludes_zero"]:
        return f'<span class="ovl">{text}</span>'
    if higher_is_better is None:
        return f"<b>{text}</b>"
    better = (d["mean"] > 0) == higher_is_better
    return f'<span class="{"sep-good" if better else "sep-bad"}">{text}</span>'
