"""The command palette offers what fits the current screen: its actions (from its bindings),
the runs and scenarios (on the home screen), and the themes."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.actions import parse
from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import TimeloomApp


def offered(node: object, binding: object) -> bool:
    """Whether a binding's action is available on its node now: the palette and the help
    list only what `check_action` allows (a stored run offers no pause or step)."""
    action = getattr(binding, "action", "")
    if not action:
        return False
    _, name, params = parse(action)
    check = getattr(node, "check_action", None)
    return check is None or check(name, params) is not False


class ScreenActions(Provider):
    """Every binding of the current screen and the focused widget, by its description."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app: TimeloomApp = self.app  # type: ignore[assignment]
        screen = self.screen
        out: list[tuple[str, str, object]] = []
        seen: set[str] = set()
        nodes = [screen]
        if screen.focused is not None:
            nodes = [*reversed(list(screen.focused.ancestors_with_self))]
        for node in nodes:
            if type(node).__module__.split(".")[0] != "tui":
                continue  # a Textual widget's own keys (cursor up, page down) are not actions
            for binding in getattr(node, "BINDINGS", []):
                if not hasattr(binding, "action") or not binding.description or binding.id in seen:
                    continue
                if binding.description in seen:  # "Quit" on the screen (q) and the app (ctrl+q)
                    continue
                if not offered(node, binding):
                    continue  # not offered here (a live run's pause on a stored run)
                if binding.id:
                    seen.add(binding.id)
                seen.add(binding.description)
                help_text = binding.tooltip or binding.description
                out.append(
                    (
                        binding.description,
                        help_text,
                        partial(app.run_palette_action, node, binding.action),
                    )
                )
        return out

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]


class RunsAndScenarios(Provider):
    """Open a stored run or launch a scenario, from anywhere."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app: TimeloomApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, object]] = []
        for name, ref in app.known_scenarios:
            out.append((f"Launch {name}", "run this scenario live", partial(app.launch, ref)))
        for run_id, label in app.known_runs:
            out.append((f"Open run {run_id}", label, partial(app.open_run, run_id)))
        return out

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]


class Themes(Provider):
    async def search(self, query: str) -> Hits:
        app: TimeloomApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        for name in app.timeloom_themes:
            label = f"Theme: {name}"
            score = matcher.match(label)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(label),
                    partial(app.use_theme, name),
                    help="switch to this theme",
                )
