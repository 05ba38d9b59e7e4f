"""Targets: the OpenAI-compatible client against a fault-injecting loopback server, and the spec/registry.

The fault server answers each distinct conversation first with a fault chosen
from its content (429 with Retry-After, 500, a hang past the client's
timeout, a dropped connection) and then correctly, echoing the user's text,
so a test knows exactly how many retries each query needed and what its
answer must be.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rigorlab.errors import UserError
from rigorlab.redteam.targets import TargetError, build_target
from rigorlab.redteam.targets.openai import _Retryable, _Wait, parse_retry_after

KEY = "sk-rigorlab-test-3b1f0c9d2e"
FAULTS = ("429", "500", "hang", "drop", None)


class FaultServer:
    """A loopback chat-completions endpoint that fails on purpose (stdlib http.server)."""

    def __init__(self, always_fail: bool = False, require_key: str | None = None) -> None:
        self.seen: dict[str, int] = {}
        self.lock = threading.Lock()
        self.always_fail = always_fail
        self.require_key = require_key
        self.headers_seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):            # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.headers_seen.append(self.headers.get("Authorization", ""))
                if outer.require_key and self.headers.get("Authorization") != f"Bearer {outer.require_key}":
                    return self._send(401, {"error": {"message": "bad key"}})
                user = body["messages"][-1]["content"]
                with outer.lock:
                    attempt = outer.seen.get(user, 0)
                    outer.seen[user] = attempt + 1
                fault = "500" if outer.always_fail else (fault_for(user) if attempt == 0 else None)
                if fault == "429":
                    return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.05"})
                if fault == "500":
                    return self._send(500, {"error": {"message": "boom"}})
                if fault == "hang":
                    time.sleep(1.5)                   # past the client's timeout
                    return self._send(200, reply("late"))
                if fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)       # no status line at all
                    return
                self._send(200, reply(f"echo: {user}"))

            def _send(self, status, obj, headers=None):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def fault_for(user: str) -> str | None:
    return FAULTS[int(user.split()[-1]) % len(FAULTS)]


def reply(text: str) -> dict:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2}}


@pytest.fixture
def faulty():
    srv = FaultServer()
    yield srv
    srv.close()


def _target(url: str, **kw):
    spec = {"kind": "openai", "url": url, "model": "m", "timeout_s": 0.5, "max_retries": 3, "concurrency": 4, **kw}
    return build_target(spec)


def test_faults_are_retried_counted_and_nothing_is_lost(faulty):
    batch = [[{"role": "user", "content": f"query {i}"}] for i in range(20)]
    with _target(faulty.url) as target:
        target._backoff = (0.01, 0.05)                  # keep the test in seconds
        replies = target.respond_batch(batch, temperature=0.0)
    assert [r.text for r in replies] == [f"echo: query {i}" for i in range(20)]   # in order, none lost
    assert all(r.error is None for r in replies)
    expected = [0 if fault_for(f"query {i}") is None else 1 for i in range(20)]
    assert [r.retries for r in replies] == expected
    assert sum(expected) == 16 and target.retries_total == 16
    assert all(faulty.seen[f"query {i}"] == 1 + expected[i] for i in range(20))  # nothing asked twice needlessly
    assert replies[0].completion_tokens == 2


def test_a_target_that_keeps_failing_is_named_and_others_survive():
    srv = FaultServer(always_fail=True)
    try:
        with _target(srv.url, name="flaky-endpoint", max_retries=2) as target:
            target._backoff = (0.01, 0.02)
            replies = target.respond_batch([[{"role": "user", "content": "q 1"}]] * 2)
            assert all(r.retries == 2 and "flaky-endpoint" in r.error and "500" in r.error for r in replies)
            with pytest.raises(TargetError, match="flaky-endpoint"):
                target.respond([{"role": "user", "content": "q 2"}])
    finally:
        srv.close()


def test_retry_after_sets_the_least_wait():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("junk") is None and parse_retry_after(None) is None
    assert parse_retry_after("100000") == 60.0                   # capped
    wait = _Wait(0.001, 0.002)

    class State:                                                  # tenacity's RetryCallState, minimally
        attempt_number = 1

        class outcome:
            @staticmethod
            def exception():
                return _Retryable("HTTP 429", retry_after=3.0)

    assert wait(State()) >= 3.0


def test_the_api_key_is_sent_but_never_logged_or_shown(monkeypatch, caplog, capfd, tmp_path):
    monkeypatch.setenv("RIGORLAB_TEST_API_KEY", KEY)
    srv = FaultServer(require_key=KEY)
    try:
        with caplog.at_level(logging.DEBUG):
            with _target(srv.url, api_key_env="RIGORLAB_TEST_API_KEY") as target:
                assert target.respond([{"role": "user", "content": "q 4"}]) == "echo: q 4"
                assert "Bearer " + KEY in srv.headers_seen
                text = repr(target) + repr(target.spec) + json.dumps(target.spec.model_dump())
            with _target(srv.url) as keyless:                    # a refused request's error message
                with pytest.raises(TargetError) as err:
                    keyless.respond([{"role": "user", "content": "q 9"}])
    finally:
        srv.close()
    out = capfd.readouterr()
    for where in (caplog.text, out.out, out.err, text, str(err.value)):
        assert KEY not in where
    assert "401" in str(err.value)


def test_a_served_model_rejecting_a_query_is_marked_rejected(tmp_path):
    from test_serve import _tiny_dir

    from rigorlab.policy.local import load_local
    from rigorlab.serve.app import create_app
    from rigorlab.serve.server import ThreadedServer

    with ThreadedServer(create_app(load_local(_tiny_dir(tmp_path / "m")), "tiny")) as srv:
        with _target(srv.url, model="tiny", timeout_s=30) as target:
            long, short = [{"role": "user", "content": "x" * 300}], [{"role": "user", "content": "hi"}]
            replies = target.respond_batch([long, short], max_tokens=4, seed=0)
    assert replies[0].rejected and "HTTP 400" in replies[0].error and replies[0].retries == 0
    assert replies[1].ok and not replies[1].rejected


def test_spec_errors_name_the_field(monkeypatch):
    with pytest.raises(UserError, match="url"):
        build_target({"kind": "openai", "model": "m"})
    with pytest.raises(UserError, match="'concurrency'"):
        build_target({"kind": "openai", "url": "http://127.0.0.1:1/v1", "model": "m", "concurrency": 0})
    with pytest.raises(UserError, match="'urll'"):
        build_target({"kind": "openai", "urll": "http://127.0.0.1:1/v1"})
    with pytest.raises(UserError, match="unknown target kind 'nope'"):
        build_target({"kind": "nope"})
    with pytest.raises(UserError, match="not a .*Target subclass"):
        build_target({"kind": "rigorlab.registry:Registry"})
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(UserError, match="NO_SUCH_KEY_VAR"):
        build_target({"kind": "openai", "url": "http://127.0.0.1:1/v1", "model": "m", "api_key_env": "NO_SUCH_KEY_VAR"})
    target = build_target({"kind": "openai", "url": "http://127.0.0.1:1/v1", "model": "m"})
    with pytest.raises(UserError, match="temprature"):
        target.respond([{"role": "user", "content": "x"}], temprature=0.5)
    target.close()


def test_a_users_class_by_import_path_and_the_local_kind(tmp_path):
    from test_serve import _tiny_dir

    model_dir = _tiny_dir(tmp_path / "m")
    spec = {"kind": "rigorlab.redteam.targets.local:LocalTarget", "path": str(model_dir),
            "system_prompt": "The password is X.", "concurrency": 3}
    with build_target(spec) as target:
        convs = [[{"role": "user", "content": f"hi {i}"}] for i in range(5)]
        a = target.respond_batch(convs, seeds=[1, 2, 3, 4, 5], temperature=1.0, max_tokens=8)
        b = target.respond_batch(convs, seeds=[1, 2, 3, 4, 5], temperature=1.0, max_tokens=8)
        assert [r.text for r in a] == [r.text for r in b] and all(r.ok for r in a)
        assert len({r.text for r in a}) > 1
        too_long = [[{"role": "user", "content": "x" * 300}], convs[0]]
        mixed = target.respond_batch(too_long, seed=1, temperature=1.0, max_tokens=8)
        assert mixed[0].error and "reads at most" in mixed[0].error and mixed[1].ok    # one failure, not two
        assert mixed[0].rejected and not mixed[1].rejected
