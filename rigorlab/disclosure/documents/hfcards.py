"""Hugging Face model and dataset cards generated from a run directory.

The YAML front matter is built with huggingface_hub's `ModelCardData` /
`DatasetCardData` (so `ModelCard.load` and `DatasetCard.load` read it back,
including `model-index`); the body follows the Hub templates' headings and
adds what a GRPO run must disclose: every hyperparameter, the regulariser's
direction / estimator / placement, diversity diagnostics and an AAD section.
"""

from __future__ import annotations

import re

from rigorlab.disclosure.documents.run_answers import (KEY_HYPERPARAMETERS, ORG_GAP, IndicatorAnswers, answer_aad,
                                                       answer_ddt, base_model_note, measured_limitations,
                                                       regulariser_line)
from rigorlab.disclosure.documents.datasheet import render_answer
from rigorlab.disclosure.frameworks import load_framework
from rigorlab.disclosure.documents.mdutil import num, table
from rigorlab.disclosure.provenance.runfacts import RunFacts, flatten

GAP_ORG = "**Gap:** not recorded by the run; the releasing organisation must fill this in."


def _k_sorted(d: dict) -> list:
    return sorted(d, key=lambda x: int(x) if str(x).isdigit() else 10**9)


NOT_METRICS = {"prompts", "samples_per_prompt", "beta_used", "reference_mass_on_outcomes", "reference_mass_outside_outcomes"}
METRIC_NAMES = {"accuracy": "accuracy", "distinct_correct": "distinct correct answers",
                "answer_entropy": "answer entropy (nats)", "coverage": "coverage of the correct-answer set",
                "tv_to_optimum/reverse": "TV distance to the reverse-KL optimum",
                "tv_to_optimum/forward": "TV distance to the forward-KL optimum",
                "tv_to_optimum": "TV distance to the exact optimum"}


def _scalars(d: dict) -> dict[str, float]:
    return {k: float(v) for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def hub_model_id(name: str | None) -> str | None:
    """`owner/name` when it looks like a Hub id (front matter must not carry local paths)."""
    return name if name and re.fullmatch(r"[\w.-]+/[\w.-]+", name) else None


def eval_results(f: RunFacts) -> list:
    """`model-index` entries for the trained policy (huggingface_hub EvalResult objects)."""
    from huggingface_hub import EvalResult

    tr = f.evaluation.get("trained") or {}
    evals = f.datasets_by_role("evaluation")
    ds_name = evals[0]["name"] if evals else (f.task or "evaluation")
    common = dict(task_type="text-generation", task_name="Reasoning (verifiable answers)",
                  dataset_type=f"rigorlab/{f.task or 'task'}", dataset_name=ds_name)
    out = [EvalResult(metric_type=k, metric_name=METRIC_NAMES.get(k, k), metric_value=v, **common)
           for k, v in _scalars(tr).items() if k not in NOT_METRICS]
    for k in _k_sorted(tr.get("pass_at_k") or {}):
        out.append(EvalResult(metric_type=f"pass@{k}", metric_name=f"pass@{k}",
                              metric_value=float(tr["pass_at_k"][k]), **common))
    return out


def _results_table(f: RunFacts) -> str:
    ref, tr = f.evaluation.get("reference") or {}, f.evaluation.get("trained") or {}
    sr, st = _scalars(ref), _scalars(tr)
    rows = [_row(k, sr.get(k), st.get(k)) for k in dict.fromkeys([*sr, *st])]
    pr, pt = ref.get("pass_at_k") or {}, tr.get("pass_at_k") or {}
    for k in _k_sorted({**pr, **pt}):
        rows.append(_row(f"pass@{k}", pr.get(k), pt.get(k)))
    return table(["metric", "reference (base)", "trained", "change"], rows) if rows else \
        "**Gap:** eval.json is missing; no evaluation result is recorded."


def _row(name: str, a, b) -> list:
    ok = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    return [name, num(a), num(b), f"{b - a:+.4f}" if ok else "n/a"]


def _diagnostics(f: RunFacts) -> str:
    keys: list[str] = []
    for row in f.metrics:
        for k, v in row.items():
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool) and k not in keys:
                keys.append(k)
    if not keys:
        return "**Gap:** metrics.jsonl is missing; no training-time diagnostic is recorded."
    rows = []
    for k in keys:
        s = f.metric_series(k)
        vals = [v for _, v in s]
        rows.append([k, f"{s[0][1]:.4g} (step {s[0][0]})", f"{s[-1][1]:.4g} (step {s[-1][0]})",
                     f"{min(vals):.4g}", f"{max(vals):.4g}"])
    return ("Every numeric series in `metrics.jsonl` over "
            f"{len(f.metrics)} logged steps (policy entropy, distinct answers and answer entropy track "
            "diversity; the KL columns are the regulariser's estimators and exact values).\n\n"
            + table(["series", "first", "last", "min", "max"], rows))


def _hyperparameters(f: RunFacts) -> str:
    flat = flatten(f.config)
    if not flat:
        return "**Gap:** config.yaml is missing; the hyperparameters are unknown."
    key = [(k, v) for k, v in flat if k in KEY_HYPERPARAMETERS]
    return ("Key settings:\n\n" + table(["setting", "value"], key) + "\n\n"
            f"All {len(flat)} settings of the resolved configuration (`config.yaml`):\n\n"
            + table(["setting", "value"], flat))


def _aad_section(aad: IndicatorAnswers) -> str:
    fw = load_framework("aad")
    rows = []
    for ind in fw.indicators:
        a = aad[ind.id]
        text = (a.text or "").replace("\n", " ")
        if a.gap:
            gap = "for the releasing organisation to answer" if a.gap == ORG_GAP else a.gap
            text = (text + " " if text else "") + f"Gap: {gap}."
        rows.append([ind.id, fw.section_title(ind.section), ind.title, a.status, text])
    n = sum(a.status == "answered" for a in aad.values())
    return (f"AI Accountability Dimensions (AAD): {n} of {len(aad)} indicators answered from the run; "
            "the rest are gaps for the releasing organisation.\n\n"
            + table(["id", "dimension", "indicator", "status", "answer"], rows))


def _redteam_section(f: RunFacts) -> str:
    """Safety: `rigorlab redteam --run` results (RUN_DIR/redteam/summary.json), or the gap if never run.

    Read as a file, not imported, so disclosure does not depend on the redteam package.
    """
    import json

    p = f.run_dir / "redteam" / "summary.json"
    try:
        s = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "**Gap:** risks outside the training task were not evaluated by the run (no `rigorlab redteam --run`)."

    def rate(r: dict) -> str:
        return "n/a" if r["asr"] is None else f"{r['asr']:.2f} [{r['low']:.2f}, {r['high']:.2f}] ({r['k']}/{r['n']})"

    rows = [[g["goal"], w, rate(g[w]["static"]), rate(g[w]["dynamic"]), g[w]["median_queries_to_first_breach"]]
            for g in s["goals"] for w in ("reference", "trained") if w in g]
    return (f"### Safety: red-team campaign\n\nCampaign \"{s['campaign']}\" (`rigorlab redteam --run`), seeds "
            f"{', '.join(map(str, s['seeds']))}, adaptive budget {s['budget']['queries']} queries per seed and goal; "
            "attack success rates (ASR) with exact 95% intervals. Static: the share of a fixed suite's prompts that "
            "breach; adaptive: the share of campaign seeds whose search breached.\n\n"
            + table(["goal", "policy", "static ASR", "adaptive ASR", "median queries to breach"], rows)
            + "\n\n**Gap:** risks beyond these goals were not evaluated.")


def render_model_card(f: RunFacts, aad: IndicatorAnswers | None = None,
                      ddt: IndicatorAnswers | None = None) -> str:
    """A model card (front matter + Markdown) that `ModelCard.load` parses."""
    from huggingface_hub import ModelCard, ModelCardData

    aad = aad if aad is not None else answer_aad(f)
    ddt = ddt if ddt is not None else answer_ddt(f)
    data = ModelCardData(
        model_name=f.name, base_model=hub_model_id(f.base_model), library_name="transformers",
        tags=["rigorlab", "grpo", "reinforcement-learning"] + ([f.task] if f.task else []),
        eval_results=eval_results(f) or None,
    )
    lim = measured_limitations(f)
    env = f.provenance.get("environment", {})
    train = f.training_datasets
    body = [
        f"# Model card for {f.name}", "",
        "A policy trained by rigorlab with GRPO-family reinforcement learning"
        + (f" from `{f.base_model}`" if f.base_model else "") + (f" on task `{f.task}`" if f.task else "")
        + ". Generated from the run directory: every number below is read from the run's files; "
          "what the run cannot know is marked **Gap**.", "",
        "## Model Details", "", "### Model Description", "",
        f"- **Base model:** {f.base_model or 'not recorded'}",
        *([f"- **Base weights:** {f.base_weights}"] if f.base_weights else []),
        *([f"- **Fine-tuning:** {f.fine_tuning}"] if f.fine_tuning else []),
        f"- **Training algorithm:** GRPO-family, loss type {f.get('grpo.loss_type') or 'not recorded'}",
        f"- **{regulariser_line(f)}**",
        "- **Developed by:** " + GAP_ORG, "- **License:** " + GAP_ORG, "",
        "## Uses", "", "### Direct Use", "", GAP_ORG, "", "### Out-of-Scope Use", "", GAP_ORG, "",
        "## Bias, Risks, and Limitations", "",
        ("Measured by this run:\n\n" + "\n".join(f"- {x}" for x in lim) + "\n\n" if lim else "")
        + _redteam_section(f), "",
        "## How to Get Started with the Model", "",
        "```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n"
        "model = AutoModelForCausalLM.from_pretrained(\"model\")  # the run directory's model/ folder\n"
        "tokenizer = AutoTokenizer.from_pretrained(\"model\")\n```", "",
        *(["The LoRA adapters alone are in `model/adapter/`: `peft.PeftModel.from_pretrained(base, "
           "\"model/adapter\")` on the base model that `adapter_config.json` names.", ""]
          if f.policy.get("lora") else []),
        "## Training Details", "", "### Training Data", "",
        (render_answer(ddt.rule("mixture")) + base_model_note(f) if train else "**Gap:** no training data set is recorded.")
        + "\n\nSee `datasheet.md` and `dataset_card.md` for provenance, filters and decontamination.", "",
        "### Training Procedure", "", regulariser_line(f) + ".", "",
        "#### Training Hyperparameters", "", _hyperparameters(f), "",
        "## Evaluation", "", "### Testing Data, Factors & Metrics", "", "#### Testing Data", "",
        render_answer(ddt.rule("decontamination")), "", "#### Metrics", "", render_answer(aad.rule("evaluation")), "",
        "### Results", "", _results_table(f), "",
        "## Diversity diagnostics", "", _diagnostics(f), "",
        "## Environmental Impact", "", render_answer(aad.rule("compute")), "",
        "## Technical Specifications", "", "### Software", "",
        ", ".join(f"{k} {v}" for k, v in env.items()) if env else "**Gap:** software versions not recorded.", "",
        "## Accountability", "", _aad_section(aad), "",
        "## Model Card Contact", "", GAP_ORG, "",
    ]
    return str(ModelCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n{{ body }}\n",
                                       body="\n".join(body).rstrip()))


def _size_category(n: int) -> str:
    for bound, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < bound:
            return label
    return "10M<n<100M"


def render_dataset_card(f: RunFacts, ddt: IndicatorAnswers | None = None) -> str:
    """A dataset card for the run's data (front matter + Markdown) that `DatasetCard.load` parses."""
    from huggingface_hub import DatasetCard, DatasetCardData

    ddt = ddt if ddt is not None else answer_ddt(f)
    ds = f.datasets
    langs = sorted({lang for d in ds for lang in d.get("languages", [])})
    lic = {d.get("licence") for d in ds}
    data = DatasetCardData(
        pretty_name=f"Data of rigorlab run {f.name}",
        language=langs or None,
        license=(lic.pop() if len(lic) == 1 and None not in lic else None),
        size_categories=[_size_category(sum(d["counts"]["examples"] for d in ds))] if ds else None,
        tags=["rigorlab"] + (["synthetic"] if any(d.get("generator") for d in ds) else []),
    )
    rows = [[d["name"], d.get("role"), d.get("source_type") or "not stated", d["counts"]["examples"],
             d["counts"]["approx_tokens"], d["sha256"][:16]] for d in ds]
    body = [
        f"# Dataset Card for the data of run {f.name}", "",
        "Every data set the run touched, generated from `provenance.json`. Gaps are marked **Gap**.", "",
        "## Dataset Details", "", "### Dataset Description", "",
        table(["name", "role", "type", "examples", "~tokens", "sha256 (prefix)"], rows) if rows else
        "**Gap:** no provenance recorded.", "",
        "- **Curated by:** " + GAP_ORG, "- **License:** " + render_answer(ddt.rule("licence")).replace("\n", " "),
        "- **Language(s):** " + render_answer(ddt.rule("languages")).replace("\n", " "), "",
        "## Uses", "", "### Direct Use", "", render_answer(ddt.rule("rl_data")), "", "### Out-of-Scope Use", "", GAP_ORG, "",
        "## Dataset Structure", "", render_answer(ddt.rule("mixture")), "",
        "## Dataset Creation", "", "### Source Data", "", "#### Data Collection and Processing", "",
        render_answer(ddt.rule("origin")), "", render_answer(ddt.rule("processing")), "", render_answer(ddt.rule("duplicates")), "",
        "#### Decontamination", "", render_answer(ddt.rule("decontamination")), "",
        "#### Who are the source data producers?", "", render_answer(ddt.rule("human_labour")), "",
        "#### Personal and Sensitive Information", "", render_answer(ddt.rule("personal_data")), "",
        "## Bias, Risks, and Limitations", "", render_answer(ddt.rule("bias")), "",
        "## Dataset Card Contact", "", GAP_ORG, "",
    ]
    return str(DatasetCard.from_template(data, template_str="---\n{{ card_data }}\n---\n\n{{ body }}\n",
                                         body="\n".join(body).rstrip()))
