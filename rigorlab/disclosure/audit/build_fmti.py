"""Rebuild `frameworks/fmti-2025.yaml` from the FMTI December 2025 CSV files.

The Foundation Model Transparency Index (Bommasani et al., Stanford CRFM,
https://github.com/stanford-crfm/fmti) is CC BY 4.0; its 100 indicators ship
with rigorlab as a framework, credited in the file. Indicator ids are the
indicator names exactly as in the CSV, so scores files join on them.

Usage: python -m rigorlab.disclosure.audit.build_fmti PATH/TO/fmti [--out FILE]
(PATH holds Dec2025_indicators.csv and fmti-keywords.csv). Same inputs give
byte-identical output.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import yaml

from rigorlab.disclosure.frameworks.loader import FRAMEWORK_DIR
from rigorlab.disclosure.frameworks.schema import Framework, slug
from rigorlab.errors import UserError
from rigorlab.io import atomic_write_text

# The keyword file is from the 2023 edition, whose indicators were renamed or
# split in 2025: each 2025 indicator borrows the keywords of these 2023 ones.
RENAMED_FROM_2023: dict[str, list[str]] = {
    "Data acquisition methods": ["Data sources", "Data source selection"],
    "Public datasets": ["Data sources"],
    "Crawling": ["Data sources"],
    "Usage data used in training": ["Permitted and prohibited use of user data"],
    "Notice of usage data used in training": ["User data protection policy"],
    "Licensed data sources": ["Data license", "Third party partners"],
    "Licensed data compensation": ["Third party partners"],
    "New human-generated data sources": ["Data creators", "Use of human labor"],
    "Instructions for data generation": ["Instructions for creating data"],
    "Data laborer practices": ["Employment of data laborers", "Geographic distribution of data laborers",
                               "Wages", "Labor protections"],
    "Synthetic data sources": ["Data augmentation"],
    "Synthetic data purpose": ["Data augmentation"],
    "Data processing methods": ["Data curation", "Harmful data filtration"],
    "Data processing purpose": ["Data curation", "Harmful data filtration", "Personal information in data",
                                "Copyrighted data"],
    "Data processing techniques": ["Data curation"],
    "External data access": ["Queryable external data access", "Direct external data access"],
    "Data replicability": ["Direct external data access"],
    "Compute usage for final training run": ["Compute usage"],
    "Compute usage including R&D": ["Compute usage"],
    "Development duration for final training run": ["Development duration"],
    "Compute hardware for final training run": ["Compute hardware"],
    "Compute provider": ["Hardware owner"],
    "Energy usage for final training run": ["Energy usage"],
    "Carbon emissions for final training run": ["Carbon emissions"],
    "Water usage for final training run": ["Broader environmental impact"],
    "Basic model properties": ["Input modality", "Output modality", "Model size", "Model components"],
    "Deeper model properties": ["Model architecture"],
    "Model dependencies": ["Core frameworks", "Additional dependencies"],
    "Benchmarked inference": ["Inference duration evaluation", "Inference compute evaluation"],
    "Specialized access": ["External model access protocol"],
    "Open weights": ["Full external model access"],
    "Capabilities taxonomy": ["Capabilities description"],
    "Capabilities evaluation": ["Evaluation of capabilities"],
    "Risks taxonomy": ["Risks description"],
    "Risks evaluation": ["Unintentional harm evaluation", "Intentional harm evaluation"],
    "External reproducibility of risks evaluation": ["External reproducibility of unintentional harm evaluation",
                                                     "External reproducibility of intentional harm evaluation"],
    "Pre-deployment risk evaluation": ["Release decision-making"],
    "External risk evaluation": ["Third-party risks evaluation"],
    "Mitigations taxonomy": ["Mitigations description"],
    "Mitigations taxonomy mapped to risk taxonomy": ["Mitigations description"],
    "Mitigations efficacy": ["Mitigations evaluation"],
    "Release stages": ["Release process"],
    "Risk thresholds": ["Release decision-making"],
    "Top distribution channels": ["Distribution channels"],
    "Terms of use": ["Model License", "Terms of service"],
    "Distribution channels with usage data": ["Distribution channels"],
    "Amount of usage": ["Usage reports"],
    "Classification of usage data": ["Usage reports"],
    "Data retention and deletion policy": ["User data protection policy"],
    "Internal products and services": ["Products and services"],
    "External products and services": ["Downstream applications"],
    "Users of internal products and services": ["Affected individuals"],
    "Consumer/enterprise usage": ["Usage reports"],
    "Enterprise users": ["Affected market sectors"],
    "Government use": ["Government inquiries"],
    "Misuse incident reporting protocol": ["Monitoring mechanism"],
    "Security incident reporting protocol": ["Monitoring mechanism"],
    "Post-deployment coordination with government": ["Government inquiries"],
    "Feedback mechanisms": ["Feedback mechanism"],
    "Model response characteristics": ["Model behavior policy enforcement"],
    "External developer mitigations": ["Documentation for responsible downstream use"],
    "Documentation for responsible use": ["Documentation for responsible downstream use",
                                          "Centralized documentation for downstream use"],
    "AUP enforcement process": ["Usage policy enforcement", "Justification for enforcement action",
                                "Usage policy violation appeals mechanism"],
    "AUP enforcement frequency": ["Usage policy enforcement"],
}

# 2025 indicators with no 2023 ancestor: retrieval terms chosen by hand.
EXTRA_KEYWORDS: dict[str, list[str]] = {
    "Crawling": ["crawler", "robots.txt", "web crawl"],
    "Data language composition": ["language", "languages", "multilingual"],
    "Data domain composition": ["domain", "domains", "code", "web pages"],
    "Internal compute allocation": ["compute allocation", "safety research compute"],
    "Code access": ["code", "github", "training code"],
    "Organization chart": ["organization chart", "team size", "headcount"],
    "Model cost": ["cost", "training cost", "dollars"],
    "Researcher credits": ["research access", "credits", "API credits"],
    "Agent Protocols": ["agent", "MCP", "protocol", "tool use"],
    "Train-test overlap": ["contamination", "train-test overlap", "decontamination"],
    "Model theft prevention measures": ["weights security", "theft", "exfiltration"],
    "Foundation model roadmap": ["roadmap", "future models"],
    "Quantization": ["quantization", "quantized", "int8", "fp8"],
    "Benefits Assessment": ["benefits", "economic impact", "societal benefit"],
    "AI bug bounty": ["bug bounty", "bounty"],
    "Responsible disclosure policy": ["responsible disclosure", "vulnerability"],
    "Safe harbor": ["safe harbor", "safe harbour", "good faith research"],
    "System prompt": ["system prompt"],
    "Intermediate tokens": ["reasoning tokens", "chain of thought", "thinking"],
    "Internal product and service mitigations": ["mitigations", "safety filters", "classifiers"],
    "Enterprise mitigations": ["enterprise", "mitigations", "admin controls"],
    "Detection of machine-generated content": ["watermark", "watermarking", "provenance", "C2PA"],
    "Regional policy variations": ["regional", "jurisdiction", "country"],
    "Oversight mechanism": ["oversight", "board", "governance"],
    "Whistleblower protection": ["whistleblower", "whistle-blower", "retaliation"],
    "Government commitments": ["commitments", "voluntary commitments", "government"],
}

CREDIT = (
    "Foundation Model Transparency Index, December 2025 indicators, by R. Bommasani et al., "
    "Stanford CRFM (https://github.com/stanford-crfm/fmti), CC BY 4.0; converted to rigorlab's "
    "framework schema (ids are the CSV indicator names; keywords from the 2023 fmti-keywords.csv "
    "mapped to 2025 names, plus hand-chosen terms)."
)


def read_fmti_csv(path: Path) -> list[dict[str, str]]:
    """The rows of one FMTI CSV file; an unreadable file is a UserError naming it."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"cannot read FMTI file {path}: {exc}.") from exc


def build(fmti_dir: Path) -> dict:
    """The framework as a plain mapping, validated against the schema."""
    rows = read_fmti_csv(fmti_dir / "Dec2025_indicators.csv")
    old = {
        r["Indicator"].strip(): [r[k].strip() for k in ("Keyword 1", "Keyword 2", "Keyword 3", "Keyword 4")
                                 if r.get(k, "").strip()]
        for r in read_fmti_csv(fmti_dir / "fmti-keywords.csv")
    }
    sections: dict[str, dict] = {}
    indicators = []
    for r in rows:
        name = r["Indicator"].strip()
        sub, dom = r["Subdomain"].strip(), r["Domain"].strip()
        sid = slug(sub)
        sections.setdefault(sid, {"id": sid, "title": sub, "parent": dom})
        keywords: list[str] = [name.lower()]
        for src in [name, *RENAMED_FROM_2023.get(name, [])]:
            keywords += old.get(src, [])
        keywords += EXTRA_KEYWORDS.get(name, [])
        keywords = list(dict.fromkeys(k for k in keywords if k))
        notes = r["Notes"].strip()
        example = r["Example disclosure"].strip()
        if example:
            notes = f"{notes}\n\nExample disclosure: {example}" if notes else f"Example disclosure: {example}"
        indicators.append({
            "id": name,
            "title": name,
            "question": " ".join(r["Definition"].split()),
            "disclosed_when": "A specific, checkable answer to the question as the FMTI notes define it "
                              "(names, numbers, procedures or links); an explicit statement that the "
                              "thing does not exist also answers it.",
            "vague_when": "The topic is mentioned without the specifics the notes ask for (the FMTI gives "
                          "no point for, e.g., 'sourced from the Internet').",
            "section": sid,
            "keywords": keywords,
            "notes": notes or None,
        })
    data = {
        "id": "fmti-2025",
        "title": "Foundation Model Transparency Index (December 2025)",
        "version": "2025-12",
        "source": "https://github.com/stanford-crfm/fmti (Dec2025_indicators.csv)",
        "licence": "CC BY 4.0. " + CREDIT,
        "description": "The FMTI's 100 indicators of foundation-model transparency across the "
                       "upstream (data, compute, methods), model and downstream domains.",
        "kind": ["model"],
        "sections": list(sections.values()),
        "indicators": indicators,
    }
    Framework.model_validate(data)
    return data


def render(data: dict) -> str:
    header = (
        "# GENERATED by `python -m rigorlab.disclosure.audit.build_fmti` from the FMTI CSV files; do not edit.\n"
        f"# {CREDIT}\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fmti_dir", type=Path)
    ap.add_argument("--out", type=Path, default=FRAMEWORK_DIR / "fmti-2025.yaml")
    args = ap.parse_args(argv)
    try:
        atomic_write_text(args.out, render(build(args.fmti_dir)))
    except UserError as exc:
        print(f"build_fmti: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
