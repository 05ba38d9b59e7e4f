"""Gather concurrent requests into one batched generate.

A single worker thread owns the model (generation is not thread-safe, and one
thread per process is fastest on a shared CPU). It blocks for the first
request, then keeps collecting for ``window_s`` or until ``max_batch``
conversations are waiting, and runs them as one left-padded batch: clients
that arrive together share the forward passes instead of queueing behind
each other.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Optional

from rigorlab.policy.local import Generation, LocalModel, SamplingParams


@dataclass
class _Job:
    conversations: list[list[dict[str, str]]]
    params: list[SamplingParams]
    future: "Future[list[Generation]]"


class Batcher:
    """Run `LocalModel.chat` over requests gathered from many threads or coroutines."""

    def __init__(self, model: LocalModel, max_batch: int = 32, window_s: float = 0.01) -> None:
        self.model = model
        self.max_batch = max_batch
        self.window_s = window_s
        self._queue: "queue.Queue[Optional[_Job]]" = queue.Queue()
        self.batches: list[int] = []           # conversations per generate call, for tests and stats
        self._thread = threading.Thread(target=self._run, name="rigorlab-batcher", daemon=True)
        self._thread.start()

    def submit(self, conversations: list[list[dict[str, str]]], params: list[SamplingParams]
               ) -> "Future[list[Generation]]":
        """Queue conversations (one SamplingParams each); the future holds their generations."""
        fut: "Future[list[Generation]]" = Future()
        self._queue.put(_Job(conversations, params, fut))
        return fut

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _gather(self, first: _Job) -> tuple[list[_Job], bool]:
        jobs, size = [first], len(first.conversations)
        deadline = time.monotonic() + self.window_s
        while size < self.max_batch:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                job = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
            size += len(job.conversations)
        return jobs, False

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                return
            jobs, stop = self._gather(first)
            self._generate(jobs)

    def _generate(self, jobs: list[_Job]) -> None:
        convs = [c for j in jobs for c in j.conversations]
        params = [p for j in jobs for p in j.params]
        try:
            gens = self.model.chat(convs, params)
        except Exception as exc:               # one bad job must not fail its neighbours: retry alone
            if len(jobs) == 1:
                jobs[0].future.set_exception(exc)
                return
            for job in jobs:
                self._generate([job])
            return
        self.batches.append(len(convs))
        at = 0
        for job in jobs:
            n = len(job.conversations)
            job.future.set_result(gens[at: at + n])
            at += n


__all__ = ["Batcher"]
