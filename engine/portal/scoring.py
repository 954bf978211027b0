"""Hybrid scoring of a PORTAL candidate: one number from the judgements that could be made.

A candidate antecedent is judged on several components, each a number in [0, 1]:

- ``plausibility``: how believable the state is as a step towards the endpoint (a model's
  judgement);
- ``historical_precedent``: how much comparable histories went this way;
- ``causal_necessity``: how much the endpoint needs this state to have happened;
- ``entity_capability``: whether the people and things present could do what the state says.

:func:`hybrid` combines the components that are present into their weighted mean, with the
weights renormalised over those components alone. A component that could not be judged is
reported as missing and takes no part: it is never replaced by a neutral or invented value. When
nothing can be combined the score is None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

COMPONENTS: tuple[str, ...] = (
    "plausibility",
    "historical_precedent",
    "causal_necessity",
    "entity_capability",
)

# The reference configuration's weights (its "llm_scoring_weight" is plausibility here).
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "plausibility": 0.3,
        "historical_precedent": 0.2,
        "causal_necessity": 0.3,
        "entity_capability": 0.2,
    }
)


@dataclass(frozen=True)
class Scored:
    """A combined score, the weights that produced it (summing to 1 over the components used)
    and the weighted components that had no value."""

    score: float | None
    used: dict[str, float]
    missing: tuple[str, ...]


def hybrid(
    components: Mapping[str, float | None], weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> Scored:
    """The weighted mean of the components present.

    ``weights`` names the components that count, in the order ``missing`` lists them; a
    component without a weight takes no part. A component is present when it has a value (not
    None). The weights of the present components are divided by their sum, and ``used`` holds
    those with a positive share. The score is None when no present component has a positive
    weight. A negative or non-finite weight, or a value outside [0, 1], is a ValueError.
    """
    for name, weight in weights.items():
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"The weight of {name!r} is {weight!r}; weights must be 0 or more.")
    for name, value in components.items():
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError(f"Component {name!r} is {value!r}; components lie in [0, 1].")
    present = {
        name: float(components[name])
        for name in weights
        if components.get(name) is not None and weights[name] > 0
    }
    missing = tuple(name for name in weights if components.get(name) is None)
    total = sum(float(weights[name]) for name in present)
    if total <= 0:
        return Scored(None, {}, missing)
    used = {name: float(weights[name]) / total for name in present}
    value = sum(present[name] * share for name, share in used.items())
    return Scored(round(min(1.0, max(0.0, value)), 4), used, missing)
