"""Exposure events (M3): every piece of knowledge an entity holds has a recorded origin.

:class:`KnowledgeLedger` is the in-memory view of a run's exposures: per entity, each piece of
information with the first exposure that gave it. It is rebuilt from the event log on replay.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ..model.common import ExposureType, ResolutionLevel
from ..model.knowledge import ExposureEvent, KnowledgeItem
from .retrieval import rank
from .words import mentions

KNOWLEDGE_LIMITS = {
    ResolutionLevel.TENSOR_ONLY: 5,
    ResolutionLevel.SCENE: 8,
    ResolutionLevel.GRAPH: 12,
    ResolutionLevel.DIALOG: 10,
    ResolutionLevel.TRAINED: 10_000,  # everything it holds
}
# Below TRAINED, what a speaker brings to a moment is also bounded in words: the items that
# bear on the moment first (M1: a DIALOG speaker holds what the conversation needs, about a
# paragraph; TRAINED brings all it holds). Levels not named here are bounded by count only.
KNOWLEDGE_WORDS = {ResolutionLevel.DIALOG: 80}


class KnowledgeLedger:
    def __init__(self) -> None:
        self._by_entity: dict[str, dict[str, ExposureEvent]] = {}
        self._withheld: dict[str, list[str]] = {}

    def record(self, exposure: ExposureEvent) -> bool:
        """Add an exposure; return False when the entity already held that information or
        it is withheld from the entity."""
        if not self.accepts(exposure.entity_id, exposure.information):
            return False
        self._by_entity.setdefault(exposure.entity_id, {})[exposure.information] = exposure
        return True

    def knows(self, entity_id: str, information: str) -> bool:
        return information in self._by_entity.get(entity_id, {})

    def accepts(self, entity_id: str, information: str) -> bool:
        """Whether an exposure of ``information`` to ``entity_id`` would be recorded."""
        return not self.knows(entity_id, information) and not self.withheld(entity_id, information)

    def withheld(self, entity_id: str, information: str) -> bool:
        return any(mentions(information, p) for p in self._withheld.get(entity_id, ()))

    def withhold(self, entity_id: str, phrase: str) -> list[ExposureEvent]:
        """From now on ``entity_id`` does not hold what ``phrase`` is about (M12): what it held
        is taken out (and returned), and it cannot come to hold it again."""
        self._withheld.setdefault(entity_id, []).append(phrase)
        held = self._by_entity.get(entity_id, {})
        gone = [e for info, e in held.items() if mentions(info, phrase)]
        for exposure in gone:
            del held[exposure.information]
        return gone

    def exposure(self, entity_id: str, information: str) -> ExposureEvent | None:
        """How ``entity_id`` came to hold ``information``, or None when it does not."""
        return self._by_entity.get(entity_id, {}).get(information)

    def items(self, entity_id: str) -> list[str]:
        return list(self._by_entity.get(entity_id, {}))

    def exposures(self, entity_id: str) -> list[ExposureEvent]:
        return list(self._by_entity.get(entity_id, {}).values())

    def count(self) -> int:
        return sum(len(v) for v in self._by_entity.values())

    def recall(
        self,
        entity_id: str,
        resolution: ResolutionLevel,
        *,
        exclude_timepoint: str | None = None,
        about: str | None = None,
    ) -> list[ExposureEvent]:
        """What an entity brings to a conversation: the newest exposures first, then what it
        knew from the start, as many as its resolution allows. With ``about`` (the moment),
        below TRAINED, the items that bear on it most are chosen from twice as many, within
        the level's words (:data:`KNOWLEDGE_WORDS`), and kept in the newest-first order."""
        held = [
            e
            for e in self.exposures(entity_id)
            if not (e.timepoint_id == exclude_timepoint and e.kind == ExposureType.WITNESSED)
        ]
        fresh = [e for e in held if e.kind != ExposureType.INITIAL]
        initial = [e for e in held if e.kind == ExposureType.INITIAL]
        ordered = list(reversed(fresh)) + initial
        limit, words = KNOWLEDGE_LIMITS[resolution], KNOWLEDGE_WORDS.get(resolution)
        if about is None or words is None:
            return ordered[:limit]
        return _bearing_on(about, ordered[: 2 * limit], limit, words)


def _bearing_on(
    about: str, pool: list[ExposureEvent], limit: int, words: int
) -> list[ExposureEvent]:
    """Up to ``limit`` of ``pool`` within ``words`` words: those that share most with
    ``about`` first (TF-IDF), then the rest in the pool's order, and events it witnessed after
    everything else; an item that would pass the budget is skipped for a shorter one. The
    chosen keep the pool's order."""
    ranked = [i for i, _ in rank(about, [x.information for x in pool])]
    seen = set(ranked)
    order = ranked + [i for i in range(len(pool)) if i not in seen]
    # what it saw happen, everyone present saw too: what it was told, learned or knew is
    # what it has to tell (stable: the ranking holds within each)
    order.sort(key=lambda i: pool[i].kind == ExposureType.WITNESSED)
    chosen: list[int] = []
    used = 0
    for i in order:
        size = len(pool[i].information.split())
        if chosen and used + size > words:
            continue
        chosen.append(i)
        used += size
        if len(chosen) == limit:
            break
    return [pool[i] for i in sorted(chosen)]


def initial_exposures(
    entity_id: str, knowledge: Iterable[str], at: datetime
) -> list[ExposureEvent]:
    """What an entity knows from the start. Like every function here it returns exposures
    without ids: the World gives an id to each one its ledger accepts."""
    return [
        ExposureEvent(
            exposure_id="",
            entity_id=entity_id,
            kind=ExposureType.INITIAL,
            information=item,
            source=None,
            timestamp=at,
            confidence=1.0,
            timepoint_id=None,
        )
        for item in knowledge
    ]


def told_exposures(
    item: KnowledgeItem,
    *,
    ledger: KnowledgeLedger,
    present: set[str],
    timepoint_id: str,
    at: datetime,
    dialog_id: str,
    turn_index: int,
) -> list[ExposureEvent]:
    """``told`` exposures for the listeners of an extracted item who did not hold it yet (M19 →
    M3). Listeners who were not present, or the speaker, never receive one."""
    out = []
    for listener in item.listeners:
        if listener == item.speaker or listener not in present:
            continue
        if ledger.knows(listener, item.content):
            continue
        out.append(
            ExposureEvent(
                exposure_id="",
                entity_id=listener,
                kind=ExposureType.TOLD,
                information=item.content,
                source=item.speaker,
                timestamp=at,
                confidence=item.confidence,
                timepoint_id=timepoint_id,
                dialog_id=dialog_id,
                turn_index=turn_index,
                category=item.category,
            )
        )
    return out
