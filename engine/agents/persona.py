"""Voice differentiation and persona-derived sampling parameters (M11).

``speaking_style`` maps an entity's traits and role to a concrete way of speaking;
``persona_params`` turns its current state into the sampling parameters of its next turn.
"""

from __future__ import annotations

from ..model.dialog import PersonaParams, SpeakingStyle
from ..model.entity import EntityProfile
from ..model.tensors import CognitiveState, TTMTensor

TECHNICAL = (
    "engineer",
    "scientist",
    "doctor",
    "physician",
    "analyst",
    "nurse",
    "technician",
    "pilot",
    "researcher",
    "surgeon",
    "chemist",
    "mechanic",
    "officer",
)
BUSINESS = (
    "ceo",
    "cfo",
    "investor",
    "counsel",
    "attorney",
    "lawyer",
    "director",
    "founder",
    "banker",
    "manager",
    "partner",
    "executive",
    "broker",
    "treasurer",
)
PHILOSOPHICAL = (
    "priest",
    "monk",
    "spirit",
    "kami",
    "philosopher",
    "poet",
    "elder",
    "oracle",
    "shrine",
    "statesman",
    "judge",
)


def speaking_style(profile: EntityProfile, tensor: TTMTensor) -> SpeakingStyle:
    role = f"{profile.role} {profile.archetype or ''}".lower()
    richness = tensor.beh("vocabulary_richness")
    length = profile.voice.sentence_length
    if length == "short" or richness < 0.3:
        verbosity = "terse"
    elif length == "long" or richness > 0.75:
        verbosity = "verbose"
    else:
        verbosity = "moderate"
    formality_value = tensor.beh("formality")
    if profile.voice.formality != "neutral":
        formality = profile.voice.formality
    elif formality_value > 0.66:
        formality = "formal"
    elif formality_value < 0.33:
        formality = "casual"
    else:
        formality = "neutral"
    warmth, volatility = tensor.beh("warmth"), tensor.beh("volatility")
    if volatility > 0.7:
        tone = "passionate"
    elif warmth > 0.65:
        tone = "warm"
    elif warmth < 0.3:
        tone = "cold"
    else:
        tone = "neutral"
    if any(word in role for word in TECHNICAL):
        vocabulary = "technical"
    elif any(word in role for word in BUSINESS):
        vocabulary = "business"
    elif any(word in role for word in PHILOSOPHICAL):
        vocabulary = "philosophical"
    else:
        vocabulary = "simple"
    assertive, openness = tensor.beh("assertiveness"), tensor.beh("openness")
    if assertive > 0.75:
        pattern = "commanding"
    elif openness > 0.7 and assertive < 0.5:
        pattern = "questioning"
    elif tensor.beh("deliberation") > 0.7:
        pattern = "elaborate"
    else:
        pattern = "direct"
    return SpeakingStyle(
        verbosity=verbosity, formality=formality, tone=tone, vocabulary=vocabulary, pattern=pattern
    )


BASE_TOKENS = {"terse": 90, "moderate": 150, "verbose": 230}


def persona_params(
    cognitive: CognitiveState,
    tensor: TTMTensor,
    style: SpeakingStyle,
    turn_index: int,
    planned_turns: int,
) -> PersonaParams:
    """Sampling parameters from state: arousal and energy drive temperature, arousal narrows
    top_p, energy and lateness shorten turns, vocabulary richness and novelty seeking set the
    penalties."""
    energy = cognitive.energy / 100.0
    temperature = 0.4 + 0.7 * cognitive.arousal * (0.4 + 0.6 * energy)
    top_p = 1.0 - 0.3 * cognitive.arousal
    lateness = turn_index / max(1, planned_turns - 1)
    max_tokens = BASE_TOKENS[style.verbosity] * (0.55 + 0.45 * energy) * (1.0 - 0.3 * lateness)
    return PersonaParams(
        temperature=round(min(1.2, temperature), 3),
        top_p=round(max(0.5, top_p), 3),
        max_tokens=max(32, int(max_tokens)),
        frequency_penalty=round(tensor.beh("vocabulary_richness") * 0.8, 3),
        presence_penalty=round(tensor.beh("novelty_seeking") * 0.8, 3),
    )
