"""How the explorer words and draws fidelity levels (M1): markers and their colours, why an
entity is at its level, what raising it would cost on this run, the ``/elevate`` command that
raises it, and the entity × timepoint grid of the fidelity map.

Colours are theme variables only: Content resolves ``$accent`` by itself; the grid (a
DataTable, drawn through Rich) resolves the same variables from the app's current theme.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.coordinate import Coordinate
from textual.widgets import DataTable

from engine.model.common import ResolutionLevel
from engine.model.records import LevelInfo
from engine.view import RunView
from engine.view.fidelity import MARKERS, Cell

from .safe import Content, Text

LEVELS = tuple(level.value for level in ResolutionLevel)  # cheapest first
LEVEL_NAMES = {
    "tensor_only": "tensor only",
    "scene": "scene",
    "graph": "graph",
    "dialog": "dialog",
    "trained": "trained",
}
LEVEL_COLOURS = {  # theme variables
    "tensor_only": "foreground-muted",
    "scene": "primary",
    "graph": "secondary",
    "dialog": "accent",
    "trained": "success",
}
NAME_WIDTH = 16
CELL_WIDTH = 7


def next_level(level: str) -> str | None:
    """The level above ``level`` (None at the top, or when the level is not known)."""
    if level not in LEVELS:
        return None
    i = LEVELS.index(level)
    return LEVELS[i + 1] if i + 1 < len(LEVELS) else None


def short_tokens(tokens: float) -> str:
    """``·`` for none, then ``640``, ``1.2k``, ``12k``, ``1.2M``."""
    n = round(tokens)
    if n <= 0:
        return "·"
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def cause_text(info: LevelInfo) -> str:
    """Who set the level: the plan, a query, compression after disuse, or creation."""
    if info.cause == "query":
        return f"by query {info.query_id}" if info.query_id else "by a query"
    if info.cause == "created":
        return f"created by {info.query_id}" if info.query_id else "created on demand"
    if info.cause == "compressed":
        return "compressed after disuse"
    return "set by the fidelity plan"


def raise_cost(level: str, costs: dict[str, float]) -> str:
    """What raising a cell from ``level`` one level up costs, measured on this run."""
    if level not in LEVELS:
        return "no level recorded here yet"
    target = next_level(level)
    if target is None:
        return "already at the highest level"
    name = LEVEL_NAMES[target]
    if target not in costs:
        return f"raising it to {name}: no {name} cell on this run to measure"
    tokens = costs[target]
    if round(tokens) <= 0:
        return f"raising it to {name} costs no tokens on this run"
    return f"raising it to {name} costs about {short_tokens(tokens)} tokens a timepoint on this run"


def elevate_command(entity_id: str, timepoint_id: str | None, level: str) -> str | None:
    """``/elevate @ENTITY@TP to NEXT`` (None when the level is already the highest; without
    ``to`` when no level is recorded, so that the engine picks the next one)."""
    at = f"@{timepoint_id}" if timepoint_id else ""
    if level not in LEVELS:
        return f"/elevate @{entity_id}{at}"
    target = next_level(level)
    if target is None:
        return None
    return f"/elevate @{entity_id}{at} to {target}"


def level_badge(level: str) -> Content:
    """``D dialog`` in the level's colour."""
    if level not in MARKERS:
        return Content.styled("? no level recorded", "dim")
    return Content.styled(f"{MARKERS[level]} {LEVEL_NAMES[level]}", f"bold ${LEVEL_COLOURS[level]}")


def legend() -> Content:
    """Two lines: the markers in their colours, then how to read a cell."""
    markers = Content("  ").join(level_badge(level) for level in LEVELS)
    how = Content.styled(
        "a cell: level and tokens spent (k = thousand) · dimmed: not present",
        "$text-muted",
    )
    return Content("\n").join([markers, how])


def short_name(name: str, width: int = NAME_WIDTH) -> str:
    """A name that fits ``width``: as it is, else initial and surname, else cut with ``…``."""
    if len(name) <= width:
        return name
    words = name.split()
    if len(words) > 1:
        short = f"{words[0][0]}. {words[-1]}"
        if len(short) <= width:
            return short
    return name[: width - 1] + "…"


def grid_cells(view: RunView, at: str | None, entity_ids: list[str]) -> list[list[Cell]]:
    """One row per entity, a cell per timepoint of the chain leading to ``at``."""
    return view.fidelity_grid(at, entity_ids)


def history_on(infos: Iterable[LevelInfo], lineage: frozenset[str]) -> list[LevelInfo]:
    """The level changes that reach a moment: before the first timepoint or on its lineage."""
    return [i for i in infos if not i.timepoint_id or i.timepoint_id in lineage]


def resolution_lines(view: RunView, entity_id: str, at: str | None) -> Content:
    """The inspector's Resolution section: the entity's level at ``at`` and why, each change
    of level that reaches ``at``, what one level more costs on this run, and the key for it."""
    now = view.level_at(entity_id, at)
    where = f"at {at}" if at else "before the first timepoint"
    if now is None:
        head = Content.assemble((f"{where}: ", "bold"), ("no level recorded", "dim"))
        level = ""
    else:
        head = Content.assemble(
            (f"{where}: ", "bold"),
            level_badge(now.level),
            (f"\n{now.reason or 'no reason given'}, {cause_text(now)}", ""),
        )
        level = now.level
    lines = [head, Content("")]
    changes = history_on(view.levels_of(entity_id), view.lineage(at) if at else frozenset())
    lines.append(Content.styled(f"history ({len(changes)} changes)", "bold"))
    if not changes:
        lines.append(Content.styled("none recorded yet", "dim"))
    for info in changes:
        by = "" if info.cause == "plan" else f", {cause_text(info)}"
        lines.append(
            Content.assemble(
                (f"{info.timepoint_id or 'start':<8}", "dim"),
                level_badge(info.level),
                (f"  {info.reason}{by}", ""),
            )
        )
    lines.append(Content(""))
    lines.append(Content.styled(raise_cost(level, view.level_costs()), "$text-muted"))
    if level != LEVELS[-1]:
        lines.append(Content.styled("e: raise its fidelity", "dim"))
    return Content("\n").join(lines)


class FidelityGrid(DataTable[Text]):
    """The fidelity map's grid: a row per entity, a column per timepoint of a chain, each cell
    its level marker and the tokens spent on it, coloured by level (absent: dimmed)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=False, **kwargs)
        self.show_row_labels = True
        self.rows_shown: tuple[str, ...] = ()
        self.columns_shown: tuple[str, ...] = ()
        self.cells: dict[tuple[str, str], Cell] = {}

    def _colours(self) -> dict[str, str]:
        variables = self.app.get_css_variables()
        return {level: variables.get(name, "") for level, name in LEVEL_COLOURS.items()}

    def _text(self, cell: Cell, colours: dict[str, str]) -> Text:
        label = f"{cell.marker if cell.level else '?'} {short_tokens(cell.tokens)}"
        style = colours.get(cell.level, "")
        if not cell.present:
            style = f"{style} dim".strip()
        return Text(label, style=style or "")

    def show(
        self,
        view: RunView,
        at: str | None,
        entity_ids: list[str],
        names: dict[str, str],
        *,
        rebuild: bool = False,
    ) -> None:
        """Draw the grid for the chain leading to ``at``; cells are updated in place when the
        rows and columns are the ones already shown (a live run's new cells, tokens)."""
        rows = grid_cells(view, at, entity_ids)
        columns = tuple(c.timepoint_id for c in rows[0]) if rows else ()
        colours = self._colours()
        if rebuild or columns != self.columns_shown or tuple(entity_ids) != self.rows_shown:
            cursor = self.cursor_coordinate
            self.clear(columns=True)
            for tp_id in columns:
                label = Text(tp_id.rsplit(".", 1)[-1], style="underline" if tp_id == at else "")
                self.add_column(label, key=tp_id, width=CELL_WIDTH)
            for entity_id, row in zip(entity_ids, rows, strict=True):
                self.add_row(
                    *(self._text(c, colours) for c in row),
                    key=entity_id,
                    label=Text(short_name(names.get(entity_id, entity_id))),
                )
            self.rows_shown, self.columns_shown = tuple(entity_ids), columns
            if self.row_count and cursor.row < self.row_count:
                self.cursor_coordinate = cursor
        else:
            for entity_id, row in zip(entity_ids, rows, strict=True):
                for c in row:
                    if self.cells.get((entity_id, c.timepoint_id)) != c:
                        self.update_cell(entity_id, c.timepoint_id, self._text(c, colours))
        self.cells = {(c.entity_id, c.timepoint_id): c for row in rows for c in row}

    def move_to(self, entity_id: str | None, timepoint_id: str | None) -> None:
        """Put the cursor on an entity's cell at a moment (the last moment when not shown)."""
        if not self.rows_shown or not self.columns_shown:
            return
        row = self.rows_shown.index(entity_id) if entity_id in self.rows_shown else 0
        if timepoint_id in self.columns_shown:
            column = self.columns_shown.index(timepoint_id)
        else:
            column = len(self.columns_shown) - 1
        self.cursor_coordinate = Coordinate(row, column)

    def cell_under_cursor(self) -> Cell | None:
        if not self.rows_shown or not self.columns_shown:
            return None
        row, column = self.cursor_coordinate
        if row >= len(self.rows_shown):
            return None
        column = min(column, len(self.columns_shown) - 1)
        return self.cells.get((self.rows_shown[row], self.columns_shown[column]))
