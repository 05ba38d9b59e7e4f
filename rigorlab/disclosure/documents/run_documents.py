"""Write every disclosure document for a run into `run_dir/docs/`.

`rigorlab train` and the studies call `write_run_documents(run_dir)` at the
end of a run. All documents are rendered in memory first and written only
when every one succeeded, each atomically, so a failure leaves the previous
set intact rather than a mixture.
"""

from __future__ import annotations

import json
from pathlib import Path

from rigorlab.disclosure.documents.run_answers import answer_aad, answer_ddt
from rigorlab.disclosure.documents.croissant import croissant_from_run, validate_croissant
from rigorlab.disclosure.documents.datasheet import answer_datasheet, render_datasheet
from rigorlab.disclosure.documents.eu_summary import eu_summary_from_run, render_eu_summary_md
from rigorlab.disclosure.documents.hfcards import render_dataset_card, render_model_card
from rigorlab.disclosure.provenance.runfacts import load_run
from rigorlab.io import atomic_write_text

DOCUMENTS = {
    "datasheet": "datasheet.md",
    "model_card": "model_card.md",
    "dataset_card": "dataset_card.md",
    "croissant": "croissant.json",
    "eu_summary_md": "eu_training_summary.md",
    "eu_summary_json": "eu_training_summary.json",
    "coverage": "disclosure.json",
}


def _status(answers: dict) -> dict:
    return {k: {"status": a.status, "text": a.text, "gap": a.gap} for k, a in answers.items()}


def render_run_documents(run_dir: str | Path) -> dict[str, str]:
    """Every document's text, keyed as in DOCUMENTS, without writing anything."""
    f = load_run(run_dir)
    ddt, aad = answer_ddt(f), answer_aad(f)
    ds = answer_datasheet(f, ddt)
    crois = croissant_from_run(f, ddt)
    eu = eu_summary_from_run(f, ddt)
    coverage = {
        "run": f.name,
        "missing_run_files": f.gaps,
        "croissant_validation": validate_croissant(crois),
        "frameworks": {"ddt": _status(ddt), "aad": _status(aad), "datasheets": _status(ds)},
        "counts": {name: {s: sum(a.status == s for a in ans.values()) for s in ("answered", "partial", "gap")}
                   for name, ans in (("ddt", ddt), ("aad", aad), ("datasheets", ds))},
    }
    return {
        "datasheet": render_datasheet(f, ds),
        "model_card": render_model_card(f, aad, ddt),
        "dataset_card": render_dataset_card(f, ddt),
        "croissant": json.dumps(crois, indent=2) + "\n",
        "eu_summary_md": render_eu_summary_md(eu),
        "eu_summary_json": json.dumps(eu, indent=2) + "\n",
        "coverage": json.dumps(coverage, indent=2) + "\n",
    }


def write_run_documents(run_dir: str | Path) -> dict[str, Path]:
    """Render all documents, then write them into run_dir/docs/; returns their paths."""
    texts = render_run_documents(run_dir)
    out_dir = Path(run_dir) / "docs"
    return {key: atomic_write_text(out_dir / DOCUMENTS[key], text) for key, text in texts.items()}
