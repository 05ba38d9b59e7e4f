"""An optional LLM judge for `rigorlab audit --judge URL --judge-model NAME`.

Why it must quote: a model asked "is this disclosed?" can answer from what it
knows about the developer instead of from the document. Each judgement must
therefore carry a verbatim quote of the document; a quote that is not found in
the document (after collapsing white space only) rejects the judgement, and the
offline judge's finding stands (counted in `JudgeStats.rejected`).

Protocol: for each indicator, the retrieved passages (the offline judge's
evidence passage plus the best BM25 passages of the document) are sent to any
OpenAI-compatible `/chat/completions` endpoint (vLLM, llama.cpp server, Ollama,
a hosted API) with a JSON schema for the answer {level, quote, reason}. The API
key, if any, is read from an environment variable and never written anywhere.
Judgements are cached in SQLite keyed by (SHA-256 of the document text,
indicator, framework version with the judge's PROTOCOL, model), so re-auditing a
document costs nothing and a changed prompt or schema asks again.
Transport failures (connection refused, 429, 5xx, timeouts) are retried with
exponential back-off (tenacity); a judge that still fails falls back offline,
counted in `JudgeStats.failed`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rigorlab.disclosure.audit.document import Document, Passage
from rigorlab.disclosure.audit.judge import Finding
from rigorlab.disclosure.audit.retrieval import PassageIndex
from rigorlab.errors import UserError

DEFAULT_KEY_ENV = "RIGORLAB_JUDGE_API_KEY"
MAX_PASSAGES = 4
PASSAGE_CHARS = 1200
SYSTEM = (
    "You audit a document for one transparency indicator. Answer only from the passages given; never "
    "from what you know about the developer or the model. Levels: disclosed = the passages give the "
    "specific, checkable fact the indicator asks for (a name, a number with its unit, a date, a named "
    "procedure, a link to the thing itself); vague = the topic is addressed without such a fact; "
    "absent = nothing in the passages addresses it. For disclosed or vague, `quote` must be copied "
    "character for character from a passage's text, not from its (section: ...) line (the shortest span "
    "that proves the level); for absent it is empty. Reply with JSON only."
)
_WS = re.compile(r"\s+")


class Judgement(BaseModel):
    """The answer the judge must give (also sent as the response's JSON schema)."""

    model_config = ConfigDict(extra="ignore")

    level: Literal["disclosed", "vague", "absent"]
    quote: str = Field("", description="verbatim span of the passages proving the level; empty for absent")
    reason: str = Field("", description="one sentence")


# Sent as `response_format`: the subset every schema-enforcing API accepts in strict mode (OpenAI
# refuses optional fields or a missing additionalProperties: false there); no length limits, which
# strict modes reject, so an answer's length is bounded by ANSWER_TOKENS instead.
RESPONSE_SCHEMA = {"type": "json_schema", "json_schema": {"name": "judgement", "strict": True, "schema": {
    "type": "object", "additionalProperties": False, "required": ["level", "quote", "reason"],
    "properties": {
        "level": {"type": "string", "enum": ["disclosed", "vague", "absent"]},
        "quote": {"type": "string", "description": Judgement.model_fields["quote"].description},
        "reason": {"type": "string", "description": Judgement.model_fields["reason"].description},
    }}}}
ANSWER_TOKENS = 300
PROTOCOL = 2      # the prompt and schema's version, part of the cache key: a changed question is asked again


@dataclass
class JudgeStats:
    """What happened to the judge's answers in one audit (shown to the user)."""

    asked: int = 0
    cached: int = 0
    accepted: int = 0
    rejected: int = 0        # quote not found verbatim (or absent with a quote / level without one)
    failed: int = 0          # transport error or an answer that is not the schema
    kept_sure: int = 0       # scope "check": findings the learned layer marks sure, not asked
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"LLM judge: {self.accepted} judgement(s) accepted, {self.rejected} rejected (quote not in the "
                f"document), {self.failed} failed; {self.cached} from the cache, {self.asked} asked"
                + (f", {self.kept_sure} sure finding(s) not asked" if self.kept_sure else "")
                + "; rejected and failed ones fall back to the offline judge")


def normalise(text: str) -> str:
    return _WS.sub(" ", text).strip()


def quote_found(quote: str, haystacks: list[str]) -> bool:
    """The quote occurs in one of the texts, white space collapsed (nothing else is forgiven)."""
    q = normalise(quote)
    return bool(q) and any(q in normalise(h) for h in haystacks)


class JudgeCache:
    """SQLite cache of judgements: one row per (document hash, indicator, framework version, model)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.con = sqlite3.connect(self.path, timeout=30)
            self.con.execute("CREATE TABLE IF NOT EXISTS judgements (doc_sha256 TEXT, indicator TEXT, "
                             "framework_version TEXT, model TEXT, answer TEXT, "
                             "PRIMARY KEY (doc_sha256, indicator, framework_version, model))")
            self.con.commit()
        except sqlite3.DatabaseError as exc:
            raise UserError(f"the judge cache {self.path} is not a usable SQLite file ({exc}).") from exc

    def get(self, key: tuple[str, str, str, str]) -> dict[str, Any] | None:
        row = self.con.execute("SELECT answer FROM judgements WHERE doc_sha256=? AND indicator=? AND "
                               "framework_version=? AND model=?", key).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: tuple[str, str, str, str], answer: dict[str, Any]) -> None:
        with self.con:                                   # one transaction per row: safe after a kill
            self.con.execute("INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?, ?)",
                             (*key, json.dumps(answer, sort_keys=True)))

    def close(self) -> None:
        self.con.close()


def default_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rigorlab" / "judge.sqlite"


def retrieve(doc: Document, index: PassageIndex, prep: Any, finding: Finding, k: int = MAX_PASSAGES) -> list[str]:
    """The passages the judge sees: the offline judge's evidence passage first, then the best by keyword
    evidence plus document-relative BM25 (`retrieval.py`), code blocks excluded; in a report laid out
    by indicator (`questionnaire.py`), the indicator's own answer."""
    import numpy as np

    answer = doc.answer_for(prep.indicator.id, prep.indicator.title)
    if answer is not None:
        return [_shown(doc.passages[j]) for j in answer[:k]]
    kw = index.keyword_evidence(prep.query)
    bm = index.bm25(prep.query)
    score = kw + bm / max(float(bm.max()), 1e-9) if len(bm) else kw
    order = [int(j) for j in np.argsort(-score, kind="stable") if doc.passages[int(j)].kind != "code"]
    lines = (finding.location or {}).get("lines")
    first = [j for j, p in enumerate(doc.passages) if lines and p.line_start == lines[0]]
    picked = list(dict.fromkeys(first + order))[:k]
    return [_shown(doc.passages[j]) for j in picked]


def _shown(passage: Passage) -> str:
    """A passage as the judge sees it: its section named apart, so that the quote comes from the text."""
    section = " > ".join(passage.heading_path)
    return (f"(section: {section})\n" if section else "") + passage.text


class _Retryable(Exception):
    pass


class LLMJudge:
    """Asks an OpenAI-compatible endpoint about each finding; keeps the offline finding on any doubt."""

    def __init__(self, url: str, model: str, cache: str | os.PathLike | None = None,
                 key_env: str = DEFAULT_KEY_ENV, timeout_s: float = 120.0, max_retries: int = 3,
                 frameworks_version: dict[str, str] | None = None, scope: str = "all") -> None:
        """`scope`: "all" asks about every finding; "check" only about those the learned layer does
        not mark sure (a finding without a mark, as with --rules-only, is asked)."""
        try:
            import httpx
        except ImportError:
            raise UserError("--judge needs httpx: pip install 'rigorlab[redteam]'.") from None
        if not re.match(r"^https?://", url):
            raise UserError(f"--judge {url!r} is not an http(s) URL (e.g. http://127.0.0.1:8000/v1).")
        if not model.strip():
            raise UserError("--judge-model is empty: name the model the endpoint serves.")
        if scope not in ("all", "check"):
            raise UserError(f"--judge-scope {scope!r} is not one of: all, check.")
        if not timeout_s > 0:
            raise UserError(f"--judge-timeout must be > 0 seconds, got {timeout_s}.")
        self.scope = scope
        self.url = url.rstrip("/") + "/chat/completions"
        self.model = model
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"       # read from the environment, never stored
        self.client = httpx.Client(timeout=timeout_s, headers=headers)
        self.max_retries = max_retries
        self.cache = JudgeCache(cache or default_cache_path())
        self.versions = frameworks_version or {}
        self.stats = JudgeStats()

    def close(self) -> None:
        self.client.close()
        self.cache.close()

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        import httpx
        from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

        @retry(retry=retry_if_exception_type(_Retryable), stop=stop_after_attempt(self.max_retries + 1),
               wait=wait_exponential(multiplier=0.2, max=5), reraise=True)
        def call() -> dict[str, Any]:
            try:
                r = self.client.post(self.url, json=payload)
            except httpx.TransportError as exc:
                raise _Retryable(str(exc)) from exc
            if r.status_code == 429 or r.status_code >= 500:
                raise _Retryable(f"HTTP {r.status_code}")
            r.raise_for_status()
            return r.json()

        return call()

    def ask(self, indicator: Any, passages: list[str]) -> Judgement:
        """One judgement (raises on transport failure or an answer outside the schema)."""
        body = "\n\n".join(f"[passage {k + 1}] {p[:PASSAGE_CHARS]}" for k, p in enumerate(passages))
        user = (f"Indicator {indicator.id} ({indicator.title}): {indicator.question}\n"
                f"Disclosed when: {indicator.disclosed_when}\n\nPassages of the document:\n{body}")
        payload = {"model": self.model, "temperature": 0, "max_tokens": ANSWER_TOKENS, "response_format": RESPONSE_SCHEMA,
                   "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]}
        data = self._post(payload)
        content = data["choices"][0]["message"]["content"]
        return Judgement.model_validate_json(content)

    def refine(self, doc: Document, findings: list[Finding], prepared: dict[tuple[str, str], Any]) -> list[Finding]:
        """Findings with the judge's level where its quote is verbatim; others unchanged (offline).
        `prepared`: (framework, indicator id) -> `judge.PreparedIndicator`."""
        doc_hash = hashlib.sha256(doc.full_text.encode("utf-8")).hexdigest()
        raw = [doc.full_text, *(p.text for p in doc.passages), *{h for p in doc.passages for h in p.heading_path}]
        index = None
        out = []
        for f in findings:
            prep = prepared.get((f.framework, f.id))
            if prep is None:
                out.append(f)
                continue
            if self.scope == "check" and f.sure:
                self.stats.kept_sure += 1
                out.append(f)
                continue
            ind = prep.indicator
            if doc.answer_for(ind.id, ind.title) == ():
                out.append(f)                       # an empty answer in a questionnaire: nothing to ask
                continue
            key = (doc_hash, f.id, f"{f.framework}@{self.versions.get(f.framework, '')}+judge{PROTOCOL}", self.model)
            answer = self.cache.get(key)
            if answer is not None:
                self.stats.cached += 1
            else:
                if index is None:
                    index = PassageIndex(doc)
                texts = retrieve(doc, index, prep, f)
                try:
                    self.stats.asked += 1
                    answer = self.ask(ind, texts).model_dump()
                except (ValidationError, KeyError, IndexError, TypeError, ValueError, _Retryable, OSError) as exc:
                    self.stats.failed += 1
                    self.stats.reasons.append(f"{f.id}: {type(exc).__name__}")
                    out.append(f)
                    continue
                except Exception as exc:                     # noqa: BLE001 - httpx.HTTPStatusError and kin
                    self.stats.failed += 1
                    self.stats.reasons.append(f"{f.id}: {exc}")
                    out.append(f)
                    continue
                self.cache.put(key, answer)
            out.append(self._apply(f, Judgement.model_validate(answer), raw))
        return out

    def _apply(self, f: Finding, j: Judgement, raw: list[str]) -> Finding:
        if j.level == "absent":
            if j.quote.strip():
                self.stats.rejected += 1
                return f
            self.stats.accepted += 1
            return replace(f, level="absent", evidence="", location=None, sure=None,
                           reason=f"LLM judge ({self.model}): {j.reason}")
        if not quote_found(j.quote, raw):
            self.stats.rejected += 1
            self.stats.reasons.append(f"{f.id}: quote not in the document")
            return f
        self.stats.accepted += 1
        return replace(f, level=j.level, evidence=j.quote, sure=None,     # its agreement is not measured
                       reason=f"LLM judge ({self.model}): {j.reason}")
