"""The fidelity map: every entity × every timepoint of the selected moment's chain, each cell
its level marker and the tokens spent on it (M1), and for the highlighted cell, why it is at
that level and what raising it one level costs on this run. ``e`` hands ``/elevate`` for the
cell to the run screen's query bar. While a run plays, the map follows it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from engine.view import RunView

from ..messages import PrefillQuery
from ..widgets.fidelity import (
    LEVEL_NAMES,
    FidelityGrid,
    cause_text,
    elevate_command,
    legend,
    level_badge,
    raise_cost,
    short_tokens,
)
from ..widgets.safe import Content
from .following import FollowsView

REFRESH_SECONDS = 0.25  # a live run changes cells many times a second; redraw at most this often
WATCHED = frozenset({"fidelity", "timeline", "entities"})


class FidelityMapScreen(FollowsView, Screen[None]):
    CSS_PATH = "fidelity.tcss"
    WATCHED = WATCHED
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="fidelity.back", tooltip="Back to the run"),
        Binding(
            "e",
            "elevate",
            "Elevate",
            id="fidelity.elevate",
            tooltip="Close the map and put /elevate for this cell, one level up, in the query bar",
        ),
    ]

    def __init__(
        self,
        view: RunView,
        at: str | None,
        entity_id: str | None,
        owner: MessagePump,
    ) -> None:
        super().__init__()
        self.view = view
        self.at = at
        self.start_entity = entity_id
        self.owner = owner  # the run screen: it gets the /elevate text
        self.stale = False
        self.redraws = 0

    def compose(self) -> ComposeResult:
        yield Static("", id="fidelity-head")
        yield FidelityGrid(id="fidelity-grid")
        yield Static(legend(), id="fidelity-legend")
        yield Static("", id="fidelity-detail")
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one(FidelityGrid)
        self._redraw(rebuild=True)
        grid.move_to(self.start_entity, self.at)
        grid.focus()
        self._show_detail()
        self.set_interval(REFRESH_SECONDS, self._redraw_if_stale, name="fidelity-refresh")
        self.watch(self.app, "theme", self._theme_changed, init=False)

    # ------------------------------------------------------------------ drawing
    def _entity_ids(self) -> list[str]:
        return list(self.view.entities)

    def _names(self) -> dict[str, str]:
        return {k: e.name for k, e in self.view.entities.items()}

    def _redraw(self, *, rebuild: bool = False) -> None:
        grid = self.query_one(FidelityGrid)
        grid.show(self.view, self.at, self._entity_ids(), self._names(), rebuild=rebuild)
        self.redraws += 1
        grid.border_title = (
            f"{len(grid.rows_shown)} entities × {len(grid.columns_shown)} timepoints"
        )
        tp = self.view.timepoint(self.at)
        where = f"up to {tp.timepoint_id} {tp.title}" if tp else "the main branch"
        self.query_one("#fidelity-head", Static).update(
            Content.assemble(
                ("fidelity map  ", "bold $accent"),
                (self.view.run.run_id, "bold"),
                (f"  {where}", "$text-muted"),
            )
        )

    def _show_detail(self) -> None:
        self.query_one("#fidelity-detail", Static).update(self.detail())

    def detail(self) -> Content:
        """The highlighted cell: who and when, its level and why, tokens spent, and what one
        level more would cost, measured on this run."""
        cell = self.query_one(FidelityGrid).cell_under_cursor()
        if cell is None:
            return Content.styled("no timepoint yet", "dim")
        entity = self.view.entities.get(cell.entity_id)
        tp = self.view.timepoint(cell.timepoint_id)
        who = entity.name if entity else cell.entity_id
        title = tp.title if tp else ""
        here = "present" if cell.present else "not present"
        info = self.view.level_at(cell.entity_id, cell.timepoint_id)
        if info is None:
            why = Content.styled("no level recorded", "dim")
        else:
            since = (
                f", since {info.timepoint_id}"
                if info.timepoint_id and info.timepoint_id != cell.timepoint_id
                else ""
            )
            reason = info.reason or "no reason given"
            why = Content.assemble(
                level_badge(info.level),
                (f": {reason} ({cause_text(info)}{since})", ""),
            )
        spent = f"{short_tokens(cell.tokens)} tokens" if cell.tokens else "no tokens spent"
        return Content("\n").join(
            [
                Content.assemble(
                    (who, "bold"),
                    (f" at {cell.timepoint_id}", "bold"),
                    (f" {title}", ""),
                    (f" · {here}", "$text-muted"),
                ),
                Content.assemble(why, (f" · {spent}", "$text-muted")),
                Content(raise_cost(cell.level, self.view.level_costs())),
            ]
        )

    # ------------------------------------------------------------------ events
    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _theme_changed(self) -> None:
        grid = self.query_one(FidelityGrid)
        cell = grid.cell_under_cursor()
        self._redraw(rebuild=True)
        if cell is not None:
            grid.move_to(cell.entity_id, cell.timepoint_id)
        self._show_detail()

    # ------------------------------------------------------------------ actions
    def action_elevate(self) -> None:
        cell = self.query_one(FidelityGrid).cell_under_cursor()
        if cell is None:
            return
        command = elevate_command(cell.entity_id, cell.timepoint_id, cell.level)
        if command is None:
            self.notify(f"already {LEVEL_NAMES[cell.level]}, the highest level", severity="warning")
            return
        self.dismiss()
        self.owner.post_message(PrefillQuery(command))

    def action_close(self) -> None:
        self.dismiss()
