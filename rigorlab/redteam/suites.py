"""Static suites: a fixed list of prompts, from YAML, JSONL, plain text, or garak's probes.

A YAML suite holds `prompts:` (strings, or mappings with `text` and an
optional `id`) and optionally `goal:` naming the goal kind it attacks. JSONL
holds one object per line with `text` (or `prompt`); any other text file holds
one prompt per line. `garak:<module>.<Probe>` takes the prompts of an
installed garak probe (garak is optional and never fetched at run time; its
probes that download prompts from a hub are not usable offline).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from rigorlab.errors import UserError

# garak probes whose prompts are generated offline and fit our goal kinds.
GARAK_PROBES = {
    "secret": ["encoding.InjectBase64", "encoding.InjectHex", "encoding.InjectROT13"],
    "injection": ["promptinject.HijackHateHumans", "latentinjection.LatentInjectionReport"],
    "judge": ["dan.DanInTheWild", "grandma.Substances"],
}


@dataclass(frozen=True)
class Suite:
    """A named, ordered list of prompts for one goal kind (None: any kind)."""

    name: str
    prompts: tuple[str, ...]
    goal: str | None = None


def load_suite(path: str | Path) -> Suite:
    """Read a static suite; UserError names the file and the line or field at fault."""
    spec = str(path)
    if spec.startswith("garak:"):
        return garak_suite(spec.removeprefix("garak:"))
    p = Path(path)
    if p.is_dir():
        raise UserError(f"static suite {p} is a directory, not a file of prompts (YAML, JSONL, or one per line)")
    if not p.is_file():
        raise UserError(f"static suite {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"static suite {p} is not UTF-8 text") from None
    if p.suffix in (".yaml", ".yml"):
        suite = _yaml_suite(p, text)
    elif p.suffix == ".jsonl":
        suite = _jsonl_suite(p, text)
    else:
        suite = Suite(p.stem, tuple(line.strip() for line in text.splitlines() if line.strip()))
    if not suite.prompts:
        raise UserError(f"static suite {p} holds no prompts")
    return suite


def _yaml_suite(p: Path, text: str) -> Suite:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"static suite {p}{where}: not valid YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), list):
        raise UserError(f"static suite {p}: needs a top-level 'prompts:' list")
    prompts = []
    for i, item in enumerate(data["prompts"]):
        if isinstance(item, dict):
            item = item.get("text")
        if not isinstance(item, str) or not item.strip():
            raise UserError(f"static suite {p}: prompts[{i}] must be a non-empty string or have a 'text' string")
        prompts.append(item.strip())
    goal = data.get("goal")
    if goal is not None and goal not in ("secret", "injection", "judge"):
        raise UserError(f"static suite {p}: field 'goal' must be secret, injection or judge (got {goal!r})")
    return Suite(str(data.get("name") or p.stem), tuple(prompts), goal)


def _jsonl_suite(p: Path, text: str) -> Suite:
    prompts = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise UserError(f"static suite {p}, line {n}: not valid JSON") from None
        value = obj.get("text", obj.get("prompt")) if isinstance(obj, dict) else None
        if not isinstance(value, str) or not value.strip():
            raise UserError(f"static suite {p}, line {n}: needs a non-empty 'text' (or 'prompt') string")
        prompts.append(value.strip())
    return Suite(p.stem, tuple(prompts))


def garak_suite(probe: str) -> Suite:
    """The prompts of garak probe `module.Class` (e.g. `encoding.InjectBase64`), if garak is installed."""
    import importlib

    module, _, cls = probe.rpartition(".")
    if not module:
        raise UserError(f"garak probe {probe!r} must be written module.Class, e.g. encoding.InjectBase64")
    try:
        mod = importlib.import_module(f"garak.probes.{module}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "garak":
            raise UserError("static suite 'garak:...' needs garak: pip install garak torch==2.13.0 "
                            "(pinning torch keeps pip from pulling a CUDA build)") from None
        raise UserError(f"garak probe module {module!r} cannot be imported: {exc}") from None
    try:
        prompts = getattr(mod, cls)().prompts
    except Exception as exc:  # garak probes may need config or a hub; name the probe either way
        raise UserError(f"garak probe {probe!r} could not give its prompts offline: {exc}") from None
    texts = tuple(str(getattr(p, "text", p)) for p in prompts)
    return Suite(f"garak:{probe}", texts)
