"""The convergence sets kept in the database, and one set in detail: its runs and score, the
pairwise scores, where the runs first disagree and what differs there, and which edges only
some runs have against those every run shares."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from ..messages import (
    ConvergenceDetail,
    ConvergenceRow,
    ConvergenceSetLoaded,
    ConvergenceSetsLoaded,
    EdgeRow,
)
from ..widgets.safe import Content, Text

SET_COLUMNS = (("set", 25), ("scenario", 16), ("runs", 4), ("score", 5), ("grade", 5))
CREATED_WIDTH = 10  # the day; the overview has the time
MAX_EDGES = 200  # edges listed per kind; the rest are counted
EMPTY = (
    "No convergence sets yet.\n\n"
    "A set compares several runs of one scenario by their causal graphs. Make one from a "
    "terminal:\n\n"
    "    timeloom convergence SCENARIO --runs 3\n\n"
    "or compare runs already stored with --runs-of RUN_ID,RUN_ID; then press ctrl+r here."
)


def _when(created: str) -> str:
    return created[:16].replace("T", " ")


def _who(runs: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{run_id} (seed {seed})" for run_id, seed in runs)


def overview(d: ConvergenceDetail) -> Content:
    row, counts = d.row, dict(d.counts)
    lines = [
        Content.assemble((row.set_id, "bold $accent"), f" of {row.scenario}"),
        Content.styled(f"created {_when(row.created_at)}", "dim"),
        Content(""),
        Content.assemble(
            ("score ", ""),
            (f"{row.score:.3f}", "bold"),
            (", grade ", ""),
            (row.grade, "bold $accent"),
        ),
        Content.styled(
            "the mean pairwise Jaccard of knowledge-flow and causal edges (temporal edges are "
            "listed, not scored)",
            "dim",
        ),
        Content(
            f"{counts.get('edges', 0)} distinct edges: {counts.get('consensus', 0)} in every run, "
            f"{counts.get('contested', 0)} only in some; "
            f"{counts.get('divergence_points', 0)} divergence point(s)"
        ),
    ]
    if counts.get("scored_edges", 1) == 0:
        lines.append(
            Content.styled("the runs have no knowledge or causal edges to compare", "$warning")
        )
    first = min(d.points, key=lambda p: p.position, default=None)
    if first is not None:
        lines.append(
            Content(f"the runs first disagree at timepoint {first.position} ‘{first.title}’")
        )
    else:
        lines.append(Content("the runs never disagree"))
    lines += [Content(""), Content.styled("runs", "bold")]
    for run_id, seed in row.runs:
        lines.append(Content(f"  seed {seed:<4} {run_id}"))
    lines += [Content(""), Content.styled("pairwise scores", "bold")]
    for a, b, score in d.pairs:
        lines.append(Content(f"  {score:.3f}  {a} ~ {b}"))
    return Content("\n").join(lines)


def divergence(d: ConvergenceDetail) -> Content:
    if not d.points:
        return Content.styled("The runs agree at every timepoint: no divergence points.", "dim")
    lines: list[Content] = []
    for p in sorted(d.points, key=lambda p: p.position):
        if lines:
            lines.append(Content(""))
        lines.append(
            Content.assemble(
                (f"timepoint {p.position} ‘{p.title}’", "bold"),
                f": {p.shared} of {p.edges} edges shared ({p.agreement:.0%} agreement)",
            )
        )
        for runs, did in p.sides:
            lines.append(Content.styled(f"  {_who(runs)}:", "$secondary"))
            if not did:
                lines.append(Content.styled("    nothing beyond what every run did", "dim"))
            for text in did:
                lines.append(Content(f"    - {text}"))
    return Content("\n").join(lines)


def _edge_lines(edges: tuple[EdgeRow, ...], with_runs: bool) -> list[Content]:
    lines = []
    for e in edges[:MAX_EDGES]:
        note = "" if e.scored else " (structural, not scored)"
        where = f"  in {e.present_in} of {e.of}: {', '.join(e.runs)}" if with_runs else ""
        lines.append(Content.assemble(f"  - {e.text}", (note, "dim"), (where, "$text-muted")))
    if len(edges) > MAX_EDGES:
        lines.append(Content.styled(f"  and {len(edges) - MAX_EDGES} more", "dim"))
    return lines


def edges(d: ConvergenceDetail) -> Content:
    lines = [Content.styled(f"only in some runs ({len(d.contested)})", "bold")]
    lines += _edge_lines(d.contested, True) or [Content.styled("  none", "dim")]
    lines += [Content(""), Content.styled(f"shared by every run ({len(d.consensus)})", "bold")]
    lines += _edge_lines(d.consensus, False) or [Content.styled("  none", "dim")]
    return Content("\n").join(lines)


class ConvergenceScreen(Screen[None]):
    CSS_PATH = "convergence.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="convergence.back", tooltip="Back to the runs"),
        Binding(
            "ctrl+r", "refresh", "Refresh", id="convergence.refresh", tooltip="Reload the sets"
        ),
        Binding(
            "1",
            "tab('conv-overview')",
            "Overview",
            id="convergence.overview",
            tooltip="The set's runs, score and pairwise scores",
        ),
        Binding(
            "2",
            "tab('conv-divergence')",
            "Divergence",
            id="convergence.divergence",
            tooltip="Where the runs disagree, and what each did there",
        ),
        Binding(
            "3",
            "tab('conv-edges')",
            "Edges",
            id="convergence.edges",
            tooltip="The edges only some runs have, and those every run shares",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: tuple[ConvergenceRow, ...] = ()
        self.detail: ConvergenceDetail | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble(
                ("Convergence sets", "bold $accent"), ("  runs of one scenario compared", "dim")
            ),
            id="conv-head",
        )
        yield DataTable(id="conv-sets", cursor_type="row", zebra_stripes=True)
        yield Static(Content(EMPTY), id="conv-empty")
        with TabbedContent(id="conv-detail"):
            for pane, title in (
                ("conv-overview", "1 Overview"),
                ("conv-divergence", "2 Divergence"),
                ("conv-edges", "3 Edges"),
            ):
                with TabPane(title, id=pane), VerticalScroll():
                    yield Static("", id=f"{pane}-text")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#conv-sets", DataTable)
        for label, width in SET_COLUMNS:
            table.add_column(label, width=width)
        table.add_column("created", width=CREATED_WIDTH)
        self._show_empty(None)
        self.app.bridge.load_convergence_sets(self)  # type: ignore[attr-defined]
        table.focus()

    def _show_empty(self, empty: bool | None) -> None:
        """``None``: still reading."""
        self.query_one("#conv-empty").display = bool(empty)
        self.query_one("#conv-sets").display = empty is False
        self.query_one("#conv-detail").display = empty is False

    def on_convergence_sets_loaded(self, message: ConvergenceSetsLoaded) -> None:
        self.loaded = True
        if message.error:
            self.notify(message.error, title="Convergence", severity="error")
        self.rows = message.rows
        table = self.query_one("#conv-sets", DataTable)
        keep = table.cursor_row
        table.clear()
        for r in self.rows:
            cells = (r.set_id, r.scenario, str(len(r.runs)), f"{r.score:.3f}", r.grade)
            table.add_row(
                *(Text(c, no_wrap=True) for c in (*cells, r.created_at[:10])), key=r.set_id
            )
        self._show_empty(not self.rows)
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
            self._load(self.rows[table.cursor_row].set_id)

    @on(DataTable.RowHighlighted, "#conv-sets")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value and (
            self.detail is None or self.detail.row.set_id != event.row_key.value
        ):
            self._load(event.row_key.value)

    @on(DataTable.RowSelected, "#conv-sets")
    def _selected(self, event: DataTable.RowSelected) -> None:
        pane = self.query_one("#conv-detail", TabbedContent).active_pane
        if pane is not None:
            pane.query_one(VerticalScroll).focus()

    def _load(self, set_id: str) -> None:
        self.app.bridge.load_convergence_set(self, set_id)  # type: ignore[attr-defined]

    def on_convergence_set_loaded(self, message: ConvergenceSetLoaded) -> None:
        if message.detail is None:
            self.notify(
                message.error or "the set cannot be read", title="Convergence", severity="error"
            )
            return
        d = self.detail = message.detail
        self.query_one("#conv-overview-text", Static).update(overview(d))
        self.query_one("#conv-divergence-text", Static).update(divergence(d))
        self.query_one("#conv-edges-text", Static).update(edges(d))
        tabs = self.query_one("#conv-detail", TabbedContent)
        tabs.get_tab("conv-divergence").label = f"2 Divergence ({len(d.points)})"
        tabs.get_tab("conv-edges").label = f"3 Edges ({len(d.contested)} differ)"

    # ------------------------------------------------------------------ actions
    def action_tab(self, pane: str) -> None:
        if self.rows:
            self.query_one("#conv-detail", TabbedContent).active = pane

    def action_refresh(self) -> None:
        self.app.bridge.load_convergence_sets(self)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        self.app.pop_screen()
