"""The OpenAI-compatible HTTP API over a local model (FastAPI).

Implements what red-teaming tools and OpenAI clients use: ``GET /v1/models``
and non-streaming ``POST /v1/chat/completions`` with ``temperature``,
``top_p``, ``max_tokens`` (or ``max_completion_tokens``), ``n``, ``seed``,
``stop`` and ``response_format`` (``json_object`` or ``json_schema``: the
answer is constrained token by token to JSON of that schema, see
``policy/structured.py``). Other OpenAI fields are accepted and ignored;
``stream: true`` is refused with 400, not silently answered in another shape.

Semantics worth knowing:
- the server's system prompt (``--system-prompt``) is always the first
  message; a client cannot remove it, only add messages after it;
- a conversation ending with an assistant message is *continued* (prefill);
- ``seed`` makes an answer reproducible whatever other requests share its
  batch, up to float rounding; choice ``i`` of ``n`` uses ``seed + i``;
- with an API key configured, every request needs ``Authorization: Bearer
  <key>``; the key is compared in constant time and never logged.
"""

from __future__ import annotations

import asyncio
import hmac
import time
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Literal, Optional, Union

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from rigorlab.errors import UserError
from rigorlab.policy.local import LocalModel, SamplingParams
from rigorlab.policy.structured import schema_of
from rigorlab.serve.batcher import Batcher


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "developer"]
    content: Union[str, list[dict[str, Any]]]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.get("text", "") for part in self.content if part.get("type") == "text")


class ChatRequest(BaseModel):
    """The fields of an OpenAI chat-completions request that change the answer."""

    model_config = ConfigDict(extra="ignore")

    model: Optional[str] = None
    messages: list[ChatMessage] = Field(..., min_length=1)
    temperature: Optional[float] = Field(None, ge=0, le=2)
    top_p: Optional[float] = Field(None, gt=0, le=1)
    max_tokens: Optional[int] = Field(None, ge=1)
    max_completion_tokens: Optional[int] = Field(None, ge=1)
    n: int = Field(1, ge=1, le=64)
    seed: Optional[int] = None
    stop: Union[str, list[str], None] = None
    response_format: Optional[dict[str, Any]] = None
    stream: bool = False


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def create_app(model: LocalModel, model_name: Optional[str] = None, system_prompt: Optional[str] = None,
               api_key: Optional[str] = None, max_batch: int = 32, window_s: float = 0.01,
               default_max_tokens: int = 256) -> FastAPI:
    """The FastAPI app; its batcher is ``app.state.batcher`` (closed on shutdown)."""
    name = model_name or model.name
    batcher = Batcher(model, max_batch=max_batch, window_s=window_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        batcher.close()

    app = FastAPI(title="rigorlab serve", version="1", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.batcher = batcher
    created = int(time.time())

    @app.middleware("http")
    async def _auth(request: Request, call_next: Any) -> Any:
        if api_key is not None:
            given = request.headers.get("authorization", "")
            token = given[7:] if given.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(token.encode(), api_key.encode()):
                return _error(401, "missing or wrong API key (send 'Authorization: Bearer <key>')",
                              "authentication_error")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        return _error(400, f"field {field!r}: {err.get('msg', 'invalid')}")

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "created": created,
                                            "owned_by": "rigorlab"}]}

    @app.post("/v1/chat/completions")
    async def chat(req: ChatRequest) -> Any:
        if req.stream:
            return _error(400, "stream=true is not supported by rigorlab serve; send stream=false")
        if req.model not in (None, name):
            return _error(404, f"model {req.model!r} is not served here; this server serves {name!r}",
                          "not_found_error")
        conv = [{"role": "system" if m.role == "developer" else m.role, "content": m.text()} for m in req.messages]
        if system_prompt:
            conv = [{"role": "system", "content": system_prompt}, *conv]
        try:
            schema = schema_of(req.response_format)
            params = [SamplingParams.from_kwargs(req.temperature, req.top_p,
                                                 req.max_completion_tokens or req.max_tokens or default_max_tokens,
                                                 None if req.seed is None else req.seed + i, req.stop, schema)
                      for i in range(req.n)]
            gens = await asyncio.wrap_future(batcher.submit([conv] * req.n, params))
        except UserError as exc:
            return _error(400, str(exc))
        prompt_tokens = gens[0].prompt_tokens
        completion_tokens = sum(g.completion_tokens for g in gens)
        return {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": name,
            "choices": [{"index": i, "message": {"role": "assistant", "content": g.text},
                         "finish_reason": g.finish_reason, "logprobs": None} for i, g in enumerate(gens)],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    return app


__all__ = ["ChatRequest", "create_app"]
