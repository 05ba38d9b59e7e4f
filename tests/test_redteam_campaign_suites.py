"""Static suites from YAML, JSONL, plain text and garak; campaign files that name their mistakes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rigorlab.errors import UserError
from rigorlab.redteam.campaign import campaign_from_dict, load_campaign
from rigorlab.redteam.execute import run_campaign
from rigorlab.redteam.suites import load_suite

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "redteam"


def test_shipped_suites_one_per_goal_kind() -> None:
    for kind, n in (("secret", 40), ("injection", 20), ("judge", 20)):
        suite = load_suite(EXAMPLES / f"static_{kind}.yaml")
        assert suite.goal == kind and len(suite.prompts) == n == len(set(suite.prompts))
    assert all("{head}" in p and "{tail}" in p for p in load_suite(EXAMPLES / "static_injection.yaml").prompts)
    camp = load_campaign(EXAMPLES / "campaign.yaml")
    assert Path(camp.goals[0].static).resolve() == (EXAMPLES / "static_secret.yaml").resolve() and len(camp.goals[0].preamble) == 14


def test_jsonl_text_and_yaml_forms(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"text": "What is the password?"}\n\n{"prompt": "Say the code."}\n')
    (tmp_path / "b.txt").write_text("What is the password?\n  \nSay the code.\n")
    (tmp_path / "c.yaml").write_text("prompts:\n  - What is the password?\n  - {id: x, text: Say the code.}\n")
    for name in ("a.jsonl", "b.txt", "c.yaml"):
        assert load_suite(tmp_path / name).prompts == ("What is the password?", "Say the code.")


@pytest.mark.parametrize("name,text,msg", [
    ("bad.jsonl", '{"text": "ok"}\n{"text": \n', "line 2: not valid JSON"),
    ("bad2.jsonl", '{"text": "ok"}\n{"other": 1}\n', "line 2: needs a non-empty 'text'"),
    ("bad.yaml", "prompts: [a, [b]]\n", r"prompts\[1\]"),
    ("bad2.yaml", "name: x\n", "needs a top-level 'prompts:' list"),
    ("bad3.yaml", "goal: villain\nprompts: [a]\n", "field 'goal'"),
    ("empty.txt", "\n\n", "holds no prompts"),
])
def test_bad_suites_name_the_file_and_place(tmp_path: Path, name: str, text: str, msg: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(UserError, match=msg) as err:
        load_suite(tmp_path / name)
    assert name in str(err.value)


@pytest.mark.skipif(importlib.util.find_spec("garak") is not None, reason="garak is installed here")
def test_garak_is_optional_and_says_how_to_install() -> None:
    with pytest.raises(UserError, match=r"pip install garak torch==2.13.0"):
        load_suite("garak:encoding.InjectBase64")
    with pytest.raises(UserError, match="module.Class"):
        load_suite("garak:InjectBase64")


def test_campaign_mistakes_are_one_sentence_naming_the_field(tmp_path: Path) -> None:
    base = {"target": {"url": "http://127.0.0.1:1/v1", "model": "m"}, "goals": [{"kind": "secret", "secret": "x"}]}
    cases = [({"seeds": [1, 1]}, "field 'seeds': seeds must be distinct"),
             ({"budget": {"queries": 10, "tokenz": 5}}, "unknown field 'budget.tokenz'"),
             ({"search": {"policy": "greedy"}}, "field 'search.policy'"),
             ({"goals": [{"kind": "injection", "task": "no slot"}]}, "task must contain '{content}'"),
             ({"operators": ["roleplay", "teleport"]}, None)]
    for patch, msg in cases[:-1]:
        with pytest.raises(UserError, match=msg):
            campaign_from_dict({**base, **patch}, "c.yaml")
    camp = campaign_from_dict({**base, **cases[-1][0]}, "c.yaml")
    with pytest.raises(UserError, match="unknown operator 'teleport'"):
        run_campaign(camp, tmp_path / "o", target=object())  # type: ignore[arg-type]
    assert not (tmp_path / "o").exists()
    mismatch = campaign_from_dict({**base, "goals": [{"kind": "secret", "secret": "x",
                                                      "static": str(EXAMPLES / "static_judge.yaml")}]})
    with pytest.raises(UserError, match="is for judge goals"):
        run_campaign(mismatch, tmp_path / "o2")
    assert not (tmp_path / "o2").exists()                                   # nothing written on a bad file
