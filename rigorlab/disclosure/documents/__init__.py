"""Disclosure documents: generated from a run's records, or filled in by people.

- from a run (`write_run_documents`): datasheet, Hugging Face model and
  dataset cards, Croissant RAI, the EU training-content summary, and the
  coverage file saying which indicator each answers (`run_answers`);
- for people (`card_template`, `card_render`): a fillable card YAML per
  framework, rendered to a Hub card, HTML, Croissant or the EU summary.
"""

from rigorlab.disclosure.documents.run_documents import render_run_documents, write_run_documents

__all__ = ["render_run_documents", "write_run_documents"]
