"""Modal screens: the keys of the focused pane, and errors that stop the explorer."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..widgets.safe import Content


class HelpScreen(ModalScreen[None]):
    """The keys that work where the focus is, then the keys that work anywhere on the screen."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 76; height: auto; max-height: 80%; border: round $accent;
                            background: $surface; padding: 0 1; }
    HelpScreen VerticalScroll { height: auto; max-height: 30; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close")]

    def __init__(self, title: str, sections: list[tuple[str, list[tuple[str, str, str]]]]) -> None:
        super().__init__()
        self.title_text = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        lines: list[Content] = [Content.styled(self.title_text, "bold $accent")]
        for heading, rows in self.sections:
            if not rows:
                continue
            lines.append(Content(""))
            lines.append(Content.styled(heading, "bold"))
            for key, description, binding_id in rows:
                lines.append(
                    Content.assemble(
                        (f"  {key:<14}", "bold $secondary"),
                        (description, ""),
                        (f"   {binding_id}", "dim"),
                    )
                )
        lines.append(Content(""))
        lines.append(
            Content.styled("Keys can be remapped by id in the config file ([ui.keymap]).", "dim")
        )
        with Vertical():
            with VerticalScroll():
                yield Static(Content("\n").join(lines))
            yield Static(Content.styled("escape to close", "dim"))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class ErrorScreen(ModalScreen[None]):
    """An error the explorer cannot work around, in one sentence."""

    DEFAULT_CSS = """
    ErrorScreen { align: center middle; }
    ErrorScreen > Vertical { width: 72; height: auto; border: round $error; background: $surface;
                             padding: 1 2; }
    """
    BINDINGS = [Binding("q,escape,enter", "leave", "Quit", id="error.quit")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def action_leave(self) -> None:
        self.app.exit(return_code=2)  # the explorer could not do what it was asked

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled("timeloom cannot continue", "bold $error"))
            yield Static(Content(self.text))
            yield Static(Content.styled("press q to quit", "dim"))


class ConfirmScreen(ModalScreen[bool]):
    """A yes-or-no question with what saying yes costs: ``y`` or enter agrees, ``n`` or
    escape declines."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 72; max-width: 95%; height: auto; border: round $warning;
                               background: $surface; padding: 0 1; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, text: str, setting: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.setting = setting

    def compose(self) -> ComposeResult:
        lines = [Content.styled(self.title_text, "bold $warning"), Content(""), Content(self.text)]
        lines.append(Content(""))
        lines.append(Content.styled("y or enter: go ahead · n or esc: leave it", "$text-muted"))
        if self.setting:
            lines.append(Content.styled(self.setting, "dim"))
        with Vertical():
            yield Static(Content("\n").join(lines))

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class FindScreen(ModalScreen[str | None]):
    """What to look for in the dialog: enter finds it (again: the next one), esc leaves."""

    DEFAULT_CSS = """
    FindScreen { align: center top; }
    FindScreen > Input { width: 60; max-width: 95%; margin-top: 3; border: round $accent; }
    """
    BINDINGS = [Binding("escape", "leave", "Leave", id="find.leave")]

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        from textual.widgets import Input

        yield Input(self.text, placeholder="find in the dialog shown", id="find")

    def on_input_submitted(self, event: Any) -> None:
        self.dismiss(event.value.strip() or None)

    def action_leave(self) -> None:
        self.dismiss(None)
