"""Collapse diagnostics."""
