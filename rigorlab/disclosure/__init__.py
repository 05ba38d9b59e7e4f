"""Disclosure as data and as a by-product of running.

- frameworks (DDT, AAD, FMTI 2025, Datasheets, Hugging Face cards, Croissant
  RAI, EU AI Act Annex XI/XII, EU training-content summary) as YAML files
  validated by `schema.Framework`;
- `ProvenanceRecorder`: what every data set of a run is, recorded while it runs;
- `write_run_documents`: datasheet, model and dataset cards, Croissant RAI,
  EU summary generated from a run directory;
- `card_template`: fillable cards for people documenting their own models.

Imports here are light; heavy libraries load inside the functions that need them.
"""

from rigorlab.disclosure.frameworks import get_indicator, list_frameworks, load_framework
from rigorlab.disclosure.provenance import ProvenanceRecorder
from rigorlab.disclosure.run_documents import write_run_documents
from rigorlab.disclosure.schema import Framework, Indicator, Section

__all__ = ["Framework", "Indicator", "Section", "ProvenanceRecorder", "get_indicator", "list_frameworks",
           "load_framework", "write_run_documents"]
