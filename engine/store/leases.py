"""Leases: which runs a live process is writing.

A lease is an operating-system file lock in a folder beside the database
(``<database>.leases/<run id>.lock``). The process writing a run holds its lease until the run
ends; the operating system lets go of it when the process dies, however it dies (SIGKILL
included). So a run whose row still says ``running`` while nobody holds its lease was
interrupted, and a run whose lease is held elsewhere must not be resumed or written here.

An in-memory database has no folder: its runs can only be written by this process, and the
leases are kept in a set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import StoreError


class RunHeldError(StoreError):
    """Another process (or another live session here) is writing this run."""


def _safe(run_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", run_id)


class Leases:
    def __init__(self, db_path: str) -> None:
        self.folder = None if db_path == ":memory:" else Path(db_path + ".leases")
        self._held: dict[str, FileLock | None] = {}

    def _lock(self, run_id: str, wait: float = 0.0) -> FileLock:
        assert self.folder is not None
        # The file stays after release: deleting it would let two processes lock two
        # different files of the same name.
        return FileLock(
            self.folder / f"{_safe(run_id)}.lock",
            timeout=wait,
            thread_local=False,
            fallback_to_soft=False,
            preserve_lock_file=True,
        )

    def hold(self, run_id: str) -> None:
        """Take the lease of ``run_id`` for this store; raise :class:`RunHeldError` when it is
        taken (here or by another process)."""
        if run_id in self._held:
            raise RunHeldError(f"the run {run_id} is already being written here")
        if self.folder is None:
            self._held[run_id] = None
            return
        # A short wait rides out another process probing the lease (see is_held).
        lock = self._lock(run_id, wait=0.5)
        try:
            self.folder.mkdir(exist_ok=True)
            lock.acquire()
        except Timeout as exc:
            raise RunHeldError(
                f"the run {run_id} is being written by another timeloom process"
            ) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot take the lease of run {run_id} in {self.folder}: {exc.strerror or exc}"
            ) from exc
        self._held[run_id] = lock

    def release(self, run_id: str) -> None:
        lock = self._held.pop(run_id, None)
        if lock is not None:
            lock.release()

    def release_all(self) -> None:
        for run_id in list(self._held):
            self.release(run_id)

    def holds(self, run_id: str) -> bool:
        """Whether this store is writing ``run_id``."""
        return run_id in self._held

    def is_held(self, run_id: str) -> bool:
        """Whether anyone (this store, another store, another process) writes ``run_id``."""
        if run_id in self._held:
            return True
        if self.folder is None or not (self.folder / f"{_safe(run_id)}.lock").is_file():
            return False  # never locked here (and a read-only reader creates no file)
        lock = self._lock(run_id)
        try:
            lock.acquire()
        except Timeout:
            return True
        except OSError:
            # A lease we cannot even probe (a read-only folder): nobody can be holding it
            # through this folder either, so the run row's own status stands.
            return False
        lock.release()
        return False

    @contextmanager
    def holding(self, run_id: str) -> Iterator[None]:
        """Hold the lease of ``run_id`` for a short write (a stored query), then let it go."""
        self.hold(run_id)
        try:
            yield
        finally:
            self.release(run_id)
