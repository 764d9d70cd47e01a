"""Long work run in the background, one job at a time, with progress anyone can poll.

The server queues ingest runs here: DuckDB has one writer, so runs go one after the other
while every reader keeps answering from the last committed state.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from recoupe.errors import NotFound, RecoupeError

JobWork = Callable[["Job"], dict[str, Any]]
KEEP_FINISHED = 200


@dataclass
class Job:
    """One piece of background work and where it stands."""

    id: str
    kind: str
    description: str
    state: str = "queued"  # queued, running, done, failed
    stage: str | None = None
    done: int = 0
    total: int = 0
    rate: float | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    _stage_started: float = 0.0

    def progress(self, stage: str, done: int, total: int) -> None:
        """The ``Progress`` callback of the store: record where the work is."""
        now = time.monotonic()
        if stage != self.stage:
            self.stage = stage
            self._stage_started = now
        self.done = done
        self.total = total
        elapsed = now - self._stage_started
        self.rate = done / elapsed if elapsed > 0.5 and done else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "description": self.description,
            "state": self.state,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "rate": round(self.rate, 1) if self.rate is not None else None,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "started_at": self.started_at.isoformat(timespec="seconds")
            if self.started_at
            else None,
            "finished_at": self.finished_at.isoformat(timespec="seconds")
            if self.finished_at
            else None,
            "result": self.result,
            "error": self.error,
        }


class JobQueue:
    """A single worker thread running jobs in the order they were submitted."""

    def __init__(self, log: Callable[[str], None] | None = None) -> None:
        self._jobs: dict[str, Job] = {}
        self._work: dict[str, JobWork] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._log = log
        self._thread = threading.Thread(target=self._run, name="recoupe-jobs", daemon=True)
        self._thread.start()

    def submit(self, kind: str, description: str, work: JobWork) -> Job:
        job = Job(id=uuid.uuid4().hex[:12], kind=kind, description=description)
        with self._lock:
            self._jobs[job.id] = job
            self._work[job.id] = work
            self._forget_old()
        self._queue.put(job.id)
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id!r}")
        return job

    def list(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job has finished (for tests and scripts)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.state in ("done", "failed"):
                return job
            if deadline is not None and time.monotonic() > deadline:
                return job
            time.sleep(0.05)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
        for job in sorted(finished, key=lambda j: j.created_at)[:-KEEP_FINISHED]:
            del self._jobs[job.id]

    def _run(self) -> None:
        while (job_id := self._queue.get()) is not None:
            with self._lock:
                job = self._jobs[job_id]
                work = self._work.pop(job_id)
            job.state = "running"
            job.started_at = datetime.now(UTC)
            try:
                job.result = work(job)
                job.state = "done"
            except RecoupeError as exc:
                job.error = str(exc)
                job.state = "failed"
            except Exception as exc:  # a bug must not kill the worker: report it
                job.error = f"internal error: {type(exc).__name__}: {exc}"
                job.state = "failed"
                if self._log is not None:
                    self._log(traceback.format_exc())
            finally:
                job.finished_at = datetime.now(UTC)
