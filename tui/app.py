"""The Textual app: wires settings, themes, the keymap and the bridge; features live in screens."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from engine.safety.secrets import scrub
from engine.safety.terminal import one_line
from engine.session import OfflineRun

from .bridge import EngineBridge, EventSource, QueryProviders, SimulationFactory
from .commands import RunsAndScenarios, ScreenActions, Themes, offered
from .screens.home import HomeScreen
from .screens.modals import ErrorScreen, HelpScreen
from .screens.run import RunScreen
from .signals import stopping_on_signals
from .themes import DEFAULT_THEME, load_themes, theme_folders


@dataclass(frozen=True)
class UISettings:
    """Everything the explorer reads from the configuration, resolved once."""

    db_path: Path
    theme: str = DEFAULT_THEME
    keymap: Mapping[str, str] = field(default_factory=dict)
    pace: float | None = 40.0
    user_theme_dir: Path | None = None
    # Opens the provider a stored run was made with, for questions to its entities.
    query_providers: QueryProviders | None = None
    confirm_elevation: bool = True  # ask before a query raises or creates an entity
    model_registry: str | None = None  # the user's model registry file (None: the bundled one)
    hide: tuple[str, ...] = ()  # side panes of the run screen kept hidden
    # writes one [ui] setting changed in the explorer back to the config file (None: nowhere)
    remember: Callable[[str, Any], Any] | None = None


@dataclass(frozen=True)
class StartLive:
    scenario: str
    seed: int | None = None
    source: EventSource | None = None
    factory: SimulationFactory | None = None


@dataclass(frozen=True)
class StartReplay:
    run_id: str


class TimeloomApp(App[None]):
    TITLE = "timeloom"
    COMMANDS = App.COMMANDS | {ScreenActions, RunsAndScenarios, Themes}
    BINDINGS = [
        Binding(
            "f1,question_mark",
            "help",
            "Keys",
            id="app.help",
            tooltip="Show the keys of the focused pane",
        ),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", show=False, tooltip="Leave timeloom"),
    ]

    def __init__(
        self,
        settings: UISettings,
        *,
        start: StartLive | StartReplay | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.start = start
        self.clock = clock
        self.bridge = EngineBridge(
            self,
            settings.db_path,
            settings.query_providers,
            confirm_elevation=settings.confirm_elevation,
            registry_path=settings.model_registry,
        )
        self.timeloom_themes: list[str] = []
        self.known_scenarios: list[tuple[str, str]] = []  # (label, name or file)
        self.known_runs: list[tuple[str, str]] = []
        self._signals = contextlib.ExitStack()
        self.signalled: str | None = None  # why a signal closed the explorer

    def on_mount(self) -> None:
        self._signals.enter_context(stopping_on_signals(self._stop_on_signal))
        loaded = load_themes(theme_folders(self.settings.user_theme_dir))
        for theme in loaded.themes:
            self.register_theme(theme)
            self.timeloom_themes.append(theme.name)
        for error in loaded.errors:
            self.notify(error, title="A theme could not be loaded", severity="warning")
        self.use_theme(self.settings.theme, announce=False)
        self._remembered = {"theme": self.theme, "hide": list(self.settings.hide)}
        self.theme_changed_signal.subscribe(self, lambda theme: self.remember("theme", theme.name))
        if self.settings.keymap:
            unknown = sorted(set(self.settings.keymap) - known_binding_ids())
            if unknown:
                self.notify(
                    f"the keymap in the configuration names {', '.join(unknown)}, which no key "
                    "of timeloom has (? lists the ids)",
                    title="Keymap",
                    severity="warning",
                    timeout=10,
                )
            self.set_keymap(dict(self.settings.keymap))
        self.push_screen(HomeScreen())
        if isinstance(self.start, StartLive):
            start = self.start
            factory = start.factory
            if factory is None and start.source is None:
                factory = OfflineRun(start.scenario, start.seed, self.settings.pace)
            self.push_screen(
                RunScreen("live", scenario=start.scenario, factory=factory, source=start.source)
            )
        elif isinstance(self.start, StartReplay):
            self.push_screen(RunScreen("replay", run_id=self.start.run_id))

    async def on_unmount(self) -> None:
        self._signals.close()
        await self.bridge.close()

    def _stop_on_signal(self, reason: str) -> None:
        """SIGTERM, SIGHUP or SIGINT: every live run stops, recorded with the signal's reason
        (not as closed by the viewer), then the explorer closes."""
        if self.signalled is not None:
            return
        self.signalled = reason

        async def end() -> None:
            for session in self.bridge.live:
                await session.end(reason)
            self.exit()

        self.run_worker(end(), name="signal", exit_on_error=False)

    def get_system_commands(self, screen: Any) -> Any:
        """Textual's palette commands but its "Keys" and "Quit", which this app has once
        each, as its own help (?) and quit (ctrl+q)."""
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Quit"):
                yield command

    # ------------------------------------------------------------------ settings
    def remember(self, key: str, value: Any) -> None:
        """Keep a setting changed here for the next start, in the config file; a file that
        cannot be written is one notification, and the setting still holds for this session."""
        if self.settings.remember is None or self._remembered.get(key) == value:
            return
        self._remembered[key] = value
        from engine.config import ConfigError

        try:
            self.settings.remember(key, value)
        except (ConfigError, ValueError) as exc:  # one sentence; the change holds for now
            self.notify(
                one_line(scrub(str(exc))),
                title="The setting is not saved",
                severity="warning",
                markup=False,
            )

    # ------------------------------------------------------------------ themes
    def use_theme(self, name: str, *, announce: bool = True) -> None:
        if name in self.available_themes:
            self.theme = name
            if announce:
                self.notify(f"theme {name}", timeout=2)
            return
        fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        self.theme = fallback
        self.notify(
            f"there is no valid theme called {name!r}; using {fallback}",
            title="Theme",
            severity="warning",
        )

    # ------------------------------------------------------------------ navigation
    def open_run(self, run_id: str) -> None:
        """Open a stored run; one still running live in this explorer is re-attached."""
        session = self.bridge.session_for(run_id)
        if session is not None and session.running:
            self.push_screen(RunScreen("live", run_id=run_id, session=session))
        else:
            self.push_screen(RunScreen("replay", run_id=run_id))

    def launch(self, scenario: str, seed: int | None = None) -> None:
        screen = self.screen
        if isinstance(screen, RunScreen) and screen.mode == "live":
            if screen.session is not None and screen.session.running:
                self.notify(
                    f"run {screen.session.run_id} goes on in the background; open it from the "
                    "runs list to watch it again",
                    timeout=4,
                )
            self.pop_screen()
        self.push_screen(
            RunScreen(
                "live", scenario=scenario, factory=OfflineRun(scenario, seed, self.settings.pace)
            )
        )

    def show_error(self, text: str, *, fatal: bool = False) -> None:
        # one sentence, scrubbed of secrets, never markup (a config error names "[provider]")
        text = one_line(scrub(text))
        if fatal:
            self.push_screen(ErrorScreen(text))
        else:
            self.notify(text, severity="error", timeout=6, markup=False)

    async def run_palette_action(self, node: Any, action: str) -> None:
        await node.run_action(action)

    # ------------------------------------------------------------------ help
    def action_help(self) -> None:
        screen = self.screen
        focused = screen.focused
        sections: list[tuple[str, list[tuple[str, str, str]]]] = []
        seen: set[str] = set()
        if focused is not None:
            for node in focused.ancestors_with_self:
                if node is screen or node is self:
                    break
                rows = self._rows(node, seen)
                if rows:
                    sections.append((help_name(node), rows))
        sections.append((f"anywhere on {help_name(screen)}", self._rows(screen, seen)))
        everywhere = self._rows(self, seen)
        everywhere.append(
            ("ctrl+p", "Command palette: every action here, the runs, scenarios and themes", "")
        )
        sections.append(("everywhere", everywhere))
        sections.extend(getattr(screen, "LEGEND", ()))
        where = help_name(focused if focused is not None else screen)
        self.push_screen(HelpScreen(f"Keys: {where}", sections))

    def _rows(self, node: Any, seen: set[str]) -> list[tuple[str, str, str]]:
        rows = []
        keymap = dict(self.settings.keymap)
        for binding in getattr(node, "BINDINGS", []):
            if not hasattr(binding, "key") or not binding.description:
                continue
            if not offered(node, binding):
                continue  # a live run's pause and step are not listed on a stored run
            key = keymap.get(binding.id or "", binding.key)
            if binding.id and binding.id in seen:
                continue
            if binding.id:
                seen.add(binding.id)
            display = ", ".join(self.get_key_display(b) for b in _bindings_for(key, binding))
            rows.append((display, binding.description, binding.id or ""))
        return rows

    # ------------------------------------------------------------------ workers
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker failure ends here: one sentence, never a crash."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"{event.worker.name} failed: {error.__class__.__name__}: {error}",
                title="Something went wrong",
                severity="error",
                timeout=8,
            )


def help_name(node: Any) -> str:
    """What a person calls a pane or screen ("the timeline"), not its class name."""
    named = getattr(node, "HELP_NAME", None)
    if named:
        return str(named)
    return " ".join(re.findall(r"[A-Z][a-z]*", type(node).__name__)).lower() or "this screen"


def known_binding_ids() -> set[str]:
    """Every binding id of the explorer's app, screens and widgets (what a keymap may name)."""
    from textual.dom import DOMNode

    ids: set[str] = set()
    stack: list[type] = [DOMNode]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] == "tui":
            ids.update(b.id for b in cls.__dict__.get("BINDINGS", []) if getattr(b, "id", None))
    return ids


def _bindings_for(keys: str, template: Binding) -> list[Binding]:
    return [Binding(k.strip(), template.action, template.description) for k in keys.split(",")]
