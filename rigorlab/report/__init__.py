"""The study report: figures (matplotlib, inline PNG) and one self-contained HTML page."""

from rigorlab.report.build import build_report

__all__ = ["build_report"]
