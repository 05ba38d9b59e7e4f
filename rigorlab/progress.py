"""A rich progress display shared by the commands that train."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

console = Console(stderr=True)


@contextmanager
def phase_progress(label: str = "") -> Iterator:
    """Yields a callback `(phase, done, total, row)` that draws one bar per phase."""
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def update(phase: str, done: int, total: int, row: dict) -> None:
            name = f"{label}{phase}"
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total, info="")
            info = ""
            if "accuracy" in row:
                info = f"acc {row['accuracy']:.2f}  H {row.get('entropy', float('nan')):.2f}  " \
                       f"distinct {row.get('answers/distinct', float('nan')):.1f}"
            elif "pretrain_loss" in row:
                info = f"loss {row['pretrain_loss']:.3f}"
            bar.update(tasks[name], completed=done, total=total, info=info)

        try:
            yield update
        except BaseException:   # a failure prints its one sentence; no bar (or blank line) before it
            _stop_quietly(bar)
            raise
        if not tasks:           # nothing drawn: leave no blank line either
            _stop_quietly(bar)


def _stop_quietly(bar: Progress) -> None:
    """Stop without the final render, and without the blank line rich adds on a non-terminal."""
    bar.live.transient = True
    bar.live.stop()
    bar.disable = True   # Progress.__exit__ then skips its own stop (and its console.print())
