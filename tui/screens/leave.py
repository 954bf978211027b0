"""Leaving a live run: stop it, or keep it going in the background."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from ..widgets.safe import Content


class LeaveLiveRun(ModalScreen[str | None]):
    """Dismissed with "stop", "keep" or None (stay on the run)."""

    DEFAULT_CSS = """
    LeaveLiveRun { align: center middle; }
    LeaveLiveRun > Vertical { width: 64; height: auto; border: round $accent;
                              background: $surface; padding: 1 2; }
    LeaveLiveRun Horizontal { height: auto; margin-top: 1; }
    LeaveLiveRun Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("k", "choose('keep')", "Keep running", id="leave.keep"),
        Binding("s", "choose('stop')", "Stop it", id="leave.stop"),
        Binding("escape", "choose('')", "Stay", id="leave.stay"),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled(f"The run {self.run_id} is still going", "bold $accent"))
            yield Static(
                "Keep it running in the background (it stays on the runs list, live, and you "
                "can open it again), or stop it here?"
            )
            with Horizontal():
                yield Button("Keep running (k)", id="keep", variant="primary")
                yield Button("Stop it (s)", id="stop", variant="warning")
                yield Button("Stay (esc)", id="stay")

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice or None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "stay" else event.button.id)
