"""How the explorer draws a PORTAL search (M17): its kept paths as parallel lanes from the origin
to the shared endpoint (or, while the search goes, its frontier slot by slot), the divergence
by position, the pivots, and the competing antecedents of one slot side by side.

Positions count the way time runs (0 is the origin); slots count back from the endpoint
(slot 0), so position ``p`` is slot ``steps - p``. Engine text is never markup: every label is
Rich ``Text`` built from plain strings, coloured with the app's theme variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from engine.view.portal import CandidateInfo, PortalView

from .safe import Text

PIVOT = "◆"
WARNING = "⚠"
KEY = "★"
BARS = " ▁▂▃▄▅▆▇█"
COMPONENTS = {  # the short column headings of a score's parts
    "plausibility": "plaus",
    "causal_necessity": "cause",
    "entity_capability": "able",
    "historical_precedent": "prec",
}
MIN_CELL, MAX_CELL = 10, 26
FRONTIER_ROWS = 12  # a slot still being filled can have many proposals: the best are shown
DIVERGENCE_KEY = "divergence"


def clip(text: str, width: int) -> str:
    """``text`` on one line, cut to ``width`` with ``…`` when longer."""
    line = " ".join(text.split())
    if width <= 0:
        return ""
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def bar(value: float | None) -> str:
    """One block whose height is ``value`` (0 to 1); a dot when there is no value."""
    if value is None:
        return "·"
    v = max(0.0, min(1.0, value))
    return BARS[round(v * (len(BARS) - 1))] if v > 0 else BARS[1]


def score_text(score: float | None) -> str:
    return "—" if score is None else f"{score:.2f}"


def component_name(name: str) -> str:
    return name.replace("_", " ")


def component_heading(name: str) -> str:
    return COMPONENTS.get(name, name[:6])


def position_name(position: int, steps: int) -> str:
    if position == 0:
        return "origin"
    if position == steps:
        return "endpoint"
    return f"step {position}"


def components_of(portal: PortalView, candidates: list[CandidateInfo]) -> list[str]:
    """The parts of a score shown for these candidates: the search's weights' order first,
    then any other part a score has."""
    known = list(portal.settings.weights) if portal.settings else []
    seen = {k for c in candidates for k in (*c.components, *c.missing)}
    return [k for k in known if k in seen] + sorted(seen - set(known))


def explains(portal: PortalView, candidate: CandidateInfo, width: int = 40) -> str:
    """The later state a candidate was proposed to explain, in a few words."""
    if candidate.later_id is None:
        text = "the scenario's endpoint" if candidate.source == "scenario" else "—"
    elif (later := portal.candidates.get(candidate.later_id)) is None:
        text = candidate.later_id
    elif later.slot == 0:
        text = "the endpoint"
    else:
        text = f"{later.candidate_id} {later.title}"
    return clip(text, width)


def beam_word(candidate: CandidateInfo) -> str:
    if candidate.slot == 0:
        return "given"
    return candidate.beam


@dataclass(frozen=True)
class Lane:
    """One row of the lanes: a kept path (``branch_id`` set) or one rank of the frontier."""

    key: str
    rank: int
    branch_id: str | None
    path_id: str | None
    coherence: float | None
    warning: str | None
    cells: tuple[CandidateInfo | None, ...]  # by position, origin first
    pivots: frozenset[int] = frozenset()


def path_lanes(portal: PortalView) -> list[Lane]:
    """The kept paths, best first, each with its states origin first and its pivots."""
    out = []
    for kept in portal.kept:
        states = tuple(portal.candidates.get(c) for c in kept.candidate_ids)
        pivots = frozenset(p.position for p in portal.pivots_of(kept.branch_id))
        out.append(
            Lane(
                kept.branch_id,
                kept.rank,
                kept.branch_id,
                kept.path_id,
                kept.coherence,
                kept.warning,
                states,
                pivots,
            )
        )
    return out


def frontier_by_position(portal: PortalView) -> list[list[CandidateInfo]]:
    """For each position, origin first: the states its slot goes on from when its beam is
    chosen, else what has been proposed for it so far, best score first."""
    steps = portal.steps
    chosen: dict[int, tuple[str, ...]] = {}
    for beam in portal.beams:
        chosen[beam.slot] = beam.kept
    out = []
    for position in range(steps + 1):
        slot = steps - position
        if slot in chosen:
            found = [portal.candidates[c] for c in chosen[slot] if c in portal.candidates]
        else:
            found = portal.at_slot(slot)
        out.append(found[:FRONTIER_ROWS])
    return out


def frontier_lanes(portal: PortalView) -> list[Lane]:
    """The search as it stands, before any path is kept: a lane per rank of each slot."""
    columns = frontier_by_position(portal)
    rows = max((len(c) for c in columns), default=0)
    return [
        Lane(
            f"frontier{k + 1}",
            k + 1,
            None,
            None,
            None,
            None,
            tuple(c[k] if k < len(c) else None for c in columns),
        )
        for k in range(rows)
    ]


def lanes_of(portal: PortalView) -> list[Lane]:
    return path_lanes(portal) if portal.kept else frontier_lanes(portal)


def comparison(
    portal: PortalView, a: str, b: str
) -> list[tuple[int, CandidateInfo | None, CandidateInfo | None, bool]]:
    """Two kept paths position by position (origin first), and whether they differ there."""
    rows = []
    for position, left, right in portal.compare(a, b):
        same = left is not None and right is not None and left.candidate_id == right.candidate_id
        rows.append((position, left, right, not same))
    return rows


def lane_label(lane: Lane, marked: str | None, colours: dict[str, str]) -> Text:
    """``▸#1 p1 0.90 ⚠``: marked for comparison, rank, branch, coherence, a warning mark when
    the path was kept with a warning."""
    mark = ("▸" if lane.key == marked else " ", f"bold {colours['accent']}")
    if lane.branch_id is None:
        return Text.assemble(mark, (f"frontier #{lane.rank}", ""))
    coherence = "—" if lane.coherence is None else f"{lane.coherence:.2f}"
    return Text.assemble(
        mark,
        (f"#{lane.rank} ", "bold"),
        (f"{lane.branch_id} ", ""),
        (coherence, colours["text-muted"]),
        (f" {WARNING}" if lane.warning else "", f"bold {colours['warning']}"),
    )


def cell_text(lane: Lane, p: int, width: int, colours: dict[str, str]) -> Text:
    """A state in two lines: its date (◆ first on a pivot) and score, then its title."""
    state = lane.cells[p]
    if state is None:
        last = p == len(lane.cells) - 1
        return Text("" if last else "·", style=colours["text-muted"])
    pivot = p in lane.pivots
    mark = f"{PIVOT} " if pivot else ""
    date = f"{state.when:%d %b %Y}"
    score = score_text(state.score) if state.slot else ""
    if score and len(mark) + len(date) + 1 + len(score) > width:
        date = f"{state.when:%d %b}"  # the year goes before the score does
        if score.startswith("0."):
            score = score[1:]  # then the leading zero: .99
    head = Text.assemble((mark, f"bold {colours['warning']}"), (date, colours["text-muted"]))
    if score and len(head) + 1 + len(score) <= width:
        head.append(" " * (width - len(head) - len(score)) + score)
    style = "bold" if pivot else ""
    if lane.branch_id is None and state.beam == "set aside":
        style = colours["text-muted"]
    return Text("\n").join([head, Text(clip(state.title, width), style=style)])


def shared_endpoint(
    row: int, rows: int, state: CandidateInfo | None, width: int, colours: dict[str, str]
) -> Text:
    """Every path ends in the one endpoint: the first lane names it, the others join it."""
    accent = colours["accent"]
    if row == 0:
        date = ""
        if state is not None:
            date = f"{state.when:%d %b %Y}" if width >= 14 else f"{state.when:%d %b}"
        title = state.title if state else "the endpoint"
        return Text.assemble(
            ("─┐ ", accent),
            (clip(date, width - 3), colours["text-muted"]),
            ("\n │ ", accent),
            (clip(title, width - 3), "bold"),
        )
    last = row == rows - 1
    return Text.assemble(("─┘" if last else "─┤", accent), ("" if last else "\n │", accent))


def divergence_text(portal: PortalView, p: int, colours: dict[str, str]) -> Text:
    """The divergence at a position as a bar and its value; a key position's in the warning
    colour."""
    value = portal.divergence[p] if p < len(portal.divergence) else None
    if value is None:
        return Text("·", style=colours["text-muted"])
    style = f"bold {colours['warning']}" if p in portal.key_positions else colours["primary"]
    return Text.assemble((bar(value) * 2, style), (f" {value:.2f}", ""))


class PathLanes(DataTable[Text]):
    """The lanes: a row per kept path (rank, coherence, a warning mark), a column per position
    from the origin to the shared endpoint, each cell its state's date and title (a pivot
    marked ◆), a key position's heading starred, and the divergence by position below."""

    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "Open in run",
            id="portal.open",
            tooltip="Show this state in the run screen: its timepoint in the tree, its dialog "
            "and the entities at that moment",
        ),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=False, **kwargs)
        self.show_row_labels = True
        self.lanes: list[Lane] = []
        self.positions = 0
        self.marked: str | None = None  # the lane marked for comparison
        self.portal: PortalView | None = None
        self._drawn_width = 0
        self._drawn: tuple[Any, ...] = ()

    # ------------------------------------------------------------------ reading
    def cell_under_cursor(self) -> tuple[Lane | None, int, CandidateInfo | None]:
        """The lane (None on the divergence row), the position and the state under the
        cursor."""
        if not self.positions:
            return None, 0, None
        row, column = self.cursor_coordinate
        column = min(column, self.positions - 1)
        if row >= len(self.lanes):
            return None, column, None
        lane = self.lanes[row]
        return lane, column, lane.cells[column]

    def move_to(self, lane_key: str | None, position: int) -> None:
        """Put the cursor on a lane's state at a position (the first lane when not shown)."""
        keys = [lane.key for lane in self.lanes]
        if not self.positions:
            return
        row = keys.index(lane_key) if lane_key in keys else 0
        self.cursor_coordinate = Coordinate(row, max(0, min(position, self.positions - 1)))

    # ------------------------------------------------------------------ drawing
    def _colours(self) -> dict[str, str]:
        v = self.app.get_css_variables()
        colours = {name: v.get(name, "") for name in ("accent", "warning", "primary")}
        colours["text-muted"] = v.get("foreground-muted", "")  # Rich cannot read "auto 60%"
        return colours

    def cell_width(self, positions: int) -> int:
        label = 16
        room = max(0, self.size.width - 2 - label - 1)  # the border, the labels, a scrollbar
        each = room // max(1, positions) - 2 * self.cell_padding
        return max(MIN_CELL, min(MAX_CELL, each))

    def show(self, portal: PortalView, *, rebuild: bool = False) -> None:
        """Draw the lanes of ``portal``; the cursor stays on the same lane and position."""
        lanes = lanes_of(portal)
        positions = portal.steps + 1 if portal.active else 0
        width = self.cell_width(positions)
        drawn = (
            tuple(lanes),
            positions,
            width,
            self.marked,
            portal.divergence,
            portal.key_positions,
        )
        self.portal = portal
        if not rebuild and drawn == self._drawn:
            return
        lane, position, _ = self.cell_under_cursor()
        key = lane.key if lane else (DIVERGENCE_KEY if self.lanes else None)
        colours = self._colours()
        self.clear(columns=True)
        self.lanes, self.positions, self._drawn, self._drawn_width = (
            lanes,
            positions,
            drawn,
            self.size.width,
        )
        keys = set(portal.key_positions)
        for p in range(positions):
            name = position_name(p, portal.steps)
            if p in keys:
                label = Text(clip(f"{KEY} {name}", width), style=f"bold {colours['warning']}")
            else:
                label = Text(clip(name, width), style="bold" if p == positions - 1 else "")
            self.add_column(label, key=f"pos{p}", width=width)
        for row, lane in enumerate(lanes):
            cells = [cell_text(lane, p, width, colours) for p in range(positions)]
            if lane.branch_id is not None and len(lanes) > 1 and cells:
                cells[-1] = shared_endpoint(row, len(lanes), lane.cells[-1], width, colours)
            self.add_row(
                *cells, key=lane.key, label=lane_label(lane, self.marked, colours), height=2
            )
        if lanes and portal.kept:
            self.add_row(
                *(divergence_text(portal, p, colours) for p in range(positions)),
                key=DIVERGENCE_KEY,
                label=Text("divergence", style=colours["text-muted"]),
                height=1,
            )
        if key == DIVERGENCE_KEY and portal.kept:
            self.cursor_coordinate = Coordinate(len(lanes), position)
        else:
            self.move_to(key, position)

    def on_resize(self) -> None:
        if self.portal is not None and self.size.width != self._drawn_width:
            self.show(self.portal)


class CandidateTable(DataTable[Text]):
    """The competing antecedents of one slot side by side, best first: each with its score,
    the parts of its score (``—`` where a part is missing), its beam status and the later
    state it explains; the selected state's row is the cursor's."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.shown: tuple[str, ...] = ()

    def widths(self, parts: int) -> tuple[int, int, int]:
        """The widths of the state, explains and beam columns that fit the table's width."""
        columns = 6 + parts
        room = self.size.width - 2 - 2 - 2 * self.cell_padding * columns  # border, scrollbar
        fixed = 1 + 5 + 5 * parts
        beam = 9 if room - fixed - 9 >= 48 else 5
        flexible = room - fixed - beam
        title = max(14, min(48, flexible * 3 // 5))
        return title, max(8, min(40, flexible - title)), beam

    def show(self, portal: PortalView, slot: int | None, selected: str | None) -> None:
        candidates = portal.at_slot(slot) if slot is not None else []
        self.clear(columns=True)
        self.shown = tuple(c.candidate_id for c in candidates)
        if not candidates:
            return
        v = self.app.get_css_variables()
        accent, muted = v.get("accent", ""), v.get("foreground-muted", "")
        parts = components_of(portal, candidates)
        title_w, explain_w, beam_w = self.widths(len(parts))
        narrow = beam_w < 9
        self.add_column(Text(""), key="mark", width=1)
        self.add_column(Text("state"), key="state", width=title_w)
        self.add_column(Text("score"), key="score", width=5)
        for part in parts:
            self.add_column(Text(component_heading(part)), key=f"c:{part}", width=5)
        self.add_column(Text("beam"), key="beam", width=beam_w)
        self.add_column(Text("explains"), key="explains", width=explain_w)
        for c in candidates:
            chosen = c.candidate_id == selected
            style = f"bold {accent}" if chosen else ""
            beam = beam_word(c)
            if narrow and beam == "set aside":
                beam = "aside"
            cells = [
                Text("▶" if chosen else "", style=style),
                Text(clip(f"{c.candidate_id} {c.title}", title_w), style=style),
                Text(score_text(c.score), style=f"bold {accent}" if chosen else "bold"),
            ]
            for part in parts:
                if part in c.components:
                    cells.append(Text(f"{c.components[part]:.2f}"))
                else:
                    cells.append(Text("—", style=muted))
            cells.append(Text(beam, style=muted if c.beam == "set aside" else ""))
            cells.append(Text(explains(portal, c, explain_w), style=muted))
            self.add_row(*cells, key=c.candidate_id)
        if selected in self.shown:
            self.move_cursor(row=self.shown.index(selected), animate=False)
