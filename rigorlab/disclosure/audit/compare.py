"""One table across many documents: score per framework and rank within each framework."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from rigorlab.disclosure.audit.engine import AuditRun


def compare_rows(run: AuditRun) -> list[dict[str, Any]]:
    """One row per document: `<fw>` score, `<fw>_mentioned`, `<fw>_rank` (1 = most disclosed; ties share)."""
    rows: list[dict[str, Any]] = [{"document": d.document, "title": d.title} for d in run.documents]
    for fw in run.frameworks:
        vals = []
        for row, doc in zip(rows, run.documents):
            s = doc.score(fw.id)
            row[fw.id] = s.score if s else None
            row[f"{fw.id}_mentioned"] = s.mentioned if s else None
            vals.append(s.score if s else -1.0)
        for row, v in zip(rows, vals):
            row[f"{fw.id}_rank"] = 1 + sum(1 for o in vals if o > v)   # competition ranking
    if run.frameworks:
        for row in rows:
            row["mean_rank"] = round(sum(row[f"{fw.id}_rank"] for fw in run.frameworks) / len(run.frameworks), 2)
        rows.sort(key=lambda r: (r["mean_rank"], r["document"]))
    return rows


def compare_csv(run: AuditRun) -> str:
    rows = compare_rows(run)
    cols = ["document", "title"] + [c for fw in run.frameworks for c in (fw.id, f"{fw.id}_mentioned", f"{fw.id}_rank")]
    cols.append("mean_rank")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def compare_json(run: AuditRun) -> str:
    return json.dumps({"frameworks": [f.id for f in run.frameworks], "rows": compare_rows(run),
                       "skipped": run.skipped}, indent=2, ensure_ascii=False) + "\n"


def compare_markdown(run: AuditRun) -> str:
    from rigorlab.disclosure.audit.render import md_cell

    fws = run.frameworks
    lines = ["# Disclosure comparison", "", "Score = weighted share of indicators disclosed (0-100); "
             "(rank) within the framework; rows ordered by mean rank.", "",
             "| document | " + " | ".join(f"`{f.id}`" for f in fws) + " | mean rank |",
             "|---|" + "---:|" * (len(fws) + 1)]
    for r in compare_rows(run):
        cells = " | ".join(f"{r[f.id]:.0f} ({r[f.id + '_rank']})" for f in fws)
        lines.append(f"| `{md_cell(Path(r['document']).name)}` | {cells} | {r['mean_rank']} |")
    if run.skipped:
        lines += ["", "Not audited:"] + [f"- {md_cell(s['reason'])}" for s in run.skipped]
    return "\n".join(lines) + "\n"


def compare_html(run: AuditRun) -> str:
    """The comparison as one self-contained page on the shared shell, with the audit report's stylesheet."""
    from rigorlab.disclosure.audit.html_report import CSS, TEMPLATES
    from rigorlab.html import render_page

    rows = [{**r, "name": Path(r["document"]).name} for r in compare_rows(run)]
    return render_page("Disclosure comparison", "compare.html", package=TEMPLATES, css=CSS,
                       frameworks=run.frameworks, rows=rows, skipped=run.skipped)


def compare_table(run: AuditRun, console: Any = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    t = Table(title="Disclosure comparison (score, rank)", title_justify="left")
    t.add_column("document")
    for f in run.frameworks:
        t.add_column(f.id, justify="right")
    t.add_column("mean rank", justify="right")
    for r in compare_rows(run):
        t.add_row(escape(Path(r["document"]).name[:48]), *[f"{r[f.id]:.0f} ({r[f.id + '_rank']})" for f in run.frameworks],
                  str(r["mean_rank"]))
    console.print(t)
    for s in run.skipped:
        console.print(f"[red]not audited:[/red] {escape(s['reason'])}")
