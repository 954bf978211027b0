"""Snapshots of the explorer's visual states (fixed seed, clock, size and theme)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tui_support import (
    make_app,
    record_portal,
    seed_fork,
    seed_runs,
    settle,
    steady_inputs,
    wait_until,
)

from engine.llm.offline import OfflineProvider
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store
from tui.app import StartLive, StartReplay
from tui.screens.home import HomeScreen
from tui.screens.run import RunScreen

SIZE = (150, 44)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("snap") / "snap.db"
    asyncio.run(
        seed_runs(
            path, [("run-harbor", "harbor_strike", 1), ("run-vintners", "vintners_council", 2)]
        )
    )
    return path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[ev.EventBase]:
    """The events of a lighthouse run, to replay as a scripted live engine."""

    async def record() -> list[ev.EventBase]:
        store = await Store.open(tmp_path_factory.mktemp("rec") / "rec.db")
        sim = Simulation(
            load_scenario("lighthouse_night"),
            provider=OfflineProvider(5),
            store=store,
            seed=5,
            run_id="run-live",
        )
        events: list[ev.EventBase] = []
        await sim.run(events.append)
        await store.close()
        return events

    return asyncio.run(record())


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    screen = pilot.app.screen
    if isinstance(screen, HomeScreen):
        runs, scenarios = screen.query_one("#runs"), screen.query_one("#scenarios")
        await wait_until(pilot, lambda: runs.row_count > 0 and scenarios.row_count > 0)
        runs.focus()
        await settle(pilot)
        # DataTables size their columns when idle: wait until both have.
        await wait_until(
            pilot,
            lambda: (
                not runs._require_update_dimensions and not scenarios._require_update_dimensions
            ),
        )
        await pilot.pause()
    if isinstance(screen, RunScreen):
        await wait_until(
            pilot,
            lambda: (
                screen.view is not None
                and screen.selected_tp is not None
                and screen.dialog_shown[-1:] == (screen.selected_tp,)
            ),
        )
        await settle(pilot)
    steady_inputs(pilot.app)
    await pilot.pause()


@pytest.mark.parametrize("theme", ["timeloom-dark", "timeloom-light", "timeloom-contrast"])
def test_home_screen(snap_compare, db: Path, theme: str) -> None:
    assert snap_compare(make_app(db, theme=theme), terminal_size=SIZE, run_before=_ready)


def test_replayed_run_at_a_chosen_timepoint(snap_compare, db: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await _ready(pilot)

    assert snap_compare(
        make_app(db, start=StartReplay("run-vintners")), terminal_size=SIZE, run_before=before
    )


def test_entity_inspector_knowledge(snap_compare, db: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await pilot.press("3", "down", "k")
        await _ready(pilot)

    assert snap_compare(
        make_app(db, start=StartReplay("run-harbor")), terminal_size=SIZE, run_before=before
    )


def test_entity_inspector_inner_life(snap_compare, db: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await pilot.press("3", "down", "i")
        await _ready(pilot)

    assert snap_compare(
        make_app(db, start=StartReplay("run-harbor")), terminal_size=SIZE, run_before=before
    )


def test_command_palette(snap_compare, db: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        palette = pilot.app.screen
        await pilot.press(*"hide tim")  # one match: what is drawn does not depend on timing
        await wait_until(pilot, lambda: palette.query_one("CommandList").option_count == 1)
        steady_inputs(pilot.app)
        await pilot.pause()

    assert snap_compare(
        make_app(db, start=StartReplay("run-harbor")), terminal_size=SIZE, run_before=before
    )


@pytest.mark.parametrize(
    "size", [SIZE, (80, 24), (120, 40), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}"
)
def test_live_run_mid_stream(
    snap_compare, tmp_path: Path, recorded: list[ev.EventBase], size: tuple[int, int]
) -> None:
    # The scripted engine stops in the middle of the third turn of the second timepoint.
    cut = 0
    turns = 0
    for i, event in enumerate(recorded):
        if isinstance(event, ev.DialogTurnStarted) and event.dialog_id == "tp02-d1":
            turns += 1
        if turns == 3 and isinstance(event, ev.DialogTokens) and event.dialog_id == "tp02-d1":
            cut = i + 4
            break
    script = recorded[:cut]
    hold = asyncio.Event()

    async def source():  # type: ignore[no-untyped-def]
        for event in script:
            yield event
        await hold.wait()

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        screen = pilot.app.screen
        await wait_until(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, RunScreen)
                and pilot.app.screen.view is not None
                and pilot.app.screen.view.run.llm_calls
                >= sum(1 for e in script if isinstance(e, ev.LLMCallFinished))
            ),
        )
        await pilot.pause(0.3)
        steady_inputs(pilot.app)
        assert screen is pilot.app.screen

    app = make_app(tmp_path / "live.db", start=StartLive("lighthouse_night", source=source))
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.fixture(scope="module")
def forked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vintners run with one fork: Marguerite removed from tp02 on."""
    path = tmp_path_factory.mktemp("fork") / "fork.db"
    asyncio.run(seed_fork(path, "run-fork"))
    return path


def test_a_fork_under_its_fork_point(snap_compare, forked: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        pilot.app.screen.select("b1.tp03")
        await _ready(pilot)

    assert snap_compare(
        make_app(forked, start=StartReplay("run-fork")), terminal_size=SIZE, run_before=before
    )


def test_the_fork_form_with_its_preview(snap_compare, forked: Path) -> None:
    from textual.widgets import Input, Select, Static

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        pilot.app.screen.select("tp01")
        await _ready(pilot)
        await pilot.press("b")
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ForkScreen")
        form = pilot.app.screen
        form.query_one("#fork-kind", Select).value = "withhold"
        form.query_one("#fork-entity", Input).value = "raymond_guerche"
        form.query_one("#fork-text", Input).value = "frost insurance lapsed"
        preview = form.query_one("#fork-preview", Static)
        await wait_until(pilot, lambda: "changes Raymond Guerche" in str(preview.render()))
        await settle(pilot)
        steady_inputs(pilot.app)
        await pilot.pause()

    assert snap_compare(
        make_app(forked, start=StartReplay("run-fork")), terminal_size=(80, 24), run_before=before
    )


def test_the_branch_diff(snap_compare, forked: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        pilot.app.screen.select("b1.tp03")
        await _ready(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "DiffScreen")
        await settle(pilot)

    assert snap_compare(
        make_app(forked, start=StartReplay("run-fork")), terminal_size=SIZE, run_before=before
    )


def test_the_fidelity_map(snap_compare, db: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await pilot.press("left_square_bracket")
        await _ready(pilot)
        await pilot.press("f")
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "FidelityMapScreen")
        await pilot.press("down", "down")
        await settle(pilot)

    assert snap_compare(
        make_app(db, start=StartReplay("run-vintners")), terminal_size=(80, 24), run_before=before
    )


@pytest.fixture(scope="module")
def portal_events(tmp_path_factory: pytest.TempPathFactory) -> list[ev.EventBase]:
    """The events of an offline PORTAL run, to play as a scripted live engine."""
    return asyncio.run(record_portal(tmp_path_factory.mktemp("portal")))


def test_the_portal_paths(snap_compare, tmp_path: Path, portal_events: list[ev.EventBase]) -> None:
    async def source():  # type: ignore[no-untyped-def]
        for event in portal_events:
            yield event

    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await wait_until(
            pilot,
            lambda: isinstance(pilot.app.screen, RunScreen) and pilot.app.screen.finished,
        )
        await _ready(pilot)
        await pilot.press("w")
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "PortalScreen")
        await wait_until(pilot, lambda: pilot.app.screen.redraws > 0)
        await pilot.press("up", "up", "left")  # the first path, one step before the endpoint
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    app = make_app(tmp_path / "live.db", start=StartLive("orbital_portal", source=source))
    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


def test_the_export_form_with_its_preview(snap_compare, db: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ExportScreen")
        await wait_until(pilot, lambda: pilot.app.screen.previewed)
        await settle(pilot)
        steady_inputs(pilot.app)
        await pilot.pause()

    assert snap_compare(
        make_app(db, start=StartReplay("run-vintners")), terminal_size=(80, 24), run_before=before
    )


@pytest.fixture(scope="module")
def converged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two lighthouse runs compared as a set, under a fixed set id and time."""
    from datetime import UTC, datetime

    from engine.convergence import compare_stored, running

    class Fixed(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
            return datetime(2030, 1, 7, 9, 0, tzinfo=UTC)

    path = tmp_path_factory.mktemp("conv") / "conv.db"

    async def make() -> None:
        await seed_runs(
            path, [("run-light-1", "lighthouse_night", 1), ("run-light-2", "lighthouse_night", 2)]
        )
        store = await Store.open(path)
        try:
            await compare_stored(store, ["run-light-1", "run-light-2"])
        finally:
            await store.close()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(running, "new_set_id", lambda: "cv-20300107-090000-5eed01")
        patch.setattr(running, "datetime", Fixed)
        asyncio.run(make())
    return path


def test_the_convergence_set(snap_compare, converged: Path) -> None:
    async def before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await pilot.press("c")
        await wait_until(
            pilot,
            lambda: (
                pilot.app.screen.__class__.__name__ == "ConvergenceScreen"
                and pilot.app.screen.detail is not None
            ),
        )
        await settle(pilot)

    assert snap_compare(make_app(converged), terminal_size=(80, 24), run_before=before)
