"""``timeloom export``: write a selection of a stored run to a file (training data, TDF, a
screenplay, a report or a database), atomically, with a manifest beside it."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, open_store, print_json, user_config


def add_parser(sub: Any, db: argparse.ArgumentParser) -> None:
    export = sub.add_parser(
        "export",
        parents=[db],
        help="export a stored run (training data, TDF, screenplay, report, database)",
        description="Write a selection of a stored run to a file, atomically, with a manifest "
        "(PATH.manifest.json) beside it.",
    )
    export.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    export.add_argument(
        "--format", default="jsonl", metavar="FORMAT", help="jsonl (default), " + _others()
    )
    export.add_argument("-o", "--output", metavar="PATH", help="default: RUN_ID.FORMAT here")
    export.add_argument("--branch", metavar="BRANCH", help="only this branch's lineage")
    export.add_argument("--entities", metavar="A,B", help="only turns these entities spoke")
    export.add_argument("--from", dest="start", metavar="TIME", help="from this time (ISO)")
    export.add_argument("--to", dest="end", metavar="TIME", help="up to this time (ISO)")
    export.add_argument(
        "--training-safe", action="store_true", help="only content that may train other models"
    )
    export.add_argument("--force", action="store_true", help="overwrite an existing file")
    export.add_argument("--json", action="store_true", help="print one JSON object")


def _others() -> str:
    from engine.export.formats import FORMATS

    return ", ".join(f for f in FORMATS if f != "jsonl")


def export(args: argparse.Namespace) -> int:
    """``timeloom export``."""
    return asyncio.run(_export(args))


async def _export(args: argparse.Namespace) -> int:
    from engine.export import ExportError, select
    from engine.export.job import default_path, export_selection, format_named, load_source
    from engine.export.selection import parse_time
    from engine.llm.registry import RegistryError, load_registry
    from engine.store import StoreError

    try:
        fmt = format_named(args.format)
        start, end = parse_time(args.start), parse_time(args.end)
    except ExportError as exc:
        raise UsageError(str(exc)) from exc
    entities = tuple(e.strip() for e in (args.entities or "").split(",") if e.strip())
    store = await open_store(args, readonly=True)
    try:
        try:
            source = await load_source(store, args.run_id)
        except StoreError as exc:
            raise UsageError(str(exc)) from exc
    finally:
        await store.close()
    try:
        registry = load_registry(user_config().models.registry)
    except RegistryError as exc:
        raise UsageError(str(exc)) from exc
    path = Path(args.output) if args.output else default_path(source.run_id, fmt)
    try:
        selection = select(
            source.view,
            source.summary,
            calls=source.calls,
            registry=registry,
            branch=args.branch,
            entities=entities,
            start=start,
            end=end,
            training_safe=args.training_safe,
        )
        manifest = export_selection(selection, fmt, path, args.force, database=source.database)
    except ExportError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        print_json({"path": str(path), "format": fmt.name, **manifest["counts"]})
    else:
        counts = manifest["counts"]
        sys.stdout.write(
            f"wrote {counts['records']} records to {path} (manifest {path.name}.manifest.json)\n"
        )
    return EXIT_OK
