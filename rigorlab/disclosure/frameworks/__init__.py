"""Disclosure frameworks as data: the YAML files in this folder, their schema and their loader.

The lowest layer of `rigorlab.disclosure`: both the document generators
(`documents/`) and the auditor (`audit/`) read frameworks through here, and
nothing here imports either of them.
"""

from rigorlab.disclosure.frameworks.loader import (
    FRAMEWORK_DIR, builtin_ids, check_crosswalks, crosswalk_closure, get_indicator, list_frameworks, load_framework,
    unresolved_crosswalks,
)
from rigorlab.disclosure.frameworks.schema import Framework, Indicator, Section, slug

__all__ = ["FRAMEWORK_DIR", "Framework", "Indicator", "Section", "builtin_ids", "check_crosswalks",
           "crosswalk_closure", "get_indicator", "list_frameworks", "load_framework", "slug",
           "unresolved_crosswalks"]
