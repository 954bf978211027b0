"""The query bar: ``@entity question``, with history (up/down) and suggestions of past queries
and of the run's entity names. Parsing lives in :mod:`engine.query.parse`."""

from __future__ import annotations

from textual.binding import Binding
from textual.suggester import Suggester
from textual.widgets import Input

from engine.query.parse import suggestions


class QuerySuggester(Suggester):
    def __init__(self, bar: QueryBar) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.bar = bar

    async def get_suggestion(self, value: str) -> str | None:
        found = suggestions(value, self.bar.entities, reversed(self.bar.history))
        return found[0] if found else None


class QueryBar(Input):
    HELP_NAME = "the query bar"
    BINDINGS = [
        Binding(
            "up",
            "history(-1)",
            "Previous query",
            id="query.previous",
            show=False,
            tooltip="Recall the previous query",
        ),
        Binding(
            "down",
            "history(1)",
            "Next query",
            id="query.next",
            show=False,
            tooltip="Recall the next query",
        ),
        Binding(
            "escape",
            "leave",
            "Leave the query bar",
            id="query.leave",
            tooltip="Return to the panes without asking",
        ),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(
            placeholder="@entity question — Enter to ask, Esc to leave",
            select_on_focus=False,  # "/" fills in "@entity ": typing goes after it
            **kwargs,
        )  # type: ignore[arg-type]
        self.suggester = QuerySuggester(self)
        self.entities: dict[str, str] = {}
        self.history: list[str] = []
        self._position = 0

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._position = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = self.history[self._position] if self._position < len(self.history) else ""
        self.cursor_position = len(self.value)

    def action_leave(self) -> None:
        self.screen.focus_next()
