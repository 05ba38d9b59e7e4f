"""The table that ties rigorlab's run-answer rules to framework indicators.

The rules that answer an indicator from a run's records are code; which
indicator each one answers is data (`frameworks/run-answers.yaml`), checked
against the framework files when it loads. Renaming or adding an indicator
is therefore an edit of YAML, and a table naming an indicator its framework
does not have fails with one sentence naming the file, line and id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rigorlab.disclosure.frameworks import load_framework, loader
from rigorlab.disclosure.frameworks.yamlio import line_of, load_yaml_model, parse_yaml
from rigorlab.errors import UserError

TABLE_NAME = "run-answers.yaml"   # in the frameworks folder


@dataclass(frozen=True)
class Answer:
    """An indicator's answer from a run: text built from recorded facts, a gap saying why not, or both."""

    text: str | None = None
    gap: str | None = None

    @property
    def status(self) -> str:
        """`answered`, `partial` (text plus a gap) or `gap`."""
        if self.text and not self.gap:
            return "answered"
        return "partial" if self.text else "gap"


class _TableFile(BaseModel):
    """The YAML file: `answers: {framework id: {indicator id: rule name}}`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    schema_: Literal["rigorlab.run-answers/1"] = Field(alias="schema")
    answers: dict[str, dict[str, str]]


class AnswerTable:
    """`answers[framework][indicator id] -> rule`, validated against the framework files."""

    def __init__(self, answers: dict[str, dict[str, str]], path: Path) -> None:
        self.path = path
        self._answers = answers

    def rules(self, framework: str) -> dict[str, str]:
        """Indicator id -> rule name for one framework, in the framework's own order."""
        table = self._answers.get(framework, {})
        return {ind.id: table[ind.id] for ind in load_framework(framework).indicators if ind.id in table}

    def ids_of(self, framework: str, rule: str) -> list[str]:
        """The indicators (framework order) that `rule` answers."""
        return [iid for iid, r in self.rules(framework).items() if r == rule]

    def id_of(self, framework: str, rule: str) -> str:
        """The one indicator `rule` answers, for prose that cites it (e.g. "(DDT-2.1)")."""
        ids = self.ids_of(framework, rule)
        if not ids:
            raise UserError(f"{self.path}: no indicator of `{framework}` is answered by rule `{rule}`.")
        return ids[0]

    def check_rules(self, framework: str, known: set[str]) -> None:
        """Every rule the table names for `framework` must exist in the code that answers it."""
        for iid, rule in self._answers.get(framework, {}).items():
            if rule not in known:
                raise UserError(f"{self.path}:{self._line(framework, iid)}: `{framework}.{iid}` names rule "
                                f"`{rule}`, which rigorlab does not have (known: {', '.join(sorted(known))}).")

    def _line(self, framework: str, iid: str) -> int:
        _, root = parse_yaml(self.path.read_text(encoding="utf-8"), self.path)
        return line_of(root, ("answers", framework, iid))


def load_answer_table(path: str | Path | None = None) -> AnswerTable:
    """Read and check the table: each framework exists and each indicator id exists in it."""
    path = Path(path) if path is not None else loader.FRAMEWORK_DIR / TABLE_NAME
    raw = load_yaml_model(path, _TableFile)
    table = AnswerTable(raw.answers, path)
    for fid, rows in raw.answers.items():
        known = {ind.id for ind in load_framework(fid).indicators}   # an unknown framework fails here
        for iid in rows:
            if iid not in known:
                raise UserError(f"{path}:{table._line(fid, iid)}: framework `{fid}` has no indicator `{iid}`.")
    return table


@lru_cache(maxsize=1)
def answer_table() -> AnswerTable:
    """The packaged table (loaded once)."""
    return load_answer_table()


class IndicatorAnswers(Mapping[str, Answer]):
    """One framework's answers keyed by indicator id, in framework order, also reachable by rule name.

    Documents that need "the data-mixture answer" ask `answers.rule("mixture")`
    rather than hard-coding the indicator id that answers it.
    """

    def __init__(self, by_id: dict[str, Answer], by_rule: dict[str, Answer]) -> None:
        self._by_id = by_id
        self._by_rule = by_rule

    def __getitem__(self, indicator_id: str) -> Answer:
        return self._by_id[indicator_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def rule(self, name: str) -> Answer:
        """The answer that rule `name` gave (a gap when the run recorded nothing to answer from)."""
        return self._by_rule[name]
