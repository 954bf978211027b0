"""What the status line and the home screen say about a run as a whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..model import events as ev
from ..model.run import RunSummary


@dataclass(frozen=True, slots=True)
class RunInfo:
    run_id: str
    scenario: str
    title: str
    mode: str
    seed: int
    provider: str
    model: str
    status: str
    reason: str | None
    planned_timepoints: int
    started_at: datetime | None
    wall_seconds: float | None = None
    warnings: tuple[str, ...] = ()
    # the counts of the one run fold (engine.view.tally.RunTally), field for field
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
    spent_tokens: int = 0
    spent_usd: float = 0.0
    cached_calls: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def of(cls, summary: RunSummary, warnings: tuple[str, ...] = ()) -> RunInfo:
        c = summary.counts
        return cls(
            summary.run_id,
            summary.scenario,
            summary.title,
            summary.mode.value,
            summary.seed,
            summary.provider,
            summary.model,
            summary.status.value,
            summary.status_reason,
            summary.planned_timepoints,
            summary.started_at,
            summary.wall_seconds,
            tuple(warnings),
            c.entities,
            c.timepoints,
            c.dialog_turns,
            c.exposure_events,
            c.llm_calls,
            c.failed_steps,
            c.queries,
            c.prompt_tokens,
            c.completion_tokens,
            c.cost_usd,
            summary.spent_tokens,
            summary.spent_usd,
            summary.cached_calls,
        )


def run_info(e: ev.RunStarted) -> RunInfo:
    """A run that has just started, with nothing counted yet."""
    return RunInfo(
        e.run_id,
        e.scenario,
        e.title,
        e.mode.value,
        e.seed,
        e.provider,
        e.model,
        "running",
        None,
        e.planned_timepoints,
        e.started_at,
        warnings=e.warnings,
    )
