"""The run screen's way into the paths of a PORTAL run: ``w`` opens the portal view over it, and
a state chosen there comes back as the moment the run screen shows."""

from __future__ import annotations

from typing import Any

from engine.view import RunView

from ..widgets.timeline import TimelineTree
from .portal import PortalScreen


class PortalPart:
    """Mixed into :class:`~tui.screens.run.RunScreen`; uses its view and its selection."""

    view: RunView | None
    app: Any
    selected_tp: str | None
    follow: bool

    def is_portal(self) -> bool:
        view = self.view
        return view is not None and (view.run.mode == "portal" or view.portal.active)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The paths are offered (footer, palette, help) on a PORTAL run only; on another run
        the same key says why there is nothing to show."""
        if action == "portal":
            return self.is_portal()
        if action == "portal_unavailable":
            return not self.is_portal()
        return super().check_action(action, parameters)  # type: ignore[misc, no-any-return]

    def action_portal(self) -> None:
        if self.view is None:
            return
        tp = self.view.timepoint(self.selected_tp)
        on_path = tp is not None and self.view.portal.kept_path(tp.branch_id) is not None
        start = (tp.branch_id, tp.index) if tp is not None and on_path else (None, 0)
        self.app.push_screen(PortalScreen(self.view, *start), self._portal_closed)

    def action_portal_unavailable(self) -> None:
        if self.view is None:
            self.notify("the run is still opening", severity="warning")  # type: ignore[attr-defined]
            return
        self.notify(  # type: ignore[attr-defined]
            f"this is a {self.view.run.mode.upper()} run: only a PORTAL run has paths to show",
            severity="warning",
        )

    def _portal_closed(self, timepoint_id: str | None) -> None:
        """A state chosen in the portal view: the whole screen moves to its timepoint."""
        if not timepoint_id or self.view is None or self.view.timepoint(timepoint_id) is None:
            return
        self.follow = False
        self.select(timepoint_id)  # type: ignore[attr-defined]
        self.query_one(TimelineTree).focus()  # type: ignore[attr-defined]
