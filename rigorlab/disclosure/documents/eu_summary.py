"""The EU public summary of training content (AI Act Art. 53(1)(d)), as JSON and Markdown.

Structured by the sections of the Commission's template (framework
`eu-summary`): general information, the list of data sources by category
(public, private/licensed, crawled, user, synthetic, other) and data
processing. From a run, sizes, categories and synthetic generators come from
provenance; provider identity, opt-outs and illegal-content measures are gaps.
"""

from __future__ import annotations

from typing import Any

from rigorlab.disclosure.documents.run_answers import (ORG_GAP, Answer, IndicatorAnswers, answer_ddt, base_model_note,
                                                       describe_origin)
from rigorlab.disclosure.frameworks import load_framework
from rigorlab.disclosure.provenance.runfacts import RunFacts

TEMPLATE = "European Commission template for the public summary of training content (July 2025)"
CATEGORY = {  # source_type words -> template item
    "public": "EUS-2.1", "public data set": "EUS-2.1", "public-dataset": "EUS-2.1",
    "licensed": "EUS-2.2", "private": "EUS-2.2", "third-party": "EUS-2.2",
    "web crawl": "EUS-2.3", "web-crawl": "EUS-2.3", "crawled": "EUS-2.3", "scraped": "EUS-2.3",
    "user": "EUS-2.4", "user data": "EUS-2.4", "product": "EUS-2.4",
    "synthetic": "EUS-2.5",
}


def category_of(source_type: str | None) -> str | None:
    """The template item for a source type; 'other' for unknown words, None when not stated."""
    if not source_type:
        return None
    return CATEGORY.get(source_type.strip().lower(), "EUS-2.6")


def token_range(tokens: int) -> str:
    """The template's broad size ranges for text."""
    if tokens < 1_000_000_000:
        return "less than 1 billion tokens"
    if tokens <= 10_000_000_000_000:
        return "1 billion to 10 trillion tokens"
    return "more than 10 trillion tokens"


def _item(iid: str, answer: Answer, data: dict | None = None) -> dict:
    ind = load_framework("eu-summary").indicator(iid)
    return {"id": iid, "title": ind.title if ind else iid, "status": answer.status,
            "text": answer.text, "gap": answer.gap, "data": data or {}}


def eu_summary_from_run(f: RunFacts, ddt: IndicatorAnswers | None = None) -> dict:
    """The summary of the data that trained the run's model (evaluation data excluded)."""
    ddt = ddt if ddt is not None else answer_ddt(f)
    train = f.training_datasets
    tokens = sum(d["counts"]["approx_tokens"] for d in train)
    langs = sorted({lang for d in train for lang in d.get("languages", [])})
    untyped = [d["name"] for d in train if not d.get("source_type")]
    items = [
        _item("EUS-1.1", Answer(gap="provider name and contact; " + ORG_GAP)),
        _item("EUS-1.2", Answer(f"Model trained by rigorlab run `{f.name}`"
                                + (f", fine-tuned from `{f.base_model}`" if f.base_model else "") + "."
                                + base_model_note(f),
                                "date of placing on the market; " + ORG_GAP),
              {"model": f.name, "base_model": f.base_model}),
        _item("EUS-1.3", Answer(
            f"Modality: text ({', '.join(sorted({d.get('format', 'text') for d in train})) or 'text'}). "
            f"Size: ~{tokens} tokens ({token_range(tokens)}; tokens approximated as characters / 4) in "
            f"{sum(d['counts']['examples'] for d in train)} examples. Languages: "
            f"{', '.join(langs) if langs else 'not declared'}.",
            None if langs else "languages were not declared to the run"),
            {"modalities": ["text"], "approx_tokens": tokens, "size_range": token_range(tokens), "languages": langs}),
    ]
    for iid in ("EUS-2.1", "EUS-2.2", "EUS-2.3", "EUS-2.4", "EUS-2.5", "EUS-2.6"):
        members = [d for d in train if category_of(d.get("source_type")) == iid]
        listing = [{"name": d["name"], "role": d.get("role"), "origin": describe_origin(d),
                    "examples": d["counts"]["examples"], "licence": d.get("licence")} for d in members]
        if members:
            ans = Answer("Used: " + "; ".join(f"`{d['name']}` ({describe_origin(d)})" for d in members) + ".")
        elif untyped:
            ans = Answer(gap=f"cannot tell: the source type of {', '.join(untyped)} was not stated")
        else:
            ans = Answer("Not used.")
        items.append(_item(iid, ans, {"used": bool(members) if (members or not untyped) else None,
                                      "datasets": listing}))
    opt = ddt.rule("opt_outs")
    items.append(_item("EUS-3.1", opt if opt.text else
                       Answer(gap="opt-out compliance and copyright policy; " + ORG_GAP)))
    items.append(_item("EUS-3.2", Answer(gap="measures against illegal content; " + ORG_GAP)))
    other = "\n".join(x for x in (ddt.rule("processing").text, ddt.rule("duplicates").text, ddt.rule("decontamination").text) if x)
    items.append(_item("EUS-3.3", Answer(other or None, None if other else "no processing recorded")))
    return {"template": TEMPLATE, "generated_by": "rigorlab", "subject": f.name, "items": items}


def eu_summary_from_answers(subject: str, answers: dict[str, Any]) -> dict:
    """The same structure from a user's card answers keyed by `EUS-*` ids."""
    items = []
    for ind in load_framework("eu-summary").indicators:
        text = answers.get(ind.id)
        text = "\n".join(map(str, text)) if isinstance(text, list) else (str(text) if text not in (None, "") else None)
        items.append(_item(ind.id, Answer(text, None if text else "not filled in")))
    return {"template": TEMPLATE, "generated_by": "rigorlab", "subject": subject, "items": items}


def render_eu_summary_md(doc: dict) -> str:
    """Markdown with the template's three parts in order."""
    fw = load_framework("eu-summary")
    out = [f"# Public summary of training content: {doc['subject']}", "",
           f"Structured after the {doc['template']}. Items the source cannot answer are marked **Gap**.", ""]
    by_id = {i["id"]: i for i in doc["items"]}
    for sec in fw.sections:
        out += [f"## {sec.title}", ""]
        for ind in fw.indicators:
            if ind.section != sec.id or ind.id not in by_id:
                continue
            it = by_id[ind.id]
            out += [f"### {ind.id.removeprefix('EUS-')} {it['title']}", ""]
            if it["text"]:
                out += [it["text"], ""]
            if it["gap"]:
                out += [f"**Gap:** {it['gap']}.", ""]
    return "\n".join(out).rstrip() + "\n"
