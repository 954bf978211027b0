"""Checking a large store while it is read, before its first write.

``PRAGMA quick_check`` reads the whole file: on the export benchmark's 2.3 GB store, 15.9 s
with a cold page cache and 1.4 s warm. Opening for writing ran it first, so the explorer
started that much later on a large store. A store that was closed cleanly, is already in WAL mode, has this
version's schema and is larger than :data:`.opening.CHECK_AT_OPEN_BYTES` opens without writing
anything, so its check can wait: it runs on a read-only connection of its own, in a thread,
while the store is read, and every write waits for it. A damaged file is then refused at its
first write, in the same sentence, with nothing written into it. A smaller store, one not
closed cleanly, one whose size does not match its pages (truncated) and one that opening must
change (WAL mode, a migration) are checked before they open, as before."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

from .errors import StoreError
from .opening import file_uri, quick_check


class PendingCheck:
    """``quick_check`` of one store in a thread of its own, until it is done or cancelled."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.error: StoreError | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="store-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(
                file_uri(self.path, "mode=ro"), uri=True, check_same_thread=False
            )
            with self._lock:
                if self._cancelled:
                    conn.close()
                    return
                self._conn = conn
            try:
                quick_check(conn, self.path)
            except StoreError as exc:
                if not self._cancelled:  # an interrupted check found nothing
                    self.error = exc
            finally:
                with self._lock:
                    self._conn = None
                conn.close()
        except sqlite3.Error as exc:
            self.error = StoreError(f"cannot check {self.path}: {exc}")
        finally:
            self._done.set()

    async def wait(self) -> None:
        """Until the check is done; raises the store's refusal if it found damage."""
        if not self._done.is_set():
            await asyncio.to_thread(self._done.wait)
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        """Stop a check still running (the store is closing) and wait for its thread."""
        with self._lock:
            self._cancelled = True
            if self._conn is not None:
                self._conn.interrupt()
        self._thread.join(timeout=5)
