"""The entity inspector: who is present at the selected moment and, for one of them, their
tensors as bars, valence/arousal/energy over time, what they know and from where, their inner
life after their last conversation, their relationships, and their resolution (the level they
are simulated at, why, its history, and ``e`` to raise it)."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from engine.model.inner import InnerLife
from engine.model.records import KnowledgeInfo, RelationInfo, StateInfo
from engine.model.tensors import BEHAVIOR_DIMS, BIOLOGY_DIMS, CONTEXT_DIMS
from engine.view import RunView

from ..messages import PrefillQuery
from .fidelity import elevate_command, resolution_lines
from .safe import Content
from .spark import FixedSparkline

BAR = 14
BADGE = {
    "tensor_only": "TENSOR",
    "scene": "SCENE",
    "graph": "GRAPH",
    "dialog": "DIALOG",
    "trained": "TRAINED",
}


def bar(label: str, value: float, style: str) -> Content:
    filled = max(0, min(BAR, round(value * BAR)))
    return Content.assemble(
        (f"{label:<20}", "dim"),
        ("█" * filled, style),
        ("░" * (BAR - filled), "dim"),
        (f" {value:4.2f}", ""),
    )


def tensor_bars(state: StateInfo) -> Content:
    lines: list[Content] = [Content.styled("context", "bold")]
    for name, value in zip(CONTEXT_DIMS, state.context, strict=True):
        style = "$tensor-neutral"
        if name == "valence":
            style = "$tensor-positive" if value >= 0.5 else "$tensor-negative"
        lines.append(bar(name, value, style))
    lines.append(Content.styled("biology", "bold"))
    for name, value in zip(BIOLOGY_DIMS, state.biology, strict=True):
        style = (
            "$tensor-negative" if name in ("pain", "fatigue") and value > 0.5 else "$tensor-neutral"
        )
        lines.append(bar(name, value, style))
    lines.append(Content.styled("behavior", "bold"))
    for name, value in zip(BEHAVIOR_DIMS, state.behavior, strict=True):
        lines.append(bar(name, value, "$tensor-neutral"))
    return Content("\n").join(lines)


def knowledge_lines(items: list[KnowledgeInfo], names: Callable[[str], str]) -> Content:
    if not items:
        return Content.styled("nothing recorded yet", "dim")
    lines = []
    for k in reversed(items):
        source = names(k.source) if k.source else None
        where = k.timepoint_id or "the start"
        how = f"{k.kind}" + (f" by {source}" if source else "") + f" at {where}"
        lines.append(
            Content.assemble(
                ("• ", "$accent"),
                (k.information, ""),
                (f"\n  {how}, confidence {k.confidence:.2f}, {k.category}", "dim"),
            )
        )
    return Content("\n").join(lines)


def relation_lines(
    relations: list[tuple[str, RelationInfo]], names: Callable[[str], str]
) -> Content:
    if not relations:
        return Content.styled("no relationships yet", "dim")
    lines = []
    for other, r in relations:
        trust_style = "$tensor-positive" if r.trust >= 0 else "$tensor-negative"
        lines.append(
            Content.assemble(
                (f"{names(other)}", "bold"),
                ("  trust ", "dim"),
                (f"{r.trust:+.2f}", trust_style),
                ("  alignment ", "dim"),
                (f"{r.alignment:+.2f}", ""),
                (f"  · {r.interaction_count} exchanges · {len(r.shared)} shared items", "dim"),
            )
        )
    return Content("\n").join(lines)


def inner_lines(inner: InnerLife | None) -> Content:
    """A character's inner life (M15): how it remembers its last conversation, what it keeps
    returning to, what it expects, what it kept back."""
    if inner is None:
        return Content.styled("no conversation to look back on yet", "dim")
    lines: list[Content] = [
        Content.assemble(("after ", "dim"), (inner.timepoint_id, "bold")),
        Content.styled(inner.memory, "italic"),
        bar("anxiety", inner.anxiety, "$tensor-negative" if inner.anxiety > 0.6 else ""),
    ]
    if inner.concerns:
        lines.append(Content.styled("concerns", "bold"))
        lines.extend(bar(c.topic[:19], c.intensity, "$tensor-neutral") for c in inner.concerns)
    if inner.expectations:
        lines.append(Content.styled("expects", "bold"))
        for x in inner.expectations:
            feeling = "hopes" if x.hope > 0.15 else "dreads" if x.hope < -0.15 else "expects"
            style = (
                "$tensor-positive"
                if x.hope > 0.15
                else "$tensor-negative"
                if x.hope < -0.15
                else "dim"
            )
            lines.append(
                Content.assemble(
                    ("• ", "$accent"),
                    (x.about, ""),
                    (f"\n  {feeling}, likelihood {x.likelihood:.2f}", style),
                )
            )
    if inner.withheld:
        lines.append(Content.styled("kept back", "bold"))
        lines.extend(Content.assemble(("• ", "$accent"), (w, "")) for w in inner.withheld)
    if inner.suppressed:
        lines.append(Content.assemble(("held back: ", "bold"), (inner.suppressed, "")))
    return Content("\n").join(lines)


class EntityInspector(Vertical):
    ALLOW_MAXIMIZE = True
    HELP_NAME = "the entity inspector"
    BINDINGS = [
        Binding(
            "e",
            "elevate",
            "Raise fidelity",
            id="inspector.elevate",
            tooltip="Put /elevate for the selected entity, one level up, in the query bar",
        ),
    ]

    DEFAULT_CSS = """
    EntityInspector { height: 1fr; }
    EntityInspector #moment { height: 1; color: $text-muted; }
    EntityInspector #entities { height: auto; max-height: 8; border: none; }
    EntityInspector #profile { height: auto; padding: 0 1; background: $panel; }
    EntityInspector .spark-row { height: 1; }
    EntityInspector .spark-label { width: 10; color: $text-muted; }
    EntityInspector FixedSparkline { width: 1fr; }
    EntityInspector #bars { height: auto; }
    """

    class EntityChosen(Message):
        def __init__(self, entity_id: str) -> None:
            super().__init__()
            self.entity_id = entity_id

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="moment")
        yield OptionList(id="entities")
        yield Static("", id="profile")
        with TabbedContent(id="tabs", initial="state"):
            with TabPane("Tensors", id="state"), VerticalScroll():
                for label in ("valence", "arousal", "energy"):
                    with Horizontal(classes="spark-row"):
                        yield Static(label, classes="spark-label")
                        yield FixedSparkline(id=f"spark-{label}")
                yield Static("", id="bars")
            with TabPane("Knowledge", id="knowledge"), VerticalScroll():
                yield Static("", id="knowledge-list")
            with TabPane("Inner life", id="inner"), VerticalScroll():
                yield Static("", id="inner-life")
            with TabPane("Relations", id="relations"), VerticalScroll():
                yield Static("", id="relation-list")
            with TabPane("Resolution", id="resolution"), VerticalScroll():
                yield Static("", id="resolution-list")

    elevate: str | None = None  # the /elevate command for the entity shown, at its moment

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_elevate(self) -> None:
        if self.elevate is None:
            self.notify("no entity to raise, or it is at the highest level", severity="warning")
            return
        self.post_message(PrefillQuery(self.elevate))

    def show_cast(
        self,
        view: RunView,
        at: str | None,
        present: tuple[str, ...],
        selected: str | None,
        moment: str,
    ) -> None:
        """List the entities present at the moment (everyone, before the first timepoint)."""
        self.query_one("#moment", Static).update(Content(moment))
        options = []
        ids = list(present) or list(view.entities)
        for entity_id in ids:
            entity = view.entities.get(entity_id)
            if entity is None:
                continue
            state = view.state_at(entity_id, at)
            badge = BADGE.get(state.resolution, "?") if state else "?"
            options.append(
                Option(
                    Content.assemble(
                        (f"{badge:<8}", "bold $accent"),
                        (entity.name, "bold"),
                    ),
                    id=entity_id,
                )
            )
        listing = self.query_one("#entities", OptionList)
        listing.clear_options()
        listing.add_options(options)
        if selected in ids:
            listing.highlighted = ids.index(selected)

    def show_entity(
        self, view: RunView, entity_id: str | None, at: str | None, names: Callable[[str], str]
    ) -> None:
        if entity_id is None or entity_id not in view.entities:
            self.elevate = None
            self.query_one("#profile", Static).update(Content.styled("no entity selected", "dim"))
            return
        e = view.entities[entity_id]
        state = view.state_at(entity_id, at)
        mood = ""
        if state is not None:
            # on the scale of the bars and sparklines below (0..1), so the numbers agree
            mood = (
                f"valence {(state.valence + 1) / 2:.2f} · arousal {state.arousal:.2f} · energy "
                f"{state.energy / 100:.2f} · {BADGE.get(state.resolution, '?')}"
            )
        self.query_one("#profile", Static).update(
            Content.assemble(
                (e.name, "bold"),
                (f"  {e.role}", ""),
                (f"  [{e.entity_type}]", "dim"),
                ("\n", ""),
                (mood, "$text-muted"),
            )
        )
        valence, arousal, energy = view.series(entity_id, at)
        for label, data in (("valence", valence), ("arousal", arousal), ("energy", energy)):
            self.query_one(f"#spark-{label}", FixedSparkline).data = data
        self.query_one("#bars", Static).update(
            tensor_bars(state) if state else Content.styled("no state recorded", "dim")
        )
        if view.knowledge_loaded(entity_id):
            text = knowledge_lines(view.knowledge_at(entity_id, at), names)
        else:
            text = Content.styled("loading…", "dim")
        self.query_one("#knowledge-list", Static).update(text)
        self.query_one("#inner-life", Static).update(
            inner_lines(view.inner_at(entity_id, at))
            if view.knowledge_loaded(entity_id)
            else Content.styled("loading…", "dim")
        )
        self.query_one("#relation-list", Static).update(
            relation_lines(view.relations_at(entity_id, at), names)
        )
        self.query_one("#resolution-list", Static).update(resolution_lines(view, entity_id, at))
        level = view.level_at(entity_id, at)
        self.elevate = elevate_command(entity_id, at, level.level if level else "")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.EntityChosen(event.option.id))
