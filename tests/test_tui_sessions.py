"""Live sessions: each live screen watches its own run; a run left in the background goes on,
shows as live on the home screen, can be watched again or stopped from there."""

from __future__ import annotations

from pathlib import Path

from tui_support import make_app, settle, wait_until

from engine.session import OfflineRun
from engine.store import Store
from tui.screens.home import HomeScreen
from tui.screens.leave import LeaveLiveRun
from tui.screens.run import RunScreen


class HeldRun(OfflineRun):
    """An offline run that waits, paused, before its first timepoint: it is reliably still
    going when the test acts on it."""

    async def __call__(self, store, control):  # type: ignore[no-untyped-def]
        control.pause()
        return await super().__call__(store, control)


async def _counts(app, run_id: str) -> dict:  # type: ignore[no-untyped-def]
    summary = await (await app.bridge._store()).get_run(run_id)
    c = summary.counts
    return {
        "status": summary.status.value,
        "timepoints": c.timepoints,
        "dialog_turns": c.dialog_turns,
        "llm_calls": c.llm_calls,
        "tokens": summary.tokens,
    }


def _shown(screen: RunScreen) -> dict:
    run = screen.view.run
    return {
        "status": run.status,
        "timepoints": run.timepoints,
        "dialog_turns": run.dialog_turns,
        "llm_calls": run.llm_calls,
        "tokens": run.tokens,
    }


def _started(app) -> bool:  # type: ignore[no-untyped-def]
    """A live run screen is up and its run has started."""
    screen = app.screen
    return (
        isinstance(screen, RunScreen)
        and screen.session is not None
        and screen.session.run_id is not None
        and screen.view is not None
    )


async def _leave_keeping(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("escape")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, LeaveLiveRun))
    await pilot.press("k")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))


async def test_two_live_runs_keep_to_their_own_screens(tmp_path: Path) -> None:
    app = make_app(tmp_path / "live.db")
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        # Run A: held before its first timepoint, then left running in the background.
        app.push_screen(
            RunScreen("live", scenario="harbor_strike", factory=HeldRun("harbor_strike", 3))
        )
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and app.screen.view is not None
                and app.screen.view.entities
            ),
        )
        first = app.screen
        session_a = first.session
        run_a = session_a.run_id
        assert first.check_action("step", ()) is True
        await _leave_keeping(pilot)
        assert session_a.running and not session_a.attached

        # Run B: launched while A goes on; it runs to its end on its own screen.
        app.launch("lighthouse_night", seed=2)
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen is not first
        )
        second = app.screen
        await wait_until(pilot, lambda: second.finished, 120)
        run_b = second.session.run_id
        assert run_b != run_a
        assert second.runs_seen == {run_b}, "run A's events reached run B's screen"
        assert first.runs_seen == {run_a}
        assert _shown(second) == await _counts(app, run_b)
        assert second.check_action("step", ()) is False  # a finished run is not stepped

        # Home: A is live in the background; open it again and it is current.
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        home = app.screen
        await wait_until(pilot, lambda: any(r.run_id == run_a for r in home.runs))
        table = home.query_one("#runs")
        await wait_until(pilot, lambda: "live" in str(table.get_row(run_a)[3]))
        app.open_run(run_a)
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and app.screen.session is session_a
                and app.screen.view is not None
            ),
        )
        again = app.screen
        assert again.view is not None and again.view.run.run_id == run_a
        assert set(again.view.entities) == set(session_a.view.entities)
        await pilot.press("p")  # resume it
        await wait_until(pilot, lambda: again.finished, 180)
        assert again.runs_seen == {run_a}
        assert _shown(again) == await _counts(app, run_a)
        assert again.view.run.status == "completed"


async def test_a_background_run_can_be_stopped_from_home(tmp_path: Path) -> None:
    app = make_app(tmp_path / "stop.db")
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        app.push_screen(
            RunScreen("live", scenario="vintners_council", factory=HeldRun("vintners_council", 1))
        )
        await wait_until(
            pilot,
            lambda: _started(app),
        )
        session = app.screen.session
        await _leave_keeping(pilot)
        home = app.screen
        table = home.query_one("#runs")
        await wait_until(
            pilot, lambda: table.row_count > 0 and "live" in str(table.get_row(session.run_id)[3])
        )
        table.move_cursor(row=table.get_row_index(session.run_id))
        await pilot.press("x")
        await wait_until(pilot, lambda: not session.running, 30)
        assert session.status == "stopped"
        assert (await _counts(app, session.run_id))["status"] == "stopped"
        await wait_until(pilot, lambda: "live" not in str(table.get_row(session.run_id)[3]))


async def test_leaving_can_stop_the_run_and_quitting_stops_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "quit.db"
    app = make_app(db)
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        app.push_screen(
            RunScreen("live", scenario="harbor_strike", factory=HeldRun("harbor_strike", 1))
        )
        await wait_until(pilot, lambda: _started(app))
        stopped = app.screen.session
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LeaveLiveRun))
        await pilot.press("s")
        await wait_until(pilot, lambda: not stopped.running, 30)
        assert stopped.status == "stopped"
        app.push_screen(
            RunScreen("live", scenario="river_spirit", factory=HeldRun("river_spirit", 1))
        )
        await wait_until(pilot, lambda: _started(app))
        left = app.screen.session
        await _leave_keeping(pilot)
        assert left.running
    # The explorer closed with a run still going: it was stopped, not left "running".
    store = await Store.open(db)
    try:
        assert (await store.get_run(left.run_id)).status.value == "stopped"
    finally:
        await store.close()


async def test_a_signal_stops_the_watched_run_with_its_reason_and_closes_the_explorer(
    tmp_path: Path,
) -> None:
    """SIGTERM to the explorer: the live run is recorded as stopped "stopped by SIGTERM" (not
    as closed by the viewer), and the explorer closes."""
    import os
    import signal

    app = make_app(tmp_path / "signal.db")
    async with app.run_test(size=(160, 44)) as pilot:
        await settle(pilot)
        app.push_screen(
            RunScreen("live", scenario="harbor_strike", factory=HeldRun("harbor_strike", 3))
        )
        await wait_until(pilot, lambda: _started(app))
        run_id = app.screen.session.run_id
        # the explorer handles SIGTERM (else the signal would end the test process itself)
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)
        os.kill(os.getpid(), signal.SIGTERM)
        await wait_until(pilot, lambda: app.signalled is not None and not app.bridge.live)
        assert app.signalled == "stopped by SIGTERM"
    store = await Store.open(tmp_path / "signal.db")
    try:
        summary = await store.get_run(run_id)
        assert (summary.status.value, summary.status_reason) == ("stopped", "stopped by SIGTERM")
    finally:
        await store.close()
