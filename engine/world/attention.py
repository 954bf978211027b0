"""What a branch remembers of the attention paid to its people (M2, M5, M6): the last timepoint
each was present at or asked about, how often each was asked, and elevations by queries that
still hold. The fidelity policy reads it; the World's fold writes it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..model.common import ResolutionLevel


@dataclass
class Attention:
    last_seen: dict[str, int] = field(default_factory=dict)  # timepoint index
    queries: dict[str, int] = field(default_factory=dict)
    raised: dict[str, tuple[ResolutionLevel, int]] = field(default_factory=dict)  # level, at

    def seen(self, entity_ids: Iterable[str], index: int) -> None:
        for entity_id in entity_ids:
            self.last_seen[entity_id] = max(index, self.last_seen.get(entity_id, -1))

    def asked(self, entity_id: str, index: int) -> None:
        self.queries[entity_id] = self.queries.get(entity_id, 0) + 1
        self.seen((entity_id,), index)

    def elevated(self, entity_id: str, level: ResolutionLevel, index: int) -> None:
        self.raised[entity_id] = (level, index)
        self.seen((entity_id,), index)

    def idle(self, entity_id: str, index: int) -> int:
        """Timepoints in a row before ``index`` at which nobody looked at the entity."""
        return index - self.last_seen.get(entity_id, -1) - 1

    def held(self, entity_id: str, index: int, hold: int) -> ResolutionLevel | None:
        """The level a query raised the entity to, while it still holds at ``index``."""
        raised = self.raised.get(entity_id)
        if raised is None or index - raised[1] > hold:
            return None
        return raised[0]
