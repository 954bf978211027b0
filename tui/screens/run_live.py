"""The live half of the run screen: folding the session's events into the panes as they
arrive, and the actions that only a run still going has (pause, step, pace, leaving it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.model import events as ev
from engine.view import RunView

from ..messages import EngineEvents, LiveRunEnded, ViewChanged
from ..widgets.dialog import DialogPane
from ..widgets.querybar import QueryBar
from ..widgets.status import Scrubber, StatusLine
from ..widgets.timeline import TimelineTree
from .leave import LeaveLiveRun

if TYPE_CHECKING:
    from ..session import LiveSession


class LiveRunPart:
    """Mixed into :class:`~tui.screens.run.RunScreen`; uses its panes and its selection."""

    session: LiveSession | None
    view: RunView | None
    app: Any
    scenario: str | None

    # ------------------------------------------------------------------ live
    def show_starting(self) -> None:
        """Until the run's first events arrive: say that it is starting, not blank panes."""
        from textual.widgets import Static

        what = self.scenario or "the run"
        self.query_one(StatusLine).update(f"starting {what}…")
        self.query_one(DialogPane).mount(
            Static(
                f"starting {what}: making its people and its first moment…",
                id="starting",
                markup=False,
            )
        )

    async def on_engine_events(self, message: EngineEvents) -> None:
        self.batches_seen += 1
        pane = self.query_one(DialogPane)
        for placeholder in pane.query("#starting"):  # the run has begun
            await placeholder.remove()
        events = message.events
        self.runs_seen.update({e.run_id for e in events})
        # A turn that starts and finishes within one batch is drawn once, finished: there is
        # nothing to watch arrive, and it saves redrawing a streaming widget.
        finished_here = {
            (e.turn.dialog_id, e.turn.turn_index)
            for e in events
            if isinstance(e, ev.DialogTurnFinished)
        }
        changed: set[str] = set()
        for event in events:
            if isinstance(event, ev.RunStarted):
                self._adopt(RunView.starting(event))
                changed.add("run")
                continue
            if self.view is None:
                continue
            changed |= self.view.apply(event)
            if isinstance(event, ev.EntityCreated):
                self.query_one(QueryBar).entities[event.profile.entity_id] = event.profile.name
            elif isinstance(event, ev.BudgetWarning):
                self.notify(event.message, title="Budget", severity="warning", timeout=6)
            elif isinstance(event, ev.SceneRead | ev.AtmosphereShifted):
                pane.show_scene(event.timepoint_id, self.view.scene(event.timepoint_id))
            if not self.follow:
                continue
            if isinstance(event, ev.TimepointCreated):
                await self._follow_to(event.timepoint.timepoint_id)
            elif isinstance(event, ev.DialogTurnStarted):
                key = (event.dialog_id, event.turn_index)
                turn = self.view.turn(*key)
                if (
                    key not in finished_here
                    and turn is not None
                    and turn.timepoint_id in pane.window
                ):
                    await pane.add_turn(turn, self.name_of, self.colour_of)
            elif isinstance(event, ev.DialogStreamReset):
                widget = pane.turn_views.get((event.dialog_id, event.turn_index))
                if widget is not None:
                    widget.reset()
            elif isinstance(event, ev.DialogTokens):
                widget = pane.turn_views.get((event.dialog_id, event.turn_index))
                if widget is not None:
                    self.chunks_shown += 1
                    widget.write(event.text)
            elif isinstance(event, ev.DialogTurnFinished | ev.DialogTurnFailed):
                key = (
                    (event.turn.dialog_id, event.turn.turn_index)
                    if isinstance(event, ev.DialogTurnFinished)
                    else (event.dialog_id, event.turn_index)
                )
                turn = self.view.turn(*key)
                if turn is None:
                    continue
                widget = pane.turn_views.get(key)
                if widget is not None:
                    widget.finish(turn)
                elif turn.timepoint_id in pane.window:
                    await pane.add_turn(turn, self.name_of, self.colour_of)
        pane.flush_streams()
        if self.view is None:
            return
        if "timeline" in changed or "entities" in changed:
            self.query_one(TimelineTree).sync(self.view)
        if changed & {"entities", "knowledge", "relations", "timeline"}:
            self._inspector_stale = True
        if changed:
            self._tell_screens_above(frozenset(changed))
        self.query_one(Scrubber).show(self.view, self.selected_tp)
        self._refresh_status()

    def _tell_screens_above(self, changed: frozenset[str]) -> None:
        """Screens shown over this one that draw its view (the fidelity map) hear what a live
        batch changed, and redraw what they draw of it."""
        stack = self.app.screen_stack
        if self.view is None or self not in stack:
            return
        for screen in stack[stack.index(self) + 1 :]:
            screen.post_message(ViewChanged(self.view, changed))

    def _refresh_inspector_if_stale(self) -> None:
        """Live runs change the inspector many times a second; it is redrawn a few times a
        second at most."""
        if self._inspector_stale:
            self._inspector_stale = False
            self._show_inspector()

    async def _follow_to(self, timepoint_id: str) -> None:
        """While following a live run, a new timepoint joins the dialog without a redraw."""
        assert self.view is not None
        pane = self.query_one(DialogPane)
        tp = self.view.timepoint(timepoint_id)
        self.selected_tp = timepoint_id
        self.query_one(TimelineTree).sync(self.view)
        self.query_one(TimelineTree).focus_timepoint(timepoint_id)
        if tp is not None and (not pane.window or tp.parent == pane.window[-1]):
            await pane.add_timepoint(tp)
            pane.anchor()
        else:
            self._render_dialog()

    def on_live_run_ended(self, message: LiveRunEnded) -> None:
        self.finished = True
        self.refresh_bindings()
        self._refresh_inspector_if_stale()
        self._refresh_status()
        if message.run_id:
            self.notify(
                f"run {message.run_id} {message.status}",
                timeout=3,
                severity="information" if message.status == "completed" else "warning",
            )

    LIVE_ONLY = frozenset({"toggle_pause", "step", "pace", "follow"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pause, step, pace and follow belong to a run that is still going; a stored run (or
        one that has finished) does not offer them, in the footer or the palette."""
        if action in self.LIVE_ONLY:
            return self.mode == "live" and not self.finished
        if action == "fork":  # a run that is still being written cannot be branched yet
            return not (self.mode == "live" and not self.finished)
        return True

    def action_toggle_pause(self) -> None:
        if self.session is None or self.finished:
            return
        if self.session.control.paused:
            self.session.control.resume()
        else:
            self.session.control.pause()
        self._refresh_status()

    def action_step(self) -> None:
        if self.session is None or self.finished:
            return
        self.session.control.step()
        self.follow = True
        self._refresh_status()

    def action_pace(self, factor: float) -> None:
        pace = self.session.set_pace(factor) if self.session is not None else None
        if pace is None:
            self.notify(
                "only offline runs are paced; this one streams as fast as its answers arrive",
                severity="warning",
                timeout=3,
            )
        else:
            self.notify(f"dialog pace {pace:.0f} characters a second", timeout=2)

    def action_home(self) -> None:
        """Back to the runs. Leaving a run that is still going asks what becomes of it."""
        if self.session is None or self.finished or not self.session.running:
            self.app.pop_screen()
            return
        self.app.push_screen(LeaveLiveRun(self.session.run_id or self.scenario or ""), self._left)

    def _left(self, choice: str | None) -> None:
        if choice is None or self.session is None:
            return
        if choice == "stop":
            self.session.stop()
        else:
            self.notify(
                f"run {self.session.run_id} goes on in the background; open it from the runs "
                "list to watch it again",
                timeout=4,
            )
        self.app.pop_screen()

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.detach(self)
