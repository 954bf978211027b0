"""``cassette export`` and ``cassette import``: recorded model answers to and from files."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from .common import EXIT_OK, UsageError, open_store


def cassette(args: argparse.Namespace) -> int:
    """``timeloom cassette export`` and ``import``."""
    return asyncio.run(_cassette(args))


async def _cassette(args: argparse.Namespace) -> int:
    from engine.llm.cassette import CassetteFileError, read_file, write_file
    from engine.store import StoreError

    if args.cassette_command is None:
        args.cassette_parser.print_help()
        return EXIT_OK
    store = await open_store(args, readonly=args.cassette_command == "export")
    try:
        if args.cassette_command == "export":
            try:
                recorded = await store.run_descriptor(args.run_id)
            except StoreError as exc:
                raise UsageError(str(exc)) from exc
            entries = await store.cassette_for_run(recorded["run_id"])
            try:
                write_file(Path(args.file), [recorded], entries)
            except CassetteFileError as exc:
                raise UsageError(str(exc)) from exc
            note = (
                " (an offline run: a replay re-runs it offline)"
                if recorded["provider"] == "offline"
                else ""
            )
            print(
                f"wrote {len(entries)} recorded answers of run {recorded['run_id']} to "
                f"{args.file}{note}"
            )
            return EXIT_OK
        try:
            runs, entries = read_file(Path(args.file))
        except CassetteFileError as exc:
            raise UsageError(str(exc)) from exc
        added = await store.import_cassette(runs, entries)
        ids = ", ".join(r.get("run_id", "?") for r in runs) or "none"
        print(
            f"imported {added} new answers ({len(entries) - added} already present) and the "
            f"description of run(s) {ids}; replay with: timeloom run --replay RUN_ID"
        )
        return EXIT_OK
    finally:
        await store.close()
