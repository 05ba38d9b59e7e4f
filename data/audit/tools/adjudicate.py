"""Build data/audit/labels/adjudicated/ from the two annotators and the written decisions.

Why a script: the adjudicated set is the reference the auditor is measured against, so it
must be reproducible from its inputs: where A and B agree their label stands (A's quote,
`adjudication: agreed`); where they differ, `tools/adjudications.yaml` says whose label
stands (`a`, `b`) or gives a new level (`new`), with a short reason read against
docs/audit-guidelines.md. A disagreement without a decision, or a decision without a
disagreement, stops the script (exit 1).

    python3 data/audit/tools/adjudicate.py && python3 data/audit/tools/check_labels.py \
        data/audit/labels/adjudicated --annotator adjudicated
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

AUDIT = Path(__file__).resolve().parents[1]


def main() -> int:
    a_dir, b_dir = AUDIT / "labels" / "annotator_a", AUDIT / "labels" / "annotator_b"
    out_dir = AUDIT / "labels" / "adjudicated"
    decisions = {(d["document"], d["indicator"]): d
                 for d in yaml.safe_load((AUDIT / "tools" / "adjudications.yaml").read_text(encoding="utf-8"))}
    used, problems = set(), []
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(a_dir.glob("*.yaml")):
        doc = path.stem
        la = yaml.safe_load(path.read_text(encoding="utf-8"))["labels"]
        lb = {x["indicator"]: x for x in yaml.safe_load((b_dir / path.name).read_text(encoding="utf-8"))["labels"]}
        labels = []
        for x in la:
            y = lb[x["indicator"]]
            keep = {k: x.get(k, "") for k in ("framework", "indicator", "level", "quote", "location", "note")}
            if x["level"] == y["level"]:
                keep["adjudication"] = "agreed"
            else:
                dec = decisions.get((doc, x["indicator"]))
                if dec is None:
                    problems.append(f"{doc} {x['indicator']}: A {x['level']} vs B {y['level']} has no decision")
                    continue
                used.add((doc, x["indicator"]))
                src = {"a": x, "b": y}[dec.get("quote_from", dec["choice"]) if dec["choice"] == "new" else dec["choice"]]
                keep = {k: src.get(k, "") for k in ("framework", "indicator", "level", "quote", "location", "note")}
                if dec["choice"] == "new":
                    keep["level"] = dec["level"]
                keep["adjudication"] = dec["choice"]
                keep["reason"] = dec["reason"]
            keep["note"] = keep.get("note") or ""
            labels.append({k: v for k, v in keep.items() if v != "" or k in ("quote", "location")})
        text = yaml.safe_dump({"document": doc, "annotator": "adjudicated", "labels": labels},
                              sort_keys=False, allow_unicode=True, width=200)
        tmp = out_dir / f".{doc}.yaml.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out_dir / f"{doc}.yaml")
    problems += [f"{d} {i}: decision for items that agree" for d, i in sorted(set(decisions) - used)]
    for p in problems:
        print(p)
    print(f"{len(used)} disagreements adjudicated; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
