"""Writing an export: atomically (a temporary file in the same folder, then a rename), never
over an existing file unless forced, with a manifest beside it."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from .selection import ExportError, Selection
from .tally import Tally


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


BLOCK = 1 << 20  # chunks are handed to the writing thread in blocks of about this size
QUEUED = 8  # blocks waiting at most: memory stays flat however large the export


def _write_blocks(out: BinaryIO, digest: Any, blocks: queue.Queue[bytes | None]) -> None:
    """The writing thread: write and hash each block (both let go of the interpreter lock, so
    they run while the next block is rendered) until the closing ``None``."""
    while (block := blocks.get()) is not None:
        out.write(block)
        digest.update(block)


def _pipe(out: BinaryIO, digest: Any, chunks: Iterable[str] | Iterable[bytes]) -> None:
    """Render ``chunks`` here and write them on a second thread, a block at a time. An error
    on either side stops both and is raised here."""
    blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED)
    failed: list[BaseException] = []

    def writer() -> None:
        try:
            _write_blocks(out, digest, blocks)
        except BaseException as exc:  # re-raised by the rendering side below
            failed.append(exc)
            while blocks.get() is not None:  # drain, so the renderer never blocks on put
                pass

    thread = threading.Thread(target=writer, name="export-writer", daemon=True)
    thread.start()
    pending: list[bytes] = []
    size = 0
    try:
        for chunk in chunks:
            data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
            pending.append(data)
            size += len(data)
            if size >= BLOCK:
                blocks.put(b"".join(pending))
                pending, size = [], 0
                if failed:
                    break
        if pending and not failed:
            blocks.put(b"".join(pending))
    finally:
        blocks.put(None)
        thread.join()
    if failed:
        raise failed[0]


def _atomic(path: Path, chunks: Iterable[str] | Iterable[bytes]) -> str:
    """Write ``chunks`` to ``path`` atomically; return the sha256 of what was written."""
    digest = hashlib.sha256()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ExportError(f"cannot write in {path.parent}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb", buffering=BLOCK) as out:
            _pipe(out, digest, chunks)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def check_destination(path: Path, force: bool) -> None:
    """Refuse before any work is done: a missing folder, a folder, an existing file."""
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if path.exists() and not force:
        raise ExportError(f"{path} already exists; use --force to overwrite it")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_export(
    selection: Selection,
    fmt: str,
    path: Path,
    force: bool,
    *,
    chunks: Iterable[str] | Iterable[bytes] | None = None,
    tally: Tally | None = None,
    build: Callable[[Path], dict[str, int]] | None = None,
) -> dict[str, Any]:
    """Write a text export from ``chunks`` (counted in ``tally``), or a file ``build`` makes at
    a temporary path it is given, then the manifest; return the manifest."""
    check_destination(path, force)
    tally = tally or Tally()
    if build is not None:
        digest, counts = _atomic_built(path, build)
    else:
        digest = _atomic(path, chunks or ())
        counts = {"records": tally.records, **tally.extra}
    manifest = build_manifest(selection, fmt, path, counts, digest)
    _atomic(manifest_path(path), [json.dumps(manifest, indent=2) + "\n"])
    return manifest


def _atomic_built(
    path: Path, build: Callable[[Path], dict[str, int]]
) -> tuple[str, dict[str, int]]:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ExportError(f"cannot write in {path.parent}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        tmp_path.unlink()
        counts = build(tmp_path)
        digest = file_sha256(tmp_path)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return digest, counts


def build_manifest(
    selection: Selection, fmt: str, path: Path, counts: dict[str, int], digest: str
) -> dict[str, Any]:
    run = selection.run
    return {
        "run_id": run.run_id,
        "scenario": run.scenario,
        "seed": run.seed,
        "config_hash": run.config_hash,
        "format": fmt,
        "file": path.name,
        "models": [m.as_json() for m in selection.models],
        "training_safe": selection.training_safe,
        "selection": {
            "branch": selection.branch,
            "entities": list(selection.entities),
            "from": selection.start.isoformat() if selection.start else None,
            "to": selection.end.isoformat() if selection.end else None,
            "training_safe_only": selection.training_safe_only,
        },
        "counts": {
            **counts,
            "timepoints": len(selection.timepoints),
            "dialog_turns": len(selection.turns),
            "left_out_not_training_safe": selection.dropped_unsafe,
        },
        "sha256": digest,
    }
