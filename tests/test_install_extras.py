"""Install weight: the core needs no torch/ray/transformers, and a missing extra is named in one sentence."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from rigorlab.extras import EXTRA_OF_MODULE, missing_extra_sentence

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _dist_name(requirement: str) -> str:
    name = requirement.split(";")[0]
    for sep in "<>=!~[ ":
        name = name.split(sep)[0]
    return name.lower().replace("_", "-")


def _expanded(extra: str) -> set[str]:
    """Distribution names of an extra, following rigorlab[...] self-references."""
    names: set[str] = set()
    for req in EXTRAS[extra]:
        if req.startswith("rigorlab["):
            for inner in req[len("rigorlab["):-1].split(","):
                names |= _expanded(inner)
        else:
            names.add(_dist_name(req))
    return names


def test_core_dependencies_hold_no_heavy_package():
    core = {_dist_name(r) for r in PROJECT["dependencies"]}
    assert not core & {"torch", "transformers", "ray", "tokenizers", "trl", "fastapi", "sentence-transformers"}
    assert {"pydantic", "pyyaml", "typer", "filelock", "jinja2"} <= core


def test_every_module_maps_to_an_extra_that_installs_it():
    dists = packages_distributions()
    for module, extra in EXTRA_OF_MODULE.items():
        assert extra in EXTRAS, f"{module} -> unknown extra {extra}"
        providers = {d.lower().replace("_", "-") for d in dists.get(module, [])}
        if providers:   # installed here: its distribution must be listed in that extra
            assert providers & _expanded(extra), f"{module} ({providers}) is not in extra {extra!r}"


def test_all_extra_holds_every_user_extra():
    assert _expanded("all") >= set().union(*(_expanded(e) for e in EXTRAS if e not in ("all", "dev")))


def test_cli_start_up_imports_no_optional_package():
    code = ("import sys, rigorlab.cli; "
            "print(' '.join(m for m in ('torch', 'transformers', 'ray', 'fastapi', 'trl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("hidden,extra,argv", [
    ("torch", "train", ["train", "--set", "grpo.steps=1"]),
    ("ray", "ray", None),
])
def test_missing_extra_is_one_sentence(hidden, extra, argv, tmp_path):
    if argv is None:
        exc = ModuleNotFoundError(f"No module named '{hidden}'", name=hidden)
        assert f"pip install 'rigorlab[{extra}]'" in missing_extra_sentence(exc)
        return
    code = (f"import sys; sys.modules[{hidden!r}] = None; from rigorlab.cli import main; "
            f"sys.exit(main({argv!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and f"rigorlab[{extra}]" in lines[0], out.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_module_of_no_extra_stays_a_bug():
    assert missing_extra_sentence(ModuleNotFoundError("No module named 'rigorlab.nothing'", name="rigorlab.nothing")) is None
