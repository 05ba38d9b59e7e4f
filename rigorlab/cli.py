"""The `rigorlab` command line: thin wiring, no logic.

Each package contributes its commands through a `commands.py` module with a
`register(app)` function; this file only collects them and turns a
`UserError` into one sentence and a non-zero exit.
"""

from __future__ import annotations

import importlib
import sys

import typer

from rigorlab import userpaths
from rigorlab.errors import UserError, allocation_failure_sentence
from rigorlab.extras import missing_extra_sentence

COMMAND_MODULES = (
    "rigorlab.pipeline.commands",    # train
    "rigorlab.rl.commands",          # pretrain, config
    "rigorlab.theory.commands",      # theory
    "rigorlab.metrics.commands",     # diversity
    "rigorlab.disclosure.frameworks.commands",  # frameworks
    "rigorlab.disclosure.documents.commands",   # card
    "rigorlab.disclosure.audit.commands",  # audit
    "rigorlab.report.commands",      # run, report
    "rigorlab.study.commands",       # runs, study
    "rigorlab.evaluate.commands",    # sample, compare
    "rigorlab.redteam.commands",     # redteam
    "rigorlab.serve.commands",       # serve
)

app = typer.Typer(
    name="rigorlab",
    help="Train GRPO-family policies with every choice explicit, measure collapse, "
    "and audit disclosure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app, mapping user mistakes to one line on stderr.

    This is the one place where an operating-system error on a path, a file
    that is not UTF-8, a missing optional extra or a failed allocation becomes
    a sentence (rigorlab.userpaths, rigorlab.extras, rigorlab.errors) instead
    of a traceback; commands need no try/except of their own for these.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rc = app(args=args, standalone_mode=False)   # a `typer.Exit(n)` comes back as n here
    except UserError as exc:
        typer.echo(f"rigorlab: error: {exc}", err=True)
        return 2
    except UnicodeDecodeError as exc:
        return _fail(userpaths.decode_error_sentence(exc, args))
    except ModuleNotFoundError as exc:
        sentence = missing_extra_sentence(exc)
        if sentence is None:
            raise
        return _fail(sentence)
    except OSError as exc:
        sentence = userpaths.os_error_sentence(exc)
        if sentence is None:
            raise
        return _fail(sentence)
    except (MemoryError, RuntimeError) as exc:
        sentence = allocation_failure_sentence(exc)
        if sentence is None:
            raise
        return _fail(sentence)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        typer.echo("rigorlab: aborted", err=True)
        return 130
    except Exception as exc:  # usage errors (click's, or typer's vendored click) arrive here
        if any(c.__name__ == "ClickException" for c in type(exc).__mro__):
            exc.show()
            return exc.exit_code
        raise
    return rc if isinstance(rc, int) else 0


def _fail(sentence: str) -> int:
    """Print one line (no newlines inside) on stderr; exit status 2."""
    typer.echo(f"rigorlab: error: {' '.join(sentence.split())}", err=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
