"""A target behind any OpenAI-compatible chat-completions endpoint.

vLLM, llama.cpp's server, Ollama, TGI, hosted APIs and ``rigorlab serve`` all
speak ``POST {url}/chat/completions``. The client is httpx; retries are
tenacity's exponential backoff with jitter on 429, 5xx, timeouts and dropped
connections, waiting at least as long as a ``Retry-After`` header asks.
``respond_batch`` runs up to ``concurrency`` requests at once from a thread
pool sharing one connection pool.

The API key is read from the environment variable *named* in the spec, kept
in the httpx client's headers only, and never printed, logged or written:
errors name the target and the HTTP status, never a header or the key.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from typing import Any, Optional

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from rigorlab.errors import UserError
from rigorlab.redteam.targets.base import (
    TARGETS, Message, Target, TargetError, TargetReply, TargetSpec, check_messages, check_sampling,
    per_item_sampling,
)

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
REJECT_STATUSES = frozenset({400, 413, 422})      # the server will never accept this query
MAX_RETRY_AFTER_S = 60.0


class _Retryable(Exception):
    """A failed attempt worth retrying; carries the server's Retry-After (seconds) if any."""

    def __init__(self, reason: str, retry_after: Optional[float] = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), capped; None if absent/bad."""
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        pass
    try:
        import datetime as _dt

        when = parsedate_to_datetime(value)
        return min(max((when - _dt.datetime.now(when.tzinfo)).total_seconds(), 0.0), MAX_RETRY_AFTER_S)
    except (TypeError, ValueError):
        return None


class _Wait:
    """Exponential backoff with jitter, never shorter than the server's Retry-After."""

    def __init__(self, initial: float, maximum: float) -> None:
        self._exp = wait_random_exponential(multiplier=initial, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        wait = self._exp(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        return wait


@TARGETS.register("openai")
class OpenAITarget(Target):
    """Chat completions over HTTP with retries, a timeout per request and a concurrency limit."""

    def __init__(self, spec: TargetSpec, backoff_initial_s: float = 0.5, backoff_max_s: float = 20.0) -> None:
        if not spec.url:
            raise UserError("target field 'url' is required for kind 'openai' (e.g. http://127.0.0.1:8000/v1)")
        if not spec.url.startswith(("http://", "https://")):
            raise UserError(f"target field 'url' must start with http:// or https://, got {spec.url!r}")
        if not spec.model:
            raise UserError("target field 'model' is required for kind 'openai'")
        headers = {"Content-Type": "application/json"}
        if spec.api_key_env:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise UserError(f"environment variable {spec.api_key_env} (target field 'api_key_env') is not set")
            headers["Authorization"] = f"Bearer {key}"
        self.spec = spec
        self.name = spec.name or spec.model
        self.endpoint = spec.url.rstrip("/") + "/chat/completions"
        self._backoff = (backoff_initial_s, backoff_max_s)
        limits = httpx.Limits(max_connections=spec.concurrency, max_keepalive_connections=spec.concurrency)
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(spec.timeout_s), limits=limits)
        self._pool = ThreadPoolExecutor(max_workers=spec.concurrency, thread_name_prefix="rigorlab-target")
        self._lock = threading.Lock()
        self.retries_total = 0

    # -- one request ------------------------------------------------------------------------
    def _body(self, messages: list[Message], sampling: dict[str, Any]) -> dict[str, Any]:
        if self.spec.system_prompt and messages[0]["role"] != "system":
            messages = [{"role": "system", "content": self.spec.system_prompt}, *messages]
        return {"model": self.spec.model, "messages": [dict(m) for m in messages], **sampling}

    def _attempt(self, body: dict[str, Any]) -> TargetReply:
        try:
            resp = self._client.post(self.endpoint, json=body)
        except httpx.TimeoutException:
            raise _Retryable(f"timed out after {self.spec.timeout_s:g} s") from None
        except httpx.TransportError as exc:        # refused, reset, dropped mid-response
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        if resp.status_code in RETRY_STATUSES:
            raise _Retryable(f"HTTP {resp.status_code}", parse_retry_after(resp.headers.get("retry-after")))
        if resp.status_code >= 400:
            err = TargetError(f"target {self.name!r} answered HTTP {resp.status_code}: {_short(resp.text)}")
            err.rejected = resp.status_code in REJECT_STATUSES  # type: ignore[attr-defined]
            raise err
        try:
            data = resp.json()
            text = data["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Retryable("malformed response body") from None
        usage = data.get("usage") or {}
        return TargetReply(text, 0, None, usage.get("prompt_tokens"), usage.get("completion_tokens"))

    def _call(self, messages: list[Message], sampling: dict[str, Any]) -> TargetReply:
        check_messages(messages)
        body = self._body(messages, sampling)
        retrying = Retrying(stop=stop_after_attempt(self.spec.max_retries + 1), wait=_Wait(*self._backoff),
                            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)), reraise=True)
        attempts = 0
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    reply = self._attempt(body)
        except _Retryable as exc:
            self._count(attempts - 1)
            return TargetReply("", attempts - 1,
                               f"target {self.name!r} failed after {attempts} attempts: {exc}")
        except TargetError as exc:
            self._count(attempts - 1)
            return TargetReply("", attempts - 1, str(exc), rejected=getattr(exc, "rejected", False))
        self._count(attempts - 1)
        reply.retries = attempts - 1
        return reply

    def _count(self, n: int) -> None:
        with self._lock:
            self.retries_total += n

    # -- the interface ----------------------------------------------------------------------
    def respond(self, messages: list[Message], **sampling: Any) -> str:
        reply = self._call(messages, check_sampling(sampling))
        if reply.error:
            raise TargetError(reply.error)
        return reply.text

    def respond_batch(self, batch: list[list[Message]], seeds: Optional[list[int]] = None,
                      **sampling: Any) -> list[TargetReply]:
        params = [dict(p) for p in per_item_sampling(len(batch), seeds, check_sampling(sampling))]
        return list(self._pool.map(self._call, batch, params))

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = ["OpenAITarget", "RETRY_STATUSES", "parse_retry_after"]
