"""Provenance: what every data set of a run is, recorded while it runs, and what a run directory says.

- `ProvenanceRecorder` (recorder.py): hashes, counts, filters, origin and
  licence of each data set, written to `provenance.json`;
- `decontam`: n-gram overlap between training and evaluation prompts;
- `runfacts`: a run directory read tolerantly, the input of `documents/`.
"""

from rigorlab.disclosure.provenance.recorder import ProvenanceRecorder, content_hash, load_provenance

__all__ = ["ProvenanceRecorder", "content_hash", "load_provenance"]
