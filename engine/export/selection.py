"""What an export holds: the timepoints and turns of a run selected by branch, entities, time
window and the training-safe filter, read from the read model (never from SQL), with the
models that produced them and their licences (from the calls the run recorded)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..llm.protocol import ActionType
from ..llm.registry import Registry
from ..model.records import CallModel, TimepointInfo, TurnInfo
from ..view.runview import RunView
from .heap import in_settled_heap

# The action whose answers are a turn's text.
DIALOG_ACTION = ActionType.DIALOG_TURN.value


class ExportError(Exception):
    """A selection or a destination that cannot be exported (one sentence)."""


@dataclass(frozen=True)
class ModelUse:
    """One model the run called: how often, under which licence, and whether its outputs may
    train other models (offline text may; a model the registry does not know may not)."""

    provider: str
    model: str
    calls: int
    licence: str | None
    training_safe: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "calls": self.calls,
            "licence": self.licence,
            "training_safe": self.training_safe,
        }


def model_use(registry: Registry | None, provider: str, model: str, calls: int) -> ModelUse:
    if provider == "offline":
        return ModelUse(provider, model, calls, "offline", True)
    profile = registry.get(provider, model) if registry is not None else None
    if profile is None:
        return ModelUse(provider, model, calls, None, False)
    return ModelUse(provider, model, calls, profile.license, profile.training_safe)


@dataclass(frozen=True)
class Selection:
    view: RunView
    timepoints: tuple[TimepointInfo, ...]
    turns: tuple[TurnInfo, ...]
    branch: str | None
    entities: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    training_safe_only: bool
    models: tuple[ModelUse, ...]
    # per turn (dialog_id, turn_index): the models whose answers made it
    turn_models: dict[tuple[str, int], tuple[ModelUse, ...]]
    run: Any  # RunSummary
    dropped_unsafe: int = 0

    @property
    def training_safe(self) -> bool:
        """Every model behind what is exported allows training (vacuously true when empty)."""
        used = {m for ms in self.turn_models.values() for m in ms}
        return all(m.training_safe for m in used) if self.turns else True

    def models_of(self, turn: TurnInfo) -> tuple[ModelUse, ...]:
        return self.turn_models.get((turn.dialog_id, turn.turn_index), ())


def parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ExportError(f"{text!r} is not a time (use ISO 8601, e.g. 2026-03-01T14:00)") from exc


def _naive(a: datetime) -> datetime:
    return a.replace(tzinfo=None) if a.tzinfo is not None else a


def _turn_models(
    view: RunView, calls: Sequence[CallModel], uses: dict[tuple[str, str], ModelUse]
) -> dict[tuple[str, str], tuple[ModelUse, ...]]:
    """(timepoint, speaker) → the models whose dialog answers were accepted there."""
    out: dict[tuple[str, str], list[ModelUse]] = {}
    for c in calls:
        if c.action == DIALOG_ACTION and c.ok:
            out.setdefault((c.timepoint_id, c.entity_id), []).append(uses[(c.provider, c.model)])
    return {k: tuple(v) for k, v in out.items()}


@in_settled_heap  # a 100,000-turn run's selection spent 2.4 of its 3 s in the collector
def select(
    view: RunView,
    run: Any,
    *,
    calls: Sequence[CallModel] = (),
    registry: Registry | None = None,
    branch: str | None = None,
    entities: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    training_safe: bool = False,
) -> Selection:
    if start is not None and end is not None and _naive(start) > _naive(end):
        raise ExportError("--from is after --to")
    tps = list(view.timepoints)
    if branch is not None:
        known = {t.branch_id for t in tps} | set(view.branches)
        if branch not in known:
            raise ExportError(f"run {run.run_id} has no branch {branch!r}")
        last = [t for t in tps if t.branch_id == branch]
        tps = view.chain(last[-1].timepoint_id) if last else []
    for e in entities:
        if e not in view.entities:
            raise ExportError(f"run {run.run_id} has no entity {e!r}")
    if start is not None:
        tps = [t for t in tps if _naive(t.timestamp) >= _naive(start)]
    if end is not None:
        tps = [t for t in tps if _naive(t.timestamp) <= _naive(end)]
    totals: dict[tuple[str, str], int] = {}
    for c in calls:
        totals[(c.provider, c.model)] = totals.get((c.provider, c.model), 0) + c.calls
    uses = {k: model_use(registry, k[0], k[1], n) for k, n in sorted(totals.items())}
    by_speaker = _turn_models(view, calls, uses)
    fallback = (model_use(registry, run.provider, run.model, 0),)
    turns: list[TurnInfo] = []
    turn_models: dict[tuple[str, int], tuple[ModelUse, ...]] = {}
    dropped = 0
    for t in tps:
        for turn in view.turns(t.timepoint_id):
            if turn.status == "failed" or not turn.content:
                continue
            if entities and turn.speaker not in entities:
                continue
            made_by = by_speaker.get((t.timepoint_id, turn.speaker)) or fallback
            if training_safe and not all(m.training_safe for m in made_by):
                dropped += 1
                continue
            turns.append(turn)
            turn_models[(turn.dialog_id, turn.turn_index)] = made_by
    return Selection(
        view,
        tuple(tps),
        tuple(turns),
        branch,
        tuple(entities),
        start,
        end,
        training_safe,
        tuple(uses.values()) or fallback,
        turn_models,
        run,
        dropped,
    )
