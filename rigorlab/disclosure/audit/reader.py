"""Read any document the auditor is given, or say in one sentence why not.

Markdown (with or without YAML front matter), plain text, HTML, PDF (text
via pypdf) and Hugging Face card files. Every refusal is a `DocumentError`
naming the file; a batch records it and moves on.
"""

from __future__ import annotations

import io
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

from rigorlab.disclosure.audit.document import Document, DocumentError, Passage
from rigorlab.disclosure.audit.markdown import MAX_BLOCK_LINES, clean_inline, split_markdown
from rigorlab.disclosure.audit.questionnaire import read_questionnaire

MAX_BYTES = 10 * 1024 * 1024
TEXT_SUFFIXES = {".md", ".markdown", ".mdx", ".txt", ".text", ".rst", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
PDF_SUFFIXES = {".pdf"}
QUESTIONNAIRE_SUFFIXES = {".csv"}    # read when named; a folder's CSV files are data, not reports
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES
_MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
          b"PK\x03\x04": "a ZIP archive (or Office/wheel file)", b"\x1f\x8b": "a gzip archive",
          b"\x7fELF": "an executable", b"MZ": "a Windows executable", b"SQLite format": "an SQLite database",
          b"\x93NUMPY": "a NumPy array", b"PAR1": "a Parquet file"}


def collect_paths(paths: list[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to audit (directories walked, sorted) and (path, reason) for inputs that are not there."""
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED
                           and not any(part.startswith(".") for part in f.relative_to(p).parts))
            if not found:
                problems.append((str(p), f"{p} holds no Markdown, text, HTML or PDF files."))
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            problems.append((str(p), f"{p} does not exist."))
    seen: set[Path] = set()
    unique = [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]
    return unique, problems


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """UTF-8 (or a BOM-marked UTF-16); anything else is read as Windows-1252 with a notice."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{name} starts with a UTF-16 mark but is not valid UTF-16 ({exc.reason}).") from exc
    head = data[:8192]
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise DocumentError(f"{name} is {what}, not a text, Markdown, HTML or PDF document.")
    if b"\x00" in head:
        raise DocumentError(f"{name} looks binary (it contains NUL bytes), not a text, Markdown, HTML or PDF document.")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        text = data.decode("cp1252", errors="replace")
        notice = (f"{name} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                  "it was read as Windows-1252, so re-save it as UTF-8 if characters look wrong")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.05 * max(1, min(len(text), 8192)):
        raise DocumentError(f"{name} looks binary (mostly control characters), not a text document.")
    return text, [notice]


def markdown_text(text: str, name: str, kind: str = "markdown") -> Document:
    """A Markdown or plain-text string split into located passages (`markdown.split_markdown`), with
    every heading path kept (`layout.py` reads them); its notices name `name`."""
    headings: list[tuple[str, ...]] = []
    passages, front, title, more = split_markdown(text, headings)
    return Document(path=name, kind=kind, passages=passages, front_matter=front, title=title,
                    n_lines=text.count("\n") + 1, headings=tuple(headings), notices=[f"{name}: {m}" for m in more])


def read_document(path: str | Path, display: str | None = None) -> Document:
    """Read and split one file; raises DocumentError with one sentence when it cannot be audited."""
    p = Path(path)
    name = display or str(p)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DocumentError(f"{name} cannot be opened ({exc.strerror or exc}).") from exc
    if p.is_dir():
        raise DocumentError(f"{name} is a directory; pass it as PATH to audit every document inside.")
    if size > MAX_BYTES:
        raise DocumentError(f"{name} is {size / 2**20:.1f} MiB, over the 10 MiB limit for one document; "
                            "split it or audit the relevant part.")
    if size == 0:
        raise DocumentError(f"{name} is empty.")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{name} cannot be read ({exc.strerror or exc}).") from exc
    suffix = p.suffix.lower()
    if suffix in PDF_SUFFIXES or data.startswith(b"%PDF-"):
        doc = _read_pdf(data, name)
    else:
        text, notices = _decode(data, name)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            raise DocumentError(f"{name} contains only white space.")
        looks_html = re.match(r"\s*(<!doctype html|<html\b)", text[:1024], re.IGNORECASE) is not None
        if suffix in HTML_SUFFIXES or looks_html:
            doc = _read_html(text, name)
        elif suffix in QUESTIONNAIRE_SUFFIXES:
            doc = read_questionnaire(text, name)
        else:
            doc = markdown_text(text, name, "markdown" if suffix != ".txt" else "text")
        doc.notices = notices + doc.notices
    if not doc.passages:
        raise DocumentError(f"{name} has no readable text (only markup, images or white space).")
    doc.title = doc.title or p.stem
    return doc


# --------------------------------------------------------------------------- PDF

_PDF_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+[A-Z][^.!?]{2,70}$|^[A-Z][A-Z &-]{3,40}$")


def _flush_pdf_block(passages: list[Passage], lines: list[str], block: list[int],
                     heading: tuple[str, ...], page: int) -> None:
    """Turn the collected line indices of one page into a passage and empty `block`."""
    if block:
        txt = clean_inline(" ".join(lines[i].strip() for i in block))
        if txt:
            passages.append(Passage(len(passages), txt, heading, block[0] + 1, block[-1] + 1, page=page))
        block.clear()


def _read_pdf(data: bytes, name: str) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    log = logging.getLogger("pypdf")      # pypdf logs recoverable damage; we report it ourselves
    level = log.level
    log.setLevel(logging.ERROR + 10)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{name} is an encrypted PDF; decrypt it first.")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise DocumentError(f"{name} is not a readable PDF ({type(exc).__name__}: {exc}).") from exc
    finally:
        log.setLevel(level)
    if not any(t.strip() for t in pages):
        raise DocumentError(f"{name} has no extractable text (a scanned PDF needs OCR first).")
    passages: list[Passage] = []
    heading: tuple[str, ...] = ()
    for pno, text in enumerate(pages, start=1):
        lines = text.split("\n")
        block: list[int] = []
        for i, line in enumerate(lines):
            s = line.strip()
            if not s:
                _flush_pdf_block(passages, lines, block, heading, pno)
            elif _PDF_HEADING.match(s) and len(s) < 80:
                _flush_pdf_block(passages, lines, block, heading, pno)
                heading = (s,)
            else:
                block.append(i)
                if len(block) >= MAX_BLOCK_LINES // 2 and s.endswith((".", ":", ";")):
                    _flush_pdf_block(passages, lines, block, heading, pno)
        _flush_pdf_block(passages, lines, block, heading, pno)
    return Document(path=name, kind="pdf", passages=passages, title=str(meta_title),
                    n_lines=sum(t.count("\n") + 1 for t in pages))


# -------------------------------------------------------------------------- HTML

_BLOCK_TAGS = {"p", "li", "tr", "pre", "blockquote", "dd", "dt", "div", "section", "article", "td", "th",
               "table", "ul", "ol", "dl", "figcaption", "caption", "br", "hr", "main", "header", "footer"}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}


class _HTMLSplitter(HTMLParser):
    """Collects text blocks with their heading path and source lines; scripts are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[tuple[str, ...], int, int, str]] = []
        self.stack: list[tuple[int, str]] = []
        self.buf: list[str] = []
        self.start = 0
        self.skip = 0
        self.heading_level = 0
        self.heading_buf: list[str] = []
        self.title = ""
        self.in_title = False

    def _flush(self) -> None:
        txt = re.sub(r"\s+", " ", "".join(self.buf)).strip()
        if txt:
            self.blocks.append((tuple(h for _, h in self.stack), self.start, self.getpos()[0], txt))
        self.buf = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self.heading_level, self.heading_buf = int(tag[1]), []
        elif tag in _BLOCK_TAGS:
            self._flush()
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self._pending_href = href if href.startswith(("http://", "https://")) else ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self.heading_level:
            text = re.sub(r"\s+", " ", "".join(self.heading_buf)).strip() or "(untitled)"
            while self.stack and self.stack[-1][0] >= self.heading_level:
                self.stack.pop()
            self.stack.append((self.heading_level, text))
            self.heading_level = 0
        elif tag in _BLOCK_TAGS:
            self._flush()
        elif tag == "a" and getattr(self, "_pending_href", ""):
            self.handle_data(f" ({self._pending_href})")
            self._pending_href = ""

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        if self.skip:
            return
        if self.heading_level:
            self.heading_buf.append(data)
            return
        if not self.buf:
            self.start = self.getpos()[0]
        self.buf.append(data)


def _read_html(text: str, name: str) -> Document:
    parser = _HTMLSplitter()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError) as exc:  # HTMLParser is lenient; these are the rare failures
        raise DocumentError(f"{name} is malformed HTML that cannot be parsed ({exc}).") from exc
    parser._flush()
    passages = [Passage(i, clean_inline(t), h, a, max(a, b), kind="text")
                for i, (h, a, b, t) in enumerate(parser.blocks)]
    passages = [p for p in passages if p.text]
    passages = [Passage(i, p.text, p.heading_path, p.line_start, p.line_end) for i, p in enumerate(passages)]
    title = parser.title.strip() or next((p.heading_path[0] for p in passages if p.heading_path), "")
    return Document(path=name, kind="html", passages=passages, title=title, n_lines=text.count("\n") + 1)
