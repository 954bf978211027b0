"""Reading the record for the observer: who knows something at a moment, and why an entity
knows it (the chain of exposures that brought it). Pure functions of a run's read model; they
change nothing and make no call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..knowledge.retrieval import rank
from ..knowledge.words import mentions
from ..model.records import KnowledgeInfo
from ..view.runview import RunView

MATCH = 0.3  # the TF-IDF score from which an item is about the phrase
CHAIN_STEPS = 8


@dataclass(frozen=True, slots=True)
class Holder:
    entity_id: str
    name: str
    item: KnowledgeInfo
    score: float

    def to_json(self) -> dict[str, Any]:
        k = self.item
        return {
            "entity_id": self.entity_id,
            "name": self.name,
            "information": k.information,
            "kind": k.kind,
            "source": k.source,
            "timepoint_id": k.timepoint_id,
            "confidence": k.confidence,
            "score": round(self.score, 3),
        }


def _best(phrase: str, items: list[KnowledgeInfo]) -> tuple[KnowledgeInfo, float] | None:
    exact = [k for k in items if mentions(k.information, phrase)]
    if exact:
        return exact[-1], 1.0
    ranked = rank(phrase, [k.information for k in items], limit=1)
    if ranked and ranked[0][1] >= MATCH:
        return items[ranked[0][0]], ranked[0][1]
    return None


def who_knows(view: RunView, phrase: str, at: str | None) -> list[Holder]:
    """Everyone holding something about ``phrase`` at ``at``, best match first."""
    out = []
    for entity_id, entity in view.entities.items():
        found = _best(phrase, view.knowledge_at(entity_id, at))
        if found is not None:
            out.append(Holder(entity_id, entity.name, found[0], found[1]))
    out.sort(key=lambda h: (-h.score, h.name))
    return out


@dataclass(frozen=True, slots=True)
class Step:
    entity_id: str
    name: str
    kind: str
    source: str | None
    source_name: str | None
    timepoint_id: str | None
    information: str

    def phrase(self) -> str:
        when = f" at {self.timepoint_id}" if self.timepoint_id else " from the start"
        if self.kind == "told" and self.source_name:
            return f"told by {self.source_name}{when}"
        if self.kind == "learned":
            origin = f" from {self.source_name or self.source}" if self.source else ""
            return f"learned{origin}{when}"
        if self.kind == "initial":
            return "knew it from the start"
        return f"{self.kind}{when}"

    def to_json(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "kind": self.kind,
            "source": self.source,
            "timepoint_id": self.timepoint_id,
            "information": self.information,
        }


def why(view: RunView, entity_id: str, phrase: str, at: str | None) -> list[Step]:
    """The exposure chain that brought ``entity_id`` what it holds about ``phrase`` at ``at``:
    its own exposure, then its source's, and so on back to someone who witnessed it, learned
    it from outside the cast or knew it from the start. Empty when it holds nothing about it."""
    names = {k: e.name for k, e in view.entities.items()}
    steps: list[Step] = []
    who, when, about = entity_id, at, phrase
    seen: set[tuple[str, str | None]] = set()
    for _ in range(CHAIN_STEPS):
        found = _best(about, view.knowledge_at(who, when))
        if found is None or (who, found[0].exposure_id) in seen:
            break
        item = found[0]
        seen.add((who, item.exposure_id))
        source = item.source if item.source in view.entities else None
        steps.append(
            Step(
                who,
                names.get(who, who),
                item.kind,
                item.source,
                names.get(item.source, item.source) if item.source else None,
                item.timepoint_id,
                item.information,
            )
        )
        if item.kind != "told" or source is None:
            break
        who, when, about = source, item.timepoint_id, item.information
    return steps


def chain_sentence(steps: list[Step]) -> str:
    """The chain in words: "Odile was told by Henri at tp03, who witnessed it at tp02"."""
    if not steps:
        return ""
    first, rest = steps[0], steps[1:]
    text = f"{first.name} {'was ' if first.kind == 'told' else ''}{first.phrase()}"
    for step in rest:
        verb = "was " if step.kind == "told" else ""
        text += f", who {verb}{step.phrase()}"
    return text
