"""Load a YAML file into a pydantic model, with errors that name file, field and line.

PyYAML's composer keeps a mark (line, column) on every node; pydantic reports
a location path (`indicators`, 3, `title`). Walking the node tree along that
path turns a validation error into "file:line: field indicators[3].title: ...",
which is what a person editing the file needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rigorlab.errors import UserError

M = TypeVar("M", bound=BaseModel)


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _check_duplicates(node: yaml.Node, path: Path) -> None:
    """PyYAML silently keeps the last of two equal keys; a typo that way loses data."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                raise UserError(
                    f"{path}:{key.start_mark.line + 1}: field `{name}` appears twice "
                    f"(first on line {seen[name]}); keep one."
                )
            seen[name] = key.start_mark.line + 1
            _check_duplicates(value, path)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicates(item, path)


def line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the node at `loc`; the nearest existing ancestor when it is missing."""
    node = root
    line = (root.start_mark.line + 1) if root is not None else 1
    for depth, part in enumerate(loc):
        nxt = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if str(key.value) == part:
                    if depth == len(loc) - 1:
                        return key.start_mark.line + 1  # the field itself: point at its key
                    nxt = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if 0 <= part < len(node.value):
                nxt = node.value[part]
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def parse_yaml(text: str, path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text, returning (data, node tree); malformed YAML becomes a UserError."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        ctx, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if ctx and cmark is not None and mark is not None and cmark.line != mark.line:
            problem += f"; {ctx} on line {cmark.line + 1}"  # where the unclosed construct began
        raise UserError(f"{where}: malformed YAML ({problem}).") from None
    if root is not None:
        _check_duplicates(root, path)
    return data, root


def error_sentence(exc: ValidationError, root: yaml.Node | None, path: Path) -> str:
    """One sentence for the first validation error, plus a count of the others."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    field = _field_path(loc)
    line = line_of(root, loc)
    kind = first["type"]
    if kind == "extra_forbidden":
        msg = f"unknown field `{field}`"
    elif kind == "missing":
        msg = f"required field `{field}` is missing"
    else:
        given = first.get("input")
        shown = repr(given) if not isinstance(given, (dict, list)) else type(given).__name__
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg = f"field `{field}`: {first['msg'].rstrip('.')} (got {shown})"
    more = f" ({len(errors) - 1} more problem(s) after this one)" if len(errors) > 1 else ""
    return f"{path}:{line}: {msg}{more}."


def load_yaml_model(path: str | Path, model: type[M], *, text: str | None = None) -> M:
    """Read `path` and validate it as `model`; any mistake is one UserError sentence."""
    path = Path(path)
    if text is None:
        if path.is_dir():
            raise UserError(f"{path} is a directory, not a file.")
        if not path.is_file():
            raise UserError(f"{path}: no such file.")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text.") from None
    data, root = parse_yaml(text, path)
    if not isinstance(data, dict):
        raise UserError(
            f"{path}:1: expected a mapping of fields at the top level, got "
            f"{type(data).__name__ if data is not None else 'an empty file'}."
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UserError(error_sentence(exc, root, path)) from None
