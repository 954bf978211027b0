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
DEMO_SCENARIO = "vintners_council"


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
    run.add_argument(
        "scenario", metavar="SCENARIO", nargs="?", help="a bundled name or a scenario file"
    )
    run.add_argument("--seed", type=int, help="random seed (default: the scenario's own)")
    run.add_argument(
        "--headless",
        action="store_true",
        help="run without the explorer (the default when not on a terminal, or with --json)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object when done")
    _provider_flags(run)
    run.add_argument(
        "--replay",
        metavar="RUN_ID",
        help="re-run a recorded run from its cassette: no network, no cost (SCENARIO optional)",
    )
    _budget_flags(run)
    run.add_argument(
        "--estimate", action="store_true", help="print what the run would cost, then exit"
    )
    run.add_argument(
        "--training-safe",
        action="store_true",
        help="use only MIT or Apache-2.0 licensed models (outputs may train any model)",
    )
    run.add_argument(
        "--prefer", choices=("quality", "speed", "cost"), help="how the registry picks models"
    )
    run.add_argument(
        "--no-cache", action="store_true", help="ask the model even for calls already recorded"
    )

    resume = sub.add_parser(
        "resume",
        parents=[db],
        help="continue a stopped or failed run",
        description="Continue a run that stopped (a budget, the user) or failed, from its last "
        "committed timepoint. Budgets count what the whole run has spent.",
    )
    resume.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    resume.add_argument("--json", action="store_true", help="print one JSON object when done")
    _provider_flags(resume)
    _budget_flags(resume)

    cassette = sub.add_parser("cassette", help="export or import recorded model answers")
    csub = cassette.add_subparsers(dest="cassette_command", parser_class=_Parser, metavar="ACTION")
    cassette.set_defaults(cassette_parser=cassette)
    export = csub.add_parser(
        "export", parents=[db], help="write the answers a run used to a cassette file"
    )
    export.add_argument("run_id", metavar="RUN_ID")
    export.add_argument("file", metavar="FILE")
    imp = csub.add_parser("import", parents=[db], help="add a cassette file to the database")
    imp.add_argument("file", metavar="FILE")

    runs = sub.add_parser("runs", parents=[db], help="list the runs in the database")
    runs.add_argument("--json", action="store_true", help="print JSON")

    show = sub.add_parser("show", parents=[db], help="show one run")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    show.add_argument("--json", action="store_true", help="print JSON")

    templates = sub.add_parser("templates", help="list the bundled scenarios")
    templates.add_argument("--json", action="store_true", help="print JSON")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")

    demo = sub.add_parser(
        "demo",
        parents=[db],
        help="open the explorer on a bundled scenario playing live (offline, no key)",
        description="Open the explorer and play a scenario live on the offline provider, at a "
        "readable pace (+ and - change it).",
    )
    demo.add_argument(
        "scenario",
        metavar="SCENARIO",
        nargs="?",
        default=DEMO_SCENARIO,
        help=f"a bundled name or a scenario file (default: {DEMO_SCENARIO})",
    )
    demo.add_argument("--seed", type=int, help="random seed (default: the scenario's own)")
    demo.add_argument(
        "--pace",
        type=_positive_float,
        metavar="CPS",
        help="dialog characters a second (default: the config's, 40)",
    )

    open_ = sub.add_parser("open", parents=[db], help="open a stored run in the explorer")
    open_.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    return parser


def _provider_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--provider",
        choices=("offline", "openai", "openrouter", "ollama", "vllm", "llamacpp", "lmstudio"),
        help="who answers the model calls (default: the config file's, else offline)",
    )
    parser.add_argument("--base-url", metavar="URL", help="the server's address (…/v1)")
    parser.add_argument("--model", metavar="ID", help="the model for every call")


def _budget_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget-tokens", type=_positive_int, metavar="N", help="stop before N tokens are spent"
    )
    parser.add_argument(
        "--budget-usd", type=_positive_float, metavar="X", help="stop before $X is spent"
    )
    parser.add_argument(
        "--no-budget", action="store_true", help="ignore the scenario's and the config's budget"
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive amount, got {text!r}")
    return value


# --------------------------------------------------------------------------- helpers
def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output is not squeezed into 80 columns.
    width = None if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


_CONFIG: Any = None


def _config() -> Any:
    """The configuration, loaded once (a bad file is bad input: exit 2)."""
    global _CONFIG
    if _CONFIG is None:
        from engine.config import ConfigError, load_config

        try:
            _CONFIG = load_config()
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
    return _CONFIG


def _db_path(args: argparse.Namespace) -> Path:
    from engine.paths import DB_ENV, resolve_db_path

    explicit = getattr(args, "db", None)
    if not explicit and not os.environ.get(DB_ENV):
        explicit = _config().ui.db
    return resolve_db_path(explicit)


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
    from engine import session

    config = _config()
    if args.replay:
        return await _cmd_replay(args)
    if not args.scenario:
        raise UsageError("name a scenario to run (or give --replay RUN_ID)")
    plan = session.plan_run(config, _request(args))
    loaded = plan.loaded
    if args.estimate:
        estimate = await session.estimate(plan, session.estimate_router(plan))
        if args.json:
            _print_json({"scenario": loaded.scenario.name, "estimate": estimate.to_json()})
        else:
            print(f"estimate for {loaded.scenario.name}: {estimate.text()}")
        return EXIT_OK
    if _interactive(args):
        session.ensure_supported(loaded)
        return EXIT_TUI, session.LiveRun(plan)
    opened = await session.open_plan(plan)
    err = _console(stderr=True)
    store = None
    try:
        store = await _open_store(args)
        sim = session.build_simulation(plan, opened, store)
        estimate = None
        if plan.settings is not None or sim.budget is not None:
            estimate = await session.estimate(plan, opened.router)
            if not args.json:
                err.print(f"estimate: {estimate.text()}", markup=False)
                _warn_over_budget(err, session.over_budget(estimate, sim.budget))
        if loaded.warnings and not args.json:
            err.print(
                f"[yellow]{loaded.source}: {len(loaded.warnings)} setting(s) are not "
                "supported by this version and were not used:[/]"
            )
            for warning in loaded.warnings:
                err.print(f"  - {warning}", markup=False)
        summary = await _execute(sim, err, args.json)
        db = store_path(store)
    finally:
        if store is not None:
            await store.close()
        await opened.aclose()
    return _report(summary, loaded.warnings, db, args.json, estimate)


def _request(args: argparse.Namespace) -> Any:
    """What the command line asks for, for the session module to resolve."""
    from engine.session import RunRequest

    return RunRequest(
        scenario=getattr(args, "scenario", None),
        seed=getattr(args, "seed", None),
        provider=args.provider,
        base_url=args.base_url,
        model=args.model,
        prefer=getattr(args, "prefer", None),
        training_safe=getattr(args, "training_safe", False),
        budget_tokens=args.budget_tokens,
        budget_usd=args.budget_usd,
        no_budget=args.no_budget,
        cache=not getattr(args, "no_cache", False),
        estimate_only=getattr(args, "estimate", False),
    )


EXIT_TUI = -1  # a command that hands over to the explorer returns (EXIT_TUI, what to open)


def _interactive(args: argparse.Namespace) -> bool:
    """Open the explorer for a run when a person is at a terminal and did not ask otherwise."""
    if getattr(args, "headless", False) or getattr(args, "json", False):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


def _ui_settings(args: argparse.Namespace) -> Any:
    from functools import partial

    from engine.config import config_path
    from engine.session import open_for_queries
    from tui.app import UISettings

    config = _config()
    ui = config.ui
    return UISettings(
        db_path=_db_path(args),
        theme=ui.theme,
        keymap=dict(ui.keymap),
        pace=getattr(args, "pace", None) or ui.pace,
        user_theme_dir=config_path().parent / "themes",
        query_providers=partial(open_for_queries, config),
    )


def _explore(args: argparse.Namespace, start: Any = None) -> int:
    """Open the explorer (Textual is imported only here)."""
    from tui.app import TimeloomApp

    app = TimeloomApp(_ui_settings(args), start=start)
    app.run()
    return app.return_code or EXIT_OK


async def _check_run(args: argparse.Namespace) -> str:
    from engine.store import StoreError

    store = await _open_store(args)
    try:
        return (await store.get_run(args.run_id)).run_id
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        await store.close()


def _warn_over_budget(console: Any, over: Any) -> None:
    if over is not None:
        what = "stop when it is spent (resume it with a larger budget)" if over.stops else "warn"
        console.print(
            f"[yellow]the estimate is over the budget ({over.budget}); the run will {what}[/]"
        )


async def _execute(sim: Any, console: Any, as_json: bool) -> Any:
    from engine.model import events as ev

    show_progress = sys.stderr.isatty() and not as_json
    if show_progress:
        return await _run_with_progress(sim, console)

    def on_event(event: Any) -> None:
        if isinstance(event, ev.BudgetWarning) and not as_json:
            console.print(f"budget: {event.message}", markup=False)

    return await sim.run(on_event)


def _report(summary: Any, warnings: Sequence[str], db: Path, as_json: bool, estimate: Any) -> int:
    if as_json:
        data = _summary_json(summary, warnings, db)
        if estimate is not None:
            data["estimate"] = estimate.to_json()
        _print_json(data)
    else:
        print(_summary_line(summary))
    return EXIT_OK if summary.status.value == "completed" else EXIT_FAILED


async def _cmd_replay(args: argparse.Namespace) -> int:
    from engine.session import prepare_replay

    store = await _open_store(args)
    try:
        replay = await prepare_replay(
            store, _config(), args.replay, scenario=args.scenario, seed=args.seed
        )
        err = _console(stderr=True)
        if not args.json:
            err.print(
                f"replaying run {replay.run_id} ({replay.provider}/{replay.model})", markup=False
            )
        summary = await _execute(replay.simulation, err, args.json)
        db = store_path(store)
    finally:
        await store.close()
    return _report(summary, replay.simulation.loaded.warnings, db, args.json, None)


async def _cmd_resume(args: argparse.Namespace) -> int:
    from engine.session import prepare_resume

    store = await _open_store(args)
    resumed = None
    try:
        resumed = await prepare_resume(store, _config(), args.run_id, _request(args))
        sim = resumed.simulation
        err = _console(stderr=True)
        if not args.json:
            done = sim.timepoints
            err.print(
                f"resuming run {resumed.run_id} after {len(done)} of "
                f"{sim.scenario.timeline.count} timepoints"
                + (f" (budget: {sim.budget.text()})" if sim.budget else ""),
                markup=False,
            )
        result = await _execute(sim, err, args.json)
        db = store_path(store)
        warnings = await store.run_warnings(resumed.run_id)
    finally:
        await store.close()
        if resumed is not None:
            await resumed.opened.aclose()
    return _report(result, warnings, db, args.json, None)


async def _cmd_cassette(args: argparse.Namespace) -> int:
    from engine.llm.cassette import CassetteFileError, read_file, write_file
    from engine.store import StoreError

    if args.cassette_command is None:
        args.cassette_parser.print_help()
        return EXIT_OK
    store = await _open_store(args)
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
            elif isinstance(event, ev.BudgetWarning):
                progress.console.print(f"[yellow]budget:[/] {event.message}", highlight=False)

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
        scenes = {r["timepoint_id"]: r for r in await store.table("scenes", run_id, order="seq")}
        inner_rows = await store.table("inner_lives", run_id, order="seq")
    finally:
        await store.close()
    inner_by_tp: dict[str, list[dict[str, Any]]] = {}
    for row in inner_rows:
        inner_by_tp.setdefault(row["timepoint_id"], []).append(json.loads(row["inner_json"]))
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
                "scene": _scene_json(scenes.get(t["timepoint_id"])),
                "inner_lives": inner_by_tp.get(t["timepoint_id"], []),
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
        scene = _scene_json(scenes.get(t["timepoint_id"]))
        if scene is not None:
            moved = f" → {scene['after']['tension']:.2f}" if scene["after"] else ""
            out.print(
                f"  [dim]the room: {escape(scene['atmosphere']['description'])} (tension "
                f"{scene['atmosphere']['tension']:.2f}{moved})[/]"
            )
        for turn in by_tp.get(t["timepoint_id"], []):
            out.print(
                f"  [bold]{escape(names.get(turn['speaker'], turn['speaker']))}[/] "
                f"[dim]({escape(turn['emotional_tone'])})[/]: {escape(turn['content'])}"
            )
        for inner in inner_by_tp.get(t["timepoint_id"], []):
            name = escape(names.get(inner["entity_id"], inner["entity_id"]))
            out.print(f"  [italic]{name} remembers:[/] {escape(inner['memory'])}")
    return EXIT_OK


def _scene_json(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    scene = json.loads(row["scene_json"])
    scene["after"] = json.loads(row["after_json"]) if row["after_json"] else None
    return scene


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
    if args.command is None and not (sys.stdin.isatty() and sys.stdout.isatty()):
        parser.print_help()
        return EXIT_OK
    from engine.session import SessionError

    try:
        _config()  # a broken config file is reported whatever the command
        if args.command is None:
            code = _explore(args)
        elif args.command == "demo":
            from engine.session import read_scenario
            from tui.app import StartLive

            read_scenario(args.scenario)  # a bad scenario is one sentence here, not in the explorer
            code = _explore(args, StartLive(args.scenario, seed=args.seed))
        elif args.command == "open":
            from tui.app import StartReplay

            code = _explore(args, StartReplay(asyncio.run(_check_run(args))))
        elif args.command == "run":
            result = asyncio.run(_cmd_run(args))
            if isinstance(result, tuple):
                from tui.app import StartLive

                _, factory = result
                code = _explore(args, StartLive(args.scenario, factory=factory))
            else:
                code = result
        elif args.command == "runs":
            code = asyncio.run(_cmd_runs(args))
        elif args.command == "show":
            code = asyncio.run(_cmd_show(args))
        elif args.command == "resume":
            code = asyncio.run(_cmd_resume(args))
        elif args.command == "cassette":
            code = asyncio.run(_cmd_cassette(args))
        elif args.command == "templates":
            code = _cmd_templates(args)
        else:
            code = _cmd_schema(args)
    except (UsageError, SessionError) as exc:
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
