"""What a render wrote, counted as it goes (the manifest's ``counts``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Tally:
    records: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        self.extra[key] = self.extra.get(key, 0) + n
