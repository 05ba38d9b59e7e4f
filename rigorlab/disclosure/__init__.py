"""Disclosure as data and as a by-product of running, split by idea:

- `frameworks/`: DDT, AAD, FMTI 2025, Datasheets, Hugging Face cards,
  Croissant RAI, EU AI Act Annex XI/XII, EU training-content summary as YAML
  files validated by `frameworks.schema.Framework` (the lowest layer);
- `provenance/`: `ProvenanceRecorder`, what every data set of a run is,
  recorded while it runs; decontamination; a run directory's facts;
- `documents/`: `write_run_documents` (datasheet, model and dataset cards,
  Croissant RAI, EU summary from a run directory) and fillable cards;
- `audit/`: audit any card or paper against the frameworks, the action
  agenda, and the FMTI model's training and data build.

documents/ and audit/ both sit on frameworks/ and never import each other.
Imports here are light; heavy libraries load inside the functions that need them.
"""

from rigorlab.disclosure.documents.run_documents import write_run_documents
from rigorlab.disclosure.frameworks import Framework, Indicator, Section, get_indicator, list_frameworks, load_framework
from rigorlab.disclosure.provenance import ProvenanceRecorder

__all__ = ["Framework", "Indicator", "Section", "ProvenanceRecorder", "get_indicator", "list_frameworks",
           "load_framework", "write_run_documents"]
