"""Builders shared by the TUI tests: one app factory, deterministic databases, waiting helpers."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.llm.offline import OfflineProvider
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store
from tui.app import StartLive, StartReplay, TimeloomApp, UISettings

FIXED_START = "2030-01-07T09:00:00+00:00"


async def seed_runs(db: Path, runs: list[tuple[str, str, int]]) -> None:
    """Run scenarios into ``db`` under fixed run ids, then pin their wall-clock columns."""
    store = await Store.open(db)
    try:
        for run_id, scenario, seed in runs:
            sim = Simulation(
                load_scenario(scenario),
                provider=OfflineProvider(seed),
                store=store,
                seed=seed,
                run_id=run_id,
            )
            await sim.run()
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:  # closed here: a connection left to the collector writes its log back later
        with conn:
            conn.execute(
                "UPDATE runs SET started_at = ?, finished_at = ?, wall_seconds = 1.25",
                (FIXED_START, FIXED_START),
            )
    finally:
        conn.close()


async def seed_fork(db: Path, run_id: str, seed: int = 2) -> None:
    """A vintners run under ``run_id`` with one fork, b1 "no chair": Marguerite removed from
    tp02 on."""
    from engine.model.intervention import Intervention

    await seed_runs(db, [(run_id, "vintners_council", seed)])
    store = await Store.open(db)
    try:
        sim = await Simulation.fork(
            store,
            run_id,
            at="tp02",
            intervention=Intervention(kind="remove", entity="marguerite_solane"),
            provider=OfflineProvider(seed),
            branch_id="b1",
            label="no chair",
        )
        await sim.run()
    finally:
        await store.close()


def make_app(
    db: Path,
    *,
    start: StartLive | StartReplay | None = None,
    theme: str = "timeloom-dark",
    keymap: dict[str, str] | None = None,
    pace: float | None = None,
    user_theme_dir: Path | None = None,
    query_providers: Any = None,
    remember: Any = None,
    hide: tuple[str, ...] = (),
) -> TimeloomApp:
    """The one factory for test apps: fixed clock, no animation, explicit theme."""
    app = TimeloomApp(
        UISettings(
            db_path=db,
            theme=theme,
            keymap=keymap or {},
            pace=pace,
            user_theme_dir=user_theme_dir,
            query_providers=query_providers,
            remember=remember,
            hide=hide,
        ),
        start=start,
        clock=lambda: 0.0,
    )
    app.animation_level = "none"
    return app


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until ``condition`` holds (the app's own work, not a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the app did not reach the expected state in time")
        await pilot.pause(0.02)


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def steady_inputs(app: Any) -> None:
    """No blinking cursors in screenshots."""
    from textual.widgets import Input

    for field in app.screen.query(Input):
        field.cursor_blink = False


PORTAL_SPEC = {
    "endpoint": "Halden Ring is stood down for thirty days after the Consortium finds an "
    "undeclared hazardous materials incident, and the Tycho ice haulers are stranded.",
    "endpoint_at": "2087-06-01T09:00:00Z",
    "origin_at": "2087-02-20T09:00:00Z",
    "backward_steps": 4,
    "candidates_per_step": 3,
    "path_count": 3,
}


def portal_scenario(folder: Path) -> Path:
    """The orbital audit as a PORTAL run: searched back from its stand-down in four steps."""
    import json

    data = json.loads(Path(load_scenario("orbital_audit").source).read_text())
    data.update(name="orbital_portal", mode="portal", portal=PORTAL_SPEC)
    data["timeline"]["beats"] = []
    path = folder / "orbital_portal.json"
    path.write_text(json.dumps(data))
    return path


async def record_portal(folder: Path, run_id: str = "run-portal", seed: int = 3) -> list[Any]:
    """Every event of an offline PORTAL run (recorded into a store of its own in ``folder``),
    to play as a scripted live engine. With seed 3 its paths turn one step before the end."""
    store = await Store.open(folder / "portal.db")
    events: list[Any] = []
    try:
        sim = Simulation(
            load_scenario(str(portal_scenario(folder))),
            provider=OfflineProvider(seed),
            store=store,
            seed=seed,
            run_id=run_id,
        )
        await sim.run(events.append)
    finally:
        await store.close()
    return events
