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
    from engine.llm.budget import Budget
    from engine.simulation import Simulation, UnsupportedScenario

    config = _config()
    if args.replay:
        return await _cmd_replay(args)
    if not args.scenario:
        raise UsageError("name a scenario to run (or give --replay RUN_ID)")
    loaded = _load(args.scenario)
    seed = args.seed if args.seed is not None else loaded.scenario.seed
    settings = _settings(args)
    registry = _registry()
    prefer = args.prefer or config.models.prefer
    training_safe = args.training_safe or config.models.training_safe
    budget = _budget(args, config, Budget, loaded.scenario.budget)
    if args.estimate:
        router = _router_for_estimate(settings, registry, prefer, training_safe)
        estimate = await _estimate(loaded, seed, router, settings)
        if args.json:
            _print_json({"scenario": loaded.scenario.name, "estimate": estimate.to_json()})
        else:
            print(f"estimate for {loaded.scenario.name}: {estimate.text()}")
        return EXIT_OK
    if _interactive(args):
        from engine.simulation import SUPPORTED_MODES

        if loaded.scenario.mode not in SUPPORTED_MODES:
            raise UsageError(
                f"{loaded.scenario.name} uses {loaded.scenario.mode.value} mode, "
                "which this version cannot run yet (it runs forward scenarios)"
            )
        return EXIT_TUI, _ConfiguredRun(
            loaded, seed, settings, registry, prefer, training_safe, budget, config, args.no_cache
        )
    opened = await _open_provider(settings, registry, seed, prefer, training_safe)
    err = _console(stderr=True)
    store = None
    try:
        store = await _open_store(args)
        try:
            sim = Simulation(
                loaded,
                provider=opened.provider,
                store=store,
                seed=seed,
                budget=budget,
                router=opened.router,
                cache=config.provider.cache and not args.no_cache,
                retry=_retry(settings),
            )
        except UnsupportedScenario as exc:
            raise UsageError(str(exc)) from exc
        estimate = None
        if settings is not None or sim.budget is not None:
            local = settings is None or settings.preset.local
            estimate = await _estimate(loaded, seed, opened.router, settings, local=local)
            if not args.json:
                err.print(f"estimate: {estimate.text()}", markup=False)
                _warn_over_budget(err, estimate, sim.budget)
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


EXIT_TUI = -1  # a command that hands over to the explorer returns (EXIT_TUI, what to open)


def _interactive(args: argparse.Namespace) -> bool:
    """Open the explorer for a run when a person is at a terminal and did not ask otherwise."""
    if getattr(args, "headless", False) or getattr(args, "json", False):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


class _ConfiguredRun:
    """A simulation built from the command line and the config, for the explorer to watch."""

    def __init__(
        self,
        loaded: Any,
        seed: int,
        settings: Any,
        registry: Any,
        prefer: Any,
        training_safe: bool,
        budget: Any,
        config: Any,
        no_cache: bool,
    ) -> None:
        self.loaded, self.seed, self.settings = loaded, seed, settings
        self.registry, self.prefer, self.training_safe = registry, prefer, training_safe
        self.budget, self.config, self.no_cache = budget, config, no_cache
        self.provider: Any = None
        self._opened: Any = None

    async def __call__(self, store: Any, control: Any) -> Any:
        from engine.llm.factory import open_provider
        from engine.llm.offline import OfflineProvider
        from engine.simulation import Simulation

        if self.settings is None:  # offline: paced for reading, like the demo
            self.provider = OfflineProvider(self.seed, chars_per_second=self.config.ui.pace)
            router = None
        else:
            self._opened = await open_provider(
                self.settings,
                self.registry,
                seed=self.seed,
                prefer=self.prefer,
                training_safe=self.training_safe,
            )
            self.provider, router = self._opened.provider, self._opened.router
        return Simulation(
            self.loaded,
            provider=self.provider,
            store=store,
            seed=self.seed,
            control=control,
            budget=self.budget,
            router=router,
            cache=self.config.provider.cache and not self.no_cache,
            retry=_retry(self.settings),
        )

    async def aclose(self) -> None:
        if self._opened is not None:
            await self._opened.aclose()


def _ui_settings(args: argparse.Namespace) -> Any:
    from engine.config import config_path
    from tui.app import UISettings

    ui = _config().ui
    return UISettings(
        db_path=_db_path(args),
        theme=ui.theme,
        keymap=dict(ui.keymap),
        pace=getattr(args, "pace", None) or ui.pace,
        user_theme_dir=config_path().parent / "themes",
        query_providers=_open_for_queries,
    )


async def _open_for_queries(provider: str, model: str, seed: int) -> tuple[Any, Any, Any]:
    """The provider a stored run was made with, set up from the config and the environment,
    to put questions to its entities (the explorer's query bar)."""
    from engine.config import ConfigError, resolve_provider
    from engine.llm.factory import ROUTED, ProviderSetupError, open_provider
    from tui.bridge import ProviderUnavailable

    try:
        settings = resolve_provider(
            _config(), name=provider, model=None if model in ("", ROUTED) else model
        )
        opened = await open_provider(settings, _registry(), seed=seed, check=False)
    except (ConfigError, ProviderSetupError, UsageError) as exc:
        raise ProviderUnavailable(str(exc)) from None
    return opened.provider, opened.router, opened.aclose


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


def _load(name: str) -> Any:
    from engine.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(name)
    except ScenarioError as exc:
        raise UsageError(str(exc)) from exc


def _settings(args: argparse.Namespace, default_provider: str | None = None) -> Any:
    from engine.config import ConfigError, resolve_provider

    try:
        return resolve_provider(
            _config(),
            name=args.provider or default_provider,
            base_url=args.base_url,
            model=args.model,
            require_key=not getattr(args, "estimate", False),
        )
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc


def _registry() -> Any:
    from engine.llm.registry import RegistryError, load_registry

    try:
        return load_registry(_config().models.registry)
    except RegistryError as exc:
        raise UsageError(str(exc)) from exc


def _budget(args: argparse.Namespace, config: Any, budget_cls: Any, scenario_budget: Any) -> Any:
    """Flags first, then the scenario's own budget (None lets the engine use it), then the
    config file's; ``--no-budget`` means none at all."""
    if args.no_budget:
        return budget_cls()
    b = config.budget
    if args.budget_tokens is not None or args.budget_usd is not None:
        return budget_cls(
            tokens=args.budget_tokens, usd=args.budget_usd, warn_fraction=b.warn_fraction
        )
    if scenario_budget is not None and (scenario_budget.tokens or scenario_budget.usd):
        return None
    if b.tokens is not None or b.usd is not None:
        return budget_cls(tokens=b.tokens, usd=b.usd, warn_fraction=b.warn_fraction)
    return None


def _retry(settings: Any) -> dict[str, Any]:
    if settings is None:
        return {}
    return {
        "max_attempts": settings.max_attempts,
        "backoff": settings.backoff,
        "max_backoff": settings.max_backoff,
    }


def _router_for_estimate(settings: Any, registry: Any, prefer: Any, training_safe: bool) -> Any:
    """The router an estimate prices with; it never touches the network."""
    from engine.llm.factory import ProviderSetupError, plan_router

    if settings is None:
        return None
    try:
        return plan_router(settings, registry, prefer=prefer, training_safe=training_safe)
    except ProviderSetupError as exc:
        if settings.preset.local and settings.model is None:
            return None  # a local server's model is free whichever it is
        raise UsageError(str(exc)) from exc


async def _estimate(
    loaded: Any, seed: int, router: Any, settings: Any, *, local: bool | None = None
) -> Any:
    from engine.estimate import estimate_run

    if local is None:
        local = settings is None or settings.preset.local
    return await estimate_run(loaded, seed=seed, router=router, local=local)


def _warn_over_budget(console: Any, estimate: Any, budget: Any) -> None:
    if budget is None:
        return
    over = (budget.tokens is not None and estimate.tokens > budget.tokens) or (
        budget.usd is not None and estimate.usd > budget.usd
    )
    if over:
        what = "stop when it is spent (resume it with a larger budget)" if budget.hard else "warn"
        console.print(
            f"[yellow]the estimate is over the budget ({budget.text()}); the run will {what}[/]"
        )


async def _open_provider(
    settings: Any, registry: Any, seed: int, prefer: Any, training_safe: bool
) -> Any:
    from engine.llm.factory import ProviderSetupError, open_provider

    try:
        return await open_provider(
            settings, registry, seed=seed, prefer=prefer, training_safe=training_safe
        )
    except ProviderSetupError as exc:
        raise UsageError(str(exc)) from exc


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


class _Spec:
    """A recorded scenario's budget object, read like the schema's."""

    def __init__(self, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        self.tokens = data.get("tokens")
        self.usd = data.get("usd")


async def _cmd_replay(args: argparse.Namespace) -> int:
    from engine.llm.cassette import ReplayProvider, Transcripts
    from engine.llm.offline import OfflineProvider
    from engine.llm.registry import Router
    from engine.scenario import LoadedScenario, Scenario
    from engine.simulation import Simulation, UnsupportedScenario
    from engine.store import StoreError

    store = await _open_store(args)
    try:
        try:
            recorded = await store.run_descriptor(args.replay)
        except StoreError as exc:
            raise UsageError(str(exc)) from exc
        if args.scenario:
            loaded = _load(args.scenario)
        else:
            try:
                scenario = Scenario.model_validate(recorded["scenario_data"])
            except ValueError as exc:
                raise UsageError(
                    f"the scenario recorded with run {recorded['run_id']} no longer loads"
                ) from exc
            loaded = LoadedScenario(
                scenario=scenario,
                source=recorded.get("source", ""),
                warnings=tuple(recorded.get("warnings", ())),
            )
        seed = args.seed if args.seed is not None else int(recorded["seed"])
        name, model = recorded["provider"], recorded["model"]
        routing = recorded.get("routing") or {}
        router = None
        if name == "offline":
            provider: Any = OfflineProvider(seed)
        else:
            provider = ReplayProvider(name, model)
            router = Router(
                provider=name,
                default_model=model,
                registry=_registry() if routing.get("routed") else None,
                fixed_model=routing.get("fixed_model"),
                prefer=routing.get("prefer"),
                training_safe=bool(routing.get("training_safe")),
            )
        from engine.llm.budget import Budget

        try:
            sim = Simulation(
                loaded,
                provider=provider,
                store=store,
                seed=seed,
                budget=Budget(),
                router=router,
                replay=True,
                transcripts=Transcripts(recorded.get("attempts") or []),
            )
        except UnsupportedScenario as exc:
            raise UsageError(str(exc)) from exc
        err = _console(stderr=True)
        if not args.json:
            err.print(f"replaying run {recorded['run_id']} ({name}/{model})", markup=False)
        summary = await _execute(sim, err, args.json)
        db = store_path(store)
    finally:
        await store.close()
    return _report(summary, loaded.warnings, db, args.json, None)


async def _cmd_resume(args: argparse.Namespace) -> int:
    from engine.llm.budget import Budget
    from engine.llm.offline import OfflineProvider
    from engine.simulation import ResumeError, Simulation, UnsupportedScenario
    from engine.store import StoreError

    config = _config()
    store = await _open_store(args)
    opened = None
    try:
        try:
            recorded = await store.run_descriptor(args.run_id)
            summary = await store.get_run(recorded["run_id"])
        except StoreError as exc:
            raise UsageError(str(exc)) from exc
        name = args.provider or recorded["provider"]
        seed = int(recorded["seed"])
        routing = recorded.get("routing") or {}
        if name == "offline":
            from engine.llm.factory import Opened

            opened = Opened(OfflineProvider(seed), None)
        else:
            if args.model is None and routing.get("fixed_model") and name == recorded["provider"]:
                args.model = routing["fixed_model"]
            settings = _settings(args, default_provider=name)
            opened = await _open_provider(
                settings,
                _registry(),
                seed,
                routing.get("prefer") or config.models.prefer,
                bool(routing.get("training_safe")),
            )
        scenario_budget = (recorded.get("scenario_data") or {}).get("budget")
        budget = _budget(args, config, Budget, _Spec(scenario_budget))
        try:
            sim = await Simulation.resume(
                store,
                summary.run_id,
                provider=opened.provider,
                budget=budget,
                router=opened.router,
                cache=config.provider.cache,
            )
        except (ResumeError, UnsupportedScenario) as exc:
            raise UsageError(str(exc)) from exc
        err = _console(stderr=True)
        if not args.json:
            done = sim.timepoints
            err.print(
                f"resuming run {summary.run_id} after {len(done)} of "
                f"{sim.scenario.timeline.count} timepoints"
                + (f" (budget: {sim.budget.text()})" if sim.budget else ""),
                markup=False,
            )
        result = await _execute(sim, err, args.json)
        db = store_path(store)
        warnings = await store.run_warnings(summary.run_id)
    finally:
        await store.close()
        if opened is not None:
            await opened.aclose()
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
    try:
        _config()  # a broken config file is reported whatever the command
        if args.command is None:
            code = _explore(args)
        elif args.command == "demo":
            from tui.app import StartLive

            _load(args.scenario)  # a bad scenario is one sentence here, not in the explorer
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
