"""JSON-schema constrained decoding for local models (OpenAI's `response_format`).

Why: a client that sends `response_format` (the audit's LLM judge does) counts
on the answer being JSON of that schema. A small local model asked for JSON
mostly answers in prose (SmolLM2-135M did on 48 of 48 audit questions), so
`rigorlab serve` enforces the schema token by token, as vLLM and llama.cpp do,
instead of ignoring the field.

The grammar work is lm-format-enforcer's (`JsonSchemaParser`, `TokenEnforcer`);
rigorlab only describes its tokenizer to it, once per model (`LocalModel` keeps
it): that library's own transformers integration does not import under
transformers 5.
"""

from __future__ import annotations

import copy
from typing import Any, Optional

from rigorlab.errors import UserError


def _enforcer_lib() -> Any:
    try:
        import lmformatenforcer
    except ImportError:
        raise UserError("response_format needs lm-format-enforcer: pip install 'rigorlab[redteam]'.") from None
    return lmformatenforcer


def schema_of(response_format: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The JSON schema a `response_format` asks for: None for plain text, {"type": "object"} for any
    JSON object. Raises UserError naming the field at fault."""
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind != "json_schema":
        raise UserError(f"response_format.type {kind!r} is not one of 'text', 'json_object', 'json_schema'")
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise UserError("response_format.json_schema.schema must be a JSON schema object")
    schema = spec["schema"]
    parser_for(schema)                        # refuse a schema the enforcer cannot follow now, not mid-batch
    return schema


def parser_for(schema: dict[str, Any]) -> Any:
    """A fresh character-level parser of JSON following `schema`."""
    lib = _enforcer_lib()
    try:
        return lib.JsonSchemaParser(copy.deepcopy(schema))      # the caller's schema stays untouched
    except Exception as exc:                  # noqa: BLE001 - pydantic and the parser raise many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"response_format.json_schema.schema is not a schema this server can enforce: {first}") from None


def tokenizer_data(tokenizer: Any, eos_ids: set[int], vocab_size: int) -> Any:
    """What lm-format-enforcer needs to know of a tokenizer: each regular token's text, and whether it
    starts a word (decoded after a fixed token, the way the library's own integrations find out).
    About a second for a 49k vocabulary: build it once per model (`LocalModel` keeps it)."""
    from lmformatenforcer.tokenenforcer import TokenEnforcerTokenizerData

    special = set(getattr(tokenizer, "all_special_ids", ()) or ())
    zero = tokenizer.encode("0", add_special_tokens=False)[-1]
    regular = []
    for tok in range(vocab_size):
        if tok in special:
            continue
        after_zero = tokenizer.decode([zero, tok])[1:]
        alone = tokenizer.decode([tok])
        regular.append((tok, after_zero, len(after_zero) > len(alone)))

    def decode(tokens: list[int]) -> str:
        return tokenizer.decode(tokens).rstrip("\ufffd")

    return TokenEnforcerTokenizerData(regular, decode, sorted(eos_ids), False, vocab_size)


class SchemaConstraint:
    """The tokens a row may take next so that its text stays a prefix of JSON following the schema."""

    def __init__(self, schema: dict[str, Any], tokens: Any) -> None:
        """`tokens`: the model's `tokenizer_data`."""
        from lmformatenforcer import TokenEnforcer

        self.enforcer = TokenEnforcer(tokens, parser_for(schema))

    def allowed(self, generated: list[int]) -> list[int]:
        """Allowed next tokens after `generated` (an end-of-sequence token once the JSON is complete)."""
        return list(self.enforcer.get_allowed_tokens(list(generated)).allowed_tokens)


__all__ = ["SchemaConstraint", "parser_for", "schema_of", "tokenizer_data"]
