"""The paths view of a PORTAL run: its lanes are the kept paths (or the frontier while the search
goes), the detail pane lists a slot's competing antecedents with their scores, ``c`` compares
two paths step by step, ``enter`` opens a state's timepoint in the run screen, and the view
follows a live search. At 80×24 and larger."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tui_support import make_app, record_portal, seed_runs, settle, wait_until

from engine.model import events as ev
from engine.model import portal_events as pe
from engine.view import RunView
from engine.view.portal import PortalView
from tui.app import StartLive, StartReplay
from tui.commands import offered
from tui.messages import ViewChanged
from tui.screens.portal import PortalCompareScreen, PortalScreen, timepoint_of
from tui.screens.run import RunScreen
from tui.widgets.portal import (
    DIVERGENCE_KEY,
    PIVOT,
    CandidateTable,
    PathLanes,
    bar,
    clip,
    comparison,
    frontier_lanes,
    lane_label,
    lanes_of,
    path_lanes,
)
from tui.widgets.timeline import TimelineTree


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[ev.EventBase]:
    return asyncio.run(record_portal(tmp_path_factory.mktemp("portal")))


def folded(events: list[ev.EventBase]) -> RunView:
    view = RunView.starting(next(e for e in events if isinstance(e, ev.RunStarted)))
    for event in events:
        if not isinstance(event, ev.RunStarted):
            view.apply(event)
    return view


def scripted(events: list[ev.EventBase], gate: asyncio.Event | None = None, cut: int = -1):  # type: ignore[no-untyped-def]
    """A live engine playing ``events``; with a gate, it holds after ``events[cut]``."""

    async def source():  # type: ignore[no-untyped-def]
        for i, event in enumerate(events):
            yield event
            if gate is not None and i == cut:
                await gate.wait()

    return source


def _text(widget) -> str:  # type: ignore[no-untyped-def]
    return str(widget.render())


async def _finished(pilot) -> RunScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, RunScreen)
            and app.screen.finished
            and app.screen.view is not None
            and app.screen.dialog_shown[-1:] == (app.screen.selected_tp,)
        ),
    )
    await settle(pilot)
    return app.screen


async def _open_paths(pilot) -> PortalScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press("w")
    await wait_until(pilot, lambda: isinstance(app.screen, PortalScreen))
    screen = app.screen
    await wait_until(pilot, lambda: screen.redraws > 0)
    await pilot.pause()  # not settle: a held live engine is a worker that does not end
    return screen


# --------------------------------------------------------------------------- pure parts
def test_the_words_and_marks() -> None:
    assert clip("Oskar Bellweather signs off", 10) == "Oskar Bel…"
    assert clip("short", 10) == "short" and clip("two\nlines", 20) == "two lines"
    assert bar(None) == "·" and bar(0.0) == "▁" and bar(1.0) == "█" and bar(2.0) == "█"


def test_lanes_are_the_kept_paths_and_before_them_the_frontier(
    recorded: list[ev.EventBase],
) -> None:
    view = folded(recorded)
    portal = view.portal
    lanes = path_lanes(portal)
    assert [lane.branch_id for lane in lanes] == [k.branch_id for k in portal.kept]
    for lane, kept in zip(lanes, portal.kept, strict=True):
        assert tuple(c.candidate_id for c in lane.cells) == kept.candidate_ids
        assert lane.pivots == {p.position for p in portal.pivots_of(kept.branch_id)}
        for position in range(portal.steps + 1):
            tp = timepoint_of(view, kept.branch_id, position)
            assert tp is not None and view.timepoint(tp).index == position
            assert view.timepoint(tp).branch_id == kept.branch_id
    # before the paths are kept: a lane per rank of the beams chosen so far
    second = [i for i, e in enumerate(recorded) if isinstance(e, pe.PortalBeamKept)][1]
    early = PortalView.of(recorded[: second + 1])
    frontier = frontier_lanes(early)
    assert frontier and lanes_of(early) == frontier
    assert all(lane.branch_id is None for lane in frontier)
    for beam in early.beams:
        position = early.steps - beam.slot
        shown = [lane.cells[position] for lane in frontier if lane.cells[position]]
        assert tuple(c.candidate_id for c in shown) == beam.kept
    # two paths step by step: where they differ is where their states do
    a, b = portal.kept[0].branch_id, portal.kept[-1].branch_id
    rows = comparison(portal, a, b)
    assert len(rows) == portal.steps + 1
    for _, left, right, differ in rows:
        assert differ == (left.candidate_id != right.candidate_id)
    assert rows[-1][3] is False  # the endpoint is shared


def test_a_lane_says_its_rank_coherence_and_warning(recorded: list[ev.EventBase]) -> None:
    from dataclasses import replace

    colours = {"accent": "", "warning": "", "text-muted": "", "primary": ""}
    lane = path_lanes(folded(recorded).portal)[0]
    assert str(lane_label(lane, None, colours)) == f" #1 {lane.branch_id} {lane.coherence:.2f}"
    warned = replace(lane, warning="kept below the coherence threshold", coherence=None)
    assert str(lane_label(warned, lane.key, colours)) == f"▸#1 {lane.branch_id} — ⚠"


# --------------------------------------------------------------------------- the view
@pytest.mark.parametrize("size", [(80, 24), (150, 44)])
async def test_the_paths_view(tmp_path: Path, recorded: list[ev.EventBase], size) -> None:  # type: ignore[no-untyped-def]
    app = make_app(
        tmp_path / "live.db", start=StartLive("orbital_portal", source=scripted(recorded))
    )
    async with app.run_test(size=size) as pilot:
        run = await _finished(pilot)
        view = run.view
        portal = view.portal
        # the tree copes with branches that have no fork point: each path at the top
        tree = run.query_one(TimelineTree)
        tops = [str(node.label) for node in tree.root.children]
        assert [t.split()[1] for t in tops] == [k.branch_id for k in portal.kept]
        assert all(t.startswith("⑂ ") for t in tops)
        assert "w" in {b.key for _, b, enabled, _ in run.active_bindings.values() if b.show}

        screen = await _open_paths(pilot)
        lanes = screen.query_one(PathLanes)
        # one row per kept path, then the divergence row
        assert lanes.row_count == len(portal.kept) + 1
        assert len(lanes.columns) == portal.steps + 1
        for row, kept in enumerate(portal.kept):
            label = str(lanes.rows[lanes.ordered_rows[row].key].label)
            assert f"#{kept.rank} {kept.branch_id}" in label
            assert f"{kept.coherence:.2f}" in label
            for position in range(portal.steps):  # the endpoint column is shared
                cell = str(lanes.get_cell_at((row, position)))
                state = portal.candidates[kept.candidate_ids[position]]
                assert cell.split("\n")[1].rstrip("…") in state.title
                pivot = any(p.position == position for p in portal.pivots_of(kept.branch_id))
                assert cell.startswith(PIVOT) == pivot
        endpoint = str(lanes.get_cell_at((0, portal.steps))).split("\n")[1]
        assert endpoint.strip(" │").rstrip("…") in "The endpoint"
        divergence = len(portal.kept)
        assert lanes.ordered_rows[divergence].key.value == DIVERGENCE_KEY
        for position, value in enumerate(portal.divergence):
            assert f"{value:.2f}" in str(lanes.get_cell_at((divergence, position)))
        headings = [str(c.label) for c in lanes.ordered_columns]
        assert all(headings[p].startswith("★") for p in portal.key_positions)
        # the cursor starts where the run screen was: the last path's endpoint
        lane, position, state = lanes.cell_under_cursor()
        assert lane.branch_id == view.timepoint(run.selected_tp).branch_id
        # one step back on the first path: its slot's candidates, best first, with scores
        await pilot.press("up", "up", "left")
        await pilot.pause()
        lane, position, state = lanes.cell_under_cursor()
        assert lane.branch_id == portal.kept[0].branch_id and position == portal.steps - 1
        slot = portal.steps - position
        table = screen.query_one(CandidateTable)
        expected = portal.at_slot(slot)
        assert table.shown == tuple(c.candidate_id for c in expected) and len(expected) > 1
        for row, c in enumerate(expected):
            cells = [str(x) for x in table.get_row_at(row)]
            assert cells[2] == f"{c.score:.2f}"
            assert cells[-2] in (c.beam, "aside")
            assert cells[0] == ("▶" if c.candidate_id == state.candidate_id else "")
        assert table.cursor_row == table.shown.index(state.candidate_id)
        detail = _text(screen.query_one("#portal-state"))
        assert state.title.rstrip("…")[:30] in detail and f"{state.score:.2f}" in detail
        for part, value in state.components.items():
            assert f"{part.replace('_', ' ')} {value:.2f}" in detail
        for part, why in state.missing.items():
            assert f"{part.replace('_', ' ')} missing: {why}" in detail
        assert state.missing, "offline, historical precedent is not judged: said, with why"
        assert position in lane.pivots, "the recorded run turns one step before its endpoint"
        pivot = next(p for p in portal.pivots_of(lane.branch_id) if p.position == position)
        assert f"{PIVOT} pivot: {pivot.sentence}" in detail
        # compare the first path with the second, step by step
        await pilot.press("c")
        await pilot.pause()
        assert lanes.marked == portal.kept[0].branch_id
        await pilot.press("down", "c")
        await wait_until(pilot, lambda: isinstance(app.screen, PortalCompareScreen))
        compare = app.screen
        await settle(pilot)
        rows = comparison(portal, portal.kept[0].branch_id, portal.kept[1].branch_id)
        table = compare.query_one("#compare-table")
        assert table.row_count == len(rows) == portal.steps + 1
        for row, (_, left, right, differ) in enumerate(rows):
            cells = [str(x) for x in table.get_row_at(row)]
            assert cells[1] == ("≠" if differ else "=")
            assert cells[3] == ("—" if left.score is None else f"{left.score:.2f}")
            assert cells[5] == ("—" if right.score is None else f"{right.score:.2f}")
        assert any(r[3] for r in rows) and not rows[-1][3]
        head = _text(compare.query_one("#compare-head"))
        assert f"differ at {sum(1 for r in rows if r[3])} of {len(rows)}" in head
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        assert lanes.marked is None
        # enter: the run screen shows that state's timepoint
        lane, position, _ = lanes.cell_under_cursor()
        wanted = timepoint_of(view, lane.branch_id, position)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is run)
        await wait_until(pilot, lambda: run.dialog_shown[-1:] == (wanted,))
        await settle(pilot)
        assert run.selected_tp == wanted and run.follow is False
        assert tree.cursor_node is not None and tree.cursor_node.data == wanted
        assert wanted in _text(run.query_one("#scrubber")) or run.selected_tp == wanted
        # escape leaves the view as it was
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, PortalScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is run)
        assert run.selected_tp == wanted


async def test_the_view_follows_a_live_search(tmp_path: Path, recorded: list[ev.EventBase]) -> None:
    # The scripted engine holds after the second beam, until the view is open.
    cut = [i for i, e in enumerate(recorded) if isinstance(e, pe.PortalBeamKept)][1]
    gate = asyncio.Event()
    seen: list = []
    app = make_app(
        tmp_path / "live.db",
        start=StartLive("orbital_portal", source=scripted(recorded, gate, cut)),
    )
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and app.screen.view is not None
                and len(app.screen.view.portal.beams) == 2
            ),
        )
        run = app.screen
        screen = await _open_paths(pilot)
        lanes = screen.query_one(PathLanes)
        portal = run.view.portal
        assert not portal.kept and lanes.lanes and all(x.branch_id is None for x in lanes.lanes)
        assert lanes.row_count == max(len(b.kept) for b in portal.beams)
        assert "frontier" in str(lanes.border_title)
        assert "searching backwards: 2 of 4 steps" in _text(screen.query_one("#portal-head"))
        lanes.move_to("frontier1", portal.steps - 1)  # the state nearest the endpoint
        await pilot.pause()
        assert lanes.cell_under_cursor()[2] is not None
        await pilot.press("c")  # no path to compare yet
        await pilot.press("enter")  # nor to open
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)
        texts = [n.message for n in app._notifications]
        assert any("only kept paths are played" in t for t in texts)
        assert any("cursor on a kept path" in t for t in texts)
        gate.set()
        await wait_until(pilot, lambda: run.finished)
        # the kept paths drawn (a frontier of as many lanes as there are kept paths is not
        # them: that was a race under load)
        await wait_until(
            pilot,
            lambda: (
                bool(run.view.portal.kept)
                and [x.branch_id for x in lanes.lanes]
                == [k.branch_id for k in run.view.portal.kept]
                and not screen.stale
            ),
        )
        assert any(isinstance(m, ViewChanged) and "portal" in m.changes for m in seen)
        assert [x.branch_id for x in lanes.lanes] == [k.branch_id for k in portal.kept]
        assert lanes.row_count == len(portal.kept) + 1


async def test_a_run_that_is_not_a_portal_run_has_no_paths(tmp_path: Path) -> None:
    db = tmp_path / "tui.db"
    await seed_runs(db, [("run-vintners", "vintners_council", 2)])
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        await settle(pilot)
        run = app.screen
        shown = {b.key for _, b, _, _ in run.active_bindings.values() if b.show}
        assert "w" not in shown
        portal_binding = next(b for b in run.BINDINGS if b.action == "portal")
        assert not offered(run, portal_binding)  # nor in the palette or the help
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert any("only a PORTAL run has paths" in n.message for n in app._notifications)


async def test_a_stored_portal_run_opens_its_paths(
    tmp_path: Path, recorded: list[ev.EventBase]
) -> None:
    """A stored run's paths, once the store gives its PORTAL record back."""
    folder = tmp_path / "stored"
    folder.mkdir()
    await record_portal(folder)
    app = make_app(folder / "portal.db", start=StartReplay("run-portal"))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        await settle(pilot)
        run = app.screen
        if not run.view.portal.active:
            pytest.skip("stored runs do not carry their PORTAL record yet")
        screen = await _open_paths(pilot)
        lanes = screen.query_one(PathLanes)
        assert [x.branch_id for x in lanes.lanes] == [
            k.branch_id for k in folded(recorded).portal.kept
        ]


async def test_the_paths_key_is_remapped_by_its_id(
    tmp_path: Path, recorded: list[ev.EventBase]
) -> None:
    app = make_app(
        tmp_path / "live.db",
        start=StartLive("orbital_portal", source=scripted(recorded)),
        keymap={"run.portal": "y"},
    )
    async with app.run_test(size=(80, 24)) as pilot:
        run = await _finished(pilot)
        await pilot.press("w")
        await pilot.pause()
        assert app.screen is run
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, PortalScreen))
