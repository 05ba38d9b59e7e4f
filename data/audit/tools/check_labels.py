"""Check one annotator's label files against the documents and the frameworks.

Why: the labelled set is only worth something if every quote can be found in the
document it claims to come from, at the line its location names, and if every
document carries exactly one label for each DDT and AAD indicator. A typo in a
quote or a forgotten indicator would silently bias the evaluation of the auditor.

Usage (from the repository root):
    python3 data/audit/tools/check_labels.py data/audit/labels/annotator_a

Exit status 0 when every file passes, 1 when any problem is found (each printed as
one line naming file, indicator and problem), 2 when the arguments are unusable.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

LEVELS = ("disclosed", "vague", "absent")
FRAMEWORKS = ("ddt", "aad")
LOCATION = re.compile(r"^(?P<heading>.*) \(line (?P<line>\d+)\)$")
AUDIT = Path(__file__).resolve().parents[1]
REPO = AUDIT.parents[1]


def indicator_ids(frameworks_dir: Path) -> dict[str, str]:
    """Map every indicator id of DDT and AAD to its framework id."""
    out: dict[str, str] = {}
    for fw in FRAMEWORKS:
        data = yaml.safe_load((frameworks_dir / f"{fw}.yaml").read_text(encoding="utf-8"))
        for ind in data["indicators"]:
            out[ind["id"]] = fw
    return out


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def quote_lines(text: str, quote: str) -> list[int]:
    """Lines on which an occurrence of the quote starts."""
    lines: list[int] = []
    start = text.find(quote)
    while start != -1:
        lines.append(line_of(text, start))
        start = text.find(quote, start + 1)
    return lines


def check_file(path: Path, doc_id: str, doc_text: str, ids: dict[str, str], annotator: str | None) -> list[str]:
    """All problems of one label file, as printable lines."""
    problems: list[str] = []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [f"{path}: not valid YAML ({exc})"]
    if not isinstance(data, dict) or not isinstance(data.get("labels"), list):
        return [f"{path}: expected a mapping with `document`, `annotator` and a `labels` list"]
    if data.get("document") != doc_id:
        problems.append(f"{path}: document is {data.get('document')!r}, expected {doc_id!r}")
    if annotator is not None and str(data.get("annotator")) != annotator:
        problems.append(f"{path}: annotator is {data.get('annotator')!r}, expected {annotator!r}")
    seen: Counter[str] = Counter()
    for i, lab in enumerate(data["labels"]):
        where = f"{path}: label {i + 1}"
        if not isinstance(lab, dict):
            problems.append(f"{where}: not a mapping")
            continue
        ind = str(lab.get("indicator", ""))
        where = f"{path}: {ind or f'label {i + 1}'}"
        seen[ind] += 1
        if ind not in ids:
            problems.append(f"{where}: unknown indicator")
            continue
        if lab.get("framework") != ids[ind]:
            problems.append(f"{where}: framework is {lab.get('framework')!r}, expected {ids[ind]!r}")
        level = lab.get("level")
        quote = lab.get("quote") or ""
        location = lab.get("location") or ""
        if level not in LEVELS:
            problems.append(f"{where}: level {level!r} is not one of {', '.join(LEVELS)}")
            continue
        if level == "absent":
            if quote or location:
                problems.append(f"{where}: absent labels carry no quote and no location")
            continue
        if not quote.strip():
            problems.append(f"{where}: {level} needs a quote")
            continue
        starts = quote_lines(doc_text, quote)
        if not starts:
            problems.append(f"{where}: quote not found verbatim in the document: {quote[:80]!r}")
            continue
        match = LOCATION.match(location)
        if not match:
            problems.append(f"{where}: location {location!r} is not '<heading> (line N)'")
            continue
        if int(match["line"]) not in starts:
            problems.append(f"{where}: quote starts on line(s) {starts}, location says {match['line']}")
    for ind in ids:
        if seen[ind] == 0:
            problems.append(f"{path}: {ind} missing")
        elif seen[ind] > 1:
            problems.append(f"{path}: {ind} labelled {seen[ind]} times")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", type=Path, help="folder of <doc_id>.yaml label files")
    ap.add_argument("--docs", type=Path, default=AUDIT / "docs")
    ap.add_argument("--sources", type=Path, default=AUDIT / "SOURCES.tsv")
    ap.add_argument("--frameworks", type=Path, default=REPO / "rigorlab" / "disclosure" / "frameworks")
    ap.add_argument("--annotator", default=None, help="expected `annotator` value (default: from folder name)")
    args = ap.parse_args(argv)
    if not args.labels.is_dir():
        print(f"{args.labels}: not a folder of label files", file=sys.stderr)
        return 2
    annotator = args.annotator
    if annotator is None and args.labels.name.startswith("annotator_"):
        annotator = args.labels.name.removeprefix("annotator_")
    ids = indicator_ids(args.frameworks)
    with args.sources.open(encoding="utf-8", newline="") as fh:
        docs = [row["doc_id"] for row in csv.DictReader(fh, delimiter="\t")]
    problems: list[str] = []
    counts: Counter[str] = Counter()
    for doc_id in docs:
        path = args.labels / f"{doc_id}.yaml"
        if not path.exists():
            problems.append(f"{path}: missing (document {doc_id} has no labels)")
            continue
        text = (args.docs / f"{doc_id}.md").read_text(encoding="utf-8")
        problems += check_file(path, doc_id, text, ids, annotator)
        for lab in yaml.safe_load(path.read_text(encoding="utf-8")).get("labels", []):
            counts[str(lab.get("level"))] += 1
    extra = sorted(p.stem for p in args.labels.glob("*.yaml") if p.stem not in docs)
    problems += [f"{args.labels / (d + '.yaml')}: no such document in SOURCES.tsv" for d in extra]
    for p in problems:
        print(p)
    total = sum(counts.values())
    print(f"{len(docs)} documents, {len(ids)} indicators each, {total} labels: "
          + ", ".join(f"{lv} {counts[lv]}" for lv in LEVELS)
          + f"; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
