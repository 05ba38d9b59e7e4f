"""Term and notation checks: the KL-direction error and the datasheets/data-tables confusion are found,
quoted verbatim with their location; correct usage stays silent; `rigorlab audit` runs them by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigorlab.cli import main
from rigorlab.disclosure.audit import audit_paths
from rigorlab.disclosure.audit.notation import normalise_symbol, split_arguments
from rigorlab.disclosure.audit.reader import read_document
from rigorlab.disclosure.audit.terms import check_terms, load_glossary
from rigorlab.disclosure.audit.wording import sentence_spans
from rigorlab.errors import UserError

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "cards"

WRONG = """# Paper

## Method

We regularise with the reverse KL, $D_{\\mathrm{KL}}(\\pi_{\\text{ref}} \\| \\pi_\\theta)$, toward the reference.
In contrast, the forward KL is KL(pi_theta || pi_ref) in our notation.
The mass-covering divergence D_KL(π_θ(·|x) ‖ π_ref(·|x)) spreads probability.

## Documentation

Following Gebru et al. (2021), we release data tables for every dataset we train on.
"""

RIGHT = """# Paper

## Method

We regularise with the reverse KL, $D_{\\mathrm{KL}}(\\pi_\\theta \\| \\pi_{\\text{ref}})$, which is mode-seeking.
The forward KL is KL(pi_ref || pi_theta), which is mass-covering.
Mode-seeking behaviour follows from the reverse KL D_KL(π_θ(·|x) ‖ π_ref(·|x)), which we use throughout.
Unlike the forward KL studied by others, we penalise KL(pi_theta || pi_ref) with beta = 0.04.
The forward pass computes KL(a || b) for two unrelated distributions.

## Documentation

Following Gebru et al. (2021), we release datasheets for every dataset; the results are in the data tables below.
Model cards (Mitchell et al., 2019) accompany each checkpoint. Our open-source model is released under Apache-2.0.
Perplexity is 9.2, a cross-entropy of 2.22 nats per token.
"""


def _doc(tmp_path: Path, text: str, name: str = "paper.md"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p, read_document(p)


def test_kl_direction_errors_are_found_in_latex_ascii_and_unicode(tmp_path: Path) -> None:
    p, doc = _doc(tmp_path, WRONG)
    kl = [f for f in check_terms(doc) if f.id == "kl-direction"]
    assert [f.term for f in kl] == ["reverse KL", "forward KL", "forward KL"]
    assert "that is the forward KL; the reverse KL is KL(\\pi_\\theta \u2016 \\pi_{\\text{ref}})" in kl[0].message
    assert "that is the reverse KL; the forward KL is KL(pi_ref \u2016 pi_theta)" in kl[1].message
    lines = p.read_text().splitlines()
    for f in kl:
        assert f.quote in doc.full_text                     # verbatim
        a, b = f.location["lines"]
        assert f.quote.split(",")[0] in "\n".join(lines[a - 1:b])   # the location holds the quote
        assert f.location["file"] == str(p) and f.location["heading"] == "Paper > Method"


def test_datasheets_confused_with_data_tables_is_found_with_its_location(tmp_path: Path) -> None:
    _, doc = _doc(tmp_path, WRONG)
    [f] = [f for f in check_terms(doc) if f.check == "term"]
    assert f.id == "datasheets-vs-data-tables" and f.term == "datasheets"
    assert f.quote == "Following Gebru et al. (2021), we release data tables for every dataset we train on."
    assert f.location["heading"] == "Paper > Documentation"


def test_correct_usage_stays_silent(tmp_path: Path) -> None:
    _, doc = _doc(tmp_path, RIGHT)
    assert check_terms(doc) == []


@pytest.mark.parametrize("text, check", [
    ("We publish model cards (Gebru et al., 2021) for each checkpoint.", "model-cards-attribution"),
    ("We follow the datasheets of Mitchell et al. (2019) for our corpus.", "datasheets-attribution"),
    ("Our open-source model ships under the Llama 3 Community License and its acceptable use policy.",
     "open-source-vs-open-weights"),
    ("The perplexity reaches 2.31 nats per token on held-out text.", "perplexity-units"),
    ("We minimise the KL distance between the two policies.", "kl-distance"),
])
def test_each_glossary_term_fires_on_its_misuse(tmp_path: Path, text: str, check: str) -> None:
    _, doc = _doc(tmp_path, f"# T\n\n{text}\n")
    assert [f.id for f in check_terms(doc)] == [check]


def test_symbols_and_arguments_are_normalised() -> None:
    assert normalise_symbol("\\pi_{\\theta}(\\cdot \\mid x)") == "π_θ" == normalise_symbol("pi_theta")
    assert normalise_symbol("\\pi_{\\mathrm{ref}}") == "π_ref" == normalise_symbol("π_ref(y|x)")
    assert split_arguments("π_θ(y|x) || π_ref(y|x)") == ("π_θ(y|x)", "π_ref(y|x)")
    assert split_arguments("p | q") == ("p", "q") and split_arguments("a, b") is None
    t = "Gebru et al. (2021) wrote it. Fig. 2 shows e.g. 3 runs. Next."
    assert [t[a:b] for a, b in sentence_spans(t)] == ["Gebru et al. (2021) wrote it.", "Fig. 2 shows e.g. 3 runs.",
                                                       "Next."]


def test_audit_runs_the_checks_by_default_and_lists_them_apart(tmp_path: Path, capsys) -> None:
    p, _ = _doc(tmp_path, WRONG)
    assert main(["audit", str(p), "--framework", "ddt,aad", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    terms = data["documents"][0]["terms"]
    assert [t["id"] for t in terms] == ["kl-direction"] * 3 + ["datasheets-vs-data-tables"]
    assert all(set(t) == {"check", "id", "term", "message", "quote", "location"} for t in terms)
    assert main(["audit", str(p), "--framework", "ddt,aad", "--format", "json", "--no-terms"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert off["documents"][0]["terms"] == []
    assert off["findings"] == data["findings"] and off["documents"][0]["scores"] == data["documents"][0]["scores"]
    assert main(["audit", str(p), "--framework", "ddt", "--format", "md"]) == 0
    assert "### Terms and notation (4)" in capsys.readouterr().out


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_real_cards_raise_no_term_finding() -> None:
    """24 real model and data cards: the checks must not invent wording problems."""
    run = audit_paths([CORPUS], "ddt")
    assert len(run.documents) == 24 and [t for d in run.documents for t in d.terms] == []


def test_a_bad_glossary_is_one_sentence(tmp_path: Path) -> None:
    from rigorlab.disclosure.frameworks import FRAMEWORK_DIR

    bad = tmp_path / "glossary.yaml"
    bad.write_text((FRAMEWORK_DIR / "glossary.yaml").read_text().replace(r"'\bKL[- ]distance\b'", "'KL[ distance'"))
    with pytest.raises(UserError, match=r"glossary.yaml: `kl-distance.wrong` has an invalid regular expression"):
        load_glossary(bad)


def test_html_report_lists_term_findings_escaped(tmp_path: Path) -> None:
    from rigorlab.disclosure.audit.html_report import render_html

    p, _ = _doc(tmp_path, WRONG.replace("data tables for", "data tables &lt;b&gt;x&lt;/b&gt; for"))
    page = render_html(audit_paths([p], "ddt"))
    assert "<h3>Terms and notation (4)</h3>" in page and "<b>x</b>" not in page
    assert "data tables &lt;b&gt;x&lt;/b&gt; for every dataset" in page
