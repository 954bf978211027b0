"""Two branches side by side from where they part: the moments of each, what only one side
knows, and how moods and relationships end up. Differences are highlighted."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..widgets.safe import Content

SHOWN = 6  # knowledge items listed per person and side


class DiffScreen(Screen[None]):
    DEFAULT_CSS = """
    DiffScreen #diff-head { height: auto; padding: 0 1; background: $panel; }
    DiffScreen Horizontal { height: 1fr; }
    DiffScreen VerticalScroll { width: 1fr; border: round $primary; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="diff.back")]

    def __init__(self, diff: Any, names: dict[str, str]) -> None:
        super().__init__()
        self.diff = diff
        self.people = names

    def compose(self) -> ComposeResult:
        d = self.diff
        yield Static(self._head(), id="diff-head")
        with Horizontal():
            for side in ("a", "b"):
                column = VerticalScroll(Static(self._side(side)), id=f"diff-{side}")
                column.border_title = d.a if side == "a" else d.b
                yield column
        yield Footer()

    def _who(self, entity: str) -> str:
        return self.people.get(entity, entity)

    def _head(self) -> Content:
        d = self.diff
        part = f"part after {d.common}" if d.common else "differ from the start"
        lines = [Content.styled(f"{d.a} and {d.b} {part}", "bold $accent")]
        for branch in (d.a, d.b):
            for change in d.interventions[branch]:
                who = self._who(str(change.get("entity", "")))
                what = change.get("event") or change.get("information") or ""
                lines.append(Content(f"{branch}: {change['kind']} {who} {what}".replace("  ", " ")))
        return Content("\n").join(lines)

    def _side(self, side: str) -> Content:
        d = self.diff
        mine_first = side == "a"
        lines: list[Content] = []
        for index, x, y in d.steps:
            here, there = (x, y) if mine_first else (y, x)
            lines.append(Content.styled(f"moment {index + 1}", "bold"))
            if here is None:
                lines.append(Content.styled("  nothing (the branch ends here)", "dim"))
                continue
            differs = there is None or there.event != here.event
            missing = sorted(set(there.present) - set(here.present)) if there else []
            lines.append(Content.styled(f"{here.timepoint_id} {here.title}", "bold"))
            lines.append(Content.styled(here.event, "$warning" if differs else "dim"))
            if missing:
                gone = ", ".join(self._who(m) for m in missing)
                lines.append(Content.styled(f"without {gone}", "$error"))
            lines.append(Content(""))
        only = d.only_a if mine_first else d.only_b
        if only:
            lines.append(Content.styled("known only here", "bold"))
            for entity, items in only.items():
                for item in items[:SHOWN]:
                    lines.append(Content.styled(f"{self._who(entity)}: {item}", "$success"))
                if len(items) > SHOWN:
                    lines.append(Content.styled(f"  … and {len(items) - SHOWN} more", "dim"))
        pick = 0 if mine_first else 1
        if d.moods:
            lines.append(Content.styled("\nmoods at the end", "bold"))
            for entity, moved in d.moods.items():
                parts = ", ".join(f"{f} {v[pick]:+.2f}" for f, v in moved.items())
                lines.append(Content(f"{self._who(entity)}: {parts}"))
        if d.relations:
            lines.append(Content.styled("\nrelationships at the end", "bold"))
            for pair, moved in d.relations.items():
                a, b = pair.split("~")
                parts = ", ".join(f"{f} {v[pick]:+.2f}" for f, v in moved.items())
                lines.append(Content(f"{self._who(a)} and {self._who(b)}: {parts}"))
        return Content("\n").join(lines)
