"""Which response model answers each action (the models themselves are in
:mod:`engine.model.responses`)."""

from __future__ import annotations

from pydantic import BaseModel

from ..model.responses import (
    AlternativesResponse,
    AntecedentScore,
    AntecedentsResponse,
    DialogTurnResponse,
    ElaborationResponse,
    ExtractionResponse,
    InterventionResponse,
    PathCoherence,
    PopulationResponse,
    PresenceResponse,
    ProspectionResponse,
    QueryResponse,
    SceneResponse,
    TimepointEventResponse,
)
from .protocol import ActionType

RESPONSE_MODELS: dict[ActionType, type[BaseModel]] = {
    ActionType.ENTITY_POPULATION: PopulationResponse,
    ActionType.TIMEPOINT_EVENT: TimepointEventResponse,
    ActionType.ENTITY_PRESENCE: PresenceResponse,
    ActionType.DIALOG_TURN: DialogTurnResponse,
    ActionType.KNOWLEDGE_EXTRACTION: ExtractionResponse,
    ActionType.ENTITY_QUERY: QueryResponse,
    ActionType.ENTITY_ELABORATION: ElaborationResponse,
    ActionType.PORTAL_BACKWARD_REASONING: AntecedentsResponse,
    ActionType.PORTAL_PATH_SCORING: AntecedentScore,
    ActionType.TEMPORAL_REASONING: PathCoherence,
    ActionType.PROSPECTION: ProspectionResponse,
    ActionType.SCENE_GENERATION: SceneResponse,
    ActionType.COUNTERFACTUAL_PREDICTION: InterventionResponse,
    ActionType.BRANCH_ALTERNATIVES: AlternativesResponse,
}
