"""The convergence view: the stored sets listed from the runs list (by key and by the
palette), one set shown with its runs, score, pairwise scores, divergence points and edges; an
empty database says how to make a set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Input, Static, TabbedContent
from tui_support import make_app, seed_runs, settle, wait_until

from engine.convergence import compare_stored
from engine.store import Store
from tui.messages import ConvergenceSetLoaded, ConvergenceSetsLoaded
from tui.screens.convergence import ConvergenceScreen
from tui.screens.home import HomeScreen

SIZE = (100, 32)


@pytest.fixture
async def made(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """Two offline lighthouse runs with different seeds, compared and kept as a set."""
    db = tmp_path / "conv.db"
    await seed_runs(
        db, [("run-light-1", "lighthouse_night", 1), ("run-light-2", "lighthouse_night", 2)]
    )
    store = await Store.open(db)
    try:
        made = await compare_stored(store, ["run-light-1", "run-light-2"])
    finally:
        await store.close()
    return db, made.to_json()


async def _home(pilot: Any) -> None:
    await settle(pilot)
    runs = pilot.app.screen.query_one("#runs", DataTable)
    await wait_until(pilot, lambda: runs.row_count > 0)
    runs.focus()
    await pilot.pause()


async def _shown(pilot: Any) -> ConvergenceScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConvergenceScreen))
    screen = pilot.app.screen
    assert isinstance(screen, ConvergenceScreen)
    await wait_until(
        pilot, lambda: screen.loaded and (screen.detail is not None or not screen.rows)
    )
    await settle(pilot)
    return screen


def _text(screen: ConvergenceScreen, pane: str) -> str:
    return str(screen.query_one(f"#{pane}-text", Static).render())


async def test_the_sets_are_listed_and_one_is_shown(made: tuple[Path, dict[str, Any]]) -> None:
    db, data = made
    seen: list = []
    app = make_app(db)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await _home(pilot)
        await pilot.press("c")
        screen = await _shown(pilot)
        assert any(isinstance(m, ConvergenceSetsLoaded) for m in seen)
        assert any(isinstance(m, ConvergenceSetLoaded) for m in seen)
        table = screen.query_one("#conv-sets", DataTable)
        assert table.row_count == 1
        row = [str(c) for c in table.get_row_at(0)]
        assert row[:5] == [
            data["set_id"],
            "lighthouse_night",
            "2",
            f"{data['score']:.3f}",
            data["grade"],
        ]
        assert not screen.query_one("#conv-empty").display

        detail = screen.detail
        assert detail is not None and detail.row.set_id == data["set_id"]
        overview = _text(screen, "conv-overview")
        assert f"score {data['score']:.3f}, grade {data['grade']}" in overview
        assert "seed 1" in overview and "run-light-1" in overview and "run-light-2" in overview
        pair = data["pairs"][0]
        assert f"{pair['jaccard']:.3f}  run-light-1 ~ run-light-2" in overview

        points = data["divergence_points"]
        assert points, "seeds 1 and 2 of the lighthouse diverge"
        first = min(points, key=lambda p: p["position"])
        assert f"first disagree at timepoint {first['position']} ‘{first['title']}’" in overview
        await pilot.press("enter")  # into the set's detail
        await pilot.pause()
        assert isinstance(screen.focused, VerticalScroll)
        await pilot.press("2")
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "conv-divergence"
        divergence = _text(screen, "conv-divergence")
        for p in points:
            assert f"timepoint {p['position']} ‘{p['title']}’" in divergence
            assert f"{p['shared_edges']} of {p['edges']} edges shared" in divergence
        some = next(d for p in points for side in p["sides"] for d in side["did"])
        assert some in divergence

        await pilot.press("3")
        await settle(pilot)
        edges = _text(screen, "conv-edges")
        assert f"only in some runs ({len(data['contested_edges'])})" in edges
        assert f"shared by every run ({len(data['consensus_edges'])})" in edges
        assert data["contested_edges"][0]["text"] in edges

        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.screen.query_one("#filter", Input).value == ""  # c was a key, not typing


async def test_the_palette_opens_the_convergence_view(made: tuple[Path, dict[str, Any]]) -> None:
    db, _ = made
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _home(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "CommandPalette")
        for key in "Convergence":
            await pilot.press(key)
        palette = app.screen
        await wait_until(pilot, lambda: palette.query_one("CommandList").option_count > 0)  # type: ignore[attr-defined]
        await pilot.press("enter")
        screen = await _shown(pilot)
        assert screen.query_one("#conv-sets", DataTable).row_count == 1


async def test_no_sets_says_how_to_make_one(tmp_path: Path) -> None:
    db = tmp_path / "none.db"
    await seed_runs(db, [("run-light-1", "lighthouse_night", 1)])
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _home(pilot)
        await pilot.press("c")
        screen = await _shown(pilot)
        empty = screen.query_one("#conv-empty", Static)
        assert empty.display and not screen.query_one("#conv-sets").display
        assert "timeloom convergence SCENARIO --runs 3" in str(empty.render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
