"""The paths of a PORTAL run (M17): every kept path from the origin to the endpoint as a lane,
the divergence by position, the pivots, and for the state under the cursor the competing
antecedents of its slot side by side. ``c`` marks a path and compares it with another, step by
step; ``enter`` closes the view and shows that state's timepoint in the run screen. While the
search goes, the lanes are its frontier, slot by slot, growing as it proposes and keeps."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from engine.view import RunView
from engine.view.portal import CandidateInfo, PortalView

from ..widgets.portal import (
    PIVOT,
    CandidateTable,
    Lane,
    PathLanes,
    bar,
    beam_word,
    clip,
    comparison,
    component_name,
    explains,
    position_name,
    score_text,
)
from ..widgets.safe import Content, Text
from .following import FollowsView

REFRESH_SECONDS = 0.25  # a live search changes many times a second; redraw at most this often
WATCHED = frozenset({"portal", "timeline"})


def timepoint_of(view: RunView, branch_id: str, position: int) -> str | None:
    """The timepoint that plays a path's state: index ``position`` on the path's branch."""
    for tp in view.timepoints:
        if tp.branch_id == branch_id and tp.index == position:
            return tp.timepoint_id
    return None


def head_text(view: RunView, marked: str | None) -> Content:
    portal = view.portal
    parts: list[tuple[str, str] | str] = [("paths  ", "bold $accent"), (view.run.run_id, "bold")]
    if not portal.active:
        parts.append(("  the backward search has not started yet", "$text-muted"))
    elif portal.kept:
        judged = len({j.path_id for j in portal.judged})
        parts.append(
            (
                f"  {len(portal.kept)} paths kept of {judged} judged · "
                f"{len(portal.candidates)} states proposed",
                "$text-muted",
            )
        )
    else:
        chosen = len({b.slot for b in portal.beams})
        parts.append(
            (
                f"  searching backwards: {chosen} of {portal.steps} steps chosen · "
                f"{len(portal.candidates)} states proposed",
                "$text-muted",
            )
        )
    if marked:
        parts.append((f"  · {marked} marked: c on another path compares", "$warning"))
    return Content.assemble(*parts)


def score_line(c: CandidateInfo) -> Content:
    judged = " · ".join(f"{component_name(k)} {v:.2f}" for k, v in c.components.items())
    if not c.scored:
        return Content.styled("not scored yet", "$text-muted")
    return Content.assemble(
        ("score ", "bold"), (score_text(c.score), "bold $accent"), (f"  {judged}", "")
    )


def state_text(
    portal: PortalView, lane: Lane | None, position: int, c: CandidateInfo | None
) -> Content:
    """What the cursor is on: where, the state, why it is a pivot, its score part by part
    and what is missing with why, what it explains, its link and its description."""
    steps = portal.steps
    where = f"{position_name(position, steps)} (slot {steps - position})"
    if lane is None:
        value = portal.divergence[position] if position < len(portal.divergence) else None
        key = " · a key position" if position in portal.key_positions else ""
        shown = "—" if value is None else f"{bar(value)} {value:.2f}"
        return Content.assemble(
            (f"divergence at {where}: ", "bold"),
            (shown, "bold $accent"),
            (key, "bold $warning"),
            ("\nhow far the kept paths are apart here (0: the same state)", "$text-muted"),
        )
    who = lane.branch_id or f"frontier #{lane.rank}"
    if c is None:
        return Content.styled(f"{who} · {where}: nothing proposed here yet", "$text-muted")
    lines = [
        Content.assemble(
            (f"{who} · {where} · ", "bold"),
            (f"{c.when:%d %b %Y %H:%M}", ""),
            (f" · {c.candidate_id} · {beam_word(c)}", "$text-muted"),
        ),
        Content.styled(c.title, "bold"),
    ]
    if lane.branch_id is not None and position in lane.pivots:
        for pivot in portal.pivots_of(lane.branch_id):
            if pivot.position == position:
                lines.append(Content.styled(f"{PIVOT} pivot: {pivot.sentence}", "$warning"))
    if c.slot == 0:
        lines.append(Content.styled("the endpoint the scenario gives", "$text-muted"))
    else:
        lines.append(score_line(c))
        for part, why in c.missing.items():
            lines.append(
                Content.assemble(
                    (f"{component_name(part)} missing: ", "bold $text-warning"),
                    (why, "$text-muted"),
                )
            )
        lines.append(Content.assemble(("explains: ", "bold"), (explains(portal, c, 80), "")))
    if c.causal_link:
        lines.append(Content.assemble(("link: ", "bold"), (c.causal_link, "")))
    if c.description and c.description != c.title:
        lines.append(Content.styled(c.description, "$text-muted"))
    return Content("\n").join(lines)


class PortalScreen(FollowsView, Screen[str | None]):
    """Dismissed with the timepoint to show in the run screen (None: back as it was)."""

    CSS_PATH = "portal.tcss"
    WATCHED = WATCHED
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="portal.back", tooltip="Back to the run"),
        Binding(
            "c",
            "compare",
            "Compare",
            id="portal.compare",
            tooltip="Mark this path; on another path, compare the two step by step",
        ),
    ]

    def __init__(self, view: RunView, branch_id: str | None = None, position: int = 0) -> None:
        super().__init__()
        self.view = view
        self.start = (branch_id, position)  # where the cursor starts: the run screen's moment
        self.marked: str | None = None
        self.stale = False
        self.redraws = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="portal-head")
        yield PathLanes(id="portal-lanes")
        with Horizontal(id="portal-detail"):
            with VerticalScroll(id="portal-state-box", can_focus=False):
                yield Static("", id="portal-state")
            yield CandidateTable(id="portal-candidates")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#portal-candidates").border_title = "competing antecedents"
        self.call_after_refresh(self._first_draw)
        self.set_interval(REFRESH_SECONDS, self._redraw_if_stale, name="portal-refresh")
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _first_draw(self) -> None:
        lanes = self.query_one(PathLanes)
        self._redraw(rebuild=True)
        lanes.move_to(*self.start)
        lanes.focus()
        self._show_detail()

    # ------------------------------------------------------------------ drawing
    @property
    def portal(self) -> PortalView:
        return self.view.portal

    def _redraw(self, *, rebuild: bool = False) -> None:
        lanes = self.query_one(PathLanes)
        lanes.marked = self.marked
        lanes.show(self.portal, rebuild=rebuild)
        self.redraws += 1
        lanes.border_subtitle = "arrows move · enter opens in the run · c compares"
        if self.portal.kept:
            lanes.border_title = f"{len(lanes.lanes)} kept paths, origin → endpoint"
        else:
            lanes.border_title = "the frontier, slot by slot (no path kept yet)"
        self.query_one("#portal-head", Static).update(head_text(self.view, self.marked))

    def _show_detail(self) -> None:
        lane, position, state = self.query_one(PathLanes).cell_under_cursor()
        self.query_one("#portal-state", Static).update(
            state_text(self.portal, lane, position, state)
            if self.portal.active
            else Content.styled("nothing searched yet", "$text-muted")
        )
        table = self.query_one(CandidateTable)
        slot = self.portal.steps - position if self.portal.active else None
        table.show(self.portal, slot, state.candidate_id if state else None)
        table.border_title = (
            f"competing antecedents at {position_name(position, self.portal.steps)}"
            f" ({len(table.shown)})"
        )

    # ------------------------------------------------------------------ events
    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        if event.data_table is self.query_one(PathLanes):
            self._show_detail()

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        if event.data_table is self.query_one(PathLanes):
            self.open_state()

    def _theme_changed(self) -> None:
        self._redraw(rebuild=True)
        self._show_detail()

    # ------------------------------------------------------------------ actions
    def open_state(self) -> None:
        lane, position, state = self.query_one(PathLanes).cell_under_cursor()
        if lane is None or state is None:
            self.notify("choose a state of a path first", severity="warning")
            return
        if lane.branch_id is None:
            self.notify(
                "this state is on the frontier, not on a kept path: only kept paths are played",
                severity="warning",
            )
            return
        tp = timepoint_of(self.view, lane.branch_id, position)
        if tp is None:
            self.notify(
                f"{lane.branch_id} has not played its {position_name(position, self.portal.steps)}"
                " yet",
                severity="warning",
            )
            return
        self.dismiss(tp)

    def action_compare(self) -> None:
        lane, _, _ = self.query_one(PathLanes).cell_under_cursor()
        if lane is None or lane.branch_id is None:
            self.notify("put the cursor on a kept path to compare it", severity="warning")
            return
        if self.marked is None or self.marked == lane.branch_id:
            self.marked = None if self.marked == lane.branch_id else lane.branch_id
            self._redraw()
            if self.marked:
                self.notify(f"{self.marked} marked: press c on another path to compare them")
            return
        first, self.marked = self.marked, None
        self._redraw()
        self.app.push_screen(PortalCompareScreen(self.portal, first, lane.branch_id))

    def action_close(self) -> None:
        self.dismiss(None)


class PortalCompareScreen(Screen[None]):
    """Two kept paths step by step, origin first: each side's state and score, where they
    differ, the divergence; the highlighted step's two states in full below."""

    CSS_PATH = "portal.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="portal.compare_back", tooltip="Back to the paths")
    ]

    def __init__(self, portal: PortalView, a: str, b: str) -> None:
        super().__init__()
        self.portal = portal
        self.a, self.b = a, b
        self.rows = comparison(portal, a, b)

    def compose(self) -> ComposeResult:
        yield Static(self._head(), id="compare-head")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="compare-sides"):
            for side in ("a", "b"):
                with VerticalScroll(id=f"compare-{side}", can_focus=False):
                    yield Static("", id=f"compare-{side}-text")
        yield Footer()

    def _side(self, branch_id: str) -> str:
        kept = self.portal.kept_path(branch_id)
        if kept is None:
            return branch_id
        coherence = "—" if kept.coherence is None else f"{kept.coherence:.2f}"
        warn = " ⚠" if kept.warning else ""
        return f"{branch_id} #{kept.rank} coherence {coherence}{warn}"

    def _head(self) -> Content:
        differ = [position_name(p, self.portal.steps) for p, _, _, d in self.rows if d]
        where = (
            f"they differ at {len(differ)} of {len(self.rows)} positions: {', '.join(differ)}"
            if differ
            else "the same states all along"
        )
        return Content.assemble(
            ("compare  ", "bold $accent"),
            (self._side(self.a), "bold"),
            ("  against  ", "$text-muted"),
            (self._side(self.b), "bold"),
            (f"\n{where}", ""),
        )

    def on_mount(self) -> None:
        table = self.query_one("#compare-table", DataTable)
        table.border_title = "step by step, origin first"
        colours = self.app.get_css_variables()
        warn, muted = colours.get("warning", ""), colours.get("foreground-muted", "")
        # position, =/≠, two scores and the divergence; two cells of padding a column
        room = self.size.width - 2 - 2 - (8 + 1 + 5 + 5 + 7) - 2 * 7
        title_w = max(12, min(48, room // 2))
        table.add_column("position", key="position", width=8)
        table.add_column("", key="same", width=1)
        table.add_column(self.a, key="a", width=title_w)
        table.add_column("score", key="a-score", width=5)
        table.add_column(self.b, key="b", width=title_w)
        table.add_column("score", key="b-score", width=5)
        table.add_column("div", key="div", width=7)
        pivots = {
            (p.branch_id, p.position) for p in self.portal.pivots if p.branch_id in (self.a, self.b)
        }
        for position, left, right, differ in self.rows:
            div = self.portal.divergence
            value = div[position] if position < len(div) else None
            cells = [
                Text(position_name(position, self.portal.steps)),
                Text("≠" if differ else "=", style=f"bold {warn}" if differ else muted),
            ]
            for branch, state in ((self.a, left), (self.b, right)):
                mark = f"{PIVOT} " if (branch, position) in pivots else ""
                title = clip(mark + (state.title if state else "—"), title_w)
                cells.append(Text(title, style="" if differ else muted))
                cells.append(Text(score_text(state.score if state else None)))
            cells.append(Text("·" if value is None else f"{bar(value)} {value:.2f}"))
            table.add_row(*cells, key=f"pos{position}")
        table.focus()
        self._show(0)

    def _show(self, row: int) -> None:
        if not self.rows:
            return
        position, left, right, _ = self.rows[min(row, len(self.rows) - 1)]
        for side, branch, state in (("a", self.a, left), ("b", self.b, right)):
            box = self.query_one(f"#compare-{side}")
            box.border_title = f"{branch} at {position_name(position, self.portal.steps)}"
            lane = Lane(branch, 0, branch, None, None, None, (), self._pivots(branch))
            self.query_one(f"#compare-{side}-text", Static).update(
                state_text(self.portal, lane, position, state)
            )

    def _pivots(self, branch: str) -> frozenset[int]:
        return frozenset(p.position for p in self.portal.pivots_of(branch))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show(event.cursor_row)

    def action_close(self) -> None:
        self.dismiss()
