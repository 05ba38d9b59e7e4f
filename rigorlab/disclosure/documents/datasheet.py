"""A datasheet (Gebru et al., 2021) answered from a run's provenance.

Each of the seven sections lists its questions (from the `datasheets`
framework file) with the run's answer or an explicit gap; the answers reuse
the DDT answers so the two documents never disagree.
"""

from __future__ import annotations

from typing import Callable

from rigorlab.disclosure.documents.run_answers import (DDT_RULES, Answer, IndicatorAnswers, answer_ddt,
                                                       bind_rules, describe_origin)
from rigorlab.disclosure.frameworks import load_framework
from rigorlab.disclosure.provenance.runfacts import RunFacts

Rule = Callable[[RunFacts, IndicatorAnswers], Answer]
LABEL_FIELDS = ("answer", "label", "target", "solution", "output", "completion")


def _each(f: RunFacts, line: Callable[[dict], str]) -> str:
    return "\n".join(f"- `{d['name']}`: {line(d)}" for d in f.datasets)


def _purpose(f: RunFacts, _: dict) -> Answer:
    return Answer(_each(f, lambda d: f"{d.get('role')} data for run `{f.name}`"
                        + (f" on task `{f.task}`" if f.task else "")
                        + (f". {d['description']}" if d.get("description") else "")))


def _instances(f: RunFacts, _: dict) -> Answer:
    def line(d: dict) -> str:
        ex = (d.get("examples") or [""])[0].replace("\n", " ")
        return f"{d.get('format')} records" + (f", e.g. \"{ex[:120]}\"" if ex else "")
    return Answer(_each(f, line))


def _sample(f: RunFacts, _: dict) -> Answer:
    return Answer(_each(f, lambda d: ("the complete output of its generator for the recorded parameters and seed "
                                      f"({describe_origin(d)})") if d.get("generator") else
                        f"as read by the run ({describe_origin(d)}); whether the source is itself a sample is "
                        "not recorded"))


def _content(f: RunFacts, _: dict) -> Answer:
    return Answer(_each(f, lambda d: (f"fields {', '.join(f'`{k}`' for k in d['fields'])}" if d.get("fields")
                                      else f"one {d.get('format')} string per example") + "; raw values, no features"))


def _labels(f: RunFacts, _: dict) -> Answer:
    def line(d: dict) -> str:
        found = [k for k in d.get("fields", []) if k in LABEL_FIELDS]
        return f"yes, field {', '.join(f'`{k}`' for k in found)}" if found else "no label field in the records"
    return Answer(_each(f, line))


def _splits(f: RunFacts, _: dict) -> Answer:
    return Answer(_each(f, lambda d: f"role `{d.get('role')}`, {d['counts']['examples']} examples"
                        + (" (held out for evaluation)" if d.get("role") == "evaluation" else "")))


def _external(f: RunFacts, _: dict) -> Answer:
    return Answer(_each(f, lambda d: "self-contained: regenerated from the generator, no external resource"
                        if d.get("generator") and not (d.get("url") or d.get("source_path"))
                        else f"relies on {describe_origin(d)}; its persistence is not guaranteed by the run"))


def _raw_kept(f: RunFacts, _: dict) -> Answer:
    return Answer(_each(f, lambda d: "no separate raw data: generated directly, and regenerable"
                        if d.get("generator") and not d.get("source_path") else
                        f"the source is kept where it was read from ({describe_origin(d)})"))


def _software(f: RunFacts, _: dict) -> Answer:
    env = f.provenance.get("environment", {})
    gens = sorted({d["generator"] for d in f.datasets if d.get("generator")})
    return Answer(f"rigorlab{(' ' + env['rigorlab']) if env.get('rigorlab') else ''} (open source)"
                  + (f"; generators: {', '.join(f'`{g}`' for g in gens)}" if gens else ""))


def _used(f: RunFacts, _: dict) -> Answer:
    return Answer(f"Used by run `{f.name}` to train and evaluate a policy"
                  + (f" from base model `{f.base_model}`" if f.base_model else "")
                  + (f" on task `{f.task}`" if f.task else "") + ".")


# Rule name -> rule; `frameworks/run-answers.yaml` says which question each answers, and a
# question answered by `ddt.<rule>` reuses that DDT answer.
RULES: dict[str, Rule] = {
    "purpose": _purpose, "instances": _instances, "sample": _sample, "content": _content, "labels": _labels,
    "splits": _splits, "external": _external, "raw_kept": _raw_kept, "software": _software, "used": _used,
}


def answer_datasheet(f: RunFacts, ddt: IndicatorAnswers | None = None) -> IndicatorAnswers:
    """Every datasheet question answered from the run or marked as a gap."""
    ddt = ddt if ddt is not None else answer_ddt(f)
    names = [*RULES, *(f"ddt.{name}" for name in DDT_RULES)]
    if not f.datasets:
        return bind_rules("datasheets", dict.fromkeys(names), default=Answer(gap="the run recorded no provenance"))
    by_rule: dict[str, Answer | None] = {name: rule(f, ddt) for name, rule in RULES.items()}
    by_rule.update({f"ddt.{name}": ddt.rule(name) for name in DDT_RULES})
    return bind_rules("datasheets", by_rule)


def render_answer(a: Answer) -> str:
    parts = []
    if a.text:
        parts.append(a.text)
    if a.gap:
        parts.append(f"**Gap:** {a.gap}.")
    return "\n\n".join(parts)


def render_datasheet(f: RunFacts, answers: dict[str, Answer] | None = None) -> str:
    """The datasheet as Markdown."""
    answers = answers if answers is not None else answer_datasheet(f)
    fw = load_framework("datasheets")
    n_gap = sum(a.status == "gap" for a in answers.values())
    out = [f"# Datasheet for the data of run `{f.name}`", "",
           f"Generated by rigorlab from `provenance.json`; questions from {fw.source.rstrip('.')}. "
           f"{len(answers) - n_gap} of {len(answers)} questions are answered from the run's records; "
           f"{n_gap} are gaps the run cannot know, marked **Gap**. Nothing here is inferred.", ""]
    for sec in fw.sections:
        out += [f"## {sec.title}", ""]
        for ind in fw.indicators:
            if ind.section == sec.id:
                out += [f"### {ind.id} {ind.title}", "", f"*{ind.question}*", "", render_answer(answers[ind.id]), ""]
    return "\n".join(out).rstrip() + "\n"
