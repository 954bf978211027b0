"""The fidelity map and the inspector's Resolution section: what they show is what the read
model says, ``e`` hands ``/elevate`` to the query bar, and the map follows a live run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tui_support import make_app, seed_runs, settle, wait_until

from engine.llm.offline import OfflineProvider
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store
from engine.view.fidelity import MARKERS
from tui.app import StartLive, StartReplay
from tui.messages import PrefillQuery, ViewChanged
from tui.screens.fidelity import FidelityMapScreen
from tui.screens.run import RunScreen
from tui.widgets.fidelity import (
    FidelityGrid,
    elevate_command,
    next_level,
    raise_cost,
    short_name,
    short_tokens,
)
from tui.widgets.inspector import EntityInspector
from tui.widgets.querybar import QueryBar


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "tui.db"
    await seed_runs(path, [("run-vintners", "vintners_council", 2)])
    return path


async def _opened(pilot) -> RunScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, RunScreen)
            and app.screen.view is not None
            and app.screen.dialog_shown[-1:] == (app.screen.selected_tp,)
        ),
    )
    await settle(pilot)
    return app.screen


def _text(widget) -> str:  # type: ignore[no-untyped-def]
    return str(widget.render())


def test_the_words_for_levels_and_costs() -> None:
    assert next_level("scene") == "graph" and next_level("trained") is None
    assert short_tokens(0) == "·" and short_tokens(640) == "640"
    assert short_tokens(2100) == "2.1k" and short_tokens(12_400) == "12k"
    costs = {"dialog": 2100.0, "scene": 0.0}
    assert raise_cost("graph", costs) == (
        "raising it to dialog costs about 2.1k tokens a timepoint on this run"
    )
    assert raise_cost("dialog", costs) == (
        "raising it to trained: no trained cell on this run to measure"
    )
    assert raise_cost("tensor_only", costs) == "raising it to scene costs no tokens on this run"
    assert elevate_command("mara", "tp02", "graph") == "/elevate @mara@tp02 to dialog"
    assert elevate_command("mara", None, "scene") == "/elevate @mara to graph"
    assert elevate_command("mara", "tp02", "trained") is None
    assert short_name("Marguerite Solane") == "M. Solane"
    assert short_name("Bastien Ferrol") == "Bastien Ferrol"
    assert short_name("Aurelianopolitanus", 10) == "Aureliano…"


async def test_the_fidelity_map_shows_the_read_model_and_hands_over_elevate(db: Path) -> None:
    seen: list = []
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        screen = await _opened(pilot)
        view = screen.view
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, FidelityMapScreen))
        await settle(pilot)
        fmap = app.screen
        grid = fmap.query_one(FidelityGrid)
        chain = [t.timepoint_id for t in view.chain(screen.selected_tp)]
        assert grid.row_count == len(view.entities)
        assert len(grid.columns) == len(chain) and grid.columns_shown == tuple(chain)
        for row, entity_id in enumerate(view.entities):
            for column, tp in enumerate(chain):
                shown = str(grid.get_cell_at((row, column)))
                level = view.level_at(entity_id, tp)
                assert level is not None and shown.startswith(MARKERS[level.level] + " ")
                assert shown.endswith(short_tokens(view.tokens_at(entity_id, tp)))
        # the cursor starts on the selected entity at the selected moment, and stays there
        # when the theme (and so every cell's colour) changes
        drawn = fmap.redraws
        app.use_theme("timeloom-light", announce=False)
        await wait_until(pilot, lambda: fmap.redraws > drawn)
        cell = grid.cell_under_cursor()
        assert cell is not None
        assert (cell.entity_id, cell.timepoint_id) == (screen.selected_entity, screen.selected_tp)
        # one step back in time: the detail line names that cell's level and reason
        await pilot.press("left", "down")
        await pilot.pause()
        cell = grid.cell_under_cursor()
        assert cell is not None and cell.timepoint_id == chain[-2]
        info = view.level_at(cell.entity_id, cell.timepoint_id)
        detail = _text(fmap.query_one("#fidelity-detail"))
        name = view.entities[cell.entity_id].name
        assert name in detail and cell.timepoint_id in detail
        assert view.timepoint(cell.timepoint_id).title in detail
        assert info.level in detail and info.reason in detail
        assert "set by the fidelity plan" in detail
        target = next_level(info.level)
        if target is not None:
            assert f"raising it to {target}" in detail
        legend = _text(fmap.query_one("#fidelity-legend"))
        assert all(f"{m} " in legend for m in MARKERS.values())
        # e: back on the run screen, the query bar holds /elevate for that cell
        await pilot.press("e")
        await wait_until(pilot, lambda: app.screen is screen)
        await settle(pilot)
        expected = f"/elevate @{cell.entity_id}@{cell.timepoint_id} to {target}"
        bar = screen.query_one(QueryBar)
        assert any(isinstance(m, PrefillQuery) and m.text == expected for m in seen)
        assert bar.value == expected and app.focused is bar
        # escape leaves the map without touching the query bar
        bar.value = ""
        await pilot.press("escape")  # the query bar lets go of the focus
        screen.query_one("#timeline").focus()
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, FidelityMapScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert bar.value == ""


async def test_the_inspector_shows_resolution_and_raises_it(db: Path) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await _opened(pilot)
        view = screen.view
        await pilot.press("left_square_bracket")  # tp03
        await settle(pilot)
        await pilot.press("3", "down", "l")
        await settle(pilot)
        entity_id, at = screen.selected_entity, screen.selected_tp
        assert at == "tp03"
        inspector = screen.query_one(EntityInspector)
        text = _text(inspector.query_one("#resolution-list"))
        now = view.level_at(entity_id, at)
        assert now is not None
        assert f"at {at}: {MARKERS[now.level]}" in text and now.reason in text
        lineage = view.lineage(at)
        history = [i for i in view.levels_of(entity_id) if i.timepoint_id in lineage]
        assert f"history ({len(history)} changes)" in text
        assert all(i.timepoint_id in text and i.reason in text for i in history)
        assert "tp04" not in text  # a later moment is not part of this one's history
        assert "e: raise its fidelity" in text or now.level == "trained"
        await pilot.press("e")
        await settle(pilot)
        bar = screen.query_one(QueryBar)
        assert bar.value == f"/elevate @{entity_id}@{at} to {next_level(now.level)}"
        assert app.focused is bar


def test_history_names_the_query_that_raised_or_created(tmp_path: Path) -> None:
    from engine.model.records import LevelInfo
    from tui.widgets.fidelity import cause_text

    raised = LevelInfo("mara", "tp02", "dialog", "asked about the fire", "query", "q0003", 9)
    created = LevelInfo("kit", "tp02", "scene", "created on demand: Kit", "created", "q0004", 10)
    assert cause_text(raised) == "by query q0003"
    assert cause_text(created) == "created by q0004"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[ev.EventBase]:
    async def record() -> list[ev.EventBase]:
        store = await Store.open(tmp_path_factory.mktemp("rec") / "rec.db")
        sim = Simulation(
            load_scenario("harbor_strike"),
            provider=OfflineProvider(1),
            store=store,
            seed=1,
            run_id="run-live",
        )
        events: list[ev.EventBase] = []
        await sim.run(events.append)
        await store.close()
        return events

    return asyncio.run(record())


async def test_the_map_follows_a_live_run(tmp_path: Path, recorded: list[ev.EventBase]) -> None:
    # The scripted engine holds after the first timepoint's plan, until the map is open.
    first_plan = next(i for i, e in enumerate(recorded) if isinstance(e, ev.FidelityPlanned))
    gate = asyncio.Event()
    total = sum(1 for e in recorded if isinstance(e, ev.TimepointCreated))

    async def source():  # type: ignore[no-untyped-def]
        for event in recorded[: first_plan + 1]:
            yield event
        await gate.wait()
        for event in recorded[first_plan + 1 :]:
            yield event

    seen: list = []
    app = make_app(tmp_path / "live.db", start=StartLive("harbor_strike", source=source))
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:

        def planned() -> bool:
            view = getattr(app.screen, "view", None)
            if not isinstance(app.screen, RunScreen) or view is None or not view.timepoints:
                return False
            tp = view.timepoints[0].timepoint_id
            return all(view.level_at(e, tp) is not None for e in view.entities)

        await wait_until(pilot, planned)
        screen = app.screen
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, FidelityMapScreen))
        fmap = app.screen
        grid = fmap.query_one(FidelityGrid)
        assert len(grid.columns_shown) == 1
        gate.set()
        await wait_until(pilot, lambda: screen.finished)
        await wait_until(pilot, lambda: len(grid.columns_shown) == total and not fmap.stale)
        assert any(isinstance(m, ViewChanged) and "fidelity" in m.changes for m in seen)
        assert fmap.view is screen.view and grid.row_count == len(screen.view.entities)
        for row, entity_id in enumerate(grid.rows_shown):
            for column, tp in enumerate(grid.columns_shown):
                shown = str(grid.get_cell_at((row, column)))
                assert shown.endswith(short_tokens(screen.view.tokens_at(entity_id, tp)))
                level = screen.view.level_at(entity_id, tp)
                assert level is not None and shown.startswith(MARKERS[level.level])
        assert any(c.tokens for c in grid.cells.values())


async def test_a_query_that_raises_someone_asks_first_and_shows_its_provenance(db: Path) -> None:
    from tui.screens.modals import ConfirmScreen
    from tui.widgets.dialog import QueryView

    seen: list = []
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(100, 30), message_hook=seen.append) as pilot:
        screen = await _opened(pilot)
        view = screen.view
        at = screen.selected_tp
        low = min(
            view.entities,
            key=lambda e: ("tensor_only", "scene", "graph", "dialog", "trained").index(
                view.level_at(e, at).level
            ),
        )
        assert view.level_at(low, at).level in ("tensor_only", "scene", "graph")
        bar = screen.query_one(QueryBar)
        bar.focus()
        bar.value = f"@{low} why did you keep quiet tonight?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Raise" in app.screen.text and "tokens" in app.screen.text
        await pilot.press("y")
        await wait_until(pilot, lambda: any(type(m).__name__ == "QueryDone" for m in seen))
        done = next(m for m in seen if type(m).__name__ == "QueryDone")
        assert done.note and "raise" in done.note
        await pilot.pause()
        assert len(screen.query(QueryView)) == 1
        from tui.widgets.dialog import ObserverNote

        notes = screen.query(ObserverNote)
        assert len(notes) == 1 and done.query_id in str(notes[0].render())
        # declining spends nothing: no second answer, the dialog pane unchanged
        bar.focus()
        other = sorted(e for e in view.entities if e != low)[0]
        bar.value = "@nobody_called_this_7 were you there?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        dones = {id(m) for m in seen if type(m).__name__ == "QueryDone"}  # bubbles: seen twice
        assert len(dones) == 1
        bar.focus()
        bar.value = f'/why @{other} "frost"'
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(type(m).__name__ == "QueryNotice" for m in seen))
    store = await Store.open(db)
    try:
        levels = await store.table("fidelity", "run-vintners")
        assert any(r["cause"] == "query" and r["entity_id"] == low for r in levels)
        entities = await store.table("entities", "run-vintners")
        assert "nobody_called_this_7" not in {r["entity_id"] for r in entities}
    finally:
        await store.close()
