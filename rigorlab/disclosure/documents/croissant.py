"""Croissant JSON-LD with the RAI properties, and its validation.

The document uses the Croissant 1.0 context (schema.org vocabulary, `cr:` and
`rai:` prefixes). Validation prefers `mlcroissant` (the reference
implementation) and additionally checks that every RAI property written was
read back; without mlcroissant it checks the document against the RAI
property list and cardinalities of the `croissant-rai` framework, and says so.

mlcroissant 1.1 spells two RAI 1.0 terms differently from the specification
(`dataCollectionTimeFrame`, `dataDataManipulationProtocol`); both spellings
are written so that readers of either find them.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

from rigorlab.disclosure.documents.run_answers import Answer, IndicatorAnswers, answer_ddt
from rigorlab.disclosure.provenance.runfacts import RunFacts

CROISSANT_1_0 = "http://mlcommons.org/croissant/1.0"
CONTEXT: dict[str, Any] = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty", "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject", "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5",
    "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
    "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/", "separator": "cr:separator", "source": "cr:source",
    "subField": "cr:subField", "transform": "cr:transform",
}
# RAI 1.0 properties that take a list (cardinality MANY); the others take one text.
RAI_MANY = {"rai:dataCollectionType", "rai:dataCollectionTimeframe", "rai:dataPreprocessingProtocol",
            "rai:dataAnnotationProtocol", "rai:dataAnnotationPlatform", "rai:dataAnnotationAnalysis",
            "rai:annotatorDemographics", "rai:machineAnnotationTools", "rai:dataBiases", "rai:dataUseCases",
            "rai:dataLimitations", "rai:personalSensitiveInformation"}
MLCROISSANT_SPELLING = {"rai:dataCollectionTimeframe": "rai:dataCollectionTimeFrame",
                        "rai:dataManipulationProtocol": "rai:dataDataManipulationProtocol"}
_CANONICAL = {v: k for k, v in MLCROISSANT_SPELLING.items()}
_FORMATS = {".jsonl": "application/jsonlines", ".json": "application/json", ".csv": "text/csv",
            ".txt": "text/plain", ".parquet": "application/x-parquet", ".md": "text/markdown"}


def croissant_name(text: str) -> str:
    """A name Croissant accepts (letters, digits, '-', '_', '.')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "dataset"


def build_croissant(name: str, description: str, rai: dict[str, Any], *, url: str | None = None,
                    license: str | None = None, version: str | None = None, cite_as: str | None = None,
                    distribution: list[dict] | None = None, extra: dict | None = None) -> dict:
    """A Croissant 1.0 dataset document; `rai` maps `rai:*` property names to text or lists."""
    doc: dict[str, Any] = {"@context": CONTEXT, "@type": "sc:Dataset", "name": croissant_name(name),
                           "description": description, "conformsTo": CROISSANT_1_0}
    for key, value in (("url", url), ("license", license), ("version", version), ("citeAs", cite_as)):
        if value:
            doc[key] = value
    for key, value in rai.items():
        if value in (None, "", []):
            continue
        if key in RAI_MANY:
            value = value if isinstance(value, list) else [value]
        elif isinstance(value, list):
            value = "\n".join(str(v) for v in value)
        doc[key] = value
        if key in MLCROISSANT_SPELLING:
            doc[MLCROISSANT_SPELLING[key]] = value
    if distribution:
        doc["distribution"] = distribution
    if extra:
        doc.update(extra)
    return doc


def _lines(a: Answer) -> list[str]:
    return [ln[2:] if ln.startswith("- ") else ln for ln in (a.text or "").splitlines() if ln.strip()]


def croissant_from_run(f: RunFacts, ddt: IndicatorAnswers | None = None) -> dict:
    """The run's data sets as one Croissant dataset with the RAI properties the run can answer."""
    ddt = ddt if ddt is not None else answer_ddt(f)
    ds = f.datasets
    generated = [d for d in ds if d.get("generator")]
    times = sorted(d["recorded_at"] for d in ds if d.get("recorded_at"))
    label_fields = {k for d in generated for k in d.get("fields", [])
                    if k in ("answer", "label", "target", "solution")}
    rai: dict[str, Any] = {
        "rai:dataCollection": ddt.rule("origin").text,
        "rai:dataCollectionType": sorted({d.get("source_type") or "not stated" for d in ds}),
        "rai:dataCollectionTimeframe": [times[0], times[-1]] if times else None,
        "rai:dataPreprocessingProtocol": _lines(ddt.rule("processing")),
        "rai:dataManipulationProtocol": ddt.rule("duplicates").text,
        "rai:machineAnnotationTools": sorted({d["generator"] for d in generated}),
        "rai:dataUseCases": _lines(ddt.rule("rl_data")) + [f"`{d['name']}`: evaluation" for d in
                                                       f.datasets_by_role("evaluation")],
        "rai:dataLimitations": _lines(ddt.rule("decontamination")) if any(c.get("contaminated") for c in f.contamination) else None,
    }
    if generated and len(generated) == len(ds):
        rai["rai:dataCollectionRawData"] = "No raw data: every data set is generated directly by a program " \
                                           "and can be regenerated from its generator, parameters and seed."
        rai["rai:dataImputationProtocol"] = "None: generated records are complete; the run imputes no values."
    if label_fields:
        rai["rai:dataAnnotationProtocol"] = [f"Labels ({', '.join(sorted(label_fields))}) are computed by the "
                                             "generating program, not by people."]
        rai["rai:annotationsPerItem"] = "1 (computed by the generator)"
    dist = []
    for d in ds:
        # the reference model's weights (a GGUF file) are not a distribution of the run's data: the model card names them
        if d.get("source_path") and d.get("file_sha256") and d["name"] != "reference-model":
            p = Path(d["source_path"])
            dist.append({"@type": "cr:FileObject", "@id": croissant_name(d["name"]), "name": croissant_name(d["name"]),
                         "contentUrl": d["source_path"], "encodingFormat": _FORMATS.get(p.suffix, "text/plain"),
                         "sha256": d["file_sha256"]})
    lic = {d.get("licence") for d in ds}
    return build_croissant(
        f"rigorlab-run-{f.name}",
        f"Every data set used by rigorlab run {f.name}: " + ", ".join(
            f"{d['name']} ({d.get('role')}, {d['counts']['examples']} examples, sha256 {d['sha256'][:12]})"
            for d in ds),
        rai, license=lic.pop() if len(lic) == 1 and None not in lic else None, distribution=dist or None)


def validate_croissant(doc: dict) -> dict:
    """Validate with mlcroissant when importable, else against the RAI schema; always report which."""
    problems = _schema_problems(doc)
    try:
        import mlcroissant as mlc
        from importlib.metadata import version
    except ImportError as exc:
        return {"validator": "rigorlab RAI schema check", "ok": not problems, "errors": problems, "warnings": [],
                "note": f"mlcroissant is not installed ({exc.__class__.__name__}: {exc}); checked the RAI property "
                        "names and cardinalities of Croissant RAI 1.0 and the required Croissant keys instead. "
                        "Install with `pip install 'rigorlab[croissant]'` for full validation."}
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.ERROR)  # mlcroissant logs its warnings too; they are returned instead
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "croissant.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        try:
            md = mlc.Dataset(jsonld=path).metadata
        except Exception as exc:  # mlcroissant raises its own ValidationError and others
            absl.setLevel(level)
            return {"validator": f"mlcroissant {version('mlcroissant')}", "ok": False,
                    "errors": problems + [" ".join(str(exc).split())], "warnings": [], "note": ""}
        warnings = sorted(md.ctx.issues.warnings)
    absl.setLevel(level)
    unread = [k for k in doc if k.startswith("rai:") and k not in MLCROISSANT_SPELLING.values()
              and not _read_back(md, MLCROISSANT_SPELLING.get(k, k))]
    errors = problems + [f"mlcroissant did not read back {k}" for k in unread]
    return {"validator": f"mlcroissant {version('mlcroissant')}", "ok": not errors, "errors": errors,
            "warnings": warnings, "note": "validated by mlcroissant; every RAI property written was read back"
            if not unread else ""}


def _read_back(md: Any, key: str) -> bool:
    attr = re.sub(r"(?<!^)([A-Z])", r"_\1", key.split(":", 1)[1]).lower()
    attr = {"data_collection_time_frame": "data_collection_timeframe",
            "data_data_manipulation_protocol": "data_manipulation_protocol"}.get(attr, attr)
    return getattr(md, attr, None) not in (None, [], "")


def _schema_problems(doc: dict) -> list[str]:
    from rigorlab.disclosure.frameworks import load_framework

    known = {i.id for i in load_framework("croissant-rai").indicators} | set(MLCROISSANT_SPELLING.values())
    out = []
    for key in ("@context", "@type", "name", "conformsTo"):
        if key not in doc:
            out.append(f"missing required key `{key}`")
    if doc.get("@type") not in ("sc:Dataset", "https://schema.org/Dataset"):
        out.append("`@type` must be sc:Dataset")
    for key, value in doc.items():
        if not key.startswith("rai:"):
            continue
        if key not in known:
            out.append(f"`{key}` is not a Croissant RAI 1.0 property")
        elif _CANONICAL.get(key, key) in RAI_MANY:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                out.append(f"`{key}` must be a list of text values")
        elif not isinstance(value, str):
            out.append(f"`{key}` must be one text value")
    return out
