"""The run store: run directories (the truth) and an SQLite index over them (the query layer)."""

from rigorlab.store.index import INDEX_NAME, RunIndex, RunRecord, sync_run, sync_runs
from rigorlab.store.rundir import flatten_summary, read_eval, read_summary, run_documents, run_status

__all__ = ["INDEX_NAME", "RunIndex", "RunRecord", "sync_run", "sync_runs", "flatten_summary", "read_eval",
           "read_summary", "run_documents", "run_status"]
