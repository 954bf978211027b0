"""A run: one scenario simulated with one seed and one provider, on one or more branches."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from .common import RunStatus, TemporalMode


class RunCounts(BaseModel):
    """What a run holds, as the one fold of its events counts it (see ``engine.view.tally``).

    Tokens and cost cover every call of the run, those answered from the cassette included
    (they cost what the recorded answer cost when it was made)."""

    model_config = ConfigDict(frozen=True)

    entities: int = 0
    timepoints: int = 0
    dialog_turns: int = 0
    exposure_events: int = 0
    llm_calls: int = 0
    failed_steps: int = 0
    queries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


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
    # What the executions of this run paid (answers from the cassette cost nothing now).
    spent_tokens: int = 0
    spent_usd: float = 0.0
    cached_calls: int = 0
    planned_timepoints: int = 0
    started_at: datetime
    finished_at: datetime | None = None
    wall_seconds: float | None = None
    # Branches forked from the run, and the timepoints of its main branch (counts cover all).
    forks: int = 0
    main_timepoints: int = 0
    # The process writing the run while it is live (None once it ended or died).
    owner: str | None = None

    @property
    def tokens_in(self) -> int:
        return self.counts.prompt_tokens

    @property
    def tokens_out(self) -> int:
        return self.counts.completion_tokens

    @property
    def cost_usd(self) -> float:
        return self.counts.cost_usd

    @property
    def tokens(self) -> int:
        return self.counts.tokens
