"""The run-answer table: indicator ids are data tied to the framework files, rules are code."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from rigorlab.disclosure.documents import answer_table as at
from rigorlab.disclosure.documents.datasheet import RULES as DS_RULES
from rigorlab.disclosure.documents.datasheet import answer_datasheet
from rigorlab.disclosure.documents.eu_summary import RULES as EU_RULES
from rigorlab.disclosure.documents.eu_summary import eu_summary_from_run
from rigorlab.disclosure.documents.hfcards import render_dataset_card
from rigorlab.disclosure.documents.run_answers import AAD_RULES, DDT_RULES, answer_aad, answer_ddt
from rigorlab.disclosure.frameworks import FRAMEWORK_DIR, load_framework, loader
from rigorlab.disclosure.provenance.runfacts import load_run
from rigorlab.errors import UserError
from test_disclosure_run_documents import make_run

CODE_RULES = {"ddt": set(DDT_RULES), "aad": set(AAD_RULES),
              "datasheets": set(DS_RULES) | {f"ddt.{r}" for r in DDT_RULES}, "eu-summary": set(EU_RULES)}


def _raw() -> dict:
    return yaml.safe_load((FRAMEWORK_DIR / "run-answers.yaml").read_text())["answers"]


def test_every_id_in_the_table_exists_in_its_framework_and_every_rule_in_the_code() -> None:
    raw = _raw()
    assert set(raw) == {"ddt", "aad", "datasheets", "eu-summary"}
    for fid, rows in raw.items():
        ids = {i.id for i in load_framework(fid).indicators}
        assert set(rows) <= ids, (fid, set(rows) - ids)
        assert set(rows.values()) <= CODE_RULES[fid], (fid, set(rows.values()) - CODE_RULES[fid])
    # no rule of the code is dead, and every DDT/AAD rule answers exactly one indicator
    for fid in ("ddt", "aad", "eu-summary"):
        assert sorted(raw[fid].values()) == sorted(CODE_RULES[fid])
    assert set(DS_RULES) <= set(raw["datasheets"].values())
    assert sum(len(r) for r in raw.values()) == 20 + 7 + 20 + 12


def test_every_run_knowable_indicator_has_a_rule() -> None:
    table = at.answer_table()
    for fid in ("ddt", "aad", "datasheets"):
        knowable = {i.id for i in load_framework(fid).indicators if i.run_knowable}
        assert knowable <= set(table.rules(fid)), (fid, knowable - set(table.rules(fid)))


def test_answers_land_on_the_ids_the_table_names(tmp_path: Path) -> None:
    f = load_run(make_run(tmp_path))
    ddt, aad = answer_ddt(f), answer_aad(f)
    table = at.answer_table()
    for iid, rule in table.rules("ddt").items():
        assert ddt[iid] is ddt.rule(rule)
    assert list(ddt) == [i.id for i in load_framework("ddt").indicators]
    assert "training mixture total: 1300 examples" in ddt[table.id_of("ddt", "mixture")].text
    assert aad[table.id_of("aad", "seeds")].text.startswith("This document covers a single run (seed 7)")
    ds = answer_datasheet(f, ddt)
    assert ds["DS-3.1"] is ddt.rule("origin") and ds["DS-2.2"] is ddt.rule("mixture")


@pytest.fixture()
def frameworks_copy(tmp_path: Path, monkeypatch):
    """A private copy of the frameworks folder that the loaders read instead of the packaged one."""
    copy = tmp_path / "frameworks"
    shutil.copytree(FRAMEWORK_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))

    def clear() -> None:
        loader._builtin_files.cache_clear()
        loader._load_builtin.cache_clear()
        at.answer_table.cache_clear()
    monkeypatch.setattr(loader, "FRAMEWORK_DIR", copy)
    clear()
    yield copy
    monkeypatch.undo()
    clear()


def test_renaming_an_indicator_is_a_data_change(frameworks_copy: Path, tmp_path: Path) -> None:
    """Rename DDT-1.2 in the framework file and in the table only: the answers and documents follow."""
    for name in ("ddt.yaml", "run-answers.yaml"):
        p = frameworks_copy / name
        p.write_text(p.read_text().replace("DDT-1.2:", "DDT-9.9:").replace("id: DDT-1.2\n", "id: DDT-9.9\n"))
    f = load_run(make_run(tmp_path))
    ddt = answer_ddt(f)
    assert "DDT-1.2" not in ddt and "training mixture total: 1300 examples" in ddt["DDT-9.9"].text
    assert "training mixture total: 1300 examples" in render_dataset_card(f, ddt)
    assert "training mixture total" in answer_datasheet(f, ddt)["DS-2.2"].text


def test_pointing_a_new_indicator_at_a_rule_is_one_line(frameworks_copy: Path, tmp_path: Path) -> None:
    p = frameworks_copy / "run-answers.yaml"
    p.write_text(p.read_text().replace("    AAD-7.6: artefacts\n", "    AAD-7.6: artefacts\n    AAD-7.3: seeds\n"))
    aad = answer_aad(load_run(make_run(tmp_path)))
    assert aad["AAD-7.3"] is aad["AAD-7.4"] and aad["AAD-7.3"].status == "partial"


def test_a_table_naming_a_missing_indicator_or_rule_fails_with_its_line(frameworks_copy: Path, tmp_path: Path) -> None:
    p = frameworks_copy / "run-answers.yaml"
    good = p.read_text()
    p.write_text(good.replace("DDT-6.2: maintenance", "DDT-6.7: maintenance"))
    line = p.read_text().splitlines().index("    DDT-6.7: maintenance") + 1
    with pytest.raises(UserError) as info:
        at.load_answer_table()
    assert str(info.value) == f"{p}:{line}: framework `ddt` has no indicator `DDT-6.7`."
    p.write_text(good.replace("AAD-7.5: evaluation", "AAD-7.5: evals"))
    at.answer_table.cache_clear()
    with pytest.raises(UserError, match=r"run-answers.yaml:\d+: `aad.AAD-7.5` names rule `evals`"):
        answer_aad(load_run(make_run(tmp_path)))


def test_a_run_without_provenance_answers_every_ddt_and_datasheet_item_with_a_gap(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    (run / "provenance.json").unlink()
    f = load_run(run)
    ddt, ds = answer_ddt(f), answer_datasheet(f)
    assert len(ddt) == 20 and {a.gap for a in ddt.values()} == {
        "the run recorded no provenance.json, so no data set is documented"}
    assert ddt.rule("mixture").status == "gap"
    assert len(ds) == len(load_framework("datasheets").indicators)
    assert {a.gap for a in ds.values()} == {"the run recorded no provenance"}


def test_eu_summary_parts_follow_the_table(frameworks_copy: Path, tmp_path: Path) -> None:
    """Renaming the synthetic-data item of the EU summary is a data change too."""
    for name in ("eu-summary.yaml", "run-answers.yaml"):
        p = frameworks_copy / name
        p.write_text(p.read_text().replace("EUS-2.5", "EUS-2.9"))
    items = {i["id"]: i for i in eu_summary_from_run(load_run(make_run(tmp_path)))["items"]}
    assert "EUS-2.5" not in items and items["EUS-2.9"]["data"]["used"] is True
    assert [d["name"] for d in items["EUS-2.9"]["data"]["datasets"]] == ["pretrain-corpus", "rl-prompts"]
