"""Built-in disclosure frameworks (YAML in `frameworks/`) and user framework files.

`load_framework("ddt")` reads the packaged file; `load_framework("my.yaml")`
reads a user's own, with the same schema and the same error messages
(file, field, line).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from rigorlab.disclosure.frameworks.schema import Framework, Indicator
from rigorlab.disclosure.frameworks.yamlio import line_of, load_yaml_model, parse_yaml
from rigorlab.errors import UserError

FRAMEWORK_DIR = Path(__file__).resolve().parent

@lru_cache(maxsize=1)
def _builtin_files() -> dict[str, Path]:
    """Files in FRAMEWORK_DIR that are frameworks (they declare `indicators:` at the top level);
    the folder also holds other data, e.g. the action agenda, that does not follow this schema."""
    files: dict[str, Path] = {}
    for p in sorted(FRAMEWORK_DIR.glob("*.yaml")):
        if re.search(r"^indicators:", p.read_text(encoding="utf-8"), re.M):
            files[p.stem] = p
    return files


def builtin_ids() -> list[str]:
    """Ids of the packaged frameworks, in a stable order."""
    return sorted(_builtin_files())


def _validate_file(path: Path) -> Framework:
    text = path.read_text(encoding="utf-8") if path.is_file() else None
    fw = load_yaml_model(path, Framework, text=text)
    problems = fw.problems()
    if problems:
        _, root = parse_yaml(text or "", path)
        loc, msg = problems[0]
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
        raise UserError(f"{path}:{line_of(root, loc)}: field `{field}`: {msg}.")
    return fw


@lru_cache(maxsize=None)
def _load_builtin(fid: str) -> Framework:
    path = _builtin_files()[fid]
    fw = _validate_file(path)
    if fw.id != fid:
        raise UserError(f"{path}:1: field `id` is `{fw.id}` but the file is named `{fid}.yaml`.")
    return fw


def list_frameworks() -> list[Framework]:
    """Every packaged framework, validated."""
    return [_load_builtin(fid) for fid in builtin_ids()]


def load_framework(id_or_path: str | Path) -> Framework:
    """A packaged framework by id, or a user's framework file by path."""
    key = str(id_or_path)
    files = _builtin_files()
    if key in files:
        return _load_builtin(key)
    path = Path(key)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        return _validate_file(path)
    raise UserError(
        f"unknown framework `{key}`: use one of {', '.join(sorted(files))} or a path to a YAML file."
    )


def get_indicator(framework_id: str, indicator_id: str) -> Indicator:
    """One indicator of one framework; UserError naming both when it does not exist."""
    fw = load_framework(framework_id)
    ind = fw.indicator(indicator_id)
    if ind is None:
        raise UserError(f"framework `{fw.id}` has no indicator `{indicator_id}`.")
    return ind


def unresolved_crosswalks(frameworks: list[Framework] | None = None) -> list[str]:
    """Crosswalk targets that do not exist, as readable strings (empty when all resolve)."""
    fws = {f.id: f for f in (frameworks if frameworks is not None else list_frameworks())}
    bad: list[str] = []
    for fw in fws.values():
        for ind in fw.indicators:
            for target_fw, ids in ind.crosswalk.items():
                target = fws.get(target_fw)
                if target is None:
                    bad.append(f"{fw.id}:{ind.id} -> unknown framework `{target_fw}`")
                    continue
                for tid in ids:
                    if target.indicator(tid) is None:
                        bad.append(f"{fw.id}:{ind.id} -> {target_fw}:{tid} does not exist")
    return bad


def check_crosswalks(path: str | Path) -> Framework:
    """Load a user's framework file and require every crosswalk to resolve (error names the line)."""
    path = Path(path)
    fw = _validate_file(path)
    known = {f.id: f for f in list_frameworks()}
    known[fw.id] = fw
    for i, ind in enumerate(fw.indicators):
        for target_fw, ids in ind.crosswalk.items():
            target = known.get(target_fw)
            for j, tid in enumerate(ids):
                if target is None or target.indicator(tid) is None:
                    _, root = parse_yaml(path.read_text(encoding="utf-8"), path)
                    loc = ("indicators", i, "crosswalk", target_fw) + ((j,) if target else ())
                    what = f"framework `{target_fw}` is unknown" if target is None else \
                        f"`{tid}` is not an indicator of `{target_fw}`"
                    raise UserError(f"{path}:{line_of(root, loc)}: field `indicators[{i}].crosswalk.{target_fw}`: "
                                    f"{what}.")
    return fw


def crosswalk_closure(framework_id: str, indicator_id: str) -> dict[str, list[str]]:
    """Crosswalks of an indicator in both directions (declared here or pointing here)."""
    fw = load_framework(framework_id)
    ind = get_indicator(framework_id, indicator_id)
    out: dict[str, list[str]] = {k: list(v) for k, v in ind.crosswalk.items()}
    for other in list_frameworks():
        if other.id == fw.id:
            continue
        for o in other.indicators:
            if ind.id in o.crosswalk.get(fw.id, []) and o.id not in out.setdefault(other.id, []):
                out[other.id].append(o.id)
    return {k: v for k, v in out.items() if v}
