"""Cassettes: every answered call, recorded content-addressed.

The key is the request hash (provider, model, action, rendered messages, sampling parameters);
the entry is the answer (raw text and the validated JSON), its usage, cost and latency. The
gateway asks the cassette before it calls a provider, so a run that shares a prefix with a
recorded one re-uses those answers for free, and ``--replay`` re-renders a recorded run with no
network at all (:class:`ReplayProvider` refuses every call the cassette cannot answer), playing
back each call's failed attempts too (:class:`Transcripts`, from the recorded run's attempts,
which a cassette file carries in its run descriptions).

New entries are buffered here and written by the store, in the transaction that commits the
events of the same timepoint (the store is the only writer). A cassette file is JSON: the
recorded runs' descriptions (what a replay needs) and the entries; it holds no API key.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from ..model.cassette import CassetteEntry
from .protocol import LLMRequest, LLMResponse, ProviderError, StreamChunk, StreamEnd

FORMAT = "timeloom-cassette"
VERSION = 1


Loader = Callable[[str], Awaitable[CassetteEntry | None]]


class Cassette:
    """Lookups go to ``loader`` (the store); new entries wait in memory until drained."""

    def __init__(self, loader: Loader | None = None, *, record: bool = True) -> None:
        self._loader = loader
        self.record = record
        self._new: dict[str, CassetteEntry] = {}
        self._pending: list[CassetteEntry] = []
        self.hits = 0

    async def get(self, request_hash: str) -> CassetteEntry | None:
        entry = self._new.get(request_hash)
        if entry is None and self._loader is not None:
            entry = await self._loader(request_hash)
        if entry is not None:
            self.hits += 1
        return entry

    def put(self, entry: CassetteEntry) -> None:
        if not self.record or entry.request_hash in self._new:
            return
        self._new[entry.request_hash] = entry
        self._pending.append(entry)

    def drain(self) -> list[CassetteEntry]:
        """The entries not yet written; the caller writes them."""
        out, self._pending = self._pending, []
        return out


def call_base(call_id: str) -> str:
    """The id of the call an attempt belongs to: ``tp03/turn04#2`` → ``tp03/turn04``; for
    runs recorded before calls were named, ``c00012.2`` → ``c00012``."""
    if "#" in call_id or "/" in call_id:
        return call_id.split("#", 1)[0]
    return call_id.split(".", 1)[0]


class Transcripts:
    """How each call of a recorded run went, attempt by attempt, for a faithful replay.

    A cassette entry holds the answer a call ended with; a transcript also holds the attempts
    that failed on the way (a 429 that was retried, an answer that needed a repair, a model
    that handed over to the next of its chain, a call that never succeeded). A replay plays
    them back in order, so its event stream matches the recorded one even where the recording
    met errors. Transcripts are keyed by the hash of the call's first request; identical
    calls are played back in the order they were made.
    """

    def __init__(self, attempts: list[dict[str, Any]]) -> None:
        calls: dict[str, list[dict[str, Any]]] = {}
        for attempt in attempts:
            base = call_base(str(attempt["call_id"]))
            calls.setdefault(base, []).append(attempt)
        self._by_hash: dict[str, list[list[dict[str, Any]]]] = {}
        for script in calls.values():
            self._by_hash.setdefault(str(script[0]["request_hash"]), []).append(script)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_hash.values())

    def take(self, request_hash: str) -> list[dict[str, Any]] | None:
        """The next recorded call that began with this request, or None."""
        queue = self._by_hash.get(request_hash)
        return queue.pop(0) if queue else None


class ReplayProvider:
    """Stands in for a recorded run's provider: same name and model (so request hashes match),
    no network. Anything the cassette cannot answer fails, and the failure is recorded."""

    cacheable = True
    local = True  # nothing it does costs anything

    def __init__(self, name: str, model: str) -> None:
        self.name = name
        self.model = model

    def _missing(self, request: LLMRequest) -> ProviderError:
        return ProviderError(
            f"replay: the cassette has no answer for this {request.action.value} call "
            "(the run asked for something the recorded run did not)",
            retryable=False,
        )

    async def complete(self, request: LLMRequest) -> LLMResponse:
        raise self._missing(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamChunk | StreamEnd]:
        raise self._missing(request)
        yield  # pragma: no cover - makes this an async generator


class CassetteFileError(Exception):
    """A cassette file that cannot be read or written, in one sentence."""


def write_file(path: Path, runs: list[dict[str, Any]], entries: list[CassetteEntry]) -> None:
    """Write a cassette file atomically; never over an existing file."""
    if path.exists():
        raise CassetteFileError(f"{path} already exists; choose another name or remove it first")
    data = {
        "format": FORMAT,
        "version": VERSION,
        "runs": runs,
        "entries": [e.to_json() for e in entries],
    }
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CassetteFileError(f"the folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise CassetteFileError(f"cannot write {path}: {exc.strerror}") from exc


def read_file(path: Path) -> tuple[list[dict[str, Any]], list[CassetteEntry]]:
    """A cassette file's run descriptions and entries, checked (see :mod:`.cassette_check`):
    raises :class:`CassetteFileError` in one sentence for anything a replay could not use."""
    from ..safety import limits
    from .cassette_check import checked

    try:
        limits.check_file_size(path, limits.MAX_CASSETTE_BYTES, "a cassette file")
        data = json.loads(path.read_text(encoding="utf-8"))
        limits.check_tree(data, str(path))
    except limits.LimitError as exc:
        raise CassetteFileError(str(exc)) from None
    except FileNotFoundError:
        raise CassetteFileError(f"there is no file {path}") from None
    except IsADirectoryError:
        raise CassetteFileError(f"{path} is a folder, expected a cassette file") from None
    except OSError as exc:
        raise CassetteFileError(f"cannot read {path}: {exc.strerror}") from exc
    except RecursionError:
        raise CassetteFileError(
            f"{path} nests deeper than the limit of {limits.MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise CassetteFileError(f"{path} is not a cassette file (not valid JSON)") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CassetteFileError(f"{path} is not a timeloom cassette file")
    if data.get("version") != VERSION:
        raise CassetteFileError(
            f"{path} is a cassette of version {limits.shown_value(data.get('version'))}; this "
            f"timeloom reads version {VERSION}"
        )
    try:
        return checked(data, str(path))
    except ValueError as exc:
        raise CassetteFileError(f"{path} {exc}") from None
