"""The learned exemplar layer as the default auditor shipped it: retrained byte for byte, on by
default, off with --rules-only, and judging a named licence the way the labelling guidelines do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigorlab.disclosure.audit.engine import audit_text
from rigorlab.disclosure.audit.exemplars import MODEL_PATH, load_exemplar_model
from rigorlab.disclosure.audit.labelset import default_root

ROOT = default_root()
LICENCE = ("# Model\n\n## 7. License\n\nThis code repository is licensed under the MIT License (LICENSE-CODE). "
           "The use of the Base/Chat models is subject to the Model License (LICENSE-MODEL).\n")


@pytest.mark.skipif(not (ROOT / "splits.json").is_file() or not MODEL_PATH.is_file(),
                    reason="needs the labelled set of a source checkout and the shipped layer")
def test_retraining_reproduces_the_shipped_layer_byte_for_byte(tmp_path):
    from rigorlab.disclosure.audit.train_exemplars import main

    out = tmp_path / "exemplar_model.json"
    assert main(["--out", str(out)]) == 0
    assert out.read_bytes() == MODEL_PATH.read_bytes()
    meta = json.loads(out.read_text(encoding="utf-8"))["meta"]
    assert meta["split"] == "dev" and meta["documents"] == 315


def _level(text: str, indicator: str, learned: bool) -> tuple[str, str]:
    f = next(f for f in audit_text(text, "ddt,aad", learned=learned).findings if f.id == indicator)
    return f.level, f.reason


@pytest.mark.skipif(not MODEL_PATH.is_file(), reason="no shipped exemplar layer")
def test_layer_is_on_by_default_and_off_for_rules_only():
    # guidelines, AAD-2.4: a licence named without how it is enforced is vague; the rules call it disclosed
    assert _level(LICENCE, "AAD-2.4", learned=False)[0] == "disclosed"
    level, reason = _level(LICENCE, "AAD-2.4", learned=True)
    assert level == "vague" and reason.startswith("learned layer")
    assert load_exemplar_model() is not None


def test_rules_only_flag_reaches_the_auditor(tmp_path):
    from typer.testing import CliRunner

    from rigorlab.cli import app

    card = tmp_path / "card.md"
    card.write_text(LICENCE, encoding="utf-8")
    got = {}
    for name, flags in (("default", []), ("rules", ["--rules-only"])):
        out = tmp_path / f"{name}.json"
        res = CliRunner().invoke(app, ["audit", str(card), "-f", "aad", "--no-terms", *flags, "--out", str(out)])
        assert res.exit_code == 0, res.output
        got[name] = {f["id"]: f["level"] for f in json.loads(out.read_text(encoding="utf-8"))["findings"]}
    assert got["rules"]["AAD-2.4"] == "disclosed"
    if MODEL_PATH.is_file():
        assert got["default"]["AAD-2.4"] == "vague"


CARD = (Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "cards"
        / "meta-llama__llama-models__models_llama3_2_MODEL_CARD.md")


@pytest.mark.skipif(not CARD.is_file(), reason="shared corpus not available")
def test_profile_fallback_is_off_by_default_and_only_adds_quoted_fmti_disclosures(monkeypatch):
    from rigorlab.disclosure.audit import judge as J
    from rigorlab.disclosure.audit.engine import audit_paths

    assert J.PROFILE_FALLBACK is False
    plain = audit_paths([CARD], "ddt,aad,fmti-2025", learned=False).documents[0]
    monkeypatch.setattr(J, "PROFILE_FALLBACK", True)
    fell = audit_paths([CARD], "ddt,aad,fmti-2025", learned=False).documents[0]
    before = {(f.framework, f.id): f for f in plain.findings}
    changed = [f for f in fell.findings if f.level != before[(f.framework, f.id)].level]
    assert changed                                   # this card answers some FMTI items in other words
    for f in changed:
        assert f.framework == "fmti-2025" and before[(f.framework, f.id)].level == "absent"
        assert f.level == "disclosed" and f.evidence and f.evidence[:60] in fell.text
        assert f.reason.startswith("reads like this indicator's accepted FMTI answers")
