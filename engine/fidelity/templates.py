"""Fidelity templates, thresholds and mode complexity, read from ``engine/data/fidelity.json``.

A template is a policy for who gets how much detail: the level a present entity gets by default,
the level of the most central people present (``central``), how many of them lead the scene
(``leads``, None for everyone present) and at which level, and the level the leads get at a
critical moment. PORTAL templates add a schedule: shares of the steps at each level, scaled to
the number of steps (``"pivots"``: both ends at full context, the middle balanced). The token
budget is guidance for the plan (multiplied by the temporal mode's complexity), not a limit.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..model.common import ResolutionLevel, TemporalMode
from ..resources import data_path

DEFAULT_TEMPLATE = "balanced"


class Thresholds(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    central_node: float = Field(ge=0.0, le=1.0)  # normalised eigenvector centrality
    critical_event: float = Field(ge=0.0, le=1.0)  # timepoint importance
    frequent_access: int = Field(ge=1)  # queries that raise an entity to DIALOG (M2)
    trained_access: int = Field(ge=1)  # queries that raise it to TRAINED
    idle_timepoints: int = Field(ge=1)  # timepoints unseen before it is compressed (M6)
    hold_timepoints: int = Field(ge=0)  # how long an elevation by a query holds


class QuestionLevels(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    dialog_cues: tuple[str, ...]
    trained_cues: tuple[str, ...]
    long_conversation: int = Field(ge=2)


class Template(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    token_budget: int | None = Field(default=None, ge=1)
    planning: str
    present: ResolutionLevel
    central: ResolutionLevel
    leads: int | str | None = None  # a number, "speakers" or None (everyone present)
    lead: ResolutionLevel
    critical_lead: ResolutionLevel
    schedule: tuple[tuple[float, ResolutionLevel], ...] | str | None = None

    def lead_count(self, max_speakers: int) -> int | None:
        """How many of the people present lead the scene (None: all of them)."""
        if self.leads == "speakers":
            return max_speakers
        if isinstance(self.leads, str):
            raise ValueError(f"template {self.name}: leads must be a number, speakers or null")
        return self.leads

    def budget_for(self, mode: TemporalMode) -> int | None:
        """The template's token budget for a run of ``mode`` (its complexity multiplier)."""
        if self.token_budget is None:
            return None
        return round(self.token_budget * complexity(mode))

    def step_levels(self, steps: int) -> list[ResolutionLevel] | None:
        """The schedule scaled to ``steps`` steps (ordered from the start), or None."""
        if self.schedule is None or steps <= 0:
            return None
        if self.schedule == "pivots":
            middle = [ResolutionLevel.SCENE, ResolutionLevel.GRAPH, ResolutionLevel.DIALOG]
            out = [middle[i % 3] for i in range(steps)]
            out[0] = out[-1] = ResolutionLevel.TRAINED
            return out
        assert not isinstance(self.schedule, str)
        total = sum(share for share, _ in self.schedule)
        counts = [round(share / total * steps) for share, _ in self.schedule]
        counts[0] += steps - sum(counts)  # rounding goes to the first (cheapest) share
        out = []
        for (_, level), count in zip(self.schedule, counts, strict=True):
            out.extend([level] * max(0, count))
        return sorted(out[:steps], key=lambda lv: lv.rank)


class FidelityData(BaseModel):
    model_config = ConfigDict(frozen=True)

    thresholds: Thresholds
    mode_complexity: dict[TemporalMode, float]
    question_levels: QuestionLevels
    templates: dict[str, Template]


@cache
def fidelity_data() -> FidelityData:
    raw: dict[str, Any] = json.loads(data_path("fidelity.json").read_text(encoding="utf-8"))
    raw.pop("_about", None)
    templates = {
        name: {"name": name, **{k: v for k, v in spec.items() if not k.startswith("_")}}
        for name, spec in raw["templates"].items()
    }
    return FidelityData.model_validate({**raw, "templates": templates})


def template_names() -> tuple[str, ...]:
    return tuple(fidelity_data().templates)


def template(name: str) -> Template:
    """The template called ``name``; raises ValueError naming the known ones."""
    found = fidelity_data().templates.get(name)
    if found is None:
        raise ValueError(f"no fidelity template {name!r}; known: {', '.join(template_names())}")
    return found


def thresholds() -> Thresholds:
    return fidelity_data().thresholds


def complexity(mode: TemporalMode) -> float:
    return fidelity_data().mode_complexity.get(mode, 1.0)
