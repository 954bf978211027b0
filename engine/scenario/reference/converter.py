"""The conversion of a reference template as a whole: its top-level fields, its temporal
strategy and budget, and a warning for everything else it carries that is not used."""

from __future__ import annotations

import re
from typing import Any

from ...fidelity.templates import DEFAULT_TEMPLATE, template_names
from ...model.common import ENTITY_TYPES, ResolutionLevel, TemporalMode
from ...safety import limits
from .branching import _Branching
from .entities import _Entities
from .names import _slug
from .portal import PORTAL_TEMPORAL, UNUSED_PORTAL, _Portal
from .timeline import _Timeline

FORWARD_TEMPORAL = frozenset({"mode", "dramatic_tension"})
BRANCHING_TEMPORAL = frozenset({"enable_counterfactuals"})
BUDGET_TEMPORAL = frozenset(
    {
        "token_budget",
        "token_budget_mode",
        "fidelity_template",
        "fidelity_planning_mode",
        "custom_fidelity_schedule",
    }
)
# Honoured: the budget, and the fidelity template; the rest of BUDGET_TEMPORAL is reported.
HONOURED_BUDGET = frozenset({"token_budget", "token_budget_mode", "fidelity_template"})
SOFT_BUDGET_MODES = frozenset({"soft", "soft_guidance", "max_quality"})
HARD_BUDGET_MODES = frozenset({"hard", "hard_constraint"})


class _Converter(_Entities, _Timeline, _Branching, _Portal):
    """A whole template, converted section by section."""

    def convert(self) -> dict[str, Any]:
        d = self.data
        description = d.get("scenario_description")
        if not isinstance(description, str) or len(description.strip()) < 20:
            raise self.fail(
                "scenario_description", "a description of at least 20 characters", description
            )
        temporal = self.section("temporal")
        mode = temporal.get("mode", "forward")
        if mode not in {m.value for m in TemporalMode}:
            raise self.fail(
                "temporal.mode", f"one of {', '.join(m.value for m in TemporalMode)}", mode
            )
        patch = self.section("patch")
        world = d.get("world_id") or patch.get("name") or "untitled"
        if not isinstance(world, str):
            raise self.fail("world_id", "text", world)
        title = patch.get("name") or world.replace("_", " ").title()
        tags = self.strings("patch.tags", patch.get("tags"))
        if isinstance(patch.get("category"), str):
            tags.insert(0, patch["category"])
        for key in ("author", "version", "description"):
            if patch.get(key):
                self.warn(f"patch.{key}", "kept only in the original file (not used by the engine)")
        out: dict[str, Any] = {
            "schema_version": 1,
            "name": _slug(world),
            "title": str(title),
            "description": description.strip(),
            "mode": mode,
            "tags": tags,
            "setting": {"location": self._location(description)},
        }
        tension = self.number("temporal.dramatic_tension", temporal.get("dramatic_tension"))
        if tension is not None:
            out["tension"] = max(0.0, min(1.0, tension))
        self._temporal_warnings(temporal, mode)
        budget = self._budget(temporal)
        if budget:
            out["budget"] = budget
        entities, count = self._entities(description)
        out["entities"] = entities
        if count is not None and count > len(entities):
            out["entity_count"] = count
        ents = self.section("entities")
        named = self.strings("entities.types", ents.get("types"))
        types = [t for t in named if t in ENTITY_TYPES]
        for t in named:
            if t not in ENTITY_TYPES:
                self.warn("entities.types", f"unknown entity type {t!r} is not generated")
        if types:
            out["generated_types"] = types
        resolution = ents.get("initial_resolution")
        if resolution is not None and resolution not in {r.value for r in ResolutionLevel}:
            raise self.fail(
                "entities.initial_resolution",
                f"one of {', '.join(r.value for r in ResolutionLevel)}",
                resolution,
            )
        fidelity = self._fidelity(temporal, resolution)
        if fidelity:
            out["fidelity"] = fidelity
        level = self.number("entities.animism_level", ents.get("animism_level"), integer=True)
        if level is not None:
            out["animism_level"] = max(0, min(6, int(level)))
        for key in ("envelope", "adprs_envelopes"):
            if ents.get(key):
                self.warn(f"entities.{key}", "activation envelopes (ADPRS) are not supported yet")
        out["timeline"] = self._timeline()
        if mode == TemporalMode.BRANCHING.value:
            ids = {e["id"] for e in entities}
            out["branching"] = self._branching(out["timeline"]["count"], ids)
        if mode == TemporalMode.PORTAL.value:
            out["portal"] = self._portal(temporal)
        self._other_warnings()
        return out

    def _location(self, description: str) -> str:
        match = re.search(
            r"\b(?:in|at|on) (?:the )?([A-Z][\w'-]+(?: [A-Z][\w'-]+){0,3})", description
        )
        return match.group(1) if match else "the scene"

    def _temporal_warnings(self, temporal: dict[str, Any], mode: str) -> None:
        other_mode = sorted(
            k
            for k, v in temporal.items()
            if v is not None
            and k not in FORWARD_TEMPORAL
            and k not in BUDGET_TEMPORAL
            and not (mode == TemporalMode.BRANCHING.value and k in BRANCHING_TEMPORAL)
            and not (mode == TemporalMode.PORTAL.value and k in PORTAL_TEMPORAL | UNUSED_PORTAL)
        )
        if other_mode:
            self.warn(
                "temporal",
                f"{len(other_mode)} settings of the {mode} strategy are not "
                f"used by this version ({limits.capped(other_mode)})",
            )
        planning = temporal.get("fidelity_planning_mode")
        if planning is not None:
            self.warn(
                "temporal.fidelity_planning_mode",
                f"{planning!r} is not used: the fidelity template's policy decides each timepoint",
            )
        if temporal.get("custom_fidelity_schedule") is not None:
            self.warn(
                "temporal.custom_fidelity_schedule",
                "custom schedules are not read yet; the template's levels are used",
            )

    def _fidelity(self, temporal: dict[str, Any], initial: Any) -> dict[str, Any]:
        """``temporal.fidelity_template`` picks the template (an unknown one is reported and
        the default used); ``entities.initial_resolution`` is where everyone starts."""
        out: dict[str, Any] = {}
        name = temporal.get("fidelity_template")
        if name is not None:
            if isinstance(name, str) and name in template_names():
                out["template"] = name
            else:
                self.warn(
                    "temporal.fidelity_template",
                    f"unknown template {name!r}; using {DEFAULT_TEMPLATE} "
                    f"(known: {', '.join(template_names())})",
                )
        if initial is not None:
            out["initial"] = initial
        return out

    def _budget(self, temporal: dict[str, Any]) -> dict[str, Any]:
        """``temporal.token_budget`` (with its mode) and ``max_cost_usd`` become the budget."""
        budget: dict[str, Any] = {}
        tokens = self.number("temporal.token_budget", temporal.get("token_budget"))
        if tokens is not None:
            if tokens < 1:
                raise self.fail("temporal.token_budget", "a positive number of tokens", tokens)
            budget["tokens"] = int(tokens)
        usd = self.number("max_cost_usd", self.data.get("max_cost_usd"))
        if usd is not None:
            if usd <= 0:
                raise self.fail("max_cost_usd", "a positive amount", usd)
            budget["usd"] = usd
        raw_mode = temporal.get("token_budget_mode")
        if raw_mode is not None:
            mode = str(raw_mode).lower()
            if mode not in SOFT_BUDGET_MODES | HARD_BUDGET_MODES:
                raise self.fail(
                    "temporal.token_budget_mode", "one of hard, soft, hard_constraint", raw_mode
                )
            if mode in SOFT_BUDGET_MODES and budget:
                budget["mode"] = "soft"
                if usd is not None:
                    self.warn(
                        "max_cost_usd",
                        "enforced as a soft limit (a warning) because token_budget_mode is soft",
                    )
        return budget

    def _other_warnings(self) -> None:
        d = self.data
        handled_meta = {
            "entity_roster",
            "embodied_constraints",
            "cognitive_traits",
            "animistic_entities",
            "panel_members",
            "vc_firms",
            "knowledge_provenance_emphasis",
            "narrative_beats",
            "circadian_config",
            "branching_points",
            "branches",
            "critical_question",
            "timelines",
            "scenario_branches",
        }
        meta = self.section("metadata")
        for key, value in meta.items():
            if key in handled_meta or value in (None, [], {}):
                continue
            self.warn(f"metadata.{key}", "not used by this version")
        for key in ("cognitive_traits", "animistic_entities"):
            if meta.get(key):
                self.warn(
                    f"metadata.{key}",
                    "entities are created from it, but its values are not modelled",
                )
        outputs = self.section("outputs")
        if outputs:
            self.warn(
                "outputs",
                "exports are chosen when exporting, not in the scenario; "
                f"ignored here ({', '.join(sorted(outputs))})",
            )
        variations = self.section("variations")
        if variations.get("enabled"):
            self.warn("variations", "variations are not supported yet")
        for key in ("economic_scenario", "founder_profiles"):
            if d.get(key) is not None:
                self.warn(key, "not supported yet")
        known = {
            "scenario_description",
            "world_id",
            "patch",
            "entities",
            "timepoints",
            "temporal",
            "outputs",
            "variations",
            "metadata",
            "economic_scenario",
            "founder_profiles",
            "max_cost_usd",
            "enable_checkpoints",
            "checkpoint_interval",
        }
        for key in d:
            if key not in known:
                self.warn(key, "unknown field in a timepoint-pro template; ignored")
