"""A datasheet (Gebru et al., 2021) answered from a run's provenance.

Each of the seven sections lists its questions (from the `datasheets`
framework file) with the run's answer or an explicit gap; the answers reuse
the DDT answers so the two documents never disagree.
"""

from __future__ import annotations

from typing import Callable

from rigorlab.disclosure.documents.run_answers import ORG_GAP, Answer, answer_ddt, describe_origin
from rigorlab.disclosure.frameworks import load_framework
from rigorlab.disclosure.provenance.runfacts import RunFacts

Rule = Callable[[RunFacts, dict[str, Answer]], Answer]
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


def _ddt(iid: str) -> Rule:
    return lambda f, ddt: ddt[iid]


RULES: dict[str, Rule] = {
    "DS-1.1": _purpose, "DS-2.1": _instances, "DS-2.2": _ddt("DDT-1.2"), "DS-2.3": _sample,
    "DS-2.4": _content, "DS-2.5": _labels, "DS-2.8": _splits, "DS-2.9": _ddt("DDT-3.2"),
    "DS-2.10": _external, "DS-3.1": _ddt("DDT-2.1"), "DS-3.2": _ddt("DDT-2.1"), "DS-3.3": _ddt("DDT-2.1"),
    "DS-3.4": _ddt("DDT-2.3"), "DS-3.5": _ddt("DDT-1.3"), "DS-4.1": _ddt("DDT-3.1"), "DS-4.2": _raw_kept,
    "DS-4.3": _software, "DS-5.1": _used, "DS-6.2": _ddt("DDT-6.1"), "DS-6.4": _ddt("DDT-5.1"),
}


def answer_datasheet(f: RunFacts, ddt: dict[str, Answer] | None = None) -> dict[str, Answer]:
    """Every datasheet question answered from the run or marked as a gap."""
    ddt = ddt if ddt is not None else answer_ddt(f)
    fw = load_framework("datasheets")
    out = {}
    for ind in fw.indicators:
        rule = RULES.get(ind.id)
        out[ind.id] = rule(f, ddt) if (rule and f.datasets) else Answer(gap=ORG_GAP if f.datasets else
                                                                         "the run recorded no provenance")
    return out


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
