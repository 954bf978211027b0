"""The PORTAL part of a reference template: its endpoint (``portal_description`` in
``portal_year``), its origin year, and the backward search's settings. Years become the first
of January of that year. Settings this version does not use are named in warnings."""

from __future__ import annotations

from typing import Any

from .fields import _Fields

# reference key -> (our portal field, whole number?)
_NUMBERS = {
    "backward_steps": ("backward_steps", True),
    "candidate_antecedents_per_step": ("candidates_per_step", True),
    "path_count": ("path_count", True),
    "coherence_threshold": ("coherence_threshold", False),
    "max_backtrack_depth": ("max_backtrack_depth", True),
}
_WEIGHTS = {
    "llm_scoring_weight": "plausibility",
    "historical_precedent_weight": "historical_precedent",
    "causal_necessity_weight": "causal_necessity",
    "entity_capability_weight": "entity_capability",
}
_STRATEGIES = {
    "reverse_chronological": "reverse_chronological",
    "reverse": "reverse_chronological",
    "oscillating": "oscillating",
    "adaptive": "adaptive",
}
PORTAL_TEMPORAL = frozenset(
    {
        "portal_description",
        "portal_year",
        "origin_year",
        "exploration_mode",
        "use_simulation_judging",
        *_NUMBERS,
        *_WEIGHTS,
    }
)
# The reference's knobs for its own search and judge, which this version does not read.
UNUSED_PORTAL = frozenset(
    {
        "oscillation_complexity_threshold",
        "checkpoint_interval",
        "portal_relaxation_enabled",
        "simulation_forward_steps",
        "simulation_max_entities",
        "simulation_include_dialog",
        "judge_model",
        "judge_temperature",
        "simulation_cache_results",
    }
)


class _Portal(_Fields):
    def _portal(self, temporal: dict[str, Any]) -> dict[str, Any]:
        """The ``portal`` section from ``temporal``'s portal settings."""
        endpoint = temporal.get("portal_description")
        if not isinstance(endpoint, str) or len(endpoint.strip()) < 10:
            raise self.fail(
                "temporal.portal_description", "the endpoint, at least 10 characters", endpoint
            )
        end = self.number("temporal.portal_year", temporal.get("portal_year"), integer=True)
        start = self.number("temporal.origin_year", temporal.get("origin_year"), integer=True)
        if end is None or not 1 <= end <= 9998:
            raise self.fail("temporal.portal_year", "a year", temporal.get("portal_year"))
        if start is None:
            start = end - 1
        if not 1 <= start <= 9998:
            raise self.fail("temporal.origin_year", "a year", temporal.get("origin_year"))
        out: dict[str, Any] = {
            "endpoint": endpoint.strip()[:1500],
            "endpoint_at": f"{int(end):04d}-01-01T00:00:00",
            "origin_at": f"{int(start):04d}-01-01T00:00:00",
            "backward_steps": 5,
        }
        for key, (field, whole) in _NUMBERS.items():
            value = self.number(f"temporal.{key}", temporal.get(key), integer=whole)
            if value is not None:
                out[field] = value
        weights = {}
        for key, field in _WEIGHTS.items():
            value = self.number(f"temporal.{key}", temporal.get(key))
            if value is not None:
                weights[field] = value
        if weights:
            out["weights"] = weights
        mode = temporal.get("exploration_mode")
        if mode is not None:
            if mode not in _STRATEGIES:
                raise self.fail(
                    "temporal.exploration_mode", f"one of {', '.join(sorted(_STRATEGIES))}", mode
                )
            out["strategy"] = _STRATEGIES[mode]
        if temporal.get("use_simulation_judging") is not None:
            out["simulation_judging"] = bool(temporal["use_simulation_judging"])
        unused = sorted(k for k in UNUSED_PORTAL if temporal.get(k) is not None)
        if unused:
            self.warn(
                "temporal",
                f"{len(unused)} settings of the reference's portal search are not used "
                f"({', '.join(unused)})",
            )
        return out
