"""Textual's ``Content`` and Rich's ``Text`` that never carry a control sequence: the explorer's
widgets and screens import them from here, so text from scenarios and models (and from a
database written by anything) reaches the terminal without escape sequences, C0/C1 controls or
direction overrides (:func:`engine.safety.terminal.strip_controls`; newlines and tabs stay).
Neither interprets markup: engine text is always literal content.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text as _RichText
from textual.content import Content as _Content

from engine.safety.terminal import strip_controls


def _part(part: Any) -> Any:
    if isinstance(part, str):
        return strip_controls(part)
    if isinstance(part, tuple) and part and isinstance(part[0], str):
        return (strip_controls(part[0]), *part[1:])
    return part


class Content(_Content):
    """Textual ``Content``; new text is stripped of control sequences."""

    def __init__(
        self,
        text: str = "",
        spans: Any = None,
        cell_length: int | None = None,
        strip_control_codes: bool = True,
    ) -> None:
        # Text with spans comes from content already made (a join, a slice, styled): clean.
        if spans is None and text:
            text = strip_controls(text)
        super().__init__(text, spans, cell_length, strip_control_codes)

    @classmethod
    def styled(cls, text: str, style: Any = "", cell_length: int | None = None, **kw: Any) -> Any:
        return super().styled(strip_controls(text), style, cell_length, **kw)

    @classmethod
    def assemble(cls, *parts: Any, **kw: Any) -> Any:
        return super().assemble(*(_part(p) for p in parts), **kw)


class Text(_RichText):
    """Rich ``Text``; text given or appended is stripped of control sequences."""

    def __init__(self, text: str = "", *args: Any, **kw: Any) -> None:
        super().__init__(text if kw.get("spans") else strip_controls(text), *args, **kw)

    def append(self, text: Any, style: Any = None) -> Any:
        return super().append(strip_controls(text) if isinstance(text, str) else text, style)

    @classmethod
    def assemble(cls, *parts: Any, **kw: Any) -> Any:
        return super().assemble(*(_part(p) for p in parts), **kw)
