"""Train the specificity classifier on the FMTI Dec 2025 transparency reports.

Data: six developers x 100 indicators, each with the disclosure text the
FMTI scored and the human 0/1 score (stanford-crfm/fmti, CC BY 4.0,
Bommasani et al.). Features: `features.py` (with monotone signs, `FEATURE_SIGNS`) plus the indicator's base rate
across developers (Dec2025_scores.csv), always computed WITHOUT the
developer being scored, so the feature means the same thing at training time
as when auditing a new developer's card; and the similarity of the answer to
the other developers' disclosed answers to the same indicator
(`profiles.py`), likewise computed without the answer's own developer.
Empty answers and short refusals are left to the hurdle rule (probability 0)
and the regression is fitted on the rest.

    python -m rigorlab.disclosure.audit.train_fmti --reference ../shared/reference/fmti

rewrites `fmti_model.json`; the same inputs give byte-identical output.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.classifier import (
    MODEL_FEATURES,
    MODEL_PATH,
    SpecificityModel,
    fit_signed_logistic,
    logit,
)
from rigorlab.disclosure.audit.features import (
    FEATURE_NAMES,
    FEATURE_SIGNS,
    PassageStats,
    combine,
    indicator_profile,
    passage_stats,
)
from rigorlab.disclosure.audit.profiles import TOP_TERMS, AnswerProfiles, build_profiles
from rigorlab.disclosure.audit.build_fmti import read_fmti_csv
from rigorlab.disclosure.audit.sure import binary_margin, choose_margin
from rigorlab.disclosure.frameworks.schema import slug
from rigorlab.errors import UserError
from rigorlab.io import atomic_write_json

DEFAULT_REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "fmti"
L2 = 1.0


@dataclass(frozen=True)
class Example:
    developer: str
    indicator: str
    domain: str
    subdomain: str
    title_text: str
    indicator_text: str
    disclosure: str
    label: int


def report_files(reference: Path) -> list[Path]:
    files = sorted((reference / "reports").glob("*_fmtransparencyreport_*.csv"))
    if not files:
        raise UserError(f"no FMTI reports (*_fmtransparencyreport_*.csv) under {reference / 'reports'}.")
    return files


def developer_name(report: Path) -> str:
    """'AI21_Labs_fmtransparencyreport_Dec2025.csv' -> 'AI21 Labs' (the scores' column name)."""
    return report.name.split("_fmtransparencyreport")[0].replace("_", " ")


def load_examples(reference: Path = DEFAULT_REFERENCE) -> list[Example]:
    """Every (developer, indicator) pair of the reports, with its subdomain and human score."""
    meta = {r["Indicator"].strip(): r for r in read_fmti_csv(reference / "Dec2025_indicators.csv")}
    out: list[Example] = []
    for f in report_files(reference):
        dev = developer_name(f)
        for row in read_fmti_csv(f):
            name = row["Indicator"].strip()
            m = meta.get(name, {})
            out.append(Example(
                developer=dev, indicator=name,
                domain=m.get("Domain", "").strip(), subdomain=m.get("Subdomain", "").strip(),
                title_text=name,
                indicator_text=f"{row.get('Definition', '')} {row.get('Notes', '')}",
                disclosure=row.get("Disclosure", "") or "",
                label=int(row["Score"].strip()),
            ))
    return out


def load_scores(reference: Path = DEFAULT_REFERENCE) -> dict[str, dict[str, int]]:
    """slug(indicator) -> {developer: 0/1} from Dec2025_scores.csv (13 developers)."""
    table: dict[str, dict[str, int]] = {}
    for row in read_fmti_csv(reference / "Dec2025_scores.csv"):
        name = row.pop("Indicator").strip()
        table[slug(name)] = {d.strip(): int(v) for d, v in row.items() if v not in (None, "")}
    return table


def base_rate(scores: dict[str, dict[str, int]], indicator: str, exclude: set[str]) -> float:
    """Laplace-smoothed share of developers (other than `exclude`) that disclose the indicator."""
    vals = [v for d, v in scores.get(slug(indicator), {}).items() if d not in exclude]
    return (sum(vals) + 1.0) / (len(vals) + 2.0)


@lru_cache(maxsize=4096)
def _stats(text: str) -> PassageStats:
    """passage_stats, once per distinct answer (training refits many times on the same texts)."""
    return passage_stats(text)


def make_profiles(examples: list[Example], top_terms: int = TOP_TERMS) -> AnswerProfiles:
    """Accepted-answer centroids (`profiles.py`) from these examples only."""
    rows = [(slug(ex.indicator), ex.disclosure, ex.label, not _stats(ex.disclosure).trivial)
            for ex in examples]
    return build_profiles(rows, top_terms)


def design_matrix(examples: list[Example], scores: dict[str, dict[str, int]],
                  exclude: set[str] = frozenset(),
                  profiles: AnswerProfiles | dict[str, AnswerProfiles] | None = None,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(feature rows, trivial mask). The prior leaves out each row's own developer and `exclude`;
    the similarity uses `profiles`, or `profiles[developer]` when given one set per developer
    (built without that developer), or 0 when None."""
    rows, trivial = [], []
    for ex in examples:
        prof = indicator_profile(ex.title_text, ex.indicator_text)
        prior = base_rate(scores, ex.indicator, exclude | {ex.developer})
        st = _stats(ex.disclosure)
        ap = profiles.get(ex.developer) if isinstance(profiles, dict) else profiles
        sim = ap.similarity(T.tokenize(ex.disclosure), slug(ex.indicator)) if ap else 0.0
        rows.append(np.append(combine(prof, st), (logit(prior), sim)))
        trivial.append(st.trivial)
    return np.asarray(rows), np.asarray(trivial, dtype=bool)


def fit_model(examples: list[Example], scores: dict[str, dict[str, int]],
              exclude: set[str] = frozenset(), meta: dict | None = None,
              l2: float = L2, top_terms: int = TOP_TERMS, choose_sure: bool = False) -> SpecificityModel:
    """Fit on `examples`; priors at audit time use every developer not in `exclude`.

    Each training row's similarity feature comes from profiles built without its own developer,
    as it will be for a developer the model has never seen. `choose_sure`: also choose the sure
    margin (`sure_margin`) on leave-one-developer-out predictions over these examples."""
    developers = sorted({ex.developer for ex in examples})
    held_out = {d: make_profiles([ex for ex in examples if ex.developer != d], top_terms) for d in developers}
    X, trivial = design_matrix(examples, scores, set(exclude), held_out)
    y = np.asarray([ex.label for ex in examples], dtype=np.float64)
    signs = [FEATURE_SIGNS[n] for n in FEATURE_NAMES] + [1, 1]   # base rate and similarity can only help
    mean, scale, w, b = fit_signed_logistic(X[~trivial], y[~trivial], signs, l2=l2)
    priors = {k: base_rate(scores, k, set(exclude)) for k in sorted(scores)}
    return SpecificityModel(
        feature_names=list(MODEL_FEATURES), mean=mean, scale=scale, weights=w,
        bias=b, priors=priors, default_prior=float(np.mean(list(priors.values()))), meta=meta or {},
        profiles=make_profiles(examples, top_terms),
        sure=sure_margin(examples, scores, set(exclude), l2, top_terms) if choose_sure else None,
    )


def sure_margin(examples: list[Example], scores: dict[str, dict[str, int]], exclude: set[str],
                l2: float = L2, top_terms: int = TOP_TERMS) -> dict[str, float] | None:
    """The margin (`sure.choose_margin`) at which answers judged by a model that never saw their
    developer agree with the FMTI's scores at kappa and accuracy >= 0.8: each developer's answers are
    predicted by a model fitted on the others (leave one developer out, as in the evaluation)."""
    developers = sorted({ex.developer for ex in examples})
    margins: list[float] = []
    truth: list[str] = []
    pred: list[str] = []
    for d in developers:
        model = fit_model([ex for ex in examples if ex.developer != d], scores, exclude | {d}, l2=l2,
                          top_terms=top_terms)
        mine = [ex for ex in examples if ex.developer == d]
        X, trivial = design_matrix(mine, scores, exclude | {d}, model.profiles)
        for ex, p in zip(mine, model.predict_rows(X, trivial)):
            yes = bool(p >= model.threshold)
            margins.append(binary_margin(yes, float(p), model.threshold))
            pred.append("disclosed" if yes else "absent")
            truth.append("disclosed" if ex.label else "absent")
    return choose_margin(np.asarray(margins), truth, pred) if len(developers) > 1 else None


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def train(reference: Path = DEFAULT_REFERENCE) -> SpecificityModel:
    """The shipped model: all six reports, priors from all thirteen developers."""
    reference = Path(reference)
    if not (reference / "Dec2025_scores.csv").is_file():
        raise UserError(f"FMTI reference data not found at {reference} (need Dec2025_scores.csv and reports/).")
    examples = load_examples(reference)
    inputs = [reference / "Dec2025_indicators.csv", reference / "Dec2025_scores.csv", *report_files(reference)]
    meta = {
        "source": "stanford-crfm/fmti Dec 2025 transparency reports (CC BY 4.0, Bommasani et al.)",
        "examples": len(examples),
        "positives": int(sum(ex.label for ex in examples)),
        "developers": sorted({ex.developer for ex in examples}),
        "l2": L2,
        "profile_terms": TOP_TERMS,
        "hurdle": "empty answers and refusals under 30 words get probability 0",
        "sure": "the smallest margin at which leave-one-developer-out predictions reach the targets (sure_margin)",
        "inputs_sha256": _digest(inputs),
        "trainer": "python -m rigorlab.disclosure.audit.train_fmti",
    }
    return fit_model(examples, load_scores(reference), meta=meta, choose_sure=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE,
                    help="folder holding Dec2025_scores.csv, Dec2025_indicators.csv and reports/")
    ap.add_argument("--out", type=Path, default=MODEL_PATH, help="where to write the model JSON")
    args = ap.parse_args(argv)
    try:
        model = train(args.reference)
    except UserError as exc:
        print(f"train_fmti: error: {exc}", file=sys.stderr)
        return 2
    atomic_write_json(args.out, model.to_json())
    print(f"wrote {args.out} ({model.meta['examples']} examples, {model.meta['positives']} disclosed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
