"""The run screen, the same for a live run and a stored one.

Timeline/branch tree on the left, the dialog in the middle, the entity inspector on the right,
the status line above, the scrubber and the query bar below. Selecting a timepoint (in the tree,
with the scrubber keys, or by following a live run) moves every pane to that moment.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Tree

from engine.query import ForkAsk, QueryError, parse_query, resolve_entity
from engine.safety.terminal import one_line
from engine.view import RunView

from ..messages import (
    BridgeError,
    DiffReady,
    ForkFinished,
    KnowledgeLoaded,
    PrefillQuery,
    QueryConsent,
    QueryDone,
    QueryNotice,
    RunOpened,
    TurnsLoaded,
)
from ..session import LiveSession
from ..themes import speaker_colour
from ..widgets.dialog import DialogPane, ObserverNote, QueryView
from ..widgets.inspector import EntityInspector
from ..widgets.querybar import QueryBar
from ..widgets.status import Scrubber, StatusLine
from ..widgets.timeline import TimelineTree
from .diff import DiffScreen
from .fidelity import FidelityMapScreen
from .fork import ForkScreen
from .modals import ConfirmScreen
from .run_keys import RUN_BINDINGS, RUN_LEGEND
from .run_layout import LayoutPart
from .run_live import LiveRunPart
from .run_portal import PortalPart

Mode = Literal["live", "replay"]


class RunScreen(LayoutPart, PortalPart, LiveRunPart, Screen[None]):
    CSS_PATH = "run.tcss"
    BINDINGS = RUN_BINDINGS
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, StatusLine, QueryBar"
    HELP_NAME = "the run screen"
    LEGEND = RUN_LEGEND

    def __init__(
        self,
        mode: Mode,
        *,
        run_id: str | None = None,
        scenario: str | None = None,
        factory: Any = None,
        source: Any = None,
        session: LiveSession | None = None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.session = session
        self.run_id = run_id
        self.scenario = scenario
        self.factory = factory
        self.source = source
        self.view: RunView | None = None
        self.selected_tp: str | None = None
        self._select_after_open: str | None = None  # a new branch's first moment
        self.selected_entity: str | None = None
        self.follow = mode == "live"
        self.marked_branch: str | None = None  # m marks a branch for d to compare with
        self.started: float | None = None
        self.finished = mode == "replay"
        self.dialog_shown: tuple[str, ...] = ()  # the timepoints the dialog pane last drew
        self._wanted_start: int | None = None  # the window start waiting for its turns
        self._inspector_stale = False
        self.batches_seen = 0  # live: engine batches received
        self.runs_seen: set[str] = set()  # live: the runs those batches were about (one)
        self.chunks_shown = 0  # live: streamed chunks written into the dialog pane

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield StatusLine("", id="status")
        yield self.pane_tabs()
        with Horizontal(id="panes"):
            yield TimelineTree(id="timeline")
            yield DialogPane(id="dialog")
            yield EntityInspector(id="inspector")
        yield Scrubber("", id="scrubber")
        yield QueryBar(id="query")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#timeline").border_title = "timeline"
        self.query_one("#dialog").border_title = "dialog"
        self.query_one("#inspector").border_title = "entities"
        self.hidden_panes = frozenset(self.app.settings.hide)  # type: ignore[attr-defined]
        self.apply_layout()
        bridge = self.app.bridge  # type: ignore[attr-defined]
        if self.mode == "live":
            self.started = self.app.clock()  # type: ignore[attr-defined]
            if self.session is None:
                self.session = bridge.start_session(
                    self.factory, source=self.source, name=self.scenario or "run"
                )
            current = self.session.attach(self)
            if current is not None:  # re-attached to a run going on in the background
                self._adopt(current)
                self.finished = not self.session.running
                if current.timepoints:
                    self.select(current.timepoints[-1].timepoint_id)
            else:
                self.show_starting()
            self.set_interval(1.0, self._refresh_status, name="status-clock")
            self.set_interval(0.3, self._refresh_inspector_if_stale, name="inspector-refresh")
        else:
            bridge.open_run(self, self.run_id or "")
        self.query_one(TimelineTree).focus()

    # ------------------------------------------------------------------ helpers
    def name_of(self, entity_id: str | None) -> str:
        if entity_id is None or self.view is None:
            return ""
        entity = self.view.entities.get(entity_id)
        return entity.name if entity else entity_id

    def colour_of(self, entity_id: str) -> str:
        """Each person of the run its own colour, in roster order."""
        roster = list(self.view.entities) if self.view is not None else []
        index = roster.index(entity_id) if entity_id in roster else len(roster)
        return speaker_colour(self.app.current_theme, index)

    def _at(self) -> str | None:
        """The selected moment (None: before the first timepoint)."""
        if self.view is None or self.view.timepoint(self.selected_tp) is None:
            return None
        return self.selected_tp

    def _refresh_status(self) -> None:
        if self.view is None:
            return
        elapsed = None
        if self.mode == "live" and self.started is not None and not self.finished:
            elapsed = self.app.clock() - self.started  # type: ignore[attr-defined]
            if self.session is not None:  # the clock stops while the run is paused
                elapsed -= self.session.control.paused_seconds()
        elif self.view.run.wall_seconds is not None:
            elapsed = self.view.run.wall_seconds
        ids = [t.timepoint_id for t in self.view.chain(self.selected_tp)]
        position = ids.index(self.selected_tp) + 1 if self.selected_tp in ids else 0
        self.query_one(StatusLine).show(
            self.view.run,
            position,
            self.view.run.planned_timepoints or len(ids),
            elapsed,
            paused=self.session is not None and self.session.paused and not self.finished,
            live=self.mode == "live" and not self.finished,
        )

    def _adopt(self, view: RunView) -> None:
        self.view = view
        self.query_one(TimelineTree).rebuild(view)
        self.query_one(QueryBar).entities = {k: e.name for k, e in view.entities.items()}
        self.refresh_bindings()  # a PORTAL run offers its paths
        if view.run.warnings:
            self.notify(
                f"{len(view.run.warnings)} scenario settings are not supported yet and "
                "were not used",
                severity="warning",
                timeout=4,
            )

    # ------------------------------------------------------------------ replay
    def on_run_opened(self, message: RunOpened) -> None:
        self._adopt(message.view)
        wanted, self._select_after_open = self._select_after_open, None
        if wanted and message.view.timepoint(wanted) is not None:
            self.select(wanted)
        elif message.view.timepoints:
            self.select(message.view.timepoints[-1].timepoint_id)
        else:
            self._refresh_status()
            self._show_inspector()

    def on_turns_loaded(self, message: TurnsLoaded) -> None:
        if self.selected_tp in message.timepoint_ids:
            self._render_dialog(self._wanted_start)

    def on_knowledge_loaded(self, message: KnowledgeLoaded) -> None:
        if message.entity_id == self.selected_entity:
            self._show_entity()

    def on_bridge_error(self, message: BridgeError) -> None:
        self.app.show_error(message.text, fatal=message.fatal)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ selecting a moment
    def select(self, timepoint_id: str, *, from_tree: bool = False) -> None:
        if self.view is None or self.view.timepoint(timepoint_id) is None:
            return
        self.selected_tp = timepoint_id
        if self.mode == "live":
            self.follow = timepoint_id == self.view.timepoints[-1].timepoint_id
        if not from_tree:
            self.query_one(TimelineTree).focus_timepoint(timepoint_id)
        self.query_one(Scrubber).show(self.view, timepoint_id)
        self._refresh_status()
        self._render_dialog()
        self._show_inspector()

    @on(Tree.NodeHighlighted, "#timeline")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        tp = self.view.timepoint(data) if self.view is not None and data else None
        # a title cut by the pane's width is there in full when it is highlighted
        self.query_one(TimelineTree).tooltip = tp.title if tp is not None else None
        if not data or self.query_one(TimelineTree).was_programmatic(data):
            return
        if data != self.selected_tp:
            self.select(data, from_tree=True)

    @on(Tree.NodeSelected, "#timeline")
    def _selected(self, event: Tree.NodeSelected) -> None:
        if event.node.data:
            self.select(event.node.data, from_tree=True)

    def _render_dialog(self, start: int | None = None) -> None:
        if self.view is None or self.selected_tp is None:
            return
        pane = self.query_one(DialogPane)
        window = pane.window_for(self.view, self.selected_tp, start)
        missing = [t for t in window if not self.view.turns_loaded(t)]
        if missing:  # drawn once they are read, with the same start
            self._wanted_start = start
            self.app.bridge.load_turns(self, self.view, window)  # type: ignore[attr-defined]
            return
        # a coroutine function, not a coroutine: an exclusive worker cancelled before it
        # starts then leaves no coroutine behind that was never awaited
        self.run_worker(
            partial(self._show_window, window),
            group="render-dialog",
            exclusive=True,
            exit_on_error=False,
        )

    async def _show_window(self, window: list[str]) -> None:
        assert self.view is not None
        pane = self.query_one(DialogPane)
        await pane.show(self.view, window, self.name_of, self.colour_of)
        if self.follow:
            pane.anchor()
        else:
            pane.release_anchor()
        self.dialog_shown = tuple(window)

    # ------------------------------------------------------------------ inspector
    def _show_inspector(self) -> None:
        if self.view is None:
            return
        at = self._at()
        tp = self.view.timepoint(self.selected_tp) if self.selected_tp else None
        present = tp.present if tp else tuple(self.view.entities)
        if self.selected_entity not in present and present:
            self.selected_entity = present[0]
        moment = (
            f"present at {tp.timepoint_id} · {tp.timestamp:%H:%M}"
            if tp
            else "the cast before the first timepoint"
        )
        self.query_one(EntityInspector).show_cast(
            self.view, at, present, self.selected_entity, moment
        )
        self._show_entity()

    def _show_entity(self) -> None:
        if self.view is None:
            return
        if self.selected_entity and not self.view.knowledge_loaded(self.selected_entity):
            self.app.bridge.load_knowledge(self, self.view, self.selected_entity)  # type: ignore[attr-defined]
        self.query_one(EntityInspector).show_entity(
            self.view, self.selected_entity, self._at(), self.name_of
        )

    @on(EntityInspector.EntityChosen)
    def _entity_chosen(self, event: EntityInspector.EntityChosen) -> None:
        if event.entity_id != self.selected_entity:
            self.selected_entity = event.entity_id
            self._show_entity()

    # ------------------------------------------------------------------ queries
    def action_ask(self) -> None:
        bar = self.query_one(QueryBar)
        bar.focus()
        if not bar.value and self.selected_entity:
            bar.value = f"@{self.selected_entity} "
            bar.cursor_position = len(bar.value)

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        bar = self.query_one(QueryBar)
        text = event.value
        if self.view is None:
            return
        names = {k: e.name for k, e in self.view.entities.items()}
        try:
            parsed = parse_query(text)
            if isinstance(parsed, ForkAsk):
                entity = resolve_entity(parsed.entity, names) if parsed.entity else ""
                bar.remember(text)
                bar.value = ""
                self.action_fork(ForkAsk(parsed.kind, entity, parsed.text))
                return
        except QueryError as exc:
            self.notify(str(exc), title="Query", severity="warning")
            return
        bar.remember(text)
        bar.value = ""
        self.app.bridge.query(self, self.view, text, self.selected_tp)  # type: ignore[attr-defined]

    def on_query_consent(self, message: QueryConsent) -> None:
        """A query would raise or create an entity: say what it costs, and go on if agreed."""

        def answered(yes: bool | None) -> None:
            if yes and self.view is not None:
                self.app.bridge.query(  # type: ignore[attr-defined]
                    self, self.view, message.text, message.timepoint_id, agreed=True
                )

        self.app.push_screen(
            ConfirmScreen(
                "This query changes the run",
                message.estimate[:1].upper() + message.estimate[1:] + ".",
                "Set ui.confirm_elevation = false in the configuration to stop asking.",
            ),
            answered,
        )

    def on_query_notice(self, message: QueryNotice) -> None:
        self.notify(message.text, title="Query", timeout=10)

    async def on_query_done(self, message: QueryDone) -> None:
        if message.note:
            self.notify(message.note, title="Query", timeout=8)
        pane = self.query_one(DialogPane)
        if self.view is not None and message.query_id:
            for action in self.view.observer_actions():  # what this query changed, first
                if action.query_id == message.query_id:
                    await pane.add_query(ObserverNote(action, self.name_of(action.entity_id)))
        await pane.add_query(
            QueryView(
                self.name_of(message.entity_id),
                self.colour_of(message.entity_id),
                message.question,
                message.answer,
                message.references,
            )
        )

    # ------------------------------------------------------------------ forks
    def action_fork(self, filled: ForkAsk | None = None) -> None:
        view, at = self.view, self.selected_tp
        if view is None or at is None or view.timepoint(at) is None:
            self.notify("choose a moment to fork from first", severity="warning")
            return
        names = {k: e.name for k, e in view.entities.items()}

        def chosen(result: tuple[Any, str] | None) -> None:
            if result is None or self.view is None:
                return
            change, label = result
            self.notify(
                one_line(f"forking at {at}: {change.describe(names)}"), timeout=4, markup=False
            )
            self.follow = True  # the new branch plays here as it runs
            self.app.bridge.run_fork(self, self.view, at, change, label)  # type: ignore[attr-defined]

        title = view.timepoint(at).title  # type: ignore[union-attr]
        form = ForkScreen(view.run.run_id, at, title, names, filled or ForkAsk())
        self.app.push_screen(form, chosen)

    def _selected_branch(self) -> str:
        tp = self.view.timepoint(self.selected_tp) if self.view else None
        return tp.branch_id if tp else "main"

    def action_mark_branch(self) -> None:
        """Remember the selected moment's branch, so that d compares two chosen branches
        (two alternatives of a BRANCHING run, say) instead of a branch and its parent."""
        if self.view is None:
            return
        self.marked_branch = self._selected_branch()
        self.notify(f"{self.marked_branch} marked: select another branch and press d")

    def action_diff(self) -> None:
        """The marked branch against the selected moment's; with no mark, the selected
        moment's branch against the one it forked from (on the main branch, its newest fork)."""
        view = self.view
        if view is None:
            return
        branch = self._selected_branch()
        info = view.branches.get(branch)
        marked, self.marked_branch = self.marked_branch, None
        if marked is not None and marked != branch:
            a, b = marked, branch
        elif info is not None and info.parent_branch_id is not None:
            a, b = info.parent_branch_id, branch
        else:
            forks = [k for k, v in view.branches.items() if v.parent_branch_id == branch]
            if not forks:
                self.notify("this run has no fork to compare with; press b to make one")
                return
            a, b = branch, forks[-1]
        self.app.bridge.diff_branches(self, view.run.run_id, a, b)  # type: ignore[attr-defined]

    def on_diff_ready(self, message: DiffReady) -> None:
        names = {k: e.name for k, e in self.view.entities.items()} if self.view else {}
        self.app.push_screen(DiffScreen(message.diff, names))

    def on_fork_finished(self, message: ForkFinished) -> None:
        severity = "information" if message.status == "completed" else "warning"
        reason = f" ({message.reason})" if message.reason else ""
        self.notify(
            one_line(f"branch {message.branch_id} {message.status}{reason}"),
            severity=severity,
            markup=False,
        )
        self.follow = self.mode == "live" and not self.finished
        if self.view is not None:
            self._select_after_open = message.first
            self.app.bridge.open_run(self, self.view.run.run_id)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ actions
    def action_scrub(self, step: int) -> None:
        if self.view is None or not self.view.timepoints:
            return
        # along the selected moment's own line: a branch's moments, not its siblings'
        ids = [t.timepoint_id for t in self.view.chain(self.selected_tp)]
        current = ids.index(self.selected_tp) if self.selected_tp in ids else len(ids) - 1
        self.select(ids[max(0, min(len(ids) - 1, current + step))])

    def action_scrub_to(self, where: str) -> None:
        if self.view is None or not self.view.timepoints:
            return
        chain = self.view.chain(self.selected_tp)
        target = chain[0 if where == "start" else -1]
        self.select(target.timepoint_id)

    def action_follow(self) -> None:
        if self.mode == "live" and self.view and self.view.timepoints:
            self.follow = True
            self.select(self.view.timepoints[-1].timepoint_id)

    def action_export(self) -> None:
        """The export form for this run, on the selected moment's branch."""
        from .export import ExportScreen

        run_id = self.view.run.run_id if self.view else self.run_id
        if not run_id:
            self.notify("the run is not in the database yet", severity="warning")
            return
        self.app.push_screen(ExportScreen(run_id, self._selected_branch() if self.view else None))

    # ------------------------------------------------------------------ fidelity
    def action_fidelity_map(self) -> None:
        """Every entity's level and tokens along the selected moment's chain."""
        if self.view is None:
            self.notify("the run is still opening", severity="warning")
            return
        self.app.push_screen(
            FidelityMapScreen(self.view, self._at(), self.selected_entity, owner=self)
        )

    def on_prefill_query(self, message: PrefillQuery) -> None:
        """Text for the query bar (``/elevate`` from the fidelity map or the inspector), left
        there to edit or send."""
        bar = self.query_one(QueryBar)
        bar.value = message.text
        bar.cursor_position = len(bar.value)
        bar.focus()
