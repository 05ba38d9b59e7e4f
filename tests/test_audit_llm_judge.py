"""The LLM judge's protocol against a real HTTP server on 127.0.0.1 (a scripted FastAPI app under uvicorn).

The server answers each indicator from a script: a verbatim quote for DDT-1.2, an invented quote for
DDT-1.1, absent for everything else. What is checked: the invented quote is rejected and the offline
level stands (counted), the verbatim one is accepted, the second run is served from the SQLite cache
without a single request, and the API key travels in the header but is never written to the cache.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest

fastapi = pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("httpx")

from rigorlab.disclosure.audit import audit_text  # noqa: E402
from rigorlab.disclosure.audit.engine import Auditor, markdown_document, resolve_frameworks  # noqa: E402
from rigorlab.disclosure.audit.llm_judge import LLMJudge, quote_found  # noqa: E402
from rigorlab.disclosure.audit.document import Document  # noqa: E402

CARD = """# Model card: Tiny-7B

## Training data

The model was pretrained on 2.1 trillion tokens from our web crawl.

## Intended use

Research on small language models.
"""
REAL = "pretrained on 2.1 trillion tokens"
INVENTED = "trained on Common Crawl, C4 and The Pile"   # not in the card
SECRET = "sk-test-not-a-real-key-1234"


class Scripted:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.auth: list[str] = []
        app = fastapi.FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: fastapi.Request) -> dict:
            body = await request.json()
            self.requests.append(body)
            self.auth.append(request.headers.get("authorization", ""))
            user = body["messages"][-1]["content"]
            if user.startswith("Indicator DDT-1.2 "):
                ans = {"level": "disclosed", "quote": REAL, "reason": "a token count"}
            elif user.startswith("Indicator DDT-1.1 "):
                ans = {"level": "disclosed", "quote": INVENTED, "reason": "sources named"}
            else:
                ans = {"level": "absent", "quote": "", "reason": "not addressed"}
            return {"choices": [{"message": {"role": "assistant", "content": json.dumps(ans)}}]}

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _doc() -> Document:
    return markdown_document(CARD, "card.md")


def test_quote_check_is_verbatim_up_to_white_space():
    hay = ["The model was pretrained on 2.1 trillion\n tokens from our web crawl."]
    assert quote_found("pretrained on 2.1 trillion tokens", hay)
    assert not quote_found("pretrained on 2.1 Trillion tokens", hay)      # re-cased: rejected
    assert not quote_found("pretrained on ... tokens", hay)               # abridged: rejected
    assert not quote_found("", hay)


def test_invented_quote_rejected_verbatim_accepted_and_cache_hit(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_JUDGE_KEY", SECRET)
    cache = tmp_path / "judge.sqlite"
    fws = resolve_frameworks("ddt")
    offline = {f.id: f for f in Auditor(fws).audit_document(_doc()).findings}
    scripted = Scripted()
    with scripted as url:
        judge = LLMJudge(url, "scripted-model", cache=cache, key_env="TEST_JUDGE_KEY",
                         frameworks_version={f.id: str(f.version) for f in fws})
        first = {f.id: f for f in Auditor(fws, judge=judge).audit_document(_doc()).findings}
        stats1 = judge.stats
        judge.close()
        n_first = len(scripted.requests)

        judge2 = LLMJudge(url, "scripted-model", cache=cache, key_env="TEST_JUDGE_KEY",
                          frameworks_version={f.id: str(f.version) for f in fws})
        second = {f.id: f for f in Auditor(fws, judge=judge2).audit_document(_doc()).findings}
        stats2 = judge2.stats
        judge2.close()

    n_ind = len(fws[0].indicators)
    assert n_first == n_ind == stats1.asked                  # one request per indicator
    # the schema is the strict subset hosted APIs accept: every field required, nothing else allowed
    schema = scripted.requests[0]["response_format"]["json_schema"]["schema"]
    assert sorted(schema["required"]) == sorted(schema["properties"]) == ["level", "quote", "reason"]
    assert schema["additionalProperties"] is False
    assert not any(k in p for p in schema["properties"].values() for k in ("default", "maxLength"))
    assert scripted.requests[0]["max_tokens"] > 0 and scripted.requests[0]["temperature"] == 0
    # the invented quote is rejected: DDT-1.1 keeps the offline judge's level and evidence
    assert stats1.rejected == 1
    assert first["DDT-1.1"].level == offline["DDT-1.1"].level
    assert first["DDT-1.1"].evidence == offline["DDT-1.1"].evidence
    assert INVENTED not in first["DDT-1.1"].evidence
    # the verbatim quote is accepted
    assert first["DDT-1.2"].level == "disclosed" and first["DDT-1.2"].evidence == REAL
    assert "LLM judge" in first["DDT-1.2"].reason
    assert first["DDT-1.2"].sure is None                     # the judge's agreement is not measured: no "sure"
    assert first["DDT-1.1"].sure == offline["DDT-1.1"].sure  # a rejected judgement keeps the layer's mark
    assert stats1.accepted == n_ind - 1
    # second run: served from the cache, not one request more, same findings
    assert len(scripted.requests) == n_first
    assert stats2.cached == n_ind and stats2.asked == 0
    assert {k: (f.level, f.evidence) for k, f in second.items()} == {k: (f.level, f.evidence) for k, f in first.items()}
    # the key went in the header and nowhere on disk
    assert all(a == f"Bearer {SECRET}" for a in scripted.auth)
    assert SECRET.encode() not in cache.read_bytes()
    rows = sqlite3.connect(cache).execute("SELECT indicator, model FROM judgements").fetchall()
    assert len(rows) == n_ind and {m for _, m in rows} == {"scripted-model"}


def test_scope_check_asks_only_about_findings_not_marked_sure(tmp_path):
    fws = resolve_frameworks("ddt,aad")
    offline = Auditor(fws).audit_document(_doc()).findings
    sure = {f.id for f in offline if f.sure}
    assert 0 < len(sure) < len(offline)                      # the card gives both kinds
    scripted = Scripted()
    with scripted as url:
        judge = LLMJudge(url, "scripted-model", cache=tmp_path / "c.sqlite", scope="check")
        judged = Auditor(fws, judge=judge).audit_document(_doc()).findings
        judge.close()
    asked = {r["messages"][-1]["content"].split()[1] for r in scripted.requests}
    assert asked == {f.id for f in offline} - sure
    assert judge.stats.kept_sure == len(sure) and judge.stats.asked == len(offline) - len(sure)
    assert [(f.id, f.level, f.evidence) for f in judged if f.id in sure] == \
        [(f.id, f.level, f.evidence) for f in offline if f.id in sure]
    with pytest.raises(Exception, match="judge-scope"):
        LLMJudge(url, "m", cache=tmp_path / "c.sqlite", scope="some")


def test_unreachable_judge_falls_back_offline(tmp_path):
    fws = resolve_frameworks("ddt")
    judge = LLMJudge("http://127.0.0.1:9/v1", "m", cache=tmp_path / "c.sqlite", max_retries=0, timeout_s=2)
    findings = Auditor(fws, judge=judge).audit_document(_doc()).findings
    judge.close()
    offline = audit_text(CARD, "ddt", name="card.md").findings
    assert [(f.id, f.level) for f in findings] == [(f.id, f.level) for f in offline]
    assert judge.stats.failed == len(findings) and judge.stats.accepted == 0


def test_bad_judge_arguments_are_user_errors(tmp_path):
    from rigorlab.errors import UserError

    with pytest.raises(UserError, match="not an http"):
        LLMJudge("127.0.0.1:8000", "m", cache=tmp_path / "c.sqlite")
    with pytest.raises(UserError, match="judge-model"):
        LLMJudge("http://127.0.0.1:8000/v1", " ", cache=tmp_path / "c.sqlite")


def test_judge_through_rigorlab_serve_gets_schema_valid_answers(tmp_path):
    """End to end against `rigorlab serve` (a real model behind real HTTP on loopback): a random-weight
    model never writes JSON by itself, yet with the judge's `response_format` enforced by the server every
    answer is the schema (none fails), and its levels without a verbatim quote are all rejected."""
    pytest.importorskip("lmformatenforcer")
    from rigorlab.config import TinyModelConfig
    from rigorlab.policy.local import load_local
    from rigorlab.policy.model import build_tiny_model
    from rigorlab.policy.tokenizer import build_char_tokenizer
    from rigorlab.redteam.secret_keeper import CHAT_TEMPLATE
    from rigorlab.serve.app import create_app
    from rigorlab.serve.server import ThreadedServer

    tok = build_char_tokenizer()
    tok.chat_template = CHAT_TEMPLATE
    arch = TinyModelConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                           max_position_embeddings=4096)
    build_tiny_model(arch, tok, seed=0).save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    fws = resolve_frameworks("ddt")
    offline = Auditor(fws).audit_document(_doc()).findings
    with ThreadedServer(create_app(load_local(tmp_path / "m"), "tiny", window_s=0.01)) as srv:
        judge = LLMJudge(srv.url, "tiny", cache=tmp_path / "c.sqlite")
        judged = Auditor(fws, judge=judge).audit_document(_doc()).findings
        judge.close()
    answers = [json.loads(a) for (a,) in sqlite3.connect(tmp_path / "c.sqlite").execute("SELECT answer FROM judgements")]
    assert judge.stats.asked == len(fws[0].indicators) == len(answers) and judge.stats.failed == 0
    assert all(set(a) == {"level", "quote", "reason"} and a["level"] in ("disclosed", "vague", "absent")
               for a in answers)
    assert judge.stats.accepted + judge.stats.rejected == judge.stats.asked
    kept = [f for f, g in zip(judged, offline) if (f.level, f.evidence) == (g.level, g.evidence)]
    assert len(kept) >= judge.stats.rejected                     # a rejected answer leaves the offline finding
