"""Writing an export: atomically (a temporary file in the same folder, then a rename), never
over an existing file unless forced, with a manifest beside it."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .selection import ExportError, Selection


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def _atomic(path: Path, chunks: Iterable[str]) -> str:
    """Write ``chunks`` to ``path`` atomically; return the sha256 of what was written."""
    digest = hashlib.sha256()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ExportError(f"cannot write in {path.parent}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def write_export(
    selection: Selection, fmt: str, path: Path, records: Iterable[dict[str, Any]], force: bool
) -> dict[str, Any]:
    """Write the records (one JSON object a line) and the manifest; return the manifest."""
    if not path.parent.is_dir():
        raise ExportError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if path.exists() and not force:
        raise ExportError(f"{path} already exists; use --force to overwrite it")
    count = 0

    def lines() -> Iterable[str]:
        nonlocal count
        for record in records:
            count += 1
            yield json.dumps(record, ensure_ascii=False) + "\n"

    digest = _atomic(path, lines())
    run = selection.run
    manifest = {
        "run_id": run.run_id,
        "scenario": run.scenario,
        "seed": run.seed,
        "config_hash": run.config_hash,
        "format": fmt,
        "file": path.name,
        "models": [
            {
                "provider": run.provider,
                "model": run.model,
                "licence": selection.licence or ("offline" if run.provider == "offline" else None),
                "training_safe": selection.training_safe,
            }
        ],
        "training_safe": selection.training_safe,
        "selection": {
            "branch": selection.branch,
            "entities": list(selection.entities),
        },
        "counts": {
            "records": count,
            "timepoints": len(selection.timepoints),
            "dialog_turns": len(selection.turns),
        },
        "sha256": digest,
    }
    _atomic(manifest_path(path), [json.dumps(manifest, indent=2) + "\n"])
    return manifest
