"""Frameworks as data: every built-in file validates, crosswalks resolve, errors name file, field, line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigorlab.disclosure.frameworks import (FRAMEWORK_DIR, crosswalk_closure, get_indicator, list_frameworks, load_framework,
                                            unresolved_crosswalks)
from rigorlab.errors import UserError

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FMTI_DIR = SHARED / "reference" / "fmti"

EXPECTED = {"ddt": 20, "aad": 28, "fmti-2025": 100, "datasheets": 50, "hf-model-card": 43, "hf-dataset-card": 27,
            "croissant-rai": 20, "eu-annex-xi-xii": 25, "eu-summary": 12}


def test_builtin_frameworks_load_with_expected_sizes() -> None:
    got = {fw.id: len(fw.indicators) for fw in list_frameworks()}
    for fid, n in EXPECTED.items():
        assert got.get(fid) == n, fid
    assert [s.title for s in load_framework("datasheets").sections] == [
        "Motivation", "Composition", "Collection process", "Preprocessing, cleaning and labelling", "Uses",
        "Distribution", "Maintenance"]
    assert len(load_framework("aad").sections) == 7


def test_every_crosswalk_resolves() -> None:
    assert unresolved_crosswalks() == []
    n = sum(len(ids) for fw in list_frameworks() for ind in fw.indicators for ids in ind.crosswalk.values())
    assert n > 150  # the crosswalks are substantive, not a token few


def test_ddt_crosswalks_follow_the_design_table() -> None:
    assert get_indicator("ddt", "DDT-3.3").crosswalk["fmti-2025"] == ["Train-test overlap"]
    assert get_indicator("ddt", "DDT-2.2").crosswalk["eu-summary"] == ["EUS-3.1"]
    assert "rai:dataPreprocessingProtocol" in get_indicator("ddt", "DDT-3.1").crosswalk["croissant-rai"]
    # Reverse direction: the EU summary's synthetic-data item is reached from DDT-3.4 and declares it back.
    assert "DDT-3.4" in crosswalk_closure("eu-summary", "EUS-2.5")["ddt"]


def test_indicator_lookup() -> None:
    assert get_indicator("fmti-2025", "Data size").section == "data-properties"
    assert get_indicator("fmti-2025", "data-size").id == "Data size"  # punctuation- and case-insensitive
    with pytest.raises(UserError, match="has no indicator `DDT-9.9`"):
        get_indicator("ddt", "DDT-9.9")
    with pytest.raises(UserError, match="unknown framework `nope`"):
        load_framework("nope")


@pytest.mark.skipif(not FMTI_DIR.is_dir(), reason="shared FMTI reference data not present")
def test_fmti_yaml_is_reproducible_from_the_csv() -> None:
    import csv

    from rigorlab.disclosure.audit.build_fmti import build, render

    packaged = (FRAMEWORK_DIR / "fmti-2025.yaml").read_text()
    assert render(build(FMTI_DIR)) == packaged
    with (FMTI_DIR / "Dec2025_indicators.csv").open(encoding="utf-8", newline="") as f:
        names = [r["Indicator"].strip() for r in csv.DictReader(f)]
    fw = load_framework("fmti-2025")
    assert [i.id for i in fw.indicators] == names
    assert "CC BY 4.0" in fw.licence and "Bommasani" in fw.licence
    assert all(i.keywords for i in fw.indicators)
    assert "data size" in get_indicator("fmti-2025", "Data size").keywords


GOOD = """\
id: mine
title: My framework
version: "0.1"
source: me
licence: CC0-1.0
description: A test framework.
sections:
  - {id: S1, title: One}
indicators:
  - id: M-1
    section: S1
    title: Sources
    question: What are the sources?
    disclosed_when: Each source is named.
    crosswalk:
      ddt: [DDT-1.1]
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "fw.yaml"
    p.write_text(text)
    return p


def test_user_framework_file_loads(tmp_path: Path) -> None:
    fw = load_framework(str(_write(tmp_path, GOOD)))
    assert fw.id == "mine" and fw.indicators[0].crosswalk == {"ddt": ["DDT-1.1"]}
    assert unresolved_crosswalks([*list_frameworks(), fw]) == []
    bad = load_framework(str(_write(tmp_path, GOOD.replace("DDT-1.1", "DDT-1.9"))))
    assert unresolved_crosswalks([*list_frameworks(), bad]) == ["mine:M-1 -> ddt:DDT-1.9 does not exist"]


@pytest.mark.parametrize("edit, line, words", [
    (lambda t: t.replace("title: Sources", "title: Sources\n    colour: red"), 13, ["unknown field", "colour"]),
    (lambda t: t.replace("    question: What are the sources?\n", ""), 10, ["required field", "question"]),
    (lambda t: t.replace('version: "0.1"', "version: 0.1"), 3, ["version", "string"]),
    (lambda t: t.replace("section: S1", "section: S9"), 11, ["section", "S9"]),
    (lambda t: t.replace("title: Sources", "title: [a, b]"), 12, ["indicators[0].title"]),
    (lambda t: t.replace("  - {id: S1, title: One}", "  - {id: S1, title: One"), 9, ["malformed YAML"]),
    (lambda t: t.replace("title: My framework", "title: My framework\ntitle: again"), 3, ["appears twice"]),
    (lambda t: t + "  - id: M-1\n    section: S1\n    title: t\n    question: q\n    disclosed_when: d\n",
     17, ["used twice"]),
])
def test_bad_framework_files_name_file_field_and_line(tmp_path: Path, edit, line: int, words: list[str]) -> None:
    p = _write(tmp_path, edit(GOOD))
    with pytest.raises(UserError) as info:
        load_framework(str(p))
    msg = str(info.value)
    assert msg.startswith(f"{p}:{line}:"), msg
    for w in words:
        assert w in msg, msg
    assert "\n" not in msg and "Traceback" not in msg
