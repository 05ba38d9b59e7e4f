"""Name -> class registries for the seams (regularisers, shapers, controllers, losses, tasks).

A config names a component by its registered name, or by an import path
`package.module:ClassName` so that a user's own class plugs in unchanged.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Generic, TypeVar

from rigorlab.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named table of component classes of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, type[T]] = {}

    def register(self, name: str) -> Callable[[type[T]], type[T]]:
        def deco(cls: type[T]) -> type[T]:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._items[name] = cls
            cls.registered_name = name  # type: ignore[attr-defined]
            return cls

        return deco

    def names(self) -> list[str]:
        return sorted(self._items)

    def get(self, name: str) -> type[T]:
        if ":" in name:
            module, _, attr = name.partition(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise UserError(f"cannot import {self.kind} {name!r}: {exc}") from None
        if name not in self._items:
            raise UserError(
                f"unknown {self.kind} {name!r}; known: {', '.join(self.names())} "
                "(or give an import path 'package.module:Class')"
            )
        return self._items[name]

    def build(self, name: str, **kwargs: Any) -> T:
        cls = self.get(name)
        try:
            return cls(**kwargs)  # type: ignore[call-arg]
        except TypeError as exc:
            raise UserError(f"bad parameters for {self.kind} {name!r}: {exc}") from None
