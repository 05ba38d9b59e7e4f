"""`rigorlab redteam` over real HTTP on loopback: quick form, campaign file, faults, API-key hygiene, bad input."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from rigorlab.cli import main
from rigorlab.io import read_jsonl
from test_redteam_fakes import SECRET, keeper_answer

API_KEY = "sk-test-7f3a9c1e-DO-NOT-WRITE"


class KeeperServer(ThreadingHTTPServer):
    """An OpenAI-compatible test server answering like the fake keeper.

    With `faults`, the first attempt at each distinct conversation fails in a way
    chosen by its hash: HTTP 429 (with Retry-After), HTTP 500, a hang longer than
    the client's timeout, or a dropped connection; the retry succeeds.
    """

    daemon_threads = True

    def __init__(self, faults: bool = False, key: str | None = API_KEY) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.faults, self.key = faults, key
        self.attempts: dict[str, int] = {}
        self.faults_served: dict[str, int] = {"429": 0, "500": 0, "hang": 0, "drop": 0}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: KeeperServer

    def log_message(self, *args) -> None:   # keep pytest output clean
        pass

    def _json(self, code: int, obj: dict, headers: dict | None = None) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        if self.server.key is None:
            return True
        if self.headers.get("Authorization") != f"Bearer {self.server.key}":
            self._json(401, {"error": {"message": "bad key"}})
            return False
        return True

    def do_GET(self) -> None:
        if self._authorised():
            self._json(200, {"object": "list", "data": [{"id": "keeper", "object": "model"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not self._authorised():
            return
        h = hashlib.sha256(json.dumps(body["messages"]).encode()).hexdigest()
        with self.server.lock:
            attempt = self.server.attempts.get(h, 0)
            self.server.attempts[h] = attempt + 1
        if self.server.faults and attempt == 0:
            fault = ("429", "500", "hang", "drop")[int(h, 16) % 4]
            with self.server.lock:
                self.server.faults_served[fault] += 1
            if fault == "429":
                return self._json(429, {"error": {"message": "slow down"}}, {"Retry-After": "0"})
            if fault == "500":
                return self._json(500, {"error": {"message": "boom"}})
            if fault == "hang":
                time.sleep(2.5)
                return
            self.close_connection = True                  # drop: close without a response
            self.connection.close()
            return
        text = keeper_answer(body["messages"])
        self._json(200, {"id": "x", "object": "chat.completion", "model": body.get("model", "keeper"),
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                      "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})


@pytest.fixture
def server(request) -> Iterator[KeeperServer]:
    srv = KeeperServer(faults=getattr(request, "param", False))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def all_output_text(out: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())


def test_quick_form_against_loopback_endpoint_never_writes_the_key(server: KeeperServer, tmp_path: Path,
                                                                   monkeypatch, capsys) -> None:
    monkeypatch.setenv("KEEPER_KEY", API_KEY)
    out = tmp_path / "out"
    rc = main(["redteam", "--target", server.url, "--model", "keeper", "--secret", SECRET, "--api-key-env",
               "KEEPER_KEY", "--budget", "30", "--seeds", "3", "--out", str(out)])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    g = res["goals"][0]
    assert g["static"]["k"] == 0 and g["static"]["n"] == 40 and g["dynamic"]["k"] == 3
    assert {"log.jsonl", "results.json", "report.html", "campaign.json", "session.json"} <= {p.name for p in out.iterdir()}
    captured = capsys.readouterr()
    assert API_KEY not in all_output_text(out) and API_KEY not in captured.out + captured.err
    assert "KEEPER_KEY" in (out / "campaign.json").read_text()      # only the variable's name is recorded
    assert all(r["tokens"] == 15 for r in read_jsonl(out / "log.jsonl"))   # the server's usage counts


@pytest.mark.parametrize("server", [True], indirect=True)
def test_faults_are_retried_and_no_query_is_lost(server: KeeperServer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KEEPER_KEY", API_KEY)
    camp = {"name": "faults", "target": {"kind": "openai", "url": server.url, "model": "keeper",
                                         "api_key_env": "KEEPER_KEY", "timeout_s": 1.0, "max_retries": 4},
            "concurrency": 4, "goals": [{"kind": "secret", "secret": SECRET}], "budget": {"queries": 16},
            "seeds": [0, 1]}
    f = tmp_path / "camp.yaml"
    f.write_text(yaml.safe_dump(camp))
    assert main(["redteam", str(f), "--out", str(tmp_path / "faulty")]) == 0
    assert min(server.faults_served.values()) > 0                     # every kind of fault happened
    session = json.loads((tmp_path / "faulty" / "session.json").read_text())
    assert session["retries_this_session"] >= sum(server.faults_served.values())
    rows = read_jsonl(tmp_path / "faulty" / "log.jsonl")
    assert all(r["error"] is None for r in rows)
    server.faults = False
    assert main(["redteam", str(f), "--out", str(tmp_path / "clean")]) == 0
    assert len(read_jsonl(tmp_path / "clean" / "log.jsonl")) == len(rows)
    strip = lambda p: json.loads(p.read_text())
    assert strip(tmp_path / "faulty" / "results.json") == strip(tmp_path / "clean" / "results.json")
    assert API_KEY not in all_output_text(tmp_path)


def test_bad_input_is_one_sentence_and_exit_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"target": {"url": "http://127.0.0.1:1/v1", "model": "m"},
                                   "goals": [{"kind": "secret", "secret": "x"}], "budget": {"queries": 0}}))
    assert main(["redteam", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "budget.queries" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o" / "results.json").exists()
    assert main(["redteam", "--target", "http://127.0.0.1:1/v1", "--out", str(tmp_path / "o")]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["redteam", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "suite_dir").mkdir()
    assert main(["redteam", "--target", "http://127.0.0.1:1/v1", "--model", "m", "--secret", "x",
                 "--static", str(tmp_path / "suite_dir"), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "suite_dir is a directory" in err and err.count("\n") == 1
    assert not (tmp_path / "o2" / "results.json").exists()
    static = tmp_path / "s.yaml"
    static.write_text("prompts: [1, 2]\n")
    bad.write_text(yaml.safe_dump({"target": {"url": "http://127.0.0.1:1/v1", "model": "m"},
                                   "goals": [{"kind": "secret", "secret": "x", "static": "s.yaml"}]}))
    assert main(["redteam", str(bad), "--out", str(tmp_path / "o2")]) == 2
    assert "prompts[0]" in capsys.readouterr().err


def test_help_campaign_documents_every_field(capsys) -> None:
    assert main(["redteam", "--help-campaign"]) == 0
    text = capsys.readouterr().out
    for field in ("target.url", "goals", "budget.queries", "budget.tokens", "budget.seconds", "search.policy",
                  "seeds", "concurrency", "attacker", "judge"):
        assert f"{field}:" in text
    assert all(line.split(": ", 1)[1].strip() for line in text.strip().splitlines())
