"""The Multi-Stakeholder Action Agenda as data: schema, integrity, rule precedence, reach and priority."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from rigorlab.disclosure.audit.agenda import build_agenda, detect_reach, load_agenda
from rigorlab.disclosure.audit.agenda.build import AGENDA_PATH, resolve_actions
from rigorlab.disclosure.audit.agenda.schema import ReachModel
from rigorlab.disclosure.audit.engine import audit_text, resolve_frameworks
from rigorlab.disclosure.frameworks import builtin_ids, load_framework
from rigorlab.errors import UserError


def test_agenda_file_is_valid_and_not_mistaken_for_a_framework():
    ag = load_agenda()
    assert [a.id for a in ag.audiences] == ["publishers", "policymakers", "developers", "researchers"]
    assert "msaa" not in builtin_ids() and AGENDA_PATH.name == "msaa.yaml"


def test_every_rule_points_at_an_existing_framework_section_or_indicator():
    for rule in load_agenda().rules:
        m = rule.match
        if m.framework == "*":
            assert m.section is None and m.indicator is None
            continue
        fw = load_framework(m.framework)
        if m.section:
            assert m.section in [s.id for s in fw.sections], (m.framework, m.section)
        if m.indicator:
            assert fw.indicator(m.indicator) is not None, (m.framework, m.indicator)


def test_every_builtin_indicator_gets_all_four_audiences_with_filled_templates():
    ag = load_agenda()
    for fid in builtin_ids():
        fw = load_framework(fid)
        for ind in fw.indicators:
            values = {"id": ind.id, "title": ind.title, "question": ind.question, "framework": fw.id,
                      "framework_title": fw.title, "section": ind.section,
                      "section_title": fw.section_title(ind.section), "level": "absent", "document": "d.md",
                      "evidence": ""}
            acts = resolve_actions(ag, fw.id, ind.section, ind.id, values)
            assert set(acts) == {"publishers", "policymakers", "developers", "researchers"}
            for fields in acts.values():
                for text in fields.values():
                    assert "{" not in text.replace("{}", ""), (fid, ind.id, text)


def test_most_specific_rule_wins_field_by_field():
    ag = load_agenda()
    vals = {"id": "DDT-3.3", "title": "Decontamination", "question": "q", "framework": "ddt",
            "framework_title": "DDT", "section": "DDT-3", "section_title": "Processing", "level": "absent",
            "document": "d", "evidence": ""}
    acts = resolve_actions(ag, "ddt", "DDT-3", "DDT-3.3", vals)
    assert acts["developers"]["measure"].startswith("Run an n-gram")                    # indicator rule
    assert acts["developers"]["write"].startswith('Add a "Decontamination" subsection')  # indicator rule
    assert acts["publishers"]["proof"].startswith("Check that every reported benchmark")  # section rule
    assert "Art. 53(1)(d)" in acts["policymakers"]["obligation"]                        # framework rule
    other = resolve_actions(ag, "ddt", "DDT-3", "DDT-3.1", dict(vals, id="DDT-3.1"))
    assert other["developers"]["measure"].startswith("Log the token count")              # section rule


def test_reach_from_front_matter_text_and_flags():
    m = ReachModel()
    r = detect_reach({"license": "apache-2.0"}, "A 7B parameter model used by 2 million users.", m)
    assert r.open_weights and r.params_billion == 7.0 and r.users_million == 2.0
    expected = 1 + 0.5 + 0.5 * math.log10(8) / 3 + 0.5 * math.log10(3) / 3
    assert r.factor == pytest.approx(expected, abs=1e-4)
    r = detect_reach({}, "We pre-train on 14.8T tokens with an 8K context.", m)
    assert not r.open_weights and r.params_billion is None and r.factor == 1.0
    r = detect_reach({"license": "apache-2.0"}, "", m, open_weights=False, params_billion=1000.0)
    assert not r.open_weights and r.sources["params_billion"] == "flag"
    assert r.factor == pytest.approx(1 + 0.5 * min(1.0, math.log10(1001) / 3))


def test_priority_is_weight_times_reach_times_level_factor():
    fws = resolve_frameworks("ddt")
    audit = audit_text("# Card\n\n## Training data\n\nAll data was collected from the internet.\n", "ddt")
    ag = build_agenda(audit, fws, open_weights=True, params_billion=0.0, users_million=0.0)
    assert ag.reach.factor == 1.5
    for item in ag.items:
        factor = 1.0 if item.level == "absent" else 0.6
        assert item.priority == pytest.approx(item.weight * 1.5 * factor, abs=1e-3)
        want = "high" if item.priority >= 2.5 else "medium" if item.priority >= 1.5 else "low"
        assert item.priority_label == want
    assert {i.id for i in ag.items} == {f.id for f in audit.findings if f.level != "disclosed"}
    vague = [i for i in ag.items if i.level == "vague"]
    assert vague and all(i.evidence and i.location for i in vague)


def test_user_agenda_file_errors_name_the_file(tmp_path: Path):
    with pytest.raises(UserError, match="does not exist"):
        load_agenda(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: t\n", encoding="utf-8")
    with pytest.raises(UserError, match="bad.yaml"):
        load_agenda(bad)
