"""The names of the TTM tensor's dimensions (M6), kept free of numpy."""

CONTEXT_DIMS = (
    "knowledge",
    "valence",
    "arousal",
    "energy",
    "confidence",
    "patience",
    "risk",
    "social",
)
BIOLOGY_DIMS = ("vitality", "pain", "fatigue", "age")
BEHAVIOR_DIMS = (
    "assertiveness",
    "warmth",
    "deliberation",
    "openness",
    "volatility",
    "vocabulary_richness",
    "novelty_seeking",
    "formality",
)
