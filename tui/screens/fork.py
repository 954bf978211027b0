"""The fork form: change one thing at the selected moment and run the branch from there.

The preview (what it costs, whom it reaches) is asked for whenever the form changes and shown
before anything runs; Fork returns the intervention and a label to the run screen."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from ..messages import ForkPreviewed
from ..widgets.safe import Content

KINDS = (
    ("inject: an event happens", "inject"),
    ("remove: someone is absent from then on", "remove"),
    ("withhold: someone does not know something", "withhold"),
    ("tell: someone learns something", "tell"),
)


class ForkScreen(ModalScreen[tuple[Any, str] | None]):
    DEFAULT_CSS = """
    ForkScreen { align: center middle; }
    ForkScreen > Vertical { width: 78; max-width: 100%; height: auto; max-height: 100%;
                            border: round $accent; background: $surface; padding: 0 1; }
    ForkScreen Input, ForkScreen Select { margin: 0 0 0 0; }
    ForkScreen #fork-preview { height: auto; max-height: 4; overflow-y: auto; color: $text-muted; }
    ForkScreen Horizontal { height: auto; align-horizontal: right; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="fork.cancel")]

    def __init__(
        self, run_id: str, at: str, title: str, names: dict[str, str], filled: Any = None
    ) -> None:
        super().__init__()
        self.filled = filled  # a /fork command's kind, entity and text
        self.run_id = run_id
        self.at = at
        self.moment = title
        self.names = names
        self.change: Any = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled(f"Fork at {self.at} {self.moment}", "bold $accent"))
            f = self.filled
            yield Select(KINDS, value=f.kind if f else "inject", allow_blank=False, id="fork-kind")
            yield Input(f.entity if f else "", placeholder="who (a name or id)", id="fork-entity")
            yield Input(
                f.text if f else "",
                placeholder="what happens, or what is withheld or told",
                id="fork-text",
            )
            yield Input(placeholder="a label for the branch (optional)", id="fork-label")
            yield Static("", id="fork-preview")
            with Horizontal():
                yield Button("Cancel", id="fork-cancel")
                yield Button("Fork", variant="primary", id="fork-go", disabled=True)

    def on_mount(self) -> None:
        self._kind_changed()
        self.query_one("#fork-text", Input).focus()

    @on(Select.Changed, "#fork-kind")
    def _kind_changed(self) -> None:
        kind = self.query_one("#fork-kind", Select).value
        self.query_one("#fork-entity", Input).display = kind != "inject"
        self._changed()

    @on(Input.Changed)
    def _changed(self) -> None:
        from pydantic import ValidationError

        from engine.model.intervention import Intervention

        kind = self.query_one("#fork-kind", Select).value
        entity = self.query_one("#fork-entity", Input).value.strip()
        text = self.query_one("#fork-text", Input).value.strip()
        fields: dict[str, Any] = {"kind": kind}
        if kind == "inject":
            fields["event"] = text
        else:
            fields["entity"] = entity
            if kind != "remove":
                fields["information"] = text
        try:
            self.change = Intervention.model_validate(fields)
        except ValidationError as exc:
            self.change = None
            self._show((), exc.errors()[0]["msg"].removeprefix("Value error, "))
            return
        self.app.bridge.preview_fork(self, self.run_id, self.at, self.change)  # type: ignore[attr-defined]

    def on_fork_previewed(self, message: ForkPreviewed) -> None:
        self._show(message.lines, message.error)

    def _show(self, lines: tuple[str, ...], error: str | None) -> None:
        preview = self.query_one("#fork-preview", Static)
        if error:
            preview.update(Content.styled(error, "$warning"))
        else:
            preview.update(Content("\n".join(lines)))
        self.query_one("#fork-go", Button).disabled = bool(error) or self.change is None

    @on(Button.Pressed, "#fork-go")
    def _go(self) -> None:
        if self.change is not None:
            label = self.query_one("#fork-label", Input).value.strip()
            self.dismiss((self.change, label))

    @on(Button.Pressed, "#fork-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
