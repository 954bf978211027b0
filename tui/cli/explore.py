"""Handing over to the explorer (``timeloom`` alone, ``demo``, ``open``, ``run`` at a terminal):
the only module of the command line that imports Textual, and only when the explorer opens."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from .common import EXIT_FAILED, EXIT_OK, UsageError, db_path, open_store, user_config
from .serving import served

DEMO_SCENARIO = "vintners_council"


def _ui_settings(args: argparse.Namespace) -> Any:
    from functools import partial

    from engine.config import config_path, remember_ui
    from engine.session import open_for_queries
    from tui.app import UISettings

    config = user_config()
    ui = config.ui
    return UISettings(
        db_path=db_path(args),
        theme=ui.theme,
        keymap=dict(ui.keymap),
        pace=getattr(args, "pace", None) or ui.pace,
        user_theme_dir=config_path().parent / "themes",
        query_providers=partial(open_for_queries, config),
        confirm_elevation=ui.confirm_elevation,
        model_registry=config.models.registry,
        hide=tuple(ui.hide),
        remember=remember_ui,
    )


def home(args: argparse.Namespace) -> int:
    """``timeloom`` alone: the explorer's home screen."""
    return _explore(args)


def demo(args: argparse.Namespace) -> int:
    """``timeloom demo``: a scenario playing live on the offline provider."""
    from engine.session import read_scenario
    from tui.app import StartLive

    read_scenario(args.scenario)  # a bad scenario is one sentence here, not in the explorer
    return _explore(args, StartLive(args.scenario, seed=args.seed))


def open_run(args: argparse.Namespace) -> int:
    """``timeloom open``: a stored run in the explorer."""
    from tui.app import StartReplay

    return _explore(args, StartReplay(asyncio.run(_check_run(args))))


def watch(args: argparse.Namespace, factory: Any) -> int:
    """The explorer watching the run ``factory`` builds (``timeloom run`` at a terminal)."""
    from tui.app import StartLive

    return _explore(args, StartLive(args.scenario, factory=factory))


def _explore(args: argparse.Namespace, start: Any = None) -> int:
    """Open the explorer (Textual is imported only here). Its exit status is the command
    line's: 1 when the run it was started to watch ended stopped or failed (quitting it
    half-way stops it), 2 when it could not do what it was asked."""
    if not served() and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the explorer needs a terminal; without one, run a scenario with "
            "`timeloom run SCENARIO --headless` and read it with `timeloom show RUN_ID`"
        )
    from tui.app import StartLive, TimeloomApp

    app = TimeloomApp(_ui_settings(args), start=start)
    app.run()
    if app.return_code:
        return app.return_code
    sessions = app.bridge.sessions
    if (
        isinstance(start, StartLive)
        and sessions
        and sessions[0].status
        in (
            "stopped",
            "failed",
            "interrupted",
        )
    ):
        return EXIT_FAILED
    return EXIT_OK


async def _check_run(args: argparse.Namespace) -> str:
    from engine.store import StoreError

    store = await open_store(args)
    try:
        return (await store.get_run(args.run_id)).run_id
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        await store.close()
