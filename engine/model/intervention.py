"""Interventions (M12): what changes at the moment a branch forks from its parent.

Four structured kinds, each with an exact effect on the new branch's World:

- ``inject``: an event happens; it is the new branch's first event and everyone present
  witnesses it;
- ``remove``: an entity is absent from the branch from then on (it is never present, never
  speaks, and nobody learns anything from it again);
- ``withhold``: an entity does not hold a piece of information from then on (what it held is
  taken out of its ledger, and it cannot learn it again on the branch);
- ``tell``: an entity comes to hold a piece of information at the fork point.

Free text ("what if Amara had never seen the loan draft?") is turned into one of these by the
provider before the branch is made; the original words are kept in ``text``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

InterventionKind = Literal["inject", "remove", "withhold", "tell"]
INTERVENTION_KINDS: tuple[InterventionKind, ...] = ("inject", "remove", "withhold", "tell")


class Intervention(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: InterventionKind
    entity: str | None = Field(None, description="the entity removed, withheld from or told")
    information: str | None = Field(None, max_length=600, description="what is withheld or told")
    event: str | None = Field(None, max_length=600, description="the injected event")
    text: str | None = Field(None, max_length=600, description="the free text it was read from")
    source: Literal["user", "provider", "scenario"] = Field(
        "user",
        description="who chose it: the user, the provider (a read what-if or a "
        "proposed course) or the scenario (a course its BRANCHING section names)",
    )

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> Intervention:
        if self.kind == "inject" and not (self.event or "").strip():
            raise ValueError("an injected event needs its text")
        if self.kind != "inject" and not self.entity:
            raise ValueError(f"a {self.kind} intervention names an entity")
        if self.kind in ("withhold", "tell") and not (self.information or "").strip():
            raise ValueError(f"a {self.kind} intervention needs the information")
        return self

    def describe(self, names: dict[str, str] | None = None) -> str:
        """One line for people: ``withhold from Amara: the loan draft``."""
        who = (names or {}).get(self.entity or "", self.entity or "")
        if self.kind == "inject":
            return f"inject: {self.event}"
        if self.kind == "remove":
            return f"remove {who}"
        if self.kind == "withhold":
            return f"withhold from {who}: {self.information}"
        return f"tell {who}: {self.information}"
