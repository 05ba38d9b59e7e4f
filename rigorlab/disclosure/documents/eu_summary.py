"""The EU public summary of training content (AI Act Art. 53(1)(d)), as JSON and Markdown.

Structured by the sections of the Commission's template (framework
`eu-summary`): general information, the list of data sources by category
(public, private/licensed, crawled, user, synthetic, other) and data
processing. From a run, sizes, categories and synthetic generators come from
provenance; provider identity, opt-outs and illegal-content measures are gaps.
"""

from __future__ import annotations

from typing import Any

from rigorlab.disclosure.documents.answer_table import answer_table
from rigorlab.disclosure.documents.run_answers import (ORG_GAP, Answer, IndicatorAnswers, answer_ddt, base_model_note,
                                                       describe_origin)
from rigorlab.disclosure.frameworks import load_framework
from rigorlab.disclosure.provenance.runfacts import RunFacts

TEMPLATE = "European Commission template for the public summary of training content (July 2025)"
SOURCE_CATEGORIES = ("public", "licensed", "crawled", "user", "synthetic", "other")   # the template's list
CATEGORY = {  # source_type words -> category (its template item comes from frameworks/run-answers.yaml)
    "public": "public", "public data set": "public", "public-dataset": "public",
    "licensed": "licensed", "private": "licensed", "third-party": "licensed",
    "web crawl": "crawled", "web-crawl": "crawled", "crawled": "crawled", "scraped": "crawled",
    "user": "user", "user data": "user", "product": "user",
    "synthetic": "synthetic",
}

# The parts of the summary, by rule name; `frameworks/run-answers.yaml` says which EUS item each fills.
RULES = ("provider", "model", "modality_size", *(f"sources.{c}" for c in SOURCE_CATEGORIES), "opt_outs",
         "illegal_content", "processing")


def category_of(source_type: str | None) -> str | None:
    """The template item (EUS id) for a source type; 'other' for unknown words, None when not stated."""
    if not source_type:
        return None
    return answer_table().id_of("eu-summary", f"sources.{CATEGORY.get(source_type.strip().lower(), 'other')}")


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
    """The summary of the data that trained the run's model (evaluation data excluded).

    Each part is a named rule; `frameworks/run-answers.yaml` says which template item (EUS id) it fills.
    """
    ddt = ddt if ddt is not None else answer_ddt(f)
    table = answer_table()
    train = f.training_datasets
    tokens = sum(d["counts"]["approx_tokens"] for d in train)
    langs = sorted({lang for d in train for lang in d.get("languages", [])})
    untyped = [d["name"] for d in train if not d.get("source_type")]
    by_rule: dict[str, tuple[Answer, dict | None]] = {
        "provider": (Answer(gap="provider name and contact; " + ORG_GAP), None),
        "model": (Answer(f"Model trained by rigorlab run `{f.name}`"
                         + (f", fine-tuned from `{f.base_model}`" if f.base_model else "") + "."
                         + base_model_note(f),
                         "date of placing on the market; " + ORG_GAP),
                  {"model": f.name, "base_model": f.base_model}),
        "modality_size": (Answer(
            f"Modality: text ({', '.join(sorted({d.get('format', 'text') for d in train})) or 'text'}). "
            f"Size: ~{tokens} tokens ({token_range(tokens)}; tokens approximated as characters / 4) in "
            f"{sum(d['counts']['examples'] for d in train)} examples. Languages: "
            f"{', '.join(langs) if langs else 'not declared'}.",
            None if langs else "languages were not declared to the run"),
            {"modalities": ["text"], "approx_tokens": tokens, "size_range": token_range(tokens), "languages": langs}),
    }
    for cat in SOURCE_CATEGORIES:
        iid = table.id_of("eu-summary", f"sources.{cat}")
        members = [d for d in train if category_of(d.get("source_type")) == iid]
        listing = [{"name": d["name"], "role": d.get("role"), "origin": describe_origin(d),
                    "examples": d["counts"]["examples"], "licence": d.get("licence")} for d in members]
        if members:
            ans = Answer("Used: " + "; ".join(f"`{d['name']}` ({describe_origin(d)})" for d in members) + ".")
        elif untyped:
            ans = Answer(gap=f"cannot tell: the source type of {', '.join(untyped)} was not stated")
        else:
            ans = Answer("Not used.")
        by_rule[f"sources.{cat}"] = (ans, {"used": bool(members) if (members or not untyped) else None,
                                           "datasets": listing})
    opt = ddt.rule("opt_outs")
    by_rule["opt_outs"] = (opt if opt.text else Answer(gap="opt-out compliance and copyright policy; " + ORG_GAP),
                           None)
    by_rule["illegal_content"] = (Answer(gap="measures against illegal content; " + ORG_GAP), None)
    other = "\n".join(x for x in (ddt.rule("processing").text, ddt.rule("duplicates").text,
                                  ddt.rule("decontamination").text) if x)
    by_rule["processing"] = (Answer(other or None, None if other else "no processing recorded"), None)
    table.check_rules("eu-summary", set(RULES))
    items = [_item(iid, *by_rule[rule]) for iid, rule in table.rules("eu-summary").items()]
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
