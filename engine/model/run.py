"""A run: one scenario simulated once with one seed and one provider."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from .common import RunStatus, TemporalMode


class RunCounts(BaseModel):
    model_config = ConfigDict(frozen=True)

    entities: int = 0
    timepoints: int = 0
    dialog_turns: int = 0
    exposure_events: int = 0
    llm_calls: int = 0
    failed_steps: int = 0


class RunSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    scenario: str
    title: str = ""
    mode: TemporalMode = TemporalMode.FORWARD
    seed: int
    config_hash: str
    provider: str
    model: str
    status: RunStatus
    status_reason: str | None = None
    counts: RunCounts = RunCounts()
    planned_timepoints: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    started_at: datetime
    finished_at: datetime | None = None
    wall_seconds: float | None = None

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out
