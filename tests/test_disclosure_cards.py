"""`rigorlab card init|render|validate` and `rigorlab frameworks list|show`: round trips and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rigorlab.cli import app, main
from rigorlab.disclosure.documents.card_render import render_card
from rigorlab.disclosure.documents.card_template import init_card, load_card, validate_card
from rigorlab.disclosure.frameworks import load_framework


def _fill(text: str, answers: dict[str, str], metadata: dict[str, str] | None = None) -> str:
    """Fill `key:` lines of an initialised card (first occurrence of each key)."""
    for key, value in answers.items():
        text, n = re.subn(rf"^(\s+){re.escape(key)}:\s*$", lambda m: f"{m.group(1)}{key}: {json.dumps(value)}",
                          text, count=1, flags=re.M)
        assert n == 1, key
    for key, value in (metadata or {}).items():
        text, n = re.subn(rf"^  {key}:  #.*$", f"  {key}: {json.dumps(value)}", text, count=1, flags=re.M)
        assert n == 1, key
    return text


def test_init_lists_every_indicator_with_its_question(tmp_path: Path) -> None:
    text = init_card("model", ["aad", "fmti-2025"], name="m")
    data = yaml.safe_load(text)
    assert data["kind"] == "model" and data["frameworks"] == ["aad", "fmti-2025"]
    for fid in ("aad", "fmti-2025"):
        fw = load_framework(fid)
        assert list(data["answers"][fid]) == [i.id for i in fw.indicators]  # FMTI names with commas survive
        for ind in fw.indicators:
            assert " ".join(ind.question.split())[:40] in " ".join(
                ln.lstrip("# ").strip() for ln in text.splitlines() if ln.strip().startswith("#")), ind.id
    p = tmp_path / "c.yaml"
    p.write_text(text)
    report = validate_card(load_card(p))
    assert {r.status for r in report} == {"missing"} and len(report) == 128


@pytest.fixture()
def dataset_card(tmp_path: Path) -> Path:
    text = init_card("dataset", ["hf-dataset-card", "croissant-rai", "ddt"], name="arith-prompts")
    text = _fill(text, {
        "dataset_summary": "400 arithmetic prompts (a + b, 0 <= a, b < 20) with exact answers.",
        "DDT-1.1": "One synthetic source: rigorlab.tasks.pairs (seed 7).",
        "DDT-3.1": "- length filter: removed 0 of 400\n- dedup filter: removed 0",
        "DDT-4.1": "Operands are uniform on 0..19; no other analysis.",
        "rai:dataBiases": "Uniform operands; carries and large sums (> 30) are rare by construction.",
        "DDT-2.2": "We respect website owners and follow best practices.",   # vague
        "DDT-5.1": "apache-2.0",
    }, metadata={"license": "apache-2.0", "url": "https://example.org/arith", "version": "1.0.0"})
    p = tmp_path / "dataset.yaml"
    p.write_text(text)
    return p


def test_validate_reports_answered_crosswalked_vague_missing(dataset_card: Path) -> None:
    report = {(r.framework, r.id): r for r in validate_card(load_card(dataset_card))}
    assert report[("ddt", "DDT-1.1")].status == "answered"
    assert report[("ddt", "DDT-2.2")].status == "vague" and "best practice" in report[("ddt", "DDT-2.2")].detail
    # DDT-3.1 crosswalks to rai:dataPreprocessingProtocol, DDT-4.1 to rai:dataBiases (answered directly too).
    assert report[("croissant-rai", "rai:dataPreprocessingProtocol")].status == "via crosswalk"
    assert report[("croissant-rai", "rai:dataBiases")].status == "answered"
    assert report[("ddt", "DDT-6.2")].status == "missing"


def test_render_md_round_trips_through_huggingface_hub(dataset_card: Path, tmp_path: Path) -> None:
    from huggingface_hub import DatasetCard

    out = tmp_path / "README.md"
    assert main(["card", "render", str(dataset_card), "--to", "md", "--out", str(out)]) == 0
    card = DatasetCard.load(out)
    assert card.data.license == "apache-2.0"
    assert "400 arithmetic prompts" in card.text and "[More Information Needed]" in card.text
    assert "From ddt DDT-3.1 (Cleaning and filtering):" in card.text


def test_render_model_card_round_trip(tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    p = tmp_path / "m.yaml"
    p.write_text(_fill(init_card("model", name="tiny"), {"developers": "Example Lab GmbH, Berlin"},
                       metadata={"license": "mit", "base_model": "sshleifer/tiny-gpt2"}))
    out = tmp_path / "README.md"
    out.write_text(render_card(load_card(p), "md"))
    card = ModelCard.load(out)
    assert card.data.license == "mit" and card.data.base_model == "sshleifer/tiny-gpt2"
    assert "### Developed by\n\nExample Lab GmbH, Berlin" in card.text
    assert "## AI Accountability Dimensions" in card.text
    assert "From hf-model-card developers (Developed by):" in card.text


def test_render_html_escapes(tmp_path: Path) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(_fill(init_card("model", ["hf-model-card"], name="x<y>"), {"model_summary": "<script>x</script>"}))
    html = render_card(load_card(p), "html")
    assert "<script>" not in html and "&lt;script&gt;" in html and html.startswith("<!DOCTYPE html>")


def test_render_croissant_validates(dataset_card: Path) -> None:
    from rigorlab.disclosure.documents.croissant import validate_croissant

    doc = json.loads(render_card(load_card(dataset_card), "croissant"))
    assert doc["url"] == "https://example.org/arith" and doc["version"] == "1.0.0"
    assert doc["rai:dataPreprocessingProtocol"] == ["length filter: removed 0 of 400", "dedup filter: removed 0"]
    assert validate_croissant(doc)["ok"]


def test_render_eu_summary_md_and_json(dataset_card: Path, tmp_path: Path) -> None:
    md = render_card(load_card(dataset_card), "eu-summary")
    assert "### 2.5 Synthetic data" in md and "rigorlab.tasks.pairs" in md
    out = tmp_path / "eu.json"
    assert main(["card", "render", str(dataset_card), "--to", "eu-summary", "--out", str(out)]) == 0
    items = {i["id"]: i for i in json.loads(out.read_text())["items"]}
    assert items["EUS-3.1"]["text"].startswith("From ddt DDT-2.2 (Respect of opt-outs):\n\nWe respect website")
    assert items["EUS-1.1"]["status"] == "gap"


def test_croissant_refuses_model_cards(tmp_path: Path, capsys) -> None:
    p = tmp_path / "m.yaml"
    p.write_text(init_card("model"))
    out = tmp_path / "c.json"
    assert main(["card", "render", str(p), "--to", "croissant", "--out", str(out)]) == 2
    assert "Croissant describes data sets" in capsys.readouterr().err and not out.exists()


def test_validate_exit_codes(dataset_card: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["card", "validate", str(dataset_card)]).exit_code == 1  # items missing
    assert runner.invoke(app, ["card", "validate", str(dataset_card), "--fail-on", "never"]).exit_code == 0
    with pytest.raises(SystemExit) as info:  # the installed `rigorlab` script exits 1 too
        main(["card", "validate", str(dataset_card)])
    assert info.value.code == 1
    full = tmp_path / "full.yaml"
    text = init_card("dataset", ["eu-summary"], name="d")
    text = _fill(text, {i.id: f"Answer with specifics: source {n} at https://example.org/{n}."
                        for n, i in enumerate(load_framework("eu-summary").indicators)})
    full.write_text(text)
    assert runner.invoke(app, ["card", "validate", str(full), "--fail-on", "vague"]).exit_code == 0
    res = runner.invoke(app, ["card", "validate", str(full), "--json"])
    assert json.loads(res.stdout)["counts"] == {"answered": 12, "via crosswalk": 0, "vague": 0, "missing": 0}


BAD_CASES = [
    ("kind: model\nname: x\nframeworks: [aad]\nanswers:\n  aad:\n    AAD-1.1: [unclosed\n", 7, "malformed YAML"),
    ("kind: model\nname: x\nframeworks: [aad]\ncolour: red\n", 4, "unknown field `colour`"),
    ("kind: robot\nname: x\nframeworks: [aad]\n", 1, "field `kind`"),
    ("kind: model\nname: 5\nframeworks: [aad]\n", 2, "field `name`"),
    ("kind: model\nname: x\nframeworks: [aad]\nanswers:\n  aad:\n    AAD-9.9: hi\n", 6, "not an indicator of `aad`"),
    ("kind: model\nname: x\nframeworks: [aad]\nanswers:\n  ddt:\n    DDT-1.1: hi\n", 5, "not listed in `frameworks`"),
    ("kind: model\nname: x\nframeworks: [aad]\nanswers:\n  aad:\n    AAD-1.1: {a: 1}\n", 6, "must be text"),
    ("kind: model\nname: x\nframeworks: [aad, nope]\n", 3, "unknown framework `nope`"),
]


@pytest.mark.parametrize("text, line, words", BAD_CASES)
@pytest.mark.parametrize("command", ["render", "validate"])
def test_bad_card_is_one_sentence_with_line_and_no_output(tmp_path: Path, capsys, text: str, line: int,
                                                          words: str, command: str) -> None:
    p = tmp_path / "card.yaml"
    p.write_text(text)
    out = tmp_path / "out.md"
    argv = ["card", command, str(p)] + (["--out", str(out)] if command == "render" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"rigorlab: error: {p}:{line}:"), err
    assert words in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_init_refuses_to_overwrite(tmp_path: Path, capsys) -> None:
    out = tmp_path / "c.yaml"
    assert main(["card", "init", "--kind", "dataset", "--out", str(out)]) == 0
    before = out.read_text()
    assert main(["card", "init", "--kind", "model", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == before
    assert main(["card", "init", "--kind", "robot"]) == 2


def test_card_with_a_users_framework_file(tmp_path: Path, monkeypatch) -> None:
    fw = tmp_path / "fw" / "lab.yaml"
    fw.parent.mkdir()
    fw.write_text("id: lab\ntitle: Lab checklist\nversion: '1'\nsource: us\nlicence: CC0-1.0\n"
                  "description: d\nsections: [{id: R, title: Release}]\nindicators:\n"
                  "  - {id: R-1, section: R, title: Seeds, question: 'Over how many seeds?',\n"
                  "     disclosed_when: a number, crosswalk: {aad: [AAD-7.4]}}\n")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cards" / "c.yaml"
    assert main(["card", "init", "--kind", "model", "-f", "fw/lab.yaml", "-f", "aad", "--out", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["frameworks"] == ["../fw/lab.yaml", "aad"]
    out.write_text(_fill(out.read_text(), {"R-1": "5 seeds, std 0.02 on accuracy"}))
    report = {(r.framework, r.id): r.status for r in validate_card(load_card(out))}
    assert report[("lab", "R-1")] == "answered" and report[("aad", "AAD-7.4")] == "via crosswalk"


def test_frameworks_cli(capsys) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["frameworks", "list"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for fid in ("ddt", "aad", "fmti-2025", "datasheets", "croissant-rai", "eu-summary", "eu-annex-xi-xii"):
        assert fid in res.stdout
    res = runner.invoke(app, ["frameworks", "show", "ddt"], env={"COLUMNS": "250"})
    assert res.exit_code == 0 and "DDT-3.3" in res.stdout and "Train-test overlap" in res.stdout
    res = runner.invoke(app, ["frameworks", "show", "eu-summary", "--indicator", "EUS-2.5", "--json"])
    data = json.loads(res.stdout)
    assert data["id"] == "EUS-2.5" and "DDT-3.4" in data["crosswalk_both_ways"]["ddt"]
    assert main(["frameworks", "show", "nope"]) == 2
    assert "unknown framework `nope`" in capsys.readouterr().err


def test_frameworks_show_checks_a_user_files_crosswalks(tmp_path: Path, capsys) -> None:
    p = tmp_path / "fw.yaml"
    p.write_text("id: lab\ntitle: t\nversion: '1'\nsource: s\nlicence: l\ndescription: d\n"
                 "sections: [{id: R, title: R}]\nindicators:\n  - id: R-1\n    section: R\n    title: t\n"
                 "    question: q\n    disclosed_when: d\n    crosswalk:\n      aad: [AAD-7.4, AAD-7.44]\n")
    assert main(["frameworks", "show", str(p)]) == 2
    err = capsys.readouterr().err
    assert f"{p}:15: field `indicators[0].crosswalk.aad`: `AAD-7.44` is not an indicator of `aad`." in err
