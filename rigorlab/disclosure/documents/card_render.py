"""Render a filled card to Markdown (a Hub-loadable card), HTML, Croissant or the EU summary.

Everything is rendered in memory; the CLI writes the result atomically only
when rendering succeeded, so a bad card never leaves a partial file.
"""

from __future__ import annotations

import json
from typing import Any

from rigorlab.disclosure.documents.card_template import PRIMARY, Card
from rigorlab.disclosure.documents.croissant import build_croissant, validate_croissant
from rigorlab.disclosure.documents.eu_summary import eu_summary_from_answers, render_eu_summary_md
from rigorlab.disclosure.frameworks import load_framework
from rigorlab.errors import UserError

NOT_DISCLOSED = "[More Information Needed]"  # the Hub templates' own marker for an empty section
FORMATS = ("md", "html", "croissant", "eu-summary")

Block = tuple[int, str, str]  # (heading level or 0 for body, heading, body text)


def _blocks(card: Card) -> list[Block]:
    """The card as headings and bodies: the Hub template sections first, then other frameworks."""
    out: list[Block] = [(1, f"{'Model' if card.kind == 'model' else 'Dataset'} Card for {card.name}", "")]
    primary = PRIMARY[card.kind]
    order = [primary] + [f for f in card.frameworks if f != primary]
    for fid in order:
        fw = card.frameworks.get(fid) or load_framework(fid)
        if fid != primary:
            out.append((2, fw.title, f"Answers to {fw.title} ({fw.id}, version {fw.version})."))
        for sec in fw.sections:
            out.append((2 if fid == primary else 3, sec.title, ""))
            for ind in (i for i in fw.indicators if i.section == sec.id):
                body = card.resolve_labelled(fid, ind.id) or NOT_DISCLOSED
                title = ind.title if fid == primary else f"{ind.id} {ind.title}"
                out.append((3 if fid == primary else 4, title, body))
    return out


def _front_matter(card: Card) -> Any:
    from huggingface_hub import DatasetCardData, ModelCardData

    meta = {k: v for k, v in card.metadata.items() if v not in (None, "", [], {})}
    cls = ModelCardData if card.kind == "model" else DatasetCardData
    try:
        return cls(**meta)
    except Exception as exc:  # huggingface_hub validates a few fields (e.g. model-index)
        raise UserError(f"{card.path}: field `metadata`: huggingface_hub rejected it ({exc}).") from None


def render_markdown(card: Card) -> str:
    """A Hub card: YAML front matter from `metadata`, then the sections."""
    from huggingface_hub import DatasetCard, ModelCard

    lines = []
    for level, heading, body in _blocks(card):
        if heading:
            lines += ["#" * level + " " + heading, ""]
        if body:
            lines += [body, ""]
    cls = ModelCard if card.kind == "model" else DatasetCard
    return str(cls.from_template(_front_matter(card), template_str="---\n{{ card_data }}\n---\n\n{{ body }}\n",
                                 body="\n".join(lines).rstrip()))


CARD_CSS = ("body{font-family:system-ui,sans-serif;max-width:56rem;margin:2rem auto;line-height:1.5;padding:0 1rem}"
            "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}"
            ".missing{color:#a40}")


def _paragraphs(text: str) -> list[tuple[str, list[str]]]:
    """A body as paragraphs: ("ul", items) for a block of `- ` lines, else ("p", lines)."""
    out: list[tuple[str, list[str]]] = []
    for para in text.split("\n\n"):
        lines = para.splitlines()
        if lines and all(ln.startswith("- ") for ln in lines):
            out.append(("ul", [ln[2:] for ln in lines]))
        else:
            out.append(("p", lines))
    return out


def render_html(card: Card) -> str:
    """A self-contained HTML page on the shared shell (no scripts, no external resources; autoescaped)."""
    from rigorlab.html import render_page

    metadata = [(str(k), json.dumps(v, ensure_ascii=False)) for k, v in card.metadata.items()
                if v not in (None, "", [], {})]
    blocks = [(level, heading, _paragraphs(text) if text else [], text == NOT_DISCLOSED)
              for level, heading, text in _blocks(card)]
    return render_page(card.name, "card.html", package="rigorlab.disclosure.documents", css=CARD_CSS,
                       metadata=metadata, blocks=blocks)


def render_croissant(card: Card) -> str:
    """Croissant JSON-LD with the RAI properties answered directly or through crosswalks."""
    if card.kind != "dataset":
        raise UserError(f"{card.path}: Croissant describes data sets; this card has kind `{card.kind}`.")
    rai: dict[str, Any] = {}
    for ind in load_framework("croissant-rai").indicators:
        text, _ = card.resolve("croissant-rai", ind.id)
        if text:
            items = [ln[2:] for ln in text.splitlines() if ln.startswith("- ")]
            rai[ind.id] = items if items and len(items) == len(text.splitlines()) else text
    desc = card.resolve("hf-dataset-card", "dataset_summary")[0] or \
        card.resolve("hf-dataset-card", "dataset_description")[0] or card.name
    m = card.metadata
    lic = m.get("license")
    doc = build_croissant(card.name, desc, rai, url=m.get("url"), license=lic if isinstance(lic, str) else None,
                          version=str(m["version"]) if m.get("version") else None, cite_as=m.get("cite_as"))
    report = validate_croissant(doc)
    if not report["ok"]:
        raise UserError(f"{card.path}: the Croissant document does not validate ({report['validator']}): "
                        f"{report['errors'][0]}.")
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_eu_summary(card: Card, as_json: bool = False) -> str:
    """The EU public summary of training content from `EUS-*` answers and their crosswalks."""
    answers = {ind.id: card.resolve_labelled("eu-summary", ind.id)
               for ind in load_framework("eu-summary").indicators}
    doc = eu_summary_from_answers(card.name, answers)
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n" if as_json else render_eu_summary_md(doc)


def render_card(card: Card, to: str, as_json: bool = False) -> str:
    if to == "md":
        return render_markdown(card)
    if to == "html":
        return render_html(card)
    if to == "croissant":
        return render_croissant(card)
    if to == "eu-summary":
        return render_eu_summary(card, as_json)
    raise UserError(f"--to must be one of {', '.join(FORMATS)}, got `{to}`.")
