"""The home screen: the runs in the database and the scenarios to launch."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from engine.safety.terminal import one_line
from engine.scenario import TemplateInfo

from ..messages import BridgeError, RunRow, RunsLoaded, TemplatesLoaded
from ..widgets.safe import Content, Text
from ..widgets.status import fmt_seconds

RUN_COLUMNS = (
    "run id",
    "scenario",
    "mode",
    "status",
    "entities",
    "timepoints",
    "turns",
    "tokens",
    "cost",
    "started",
    "duration",
)
# Fixed column widths: the tables look the same however fast their rows arrive.
RUN_WIDTHS = (22, 20, 11, 10, 8, 10, 6, 10, 9, 16, 8)
SCENARIO_COLUMNS = (
    ("name", 20),
    ("mode", 11),
    ("entities", 8),
    ("timepoints", 10),
    ("description", 90),
)


def _cells(run: RunRow) -> tuple[Any, ...]:
    """The values of a row, as sorted."""
    return (
        run.run_id,
        run.scenario,
        run.mode,
        run.status,
        run.entities,
        run.timepoints,
        run.dialog_turns,
        run.tokens,
        run.cost_usd,
        run.started_at.isoformat(),
        run.wall_seconds if run.wall_seconds is not None else -1.0,
    )


def _display(run: RunRow) -> tuple[str, ...]:
    """The values of a row, as shown."""
    return (
        run.run_id,
        run.scenario,
        run.mode,
        run.status,
        str(run.entities),
        f"{run.timepoints}/{run.planned}",
        str(run.dialog_turns),
        f"{run.tokens:,}",
        f"${run.cost_usd:.4f}",
        run.started_at.strftime("%Y-%m-%d %H:%M"),
        fmt_seconds(run.wall_seconds) if run.wall_seconds is not None else "-",
    )


class HomeScreen(Screen[None]):
    CSS_PATH = "home.tcss"
    HELP_NAME = "the runs"
    BINDINGS = [
        Binding(
            "n", "launch", "New run", id="home.launch", tooltip="Run the highlighted scenario live"
        ),
        Binding("slash", "filter", "Filter", id="home.filter", tooltip="Filter the runs"),
        Binding("o", "sort", "Sort", id="home.sort", tooltip="Sort the runs by the next column"),
        Binding("ctrl+r", "refresh", "Refresh", id="home.refresh", tooltip="Reload the runs"),
        Binding(
            "x",
            "stop_run",
            "Stop run",
            id="home.stop",
            tooltip="Stop the highlighted run, live in the background here",
        ),
        Binding(
            "e",
            "export",
            "Export",
            id="home.export",
            show=False,  # offered in the palette and the keys list (f1)
            tooltip="Export the highlighted run to a file, in any of the export formats",
        ),
        Binding(
            "c",
            "convergence",
            "Convergence",
            id="home.convergence",
            show=False,  # offered in the palette and the keys list (f1)
            tooltip="The stored convergence sets: how alike runs of one scenario came out",
        ),
        Binding(
            "y",
            "copy_run_id",
            "Copy run id",
            id="home.copy_id",
            show=False,
            tooltip="Put the highlighted run's id on the clipboard",
        ),
        Binding("q", "app.quit", "Quit", id="home.quit", tooltip="Leave timeloom"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: tuple[RunRow, ...] = ()
        self.templates: tuple[TemplateInfo, ...] = ()
        self.sort_column = 9  # started
        self.sort_reverse = True
        self._shown_live: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble(
                ("timeloom", "bold $accent"), ("  temporal social simulations", "dim")
            ),
            id="intro",
        )
        yield Static("Runs", classes="section")
        yield Input(
            placeholder="type to filter runs (scenario, status, mode, id)",
            id="filter",
            select_on_focus=False,
        )
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static("reading the runs…", id="runs-empty", markup=False)
        yield Static("Scenarios", classes="section")
        yield DataTable(id="scenarios", cursor_type="row")
        yield Static("", id="next-launch")
        yield Footer()

    def on_mount(self) -> None:
        runs = self.query_one("#runs", DataTable)
        for label, width in zip(RUN_COLUMNS, RUN_WIDTHS, strict=True):
            runs.add_column(label, width=width)
        scenarios = self.query_one("#scenarios", DataTable)
        for label, width in SCENARIO_COLUMNS:
            scenarios.add_column(label, width=width)
        runs.focus()
        self.app.bridge.refresh_runs(self)  # type: ignore[attr-defined]
        self.app.bridge.load_templates(self)  # type: ignore[attr-defined]
        self.set_interval(1.0, self._refresh_live, name="live-runs")

    def _live_ids(self) -> set[str]:
        return {s.run_id for s in self.app.bridge.live if s.run_id}  # type: ignore[attr-defined]

    def _refresh_live(self) -> None:
        """Runs going on in the background move on: their rows follow, about once a second."""
        live = self._live_ids()
        if live or live != self._shown_live:
            self.app.bridge.refresh_runs(self)  # type: ignore[attr-defined]

    def on_screen_resume(self) -> None:
        self.app.bridge.refresh_runs(self)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ data in
    def on_runs_loaded(self, message: RunsLoaded) -> None:
        self.runs = message.runs
        self.app.known_runs = [  # type: ignore[attr-defined]
            (r.run_id, f"{r.scenario} · {r.status} · {r.timepoints}/{r.planned} timepoints")
            for r in self.runs
        ]
        self._fill_runs()

    def on_templates_loaded(self, message: TemplatesLoaded) -> None:
        self.templates = message.templates
        table = self.query_one("#scenarios", DataTable)
        table.clear()
        for t in self.templates:
            summary = t.summary if len(t.summary) <= 90 else t.summary[:89].rstrip() + "…"
            name = t.name if t.origin == "bundled" else f"{t.name} (yours)"
            # Bundled scenarios launch by name, the user's own by their file.
            ref = t.name if t.origin == "bundled" else t.path
            table.add_row(
                Text(name), t.mode, str(t.entities), str(t.timepoints), Text(summary), key=ref
            )
        self.app.known_scenarios = [  # type: ignore[attr-defined]
            (
                t.name if t.origin == "bundled" else f"{t.name} (yours)",
                t.name if t.origin == "bundled" else t.path,
            )
            for t in self.templates
        ]
        for error in message.errors:
            self.notify(
                one_line(error),
                title="A scenario could not be loaded",
                severity="error",
                markup=False,
            )

    def on_bridge_error(self, message: BridgeError) -> None:
        self.app.show_error(message.text, fatal=message.fatal)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ the table
    def _visible(self) -> list[RunRow]:
        text = self.query_one("#filter", Input).value.strip().lower()
        rows = [
            r
            for r in self.runs
            if not text
            or any(
                text in str(cell).lower()
                for cell in (r.run_id, r.scenario, r.title, r.status, r.mode)
            )
        ]
        key = self.sort_column
        rows.sort(key=lambda r: _sort_key(_cells(r)[key], r), reverse=self.sort_reverse)
        return rows

    def _fill_runs(self) -> None:
        table = self.query_one("#runs", DataTable)
        keep = table.cursor_row
        table.clear()
        live = self._shown_live = self._live_ids()
        for run in self._visible():
            cells = list(_display(run))
            if run.run_id in live:
                cells[3] = "● live"  # running here, in the background: open it to watch
            table.add_row(*(Text(c, no_wrap=True) for c in cells), key=run.run_id)
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1))
        self._empty_state(table.row_count)

    def _empty_state(self, shown: int) -> None:
        """Say why the runs table is empty, and what to do, rather than show bare headers."""
        note = self.query_one("#runs-empty", Static)
        text = self.query_one("#filter", Input).value.strip()
        if shown:
            note.display = False
            return
        note.display = True
        if self.runs and text:
            note.update(
                Content(f"no run matches “{text}” (clear the filter to see all {len(self.runs)})")
            )
        else:
            note.update(
                "no runs in this database yet: highlight a scenario below and press n to run "
                "it live (offline, no key needed)"
            )

    @on(DataTable.RowHighlighted, "#scenarios")
    def _scenario_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """What n will launch, in words, before it is pressed."""
        ref = event.row_key.value
        found = next((t for t in self.templates if ref in (t.name, t.path)), None)
        if found is None:
            return
        self.query_one("#next-launch", Static).update(
            Content.assemble(
                ("n", "bold $secondary"),
                (" launches ", "dim"),
                (found.title or found.name, "bold"),
                (f"  {found.entities} people, {found.timepoints} timepoints, live", "dim"),
            )
        )

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._fill_runs()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#runs", DataTable).focus()

    def on_key(self, event: Any) -> None:
        # Typing while the runs table has focus goes to the filter, but for this screen's own
        # keys (as the keymap binds them).
        # Focus moves at once (not after the next refresh), so the letters typed right after
        # the first one go to the filter too, even those that are this screen's keys.
        runs = self.query_one("#runs", DataTable)
        field = self.query_one("#filter", Input)
        if event.is_printable and self.focused is field:
            # typed fast: routed to the table before focus moved to the filter
            field.insert_text_at_cursor(event.character)
            event.stop()
            return
        if self.focused is runs and event.is_printable and not self._own_key(event.key):
            self.set_focus(field)
            field.insert_text_at_cursor(event.character)
            event.stop()

    def _own_key(self, key: str) -> bool:
        """A key this screen or the app binds (``n``, ``o``, ``?``): it acts, it is not typed."""
        found = self.active_bindings.get(key)
        return found is not None and (found.node is self or found.node is self.app)

    @on(DataTable.HeaderSelected, "#runs")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        if self.sort_column == event.column_index:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = event.column_index, False
        self._fill_runs()

    @on(DataTable.RowSelected, "#runs")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.open_run(event.row_key.value)  # type: ignore[attr-defined]

    @on(DataTable.RowSelected, "#scenarios")
    def _launch_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.launch(event.row_key.value)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ actions
    def action_launch(self) -> None:
        table = self.query_one("#scenarios", DataTable)
        if not table.row_count:
            self.notify("no scenarios are available to launch", severity="warning")
            return
        row = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        self.app.launch(row.value)  # type: ignore[attr-defined]

    def action_copy_run_id(self) -> None:
        run_id = self._highlighted_run()
        if run_id is None:
            self.notify("no run is highlighted", severity="warning")
            return
        self.app.copy_to_clipboard(run_id)
        self.notify(f"copied {run_id} to the clipboard", timeout=2)

    def action_filter(self) -> None:
        self.set_focus(self.query_one("#filter", Input))

    def action_sort(self) -> None:
        self.sort_column = (self.sort_column + 1) % len(RUN_COLUMNS)
        self.sort_reverse = False
        self.notify(f"runs sorted by {RUN_COLUMNS[self.sort_column]}", timeout=2)
        self._fill_runs()

    def action_stop_run(self) -> None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return
        run_id = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        session = self.app.bridge.session_for(run_id)  # type: ignore[attr-defined]
        if session is None or not session.running:
            self.notify(
                "only a run going on live in this explorer can be stopped here",
                severity="warning",
                timeout=3,
            )
            return
        session.stop()
        self.notify(f"stopping run {run_id} after its current timepoint", timeout=3)

    def _highlighted_run(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_export(self) -> None:
        from .export import ExportScreen

        run_id = self._highlighted_run()
        if run_id is None:
            self.notify("there is no run to export yet", severity="warning", timeout=3)
            return
        self.app.push_screen(ExportScreen(run_id))

    def action_convergence(self) -> None:
        from .convergence import ConvergenceScreen

        self.app.push_screen(ConvergenceScreen())

    def action_refresh(self) -> None:
        self.app.bridge.refresh_runs(self)  # type: ignore[attr-defined]


def _sort_key(cell: Any, run: RunRow) -> tuple[int, Any]:
    if isinstance(cell, int | float):
        return (0, cell)
    return (1, str(cell))
