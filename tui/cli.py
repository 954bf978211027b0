"""The ``timeloom`` command.

Headless commands (``run --headless``, ``runs``, ``show``, ``templates``, ``schema``) never import
Textual. Every error a user can cause ends in one sentence on stderr and a non-zero exit status:
1 when a run failed, 2 for bad input (an unknown scenario or run id, a bad file, a bad flag, a
database that cannot be used).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input from the user: reported in one sentence, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--db",
        metavar="PATH",
        help="database file (default: $TIMELOOM_DB, else the user data directory)",
    )
    parser = _Parser(prog="timeloom", description="Explore temporal social simulations.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        parents=[db],
        help="run a scenario",
        description="Run a scenario: a bundled name or a path to a scenario "
        "file (timeloom or timepoint-pro format).",
    )
    run.add_argument("scenario", metavar="SCENARIO")
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's own)")
    run.add_argument(
        "--headless",
        action="store_true",
        help="run without the interface (the only mode in this version)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object when done")

    runs = sub.add_parser("runs", parents=[db], help="list the runs in the database")
    runs.add_argument("--json", action="store_true", help="print JSON")

    show = sub.add_parser("show", parents=[db], help="show one run")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    show.add_argument("--json", action="store_true", help="print JSON")

    templates = sub.add_parser("templates", help="list the bundled scenarios")
    templates.add_argument("--json", action="store_true", help="print JSON")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    return parser


# --------------------------------------------------------------------------- helpers
def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output is not squeezed into 80 columns.
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def _db_path(args: argparse.Namespace) -> Path:
    from engine.paths import resolve_db_path

    return resolve_db_path(getattr(args, "db", None))


async def _open_store(args: argparse.Namespace) -> Any:
    from engine.store import Store, StoreError

    try:
        return await Store.open(_db_path(args))
    except StoreError as exc:
        raise UsageError(str(exc)) from exc


def _summary_json(summary: Any, warnings: Sequence[str], db: Path) -> dict[str, Any]:
    c = summary.counts
    return {
        "run_id": summary.run_id,
        "status": summary.status.value,
        "reason": summary.status_reason,
        "scenario": summary.scenario,
        "mode": summary.mode.value,
        "seed": summary.seed,
        "provider": summary.provider,
        "model": summary.model,
        "entities": c.entities,
        "timepoints": c.timepoints,
        "planned_timepoints": summary.planned_timepoints,
        "dialog_turns": c.dialog_turns,
        "exposure_events": c.exposure_events,
        "llm_calls": c.llm_calls,
        "failed_steps": c.failed_steps,
        "prompt_tokens": summary.tokens_in,
        "completion_tokens": summary.tokens_out,
        "tokens": summary.tokens,
        "cost_usd": round(summary.cost_usd, 6),
        "wall_seconds": summary.wall_seconds,
        "warnings": list(warnings),
        "db": str(db),
    }


def _summary_line(summary: Any) -> str:
    c = summary.counts
    line = (
        f"run {summary.run_id} {summary.status.value}: {c.timepoints}/{summary.planned_timepoints}"
        f" timepoints, {c.dialog_turns} dialog turns, {c.exposure_events} exposure events, "
        f"{c.llm_calls} LLM calls, {summary.tokens:,} tokens, ${summary.cost_usd:.4f}, "
        f"{summary.wall_seconds or 0:.2f} s"
    )
    if summary.status_reason:
        line += f" ({summary.status_reason})"
    return line


# --------------------------------------------------------------------------- commands
async def _cmd_run(args: argparse.Namespace) -> int:
    from engine.llm.offline import OfflineProvider
    from engine.scenario import ScenarioError, load_scenario
    from engine.simulation import Simulation, UnsupportedScenario

    try:
        loaded = load_scenario(args.scenario)
    except ScenarioError as exc:
        raise UsageError(str(exc)) from exc
    seed = args.seed if args.seed is not None else loaded.scenario.seed
    store = await _open_store(args)
    try:
        try:
            sim = Simulation(loaded, provider=OfflineProvider(seed), store=store, seed=seed)
        except UnsupportedScenario as exc:
            raise UsageError(str(exc)) from exc
        err = _console(stderr=True)
        if loaded.warnings and not args.json:
            err.print(
                f"[yellow]{loaded.source}: {len(loaded.warnings)} setting(s) are not "
                "supported by this version and were not used:[/]"
            )
            for warning in loaded.warnings:
                err.print(f"  - {warning}", markup=False)
        show_progress = sys.stderr.isatty() and not args.json
        summary = await (_run_with_progress(sim, err) if show_progress else sim.run())
    finally:
        await store.close()
    if args.json:
        _print_json(_summary_json(summary, loaded.warnings, store_path(store)))
    else:
        print(_summary_line(summary))
    return EXIT_OK if summary.status.value == "completed" else EXIT_FAILED


def store_path(store: Any) -> Path:
    return Path(store.path)


async def _run_with_progress(sim: Any, console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from engine.model import events as ev

    names: dict[str, str] = {}
    calls = tokens = 0
    with Progress(
        TextColumn("[bold]{task.fields[title]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(
            "run", total=sim.scenario.timeline.count, title=sim.scenario.title, status="setting up"
        )

        def on_event(event: Any) -> None:
            nonlocal calls, tokens
            if isinstance(event, ev.EntityCreated):
                names[event.profile.entity_id] = event.profile.name
            elif isinstance(event, ev.LLMCallFinished):
                calls += 1
                tokens += event.prompt_tokens + event.completion_tokens
            elif isinstance(event, ev.TimepointCreated):
                progress.update(task, status=event.timepoint.title)
            elif isinstance(event, ev.DialogTurnStarted):
                progress.update(
                    task,
                    status=f"{names.get(event.speaker, event.speaker)} speaks "
                    f"· {calls} calls · {tokens:,} tokens",
                )
            elif isinstance(event, ev.TimepointCompleted):
                progress.advance(task)

        return await sim.run(on_event)


async def _cmd_runs(args: argparse.Namespace) -> int:
    store = await _open_store(args)
    try:
        runs = await store.list_runs()
    finally:
        await store.close()
    if args.json:
        _print_json([_summary_json(r, (), _db_path(args)) for r in runs])
        return EXIT_OK
    if not runs:
        print(f"no runs yet in {_db_path(args)}; start one with: timeloom run lighthouse_night")
        return EXIT_OK
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in (
        "run id",
        "scenario",
        "mode",
        "status",
        "ents",
        "tps",
        "turns",
        "tokens",
        "cost",
        "started",
        "secs",
    ):
        table.add_column(
            column,
            no_wrap=True,
            justify="right"
            if column in {"ents", "tps", "turns", "tokens", "cost", "secs"}
            else "left",
        )
    for r in runs:
        table.add_row(
            r.run_id,
            r.scenario,
            r.mode.value,
            r.status.value,
            str(r.counts.entities),
            f"{r.counts.timepoints}/{r.planned_timepoints}",
            str(r.counts.dialog_turns),
            f"{r.tokens:,}",
            f"${r.cost_usd:.4f}",
            f"{r.started_at:%Y-%m-%d %H:%M}",
            f"{r.wall_seconds:.1f}" if r.wall_seconds is not None else "-",
        )
    _console().print(table)
    return EXIT_OK


async def _cmd_show(args: argparse.Namespace) -> int:
    from engine.store import StoreError

    store = await _open_store(args)
    try:
        try:
            summary = await store.get_run(args.run_id)
        except StoreError as exc:
            raise UsageError(str(exc)) from exc
        run_id = summary.run_id
        warnings = await store.run_warnings(run_id)
        entities = await store.table("entities", run_id)
        timepoints = await store.timepoints(run_id)
        turns = await store.table("dialog_turns", run_id, order="seq")
        exposures = await store.table("exposure_events", run_id, order="seq")
        states = await store.table("entity_states", run_id, order="seq")
    finally:
        await store.close()
    names = {e["entity_id"]: e["name"] for e in entities}
    latest: dict[str, dict[str, Any]] = {}
    for state in states:
        latest[state["entity_id"]] = state
    known: dict[str, int] = {}
    for x in exposures:
        known[x["entity_id"]] = known.get(x["entity_id"], 0) + 1
    by_tp: dict[str, list[dict[str, Any]]] = {}
    for turn in turns:
        by_tp.setdefault(turn["timepoint_id"], []).append(turn)
    if args.json:
        data = _summary_json(summary, warnings, _db_path(args))
        data["title"] = summary.title
        data["entities_detail"] = [
            {
                "entity_id": e["entity_id"],
                "name": e["name"],
                "type": e["entity_type"],
                "role": e["role"],
                "knowledge_items": known.get(e["entity_id"], 0),
                "resolution": latest.get(e["entity_id"], {}).get("resolution"),
                "cognitive": json.loads(latest[e["entity_id"]]["cognitive_json"])
                if e["entity_id"] in latest
                else None,
            }
            for e in entities
        ]
        data["timepoints_detail"] = [
            {
                "timepoint_id": t["timepoint_id"],
                "index": t["idx"],
                "timestamp": t["timestamp"],
                "title": t["title"],
                "event_description": t["event_description"],
                "status": t["status"],
                "entities_present": json.loads(t["entities_present_json"]),
                "dialog": [
                    {
                        "speaker": turn["speaker"],
                        "content": turn["content"],
                        "emotional_tone": turn["emotional_tone"],
                        "knowledge_references": json.loads(turn["knowledge_refs_json"]),
                    }
                    for turn in by_tp.get(t["timepoint_id"], [])
                ],
            }
            for t in timepoints
        ]
        _print_json(data)
        return EXIT_OK
    from rich.markup import escape

    out = _console()
    out.print(
        f"[bold]{escape(summary.title or summary.scenario)}[/]  ({summary.scenario}, "
        f"{summary.mode.value}, seed {summary.seed}, {summary.provider}/{summary.model})"
    )
    out.print(_summary_line(summary), markup=False)
    for w in warnings:
        out.print(f"  [yellow]not supported:[/] {escape(w)}")
    out.print()
    out.print("[bold]Entities[/]")
    for e in entities:
        state = latest.get(e["entity_id"])
        mood = ""
        if state:
            cog = json.loads(state["cognitive_json"])
            mood = (
                f"valence {cog['valence']:+.2f}, arousal {cog['arousal']:.2f}, energy "
                f"{cog['energy']:.0f} [{state['resolution']}]"
            )
        out.print(
            f"  {escape(e['name'])} - {escape(e['role'])}; "
            f"{known.get(e['entity_id'], 0)} knowledge items; {mood}"
        )
    for t in timepoints:
        out.print()
        out.print(
            f"[bold]{t['timepoint_id']} {escape(t['title'])}[/] [dim]{t['timestamp']}"
            f"{'' if t['status'] == 'ok' else ' (' + t['status'] + ')'}[/]"
        )
        out.print(f"  {escape(t['event_description'])}")
        for turn in by_tp.get(t["timepoint_id"], []):
            out.print(
                f"  [bold]{escape(names.get(turn['speaker'], turn['speaker']))}[/] "
                f"[dim]({escape(turn['emotional_tone'])})[/]: {escape(turn['content'])}"
            )
    return EXIT_OK


def _cmd_templates(args: argparse.Namespace) -> int:
    from engine.scenario import ScenarioError, bundled_templates

    try:
        templates = bundled_templates()
    except ScenarioError as exc:
        raise UsageError(f"a bundled scenario is broken: {exc}") from exc
    if args.json:
        _print_json([t.__dict__ for t in templates])
        return EXIT_OK
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("name", "mode", "entities", "timepoints", "tags", "description"):
        table.add_column(column, no_wrap=column not in ("description", "tags"), overflow="fold")
    for t in templates:
        table.add_row(
            t.name, t.mode, str(t.entities), str(t.timepoints), ", ".join(t.tags), t.summary
        )
    _console().print(table)
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from engine.scenario import json_schema

    _print_json(json_schema())
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from engine import __version__

        print(f"timeloom {__version__}")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        if args.command == "run":
            code = asyncio.run(_cmd_run(args))
        elif args.command == "runs":
            code = asyncio.run(_cmd_runs(args))
        elif args.command == "show":
            code = asyncio.run(_cmd_show(args))
        elif args.command == "templates":
            code = _cmd_templates(args)
        else:
            code = _cmd_schema(args)
    except UsageError as exc:
        sys.stderr.write(f"timeloom: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("timeloom: interrupted; what was committed is kept in the database\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: say so in one sentence, never a traceback
        if os.environ.get("TIMELOOM_DEBUG"):
            raise
        sys.stderr.write(
            f"timeloom: internal error ({exc.__class__.__name__}: {exc}); set TIMELOOM_DEBUG=1 "
            "for the traceback and please report it\n"
        )
        return EXIT_FAILED
    return code


if __name__ == "__main__":
    raise SystemExit(main())
