"""The dialog pane: one widget per turn, streamed as it is generated, in windows.

Live turns stream in as their chunks arrive, redrawn at most once per batch of engine events
(the bridge coalesces them at 15 a second), and the pane stays anchored to the bottom until
the user scrolls up. The pane shows the transcript up to the selected moment, a window of
timepoints at a time; "earlier" loads the window before it. Engine text is never markup: it is
rendered as literal content, never interpreted as Rich or Textual markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from engine.model.records import TimepointInfo, TurnInfo
from engine.model.scene import Scene
from engine.view import RunView

from .safe import Content

WINDOW_TURNS = 60
MAX_MOUNTED = 160  # a live transcript keeps at most this many widgets; older ones are unmounted

Namer = Callable[[str], str]


class TimepointHeader(Static):
    DEFAULT_CSS = """
    TimepointHeader { margin: 1 0 0 0; padding: 0 1; background: $panel; color: $text; }
    """

    def __init__(self, tp: TimepointInfo, scene: Scene | None = None) -> None:
        self.tp = tp
        # a branch's ids hold a dot (b1.tp03), which widget ids may not
        super().__init__(self._content(scene), id=f"tp-{tp.timepoint_id.replace('.', '--')}")
        self.timepoint_id = tp.timepoint_id

    def _content(self, scene: Scene | None) -> Content:
        tp = self.tp
        parts = [
            (f"{tp.timepoint_id} ", "bold $accent"),
            (f"{tp.timestamp:%Y-%m-%d %H:%M}  ", "dim"),
            (tp.title, "bold"),
            ("\n", ""),
            (tp.event_description, "italic"),
        ]
        if scene is not None:
            parts.extend(scene_line(scene))
        return Content.assemble(*parts)

    def show_scene(self, scene: Scene | None) -> None:
        self.update(self._content(scene))


def scene_line(scene: Scene) -> list[tuple[str, str]]:
    """The room (M10): what it feels like, what you would see and hear there, and how the
    dialog moved its tension."""
    env = scene.environment
    senses = "; ".join(x.strip().rstrip(".") for x in (env.lighting, env.sound, env.weather) if x)
    a = scene.atmosphere
    tension = f"tension {a.tension:.2f}"
    if scene.after is not None:
        tension += f" → {scene.after.tension:.2f}"
    line = [("\n◇ ", "$accent"), (a.description, "")]
    details = [d for d in (senses, tension, f"formality {a.formality:.2f}") if d]
    line.append(("\n  " + " · ".join(details), "dim"))
    return line


def render_turn(turn: TurnInfo, name: str, colour: str, addressee: str | None) -> Content:
    """A turn's header (who, to whom, tone and stance, problems) and its refs, as one block."""
    parts: list[tuple[str, str]] = [(name, f"bold {colour}")]
    if addressee:
        parts.append((f" → {addressee}", "dim"))
    quiet = ", ".join(x for x in (turn.emotional_tone, turn.stance) if x)
    if quiet:
        parts.append((f"  ({quiet})", "dim italic"))
    if turn.streaming:
        parts.append(("  …", "dim"))
    if turn.status == "degraded":
        parts.append(("  ⚠ " + "; ".join(turn.issues), "$warning"))
    return Content.assemble(*parts)


def render_refs(turn: TurnInfo) -> Content:
    if not turn.knowledge_references:
        return Content("")
    return Content.assemble(
        ("draws on: ", "dim bold"), ("; ".join(turn.knowledge_references), "dim")
    )


class TurnView(Static):
    """One dialog turn, drawn as a single widget: who speaks (in their colour), what they say,
    and, quietly, the tone and the knowledge it draws on.

    A turn being generated streams: chunks are collected with :meth:`write` and drawn by
    :meth:`flush`, at most once per batch of engine events, so that fast streams cost a few
    redraws a second rather than one per chunk.
    """

    DEFAULT_CSS = """
    TurnView { height: auto; padding: 0 1; margin: 1 0 0 0; }
    TurnView.-failed { color: $error; }
    TurnView.-streaming { color: $text; }
    TurnView.-found, QueryView.-found { background: $accent 20%; }
    """

    def __init__(self, turn: TurnInfo, name: str, colour: str, addressee: str | None) -> None:
        self.turn = turn
        self.speaker_name = name
        self.colour = colour
        self.addressee = addressee
        self.dirty = False
        classes = "-failed" if turn.status == "failed" else ("-streaming" if turn.streaming else "")
        super().__init__(self._content(), classes=classes)
        self.tooltip = "click to copy this line"

    @property
    def copy_text(self) -> str:
        return f"{self.speaker_name}: {self.turn.content}"

    def on_click(self) -> None:
        copy(self, self.copy_text, "the line")

    @property
    def key(self) -> tuple[str, int]:
        return (self.turn.dialog_id, self.turn.turn_index)

    def _content(self) -> Content:
        t = self.turn
        header = render_turn(t, self.speaker_name, self.colour, self.addressee)
        if t.status == "failed":
            body = Content("✗ this turn could not be generated: " + "; ".join(t.issues))
        else:
            body = Content(t.content)
        lines = [header, body]
        refs = render_refs(t)
        if refs:
            lines.append(refs)
        return Content("\n").join(lines)

    def write(self, text: str) -> None:
        self.turn = replace(self.turn, content=self.turn.content + text)
        self.dirty = True

    def reset(self) -> None:
        """Forget the streamed text (the call is being retried)."""
        self.turn = replace(self.turn, content="")
        self.dirty = True

    def flush(self) -> None:
        if self.dirty:
            self.dirty = False
            self.update(self._content())

    def finish(self, turn: TurnInfo) -> None:
        self.turn = turn
        self.dirty = False
        self.set_class(turn.status == "failed", "-failed")
        self.remove_class("-streaming")
        self.update(self._content())


class ObserverNote(Static):
    """Where exploring changed the record at this moment: an entity raised by a query, or
    created by one (the observer ledger)."""

    DEFAULT_CSS = """
    ObserverNote { padding: 0 1; border-left: thick $warning; height: auto; color: $text-muted; }
    """

    def __init__(self, action: Any, name: str) -> None:
        verb = "created" if action.kind == "created" else "raised"
        super().__init__(
            Content.assemble(
                ("observer ", "bold $warning"),
                (f"{action.query_id or ''} {verb} {name}", "bold"),
                (f": {action.detail}", ""),
            )
        )


class QueryView(Static):
    """A question put to an entity and its answer, marked as a query."""

    DEFAULT_CSS = """
    QueryView { margin: 1 0 0 0; padding: 0 1; border-left: thick $accent; height: auto; }
    """

    def __init__(
        self, name: str, colour: str, question: str, answer: str, references: tuple[str, ...]
    ) -> None:
        parts = [
            ("query ", "bold $accent"),
            (f"to {name}: ", "bold"),
            (question, "italic"),
            ("\n", ""),
            (name, f"bold {colour}"),
            (": ", ""),
            (answer, ""),
        ]
        if references:
            parts += [("\n", ""), ("draws on: ", "dim bold"), ("; ".join(references), "dim")]
        super().__init__(Content.assemble(*parts))
        self.copy_text = f"{name}, asked: {question}\n{name}: {answer}"
        self.tooltip = "click to copy the answer"

    def on_click(self) -> None:
        copy(self, self.copy_text, "the answer")


def copy(widget: Static, text: str, what: str) -> None:
    """Put ``text`` on the clipboard (the terminal's, by OSC 52) and say so."""
    widget.app.copy_to_clipboard(text)
    widget.notify(f"copied {what} to the clipboard", timeout=2)


class DialogPane(VerticalScroll, can_focus=True):
    """The transcript up to the selected moment."""

    ALLOW_MAXIMIZE = True
    HELP_NAME = "the dialog"

    BINDINGS = [
        Binding(
            "end",
            "follow",
            "Follow",
            id="dialog.follow",
            tooltip="Jump to the newest line and keep following it",
        ),
    ]

    class EarlierRequested(Message):
        pass

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.turn_views: dict[tuple[str, int], TurnView] = {}
        self.window: list[str] = []
        self.has_earlier = False

    def window_for(self, view: RunView, timepoint_id: str, start: int | None = None) -> list[str]:
        """The timepoints to show, ending at ``timepoint_id``: that timepoint alone, or from
        ``start`` (an index into its chain of moments) when earlier dialog was asked for."""
        ids = [t.timepoint_id for t in view.chain(timepoint_id)]
        end = ids.index(timepoint_id)
        begin = end if start is None else min(start, end)
        return ids[begin : end + 1]

    async def show(self, view: RunView, window: list[str], names: Namer, colours: Namer) -> None:
        """Mount the given window of timepoints (their turns must be loaded)."""
        self.window = window
        self.turn_views.clear()
        first = view.timepoint(window[0]) if window else None
        self.has_earlier = bool(first and first.index > 0)
        self.scroll_home(animate=False, immediate=True)
        await self.remove_children()
        widgets: list[object] = []
        if self.has_earlier:
            widgets.append(Button("▲ earlier dialog (u)", id="earlier", compact=True))
        for tp_id in window:
            tp = view.timepoint(tp_id)
            if tp is None:
                continue
            widgets.append(TimepointHeader(tp, view.scene(tp_id)))
            for turn in view.turns(tp_id):
                widget = self._turn_widget(turn, names, colours)
                widgets.append(widget)
            for query in view.queries(tp_id):
                widgets.append(
                    QueryView(
                        names(query.entity_id),
                        colours(query.entity_id),
                        query.question,
                        query.answer,
                        query.references,
                    )
                )
            for action in view.observer_actions():
                if action.timepoint_id == tp_id:
                    widgets.append(ObserverNote(action, names(action.entity_id)))
        await self.mount_all(widgets)  # type: ignore[arg-type]

    def _turn_widget(self, turn: TurnInfo, names: Namer, colours: Namer) -> TurnView:
        widget = TurnView(
            turn,
            names(turn.speaker),
            colours(turn.speaker),
            names(turn.addressed_to) if turn.addressed_to else None,
        )
        self.turn_views[(turn.dialog_id, turn.turn_index)] = widget
        return widget

    def show_scene(self, timepoint_id: str, scene: Scene | None) -> None:
        """A scene read (or moved by its dialog) while its header is on screen."""
        for header in self.query(TimepointHeader):
            if header.timepoint_id == timepoint_id:
                header.show_scene(scene)

    async def add_timepoint(self, tp: TimepointInfo) -> None:
        self.window.append(tp.timepoint_id)
        await self.mount(TimepointHeader(tp))
        await self._prune()

    async def add_turn(self, turn: TurnInfo, names: Namer, colours: Namer) -> None:
        if (turn.dialog_id, turn.turn_index) in self.turn_views:
            return
        await self.mount(self._turn_widget(turn, names, colours))
        await self._prune()

    async def _prune(self) -> None:
        """Bound what is mounted while a live run grows: unmount whole timepoints from the top
        (they come back with "earlier")."""
        children = [c for c in self.children if not isinstance(c, Button)]
        if len(children) <= MAX_MOUNTED:
            return
        headers = [c for c in children if isinstance(c, TimepointHeader)]
        if len(headers) < 2:
            return
        cut = children.index(headers[1])
        doomed = children[:cut]
        for widget in doomed:
            if isinstance(widget, TurnView):
                self.turn_views.pop(widget.key, None)
        if isinstance(headers[0], TimepointHeader) and headers[0].timepoint_id in self.window:
            self.window.remove(headers[0].timepoint_id)
        await self.remove_children(doomed)
        if not self.has_earlier:
            self.has_earlier = True
            await self.mount(Button("▲ earlier dialog (u)", id="earlier", compact=True), before=0)

    def flush_streams(self) -> None:
        for widget in self.turn_views.values():
            widget.flush()

    async def add_query(self, widget: QueryView | ObserverNote) -> None:
        await self.mount(widget)
        self.scroll_end(animate=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "earlier":
            event.stop()
            self.post_message(self.EarlierRequested())

    def action_earlier(self) -> None:
        if self.has_earlier:
            self.post_message(self.EarlierRequested())

    def action_follow(self) -> None:
        self.anchor()
