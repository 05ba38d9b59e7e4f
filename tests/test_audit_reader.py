"""Reading and splitting documents into located passages; bad files get one sentence each."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rigorlab.disclosure.audit.document import DocumentError, format_location
from rigorlab.disclosure.audit.markdown import split_markdown
from rigorlab.disclosure.audit.reader import MAX_BYTES, collect_paths, read_document

CARD = """---
license: apache-2.0
datasets:
  - allenai/dolma
language: [en, fr]
---
# My Model

Intro paragraph.

## Training data

We trained on 2T tokens of [Dolma](https://huggingface.co/datasets/allenai/dolma).

```bash
# not a heading
pip install thing
```

Evaluation
----------

| benchmark | score |
|---|---|
| GSM8K | 81.0 |

**Limitations**

It makes mistakes.
"""


def make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF (Helvetica text lines), byte offsets computed for the xref table."""
    content = "BT /F1 11 Tf 72 760 Td 14 TL\n" + "".join(
        "(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*\n" for s in lines) + "ET"
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            "/Resources << /Font << /F1 5 0 R >> >> >>",
            f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{o}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_markdown_passages_have_heading_paths_and_line_ranges():
    passages, front, title, notices = split_markdown(CARD)
    assert title == "My Model" and notices == []
    assert front == {"license": "apache-2.0", "datasets": ["allenai/dolma"], "language": ["en", "fr"]}
    lines = CARD.split("\n")
    by_text = {p.text: p for p in passages}
    data = next(p for p in passages if p.text.startswith("We trained"))
    assert data.heading_path == ("My Model", "Training data")
    assert lines[data.line_start - 1].startswith("We trained") and data.line_start == data.line_end
    # link targets are kept as evidence, markup is not
    assert "(https://huggingface.co/datasets/allenai/dolma)" in data.text and "[" not in data.text
    # '# not a heading' inside the fence did not open a section; the fence is one code passage
    code = next(p for p in passages if p.kind == "code")
    assert code.heading_path == ("My Model", "Training data") and "pip install thing" in code.text
    # setext heading and bold pseudo-heading
    table = next(p for p in passages if p.kind == "table")
    assert table.heading_path == ("My Model", "Evaluation") and "GSM8K | 81.0" in table.text
    lim = by_text["It makes mistakes."]
    assert lim.heading_path[-1] == "Limitations"
    # one front-matter passage per top-level key, with the key's lines
    fm = [p for p in passages if p.kind == "front-matter"]
    assert [p.text.split(":")[0] for p in fm] == ["license", "datasets", "language"]
    assert (fm[1].line_start, fm[1].line_end) == (3, 4)


def test_long_tables_are_windowed_with_their_header():
    rows = "\n".join(f"| b{i} | {i} |" for i in range(30))
    passages, *_ = split_markdown(f"# T\n\n| name | value |\n|---|---|\n{rows}\n")
    tables = [p for p in passages if p.kind == "table"]
    assert len(tables) == 3
    assert all(t.text.startswith("name | value") for t in tables)
    assert tables[0].line_start == 3 and tables[-1].line_end == 4 + 30


def test_horizontal_rule_at_top_is_not_front_matter_and_bad_yaml_is_a_notice():
    passages, front, _, notices = split_markdown("---\n# Title\n\ntext\n\n---\nmore\n")
    assert front == {} and notices == []
    passages, front, _, notices = split_markdown("---\nkey: [unclosed\n---\n# T\n\nbody text\n")
    assert front == {} and len(notices) == 1 and "malformed" in notices[0]
    assert any(p.text == "body text" for p in passages)


def test_html_reader_skips_scripts_and_keeps_headings(tmp_path: Path):
    f = tmp_path / "card.html"
    f.write_text("<html><head><title>Card</title><script>var secret = 1;</script></head><body>\n"
                 "<h1>Card</h1>\n<h2>Data</h2>\n<p>We used <a href='https://x.org/d'>the Pile</a>, 300B tokens.</p>\n"
                 "<ul><li>first</li>\n<li>second</li></ul></body></html>\n", encoding="utf-8")
    doc = read_document(f)
    assert doc.kind == "html" and doc.title == "Card"
    assert all("secret" not in p.text for p in doc.passages)
    p = doc.passages[0]
    assert p.text == "We used the Pile (https://x.org/d), 300B tokens." and p.heading_path == ("Card", "Data")
    assert p.line_start == 4
    assert [q.text for q in doc.passages[1:]] == ["first", "second"]


def test_pdf_reader_extracts_pages_headings_and_lines(tmp_path: Path):
    f = tmp_path / "paper.pdf"
    f.write_bytes(make_pdf(["1 Introduction", "We study things.", "", "2 Training Data",
                            "Data from the Pile (https://pile.eleuther.ai).", "Deduplicated with MinHash."]))
    doc = read_document(f)
    assert doc.kind == "pdf"
    data = next(p for p in doc.passages if "Pile" in p.text)
    assert data.page == 1 and data.heading_path == ("2 Training Data",)
    assert "MinHash" in data.text
    loc = format_location(data.location(str(f)))
    assert "p. 1" in loc and "2 Training Data" in loc


@pytest.mark.parametrize("name,data,fragment", [
    ("empty.md", b"", "is empty"),
    ("blank.md", b"  \n\n\t\n", "only white space"),
    ("nul.md", b"abc\x00def", "looks binary"),
    ("image.md", b"\x89PNG\r\n\x1a\nrest", "PNG image"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "not a readable PDF"),
    ("markup.md", b"<div><img src='x.png'></div>\n", "no readable text"),
])
def test_bad_files_raise_one_sentence(tmp_path: Path, name: str, data: bytes, fragment: str):
    f = tmp_path / name
    f.write_bytes(data)
    with pytest.raises(DocumentError) as exc:
        read_document(f)
    msg = str(exc.value)
    assert fragment in msg and name in msg and "\n" not in msg


def test_huge_file_is_refused_without_reading_it(tmp_path: Path):
    f = tmp_path / "huge.md"
    with f.open("wb") as fh:          # sparse: no 10 MB written to disk
        fh.truncate(MAX_BYTES + 1)
    with pytest.raises(DocumentError, match="over the 10 MiB limit"):
        read_document(f)


def test_wrong_encoding_is_read_with_a_notice_and_utf16_bom_is_decoded(tmp_path: Path):
    f = tmp_path / "latin.md"
    f.write_bytes("# Caf\u00e9\n\nDonn\u00e9es publiques.\n".encode("cp1252"))
    doc = read_document(f)
    assert doc.title == "Caf\u00e9" and len(doc.notices) == 1 and "not valid UTF-8" in doc.notices[0]
    g = tmp_path / "utf16.md"
    g.write_bytes("# T\u00eftle\n\nbody\n".encode("utf-16"))
    assert read_document(g).title == "T\u00eftle" and read_document(g).notices == []


def test_collect_paths_walks_directories_and_reports_missing(tmp_path: Path):
    (tmp_path / "a.md").write_text("# A\n\ntext\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.html").write_text("<p>x</p>")
    (tmp_path / "notes.tsv").write_text("a\tb\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.md").write_text("# C\n")
    files, problems = collect_paths([tmp_path, tmp_path / "a.md", tmp_path / "missing.md"])
    assert [f.name for f in files] == ["a.md", "b.html"]
    assert problems == [(str(tmp_path / "missing.md"), f"{tmp_path / 'missing.md'} does not exist.")]


CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "cards"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not available")
def test_every_corpus_card_reads_with_valid_locations():
    files, problems = collect_paths([CORPUS])
    assert problems == [] and len(files) == 24        # SOURCES.tsv is not a document
    for f in files:
        doc = read_document(f)
        n_lines = len(f.read_text(encoding="utf-8").split("\n"))
        assert doc.passages, f
        for p in doc.passages:
            assert 1 <= p.line_start <= p.line_end <= n_lines, (f, p)
            assert p.text.strip()
    assert os.path.getsize(files[0]) < MAX_BYTES


def test_markdown_comment_lines_are_not_text_but_link_definitions_are():
    """`[comment]: <> (...)` and `[//]: # (...)` are never rendered: a licence written there was withdrawn
    and is no evidence; a reference definition with a real target keeps its link (it is evidence)."""
    from rigorlab.disclosure.audit.engine import audit_text

    card = ("# Tiny\n\nA small model.\n\n[comment]: <> The data is licensed under CC-BY 4.0.\n"
            "[//]: # (Released under the Apache 2.0 license.)\n\n[paper]: https://arxiv.org/abs/2102.12092\n")
    passages, _, _, _ = split_markdown(card)
    text = " ".join(p.text for p in passages)
    assert "CC-BY" not in text and "Apache" not in text and "https://arxiv.org/abs/2102.12092" in text
    assert (passages[-1].line_start, passages[-1].line_end) == (8, 8)   # line numbers still those of the file
    audit = audit_text(card, "ddt,aad", learned=False)
    assert not any("CC-BY" in f.evidence or "Apache" in f.evidence for f in audit.findings)
