"""How the run screen shares its width, whatever the terminal's size.

Wide (150 columns and more) the timeline, the dialog and the inspector stand side by side;
from 100 to 149 the side panes are narrower; under 100 one pane is shown at a time, chosen
with the tabs above it (or 1, 2, 3), the dialog first. Any side pane can be hidden (T, I) and
the pane with focus maximised (z); the keys of the inspector's tabs and of the dialog act
wherever focus is, bringing their pane into view when it is hidden."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import Tab, Tabs

from engine.safety.terminal import one_line

from ..widgets.dialog import WINDOW_TURNS

NARROW = 100  # under this many columns, one pane at a time
WIDE = 150  # from this many columns, the widest side panes
PANES = {"timeline": "#timeline", "dialog": "#dialog", "inspector": "#inspector"}


class LayoutPart:
    """Mixed into :class:`~tui.screens.run.RunScreen`."""

    app: Any
    size: Any
    current_pane: str = "dialog"
    view: Any
    selected_tp: str | None
    follow: bool
    hidden_panes: frozenset[str] = frozenset()

    if TYPE_CHECKING:  # the screen's

        def query_one(self, *args: Any, **kwargs: Any) -> Any: ...

        def set_class(self, *args: Any) -> Any: ...

        def notify(self, *args: Any, **kwargs: Any) -> Any: ...

    # ------------------------------------------------------------------ width
    def pane_tabs(self) -> Tabs:
        """The tabs that choose the pane shown on a narrow screen (hidden otherwise)."""
        return Tabs(
            Tab("1 timeline", id="tab-timeline"),
            Tab("2 dialog", id="tab-dialog"),
            Tab("3 entities", id="tab-inspector"),
            id="pane-tabs",
            active="tab-dialog",
        )

    def layout_for(self, width: int) -> str:
        return "narrow" if width < NARROW else ("medium" if width < WIDE else "wide")

    def apply_layout(self, width: int | None = None) -> None:
        shape = self.layout_for(width if width is not None else self.size.width)
        self.set_class(shape == "narrow", "-narrow")
        self.set_class(shape == "medium", "-medium")
        for pane, selector in PANES.items():
            widget = self.query_one(selector)
            widget.set_class(pane == self.current_pane, "-current")
            widget.set_class(pane in self.hidden_panes and shape != "narrow", "-hidden")
        tabs = self.query_one("#pane-tabs", Tabs)
        if tabs.active != f"tab-{self.current_pane}":
            tabs.active = f"tab-{self.current_pane}"

    def on_resize(self, event: Any) -> None:
        self.apply_layout(event.size.width)

    @property
    def narrow(self) -> bool:
        return self.layout_for(self.size.width) == "narrow"

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        # (a mixin's handlers go by name: @on is read only from the screen class itself)
        if event.tabs.id != "pane-tabs" or not self.narrow:  # the tabs are shown when narrow
            return
        pane = (event.tab.id or "").removeprefix("tab-")
        if pane in PANES and pane != self.current_pane:
            self.show_pane(pane)

    # ------------------------------------------------------------------ panes
    def show_pane(self, pane: str, focus: bool = True) -> None:
        """Bring a pane into view (on a narrow screen, instead of the others; a hidden one
        comes back) and, unless told otherwise, give it focus."""
        self.current_pane = pane
        self.hidden_panes = self.hidden_panes - {pane}
        self.apply_layout()
        if focus:
            target = "#entities" if pane == "inspector" else PANES[pane]
            self.query_one(target).focus()

    def action_focus_pane(self, pane: str) -> None:
        self.show_pane(pane)

    def action_toggle_pane(self, pane: str) -> None:
        """Hide a side pane, or show it again; the dialog takes its width."""
        if self.narrow:
            self.notify("the screen is narrow: one pane is shown at a time (1, 2, 3)")
            return
        if pane in self.hidden_panes:
            self.hidden_panes = self.hidden_panes - {pane}
        else:
            self.hidden_panes = self.hidden_panes | {pane}
            if self.current_pane == pane:
                self.current_pane = "dialog"
        self.apply_layout()
        self.app.remember("hide", sorted(self.hidden_panes))  # kept for the next start

    def action_zoom(self) -> None:
        """Maximise the pane with focus (the dialog when none has it), or restore."""
        screen: Any = self
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = screen.focused
        pane = None
        for selector in PANES.values():
            widget = self.query_one(selector)
            if focused is not None and (focused is widget or widget in focused.ancestors):
                pane = widget
        screen.maximize(pane or self.query_one("#dialog"), container=False)

    def action_copy_run_id(self) -> None:
        view = getattr(self, "view", None)
        run_id = view.run.run_id if view is not None else getattr(self, "run_id", None)
        if not run_id:
            self.notify("the run has no id yet: it is still starting")
            return
        self.app.copy_to_clipboard(run_id)
        self.notify(f"copied {run_id} to the clipboard", timeout=2)

    def on_dialog_pane_earlier_requested(self) -> None:
        """Extend the window up to a few more timepoints (about WINDOW_TURNS more turns)."""
        if self.view is None or self.selected_tp is None:
            return
        pane = self.query_one("#dialog")
        ids = [t.timepoint_id for t in self.view.chain(self.selected_tp)]
        first = ids.index(pane.window[0]) if pane.window and pane.window[0] in ids else 0
        if first == 0:
            return
        start, total = first - 1, 0
        while start > 0:
            turns = self.view.turns(ids[start]) if self.view.turns_loaded(ids[start]) else ()
            total += max(len(turns), 8)
            if total >= WINDOW_TURNS:
                break
            start -= 1
        self.follow = False
        self._render_dialog(start=start)

    # ------------------------------------------------------------------ find
    found_text: str = ""
    found_at: int = -1

    def action_find(self) -> None:
        from .modals import FindScreen

        self.app.push_screen(FindScreen(self.found_text), self._find)

    def _find(self, text: str | None) -> None:
        """Mark the lines of the dialog shown that hold ``text`` and go to the next one."""
        from ..widgets.dialog import QueryView, TurnView

        if not text:
            return
        pane = self.query_one("#dialog")
        lines = [w for w in pane.children if isinstance(w, TurnView | QueryView)]
        wanted = text.lower()
        hits = [w for w in lines if wanted in w.copy_text.lower()]
        for w in lines:
            w.set_class(w in hits, "-found")
        if not hits:
            self.notify(
                one_line(f"no line of the dialog shown holds “{text}” (u shows earlier dialog)"),
                markup=False,
            )
            return
        self.found_at = (self.found_at + 1) % len(hits) if text == self.found_text else 0
        self.found_text = text
        if self.narrow:
            self.show_pane("dialog", focus=False)
        pane.scroll_to_widget(hits[self.found_at], animate=False)
        self.notify(
            one_line(f"“{text}”: {self.found_at + 1} of {len(hits)} (ctrl+f, enter: the next)"),
            markup=False,
        )

    # ------------------------------------------------------------------ keys anywhere
    def action_inspector_tab(self, tab: str) -> None:
        """An inspector tab, from wherever focus is; the inspector comes into view."""
        if self.narrow or "inspector" in self.hidden_panes:
            self.show_pane("inspector", focus=False)
        self.query_one("#inspector").action_tab(tab)

    def action_earlier(self) -> None:
        dialog = self.query_one("#dialog")
        if not dialog.has_earlier:
            self.notify("the dialog shown starts at the first timepoint: nothing earlier")
            return
        if self.narrow:
            self.show_pane("dialog", focus=False)
        dialog.action_earlier()
