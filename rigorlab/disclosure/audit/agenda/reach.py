"""How far a release reaches: open weights, size, user base.

Read from the document's front matter and text where possible; flags given
by the user override what is detected. Used to prioritise the agenda
(FRAMEWORKS.md section 3: priority follows indicator weight and reach).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

from rigorlab.disclosure.audit.agenda.schema import ReachModel

OPEN_LICENCES = ("apache", "mit", "bsd", "cc-by", "cc0", "openrail", "llama", "gemma", "qwen", "deepseek",
                 "mpl", "gpl", "odc", "other")
_OPEN_TEXT = re.compile(
    r"\b(?:open[- ]weights?|weights? (?:are|is) (?:publicly )?(?:available|released)|download (?:the )?(?:model )?"
    r"weights|model weights?\b.{0,40}\b(?:hugging ?face|download)|huggingface\.co/[\w-]+/[\w.-]+|"
    r"open[- ]source (?:model|release|llm)|we (?:release|open-source) (?:the )?(?:model|weights|checkpoints))",
    re.IGNORECASE,
)
_PARAMS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?([BMT])\b(?:[\s-]+(?:total\s+)?(?:param|parameter))?", re.I)
_PARAMS_WORD = re.compile(r"(\d+(?:\.\d+)?)\s+(billion|million|trillion)\s+parameters", re.I)
_USERS = re.compile(r"(\d+(?:\.\d+)?)\s?(million|billion|[MB])\+?\s+(?:monthly |weekly |daily |active )*"
                    r"(?:users|downloads|developers)", re.I)
_SCALE = {"m": 1e-3, "million": 1e-3, "b": 1.0, "billion": 1.0, "t": 1e3, "trillion": 1e3}


@dataclass
class Reach:
    open_weights: bool
    params_billion: float | None
    users_million: float | None
    factor: float
    sources: dict[str, str]          # where each value came from: front matter, text, flag, default

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _params_from_text(text: str) -> float | None:
    best = None
    for m in _PARAMS.finditer(text):
        # "7B" alone is common for model sizes; "8K" and "14.8T tokens" are not parameter counts.
        tail = text[m.end(): m.end() + 12].lower()
        if m.group(2).lower() == "t" and "param" not in tail:
            continue
        if "token" in tail:
            continue
        v = float(m.group(1)) * _SCALE[m.group(2).lower()]
        best = v if best is None else max(best, v)
    for m in _PARAMS_WORD.finditer(text):
        v = float(m.group(1)) * _SCALE[m.group(2).lower()]
        best = v if best is None else max(best, v)
    return best


def _users_from_text(text: str) -> float | None:
    best = None
    for m in _USERS.finditer(text):
        unit = m.group(2).lower()
        v = float(m.group(1)) * (1000.0 if unit in ("billion", "b") else 1.0)
        best = v if best is None else max(best, v)
    return best


def detect_reach(front_matter: dict[str, Any], text: str, model: ReachModel,
                 open_weights: bool | None = None, params_billion: float | None = None,
                 users_million: float | None = None) -> Reach:
    """Reach factor = 1 + w_open*open + w_size*min(1, log10(1+B)/3) + w_users*min(1, log10(1+M)/3)."""
    sources: dict[str, str] = {}
    if open_weights is None:
        lic = str(front_matter.get("license", "") or front_matter.get("licence", "")).lower()
        if lic and any(k in lic for k in OPEN_LICENCES):
            open_weights, sources["open_weights"] = True, "front matter licence"
        elif _OPEN_TEXT.search(text):
            open_weights, sources["open_weights"] = True, "text"
        else:
            open_weights, sources["open_weights"] = False, "default (not detected)"
    else:
        sources["open_weights"] = "flag"
    if params_billion is None:
        params_billion = _params_from_text(text)
        sources["params_billion"] = "text" if params_billion is not None else "unknown"
    else:
        sources["params_billion"] = "flag"
    if users_million is None:
        users_million = _users_from_text(text)
        sources["users_million"] = "text" if users_million is not None else "unknown"
    else:
        sources["users_million"] = "flag"
    factor = 1.0 + model.open_weights * float(open_weights)
    if params_billion:
        factor += model.size * min(1.0, math.log10(1.0 + params_billion) / 3.0)
    if users_million:
        factor += model.users * min(1.0, math.log10(1.0 + users_million) / 3.0)
    return Reach(open_weights=bool(open_weights), params_billion=params_billion, users_million=users_million,
                 factor=round(factor, 4), sources=sources)
