"""Commands about scenario files: ``templates`` and ``schema``."""

from __future__ import annotations

import argparse

from .common import EXIT_OK, UsageError, make_console, print_json


def templates(args: argparse.Namespace) -> int:
    from engine.scenario import ScenarioError, bundled_templates

    try:
        templates = bundled_templates()
    except ScenarioError as exc:
        raise UsageError(f"a bundled scenario is broken: {exc}") from exc
    if args.json:
        print_json([t.__dict__ for t in templates])
        return EXIT_OK
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "mode", "entities", "timepoints", "tags", "description"):
        table.add_column(column, no_wrap=column not in ("description", "tags"), overflow="fold")
    for t in templates:
        table.add_row(
            t.name, t.mode, str(t.entities), str(t.timepoints), ", ".join(t.tags), t.summary
        )
    make_console().print(table)
    return EXIT_OK


def schema(args: argparse.Namespace) -> int:
    from engine.scenario import json_schema

    print_json(json_schema())
    return EXIT_OK
