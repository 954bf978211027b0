"""How a character sounds: the voice guide (kept apart from the tensors so that reading a
scenario does not need numpy)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class VoiceGuide(BaseModel):
    """How a character sounds. Used by every provider; the offline one follows it literally."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    verbal_tics: tuple[str, ...] = ()
    sentence_length: Literal["short", "medium", "long"] = "medium"
    formality: Literal["casual", "neutral", "formal"] = "neutral"
    never_says: tuple[str, ...] = ()
    specificity_anchors: tuple[str, ...] = ()
    speech_examples: tuple[str, ...] = ()
