"""What a screen over a live run's view shares: it marks itself stale when the run screen folds
a batch that touches what it draws, and redraws on its next tick (not once per event)."""

from __future__ import annotations

from typing import Any, ClassVar

from ..messages import ViewChanged


class FollowsView:
    """Mixed into a Screen that draws ``self.view`` with ``_redraw()`` and ``_show_detail()``;
    ``WATCHED`` names the changes it redraws for."""

    WATCHED: ClassVar[frozenset[str]] = frozenset()
    view: Any
    stale: bool

    def on_view_changed(self, message: ViewChanged) -> None:
        if message.view is not self.view:
            self.view = message.view
            self.stale = True
        if message.changes & self.WATCHED:
            self.stale = True

    def _redraw_if_stale(self) -> None:
        if self.stale:
            self.stale = False
            self._redraw()  # type: ignore[attr-defined]
            self._show_detail()  # type: ignore[attr-defined]
