"""The offline provider: deterministic, seeded, no network and no key.

It answers every action type the engine uses with the same response models a real model must
fill, built from the structured context of the request. The same seed and the same context give
the same answer, whatever order calls are made in.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from random import Random

from pydantic import BaseModel

from ...model.responses import DialogTurnResponse
from ..protocol import ActionType, LLMRequest, LLMResponse, ProviderError, StreamChunk, StreamEnd
from .alternatives import generate_alternatives
from .answers import generate_answer
from .dialog import generate_turn
from .elaboration import generate_elaboration
from .events import generate_event
from .extraction import generate_extraction
from .interventions import generate_intervention
from .population import generate_population
from .portal import generate_antecedent_score, generate_antecedents, generate_path_coherence
from .presence import generate_presence
from .prospection import generate_prospection
from .scene import generate_scene

Generator = Callable[[BaseModel, Random], BaseModel]

GENERATORS: dict[ActionType, Generator] = {
    ActionType.ENTITY_POPULATION: generate_population,  # type: ignore[dict-item]
    ActionType.TIMEPOINT_EVENT: generate_event,  # type: ignore[dict-item]
    ActionType.ENTITY_PRESENCE: generate_presence,  # type: ignore[dict-item]
    ActionType.DIALOG_TURN: generate_turn,  # type: ignore[dict-item]
    ActionType.KNOWLEDGE_EXTRACTION: generate_extraction,  # type: ignore[dict-item]
    ActionType.ENTITY_QUERY: generate_answer,  # type: ignore[dict-item]
    ActionType.ENTITY_ELABORATION: generate_elaboration,  # type: ignore[dict-item]
    ActionType.PORTAL_BACKWARD_REASONING: generate_antecedents,  # type: ignore[dict-item]
    ActionType.PORTAL_PATH_SCORING: generate_antecedent_score,  # type: ignore[dict-item]
    ActionType.TEMPORAL_REASONING: generate_path_coherence,  # type: ignore[dict-item]
    ActionType.PROSPECTION: generate_prospection,  # type: ignore[dict-item]
    ActionType.SCENE_GENERATION: generate_scene,  # type: ignore[dict-item]
    ActionType.COUNTERFACTUAL_PREDICTION: generate_intervention,  # type: ignore[dict-item]
    ActionType.BRANCH_ALTERNATIVES: generate_alternatives,  # type: ignore[dict-item]
}

MODEL_NAME = "offline-composer-1"


class OfflineProvider:
    """Scenario-built answers, instantly (or at a readable pace when ``chars_per_second`` is set)."""

    name = "offline"
    model = MODEL_NAME

    def __init__(self, seed: int = 0, *, chars_per_second: float | None = None) -> None:
        self.seed = seed
        self.chars_per_second = chars_per_second

    def _rng(self, request: LLMRequest) -> Random:
        digest = hashlib.sha256(request.context.model_dump_json().encode()).hexdigest()
        return Random(f"{self.seed}:{request.action.value}:{digest}")

    def _answer(self, request: LLMRequest) -> BaseModel:
        generator = GENERATORS.get(request.action)
        if generator is None:
            raise ProviderError(f"the offline provider has no answer for {request.action.value}")
        return generator(request.context, self._rng(request))

    async def complete(self, request: LLMRequest) -> LLMResponse:
        parsed = self._answer(request)
        return LLMResponse(text=parsed.model_dump_json(), parsed=parsed, model=self.model)

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamChunk | StreamEnd]:
        parsed = self._answer(request)
        display = (
            parsed.content if isinstance(parsed, DialogTurnResponse) else parsed.model_dump_json()
        )
        for piece in _chunks(display):
            if self.chars_per_second:
                await asyncio.sleep(len(piece) / self.chars_per_second)
            yield StreamChunk(piece)
        yield StreamEnd(LLMResponse(text=parsed.model_dump_json(), parsed=parsed, model=self.model))


def _chunks(text: str, words_per_chunk: int = 2) -> list[str]:
    tokens = text.split(" ")
    pieces = []
    for i in range(0, len(tokens), words_per_chunk):
        piece = " ".join(tokens[i : i + words_per_chunk])
        pieces.append(piece if i + words_per_chunk >= len(tokens) else piece + " ")
    return pieces
