"""`rigorlab audit`: formats, escaping, compare, agenda, batches with bad files, and the real corpus."""

from __future__ import annotations

import csv
import html
import io
import json
from pathlib import Path

import pytest

from rigorlab.cli import main
from rigorlab.html import CSP

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "cards"
DEEPSEEK = CORPUS / "deepseek-ai__DeepSeek-V3__README.md"

CARD = """---
license: apache-2.0
---
# Evil card <script>alert('title')</script>

## Training data

We trained on 2T tokens from Dolma (https://huggingface.co/datasets/allenai/dolma).
Raw html &lt;script&gt;alert("pwned")&lt;/script&gt; appears in this sentence about training data sources.

## Contact

Questions and complaints: contact safety@example.org.
"""


@pytest.fixture()
def card(tmp_path: Path) -> Path:
    p = tmp_path / "card.md"
    p.write_text(CARD, encoding="utf-8")
    return p


def test_json_has_one_object_per_document_and_indicator(card: Path, tmp_path: Path, capsys):
    out = tmp_path / "r.json"
    assert main(["audit", str(card), "--framework", "ddt,aad", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [f["id"] for f in data["frameworks"]] == ["ddt", "aad"]
    assert len(data["findings"]) == 20 + 28
    for f in data["findings"]:
        assert {"document", "id", "level", "evidence", "location"} <= set(f)
        assert f["level"] in ("disclosed", "vague", "absent")
        assert (f["location"] is None) == (f["level"] == "absent" and not f["evidence"])
    contact = next(f for f in data["findings"] if f["id"] == "AAD-1.2")
    assert contact["level"] == "disclosed" and "safety@example.org" in contact["evidence"]
    line = CARD.split("\n").index("Questions and complaints: contact safety@example.org.") + 1
    assert contact["location"]["lines"] == [line, line] and contact["location"]["heading"].endswith("Contact")
    assert data["documents"][0]["scores"][0]["id"] == "ddt"
    assert "wrote" in capsys.readouterr().err


def test_html_is_self_contained_and_escapes_document_text(card: Path, tmp_path: Path):
    out = tmp_path / "r.html"
    assert main(["audit", str(card), "--agenda", "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    # present, but only as escaped text: unescaping the page reveals it, the raw page has no tag
    assert '<script>alert("pwned")</script>' in html.unescape(page)
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "http://" not in page.split("<body>")[0] and "<link" not in page
    assert "<mark>" in page and "Multi-Stakeholder Action Agenda" in page


def test_markdown_escapes_document_text(card: Path, capsys):
    assert main(["audit", str(card), "--format", "md", "--framework", "ddt"]) == 0
    md = capsys.readouterr().out
    assert "<script" not in md and "&lt;script>" in md     # `<` escaped; `>` alone opens nothing
    assert "&gt;" not in md                                  # locations read "A > B", not "A &gt; B"
    assert "| DDT-1.1 |" in md


def test_table_output(card: Path, capsys):
    assert main(["audit", str(card), "--framework", "ddt"]) == 0
    out = capsys.readouterr().out
    assert "DDT-1.2" in out and "disclosed" in out


def test_batch_continues_past_bad_files(card: Path, tmp_path: Path, capsys):
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin.md").write_bytes("# Caf\u00e9\n\ndonn\u00e9es\n".encode("cp1252"))
    out = tmp_path / "r.json"
    assert main(["audit", str(tmp_path), str(tmp_path / "missing.md"), "--framework", "ddt",
                 "--format", "json", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(Path(d["document"]).name for d in data["documents"]) == ["card.md", "latin.md"]
    reasons = {Path(s["document"]).name: s["reason"] for s in data["skipped"]}
    assert set(reasons) == {"empty.md", "bin.txt", "missing.md"}
    assert all(r.endswith(".") and "\n" not in r for r in reasons.values())
    err = capsys.readouterr().err
    assert err.count("skipped:") == 3 and "not valid UTF-8" in err


def test_user_errors_exit_2_with_one_line(card: Path, tmp_path: Path, capsys):
    assert main(["audit", str(tmp_path / "nope.md")]) == 2
    assert main(["audit", str(card), "--framework", "nope"]) == 2
    assert main(["audit", str(card), "--format", "pdf"]) == 2
    assert main(["audit", str(card), "--format", "csv"]) == 2
    assert main(["audit", str(card), "--compare", "--agenda"]) == 2
    judge = ["--judge", "http://127.0.0.1:9/v1", "--judge-model", "m", "--judge-cache", str(tmp_path / "c.sqlite")]
    assert main(["audit", str(card), *judge, "--judge-scope", "some"]) == 2
    assert main(["audit", str(card), *judge, "--judge-timeout", "0"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("rigorlab: error:")]
    assert len(err) == 7
    assert "--judge-scope 'some'" in err[5] and "--judge-timeout" in err[6]
    assert not list(tmp_path.glob("*.tmp"))


def test_compare_writes_csv_with_ranks(card: Path, tmp_path: Path):
    other = tmp_path / "thin.md"
    other.write_text("# Thin\n\nA model.\n", encoding="utf-8")
    out = tmp_path / "c.csv"
    assert main(["audit", str(card), str(other), "--compare", "--framework", "ddt,aad", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [Path(r["document"]).name for r in rows] == ["card.md", "thin.md"]
    assert rows[0]["ddt_rank"] == "1" and rows[1]["ddt_rank"] == "2"
    assert float(rows[0]["ddt"]) > float(rows[1]["ddt"]) == 0.0


def test_agenda_json_ties_actions_to_gaps(card: Path, tmp_path: Path):
    out = tmp_path / "r.json"
    assert main(["audit", str(card), "--agenda", "--framework", "ddt", "--params", "70", "--users", "5",
                 "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    ag = data["agenda"][0]
    assert ag["reach"]["open_weights"] is True and ag["reach"]["sources"]["params_billion"] == "flag"
    gaps = {f["id"] for f in data["findings"] if f["level"] != "disclosed"}
    assert {i["id"] for i in ag["items"]} == gaps
    prios = [i["priority"] for i in ag["items"]]
    assert prios == sorted(prios, reverse=True)
    decon = next(i for i in ag["items"] if i["id"] == "DDT-3.3")
    assert set(decon["actions"]) == {"publishers", "policymakers", "developers", "researchers"}
    assert "overlap check of each benchmark" in decon["actions"]["developers"]["measure"]


@pytest.mark.skipif(not DEEPSEEK.is_file(), reason="shared corpus not available")
def test_deepseek_readme_worked_example(tmp_path: Path):
    out = tmp_path / "ds.json"
    assert main(["audit", str(DEEPSEEK), "--agenda", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    lines = DEEPSEEK.read_text(encoding="utf-8").split("\n")
    f = {x["id"]: x for x in data["findings"]}
    assert f["AAD-1.2"]["level"] == "disclosed" and "service@deepseek.com" in f["AAD-1.2"]["evidence"]
    a, b = f["AAD-1.2"]["location"]["lines"]
    assert any("service@deepseek.com" in lines[i - 1] for i in range(a, b + 1))
    # a licence named without how it is enforced: people say vague (guidelines, AAD-2.4; this README is in the
    # final split, never trained on). The rules call the named licences specific; since the layer's cut on
    # P(disclosed) is chosen for kappa (0.25) it no longer overrules them here, and the README says so. The
    # evidence is the licence sentence either way.
    assert f["AAD-2.4"]["level"] != "absent" and "MIT License" in f["AAD-2.4"]["evidence"]
    for gap in ("DDT-3.3", "AAD-4.2", "AAD-7.4"):       # decontamination, red teaming, seed variance
        assert f[gap]["level"] != "disclosed"
    reach = data["agenda"][0]["reach"]
    assert reach["open_weights"] is True and reach["params_billion"] >= 671


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not available")
def test_whole_corpus_compare_has_every_card(tmp_path: Path):
    out = tmp_path / "c.csv"
    assert main(["audit", str(CORPUS), "--compare", "--framework", "all", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 24
    for r in rows:
        assert 1 <= int(r["ddt_rank"]) <= 24 and 0.0 <= float(r["fmti-2025"]) <= 100.0
