"""What an export holds: the timepoints and turns of a run selected by branch, entities, time
window and the training-safe filter, read from the read model (never from SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model.records import TimepointInfo, TurnInfo
from ..view.runview import RunView


class ExportError(Exception):
    """A selection or a destination that cannot be exported (one sentence)."""


def is_training_safe(provider: str, licence: str | None) -> bool:
    """Offline content is safe; otherwise only MIT or Apache-2.0 models' outputs."""
    if provider == "offline":
        return True
    return (licence or "").lower() in {"mit", "apache-2.0"}


@dataclass(frozen=True)
class Selection:
    view: RunView
    timepoints: tuple[TimepointInfo, ...]
    turns: tuple[TurnInfo, ...]
    branch: str | None
    entities: tuple[str, ...]
    training_safe: bool
    licence: str | None
    run: Any  # RunSummary


def parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise ExportError(f"{text!r} is not a time (use ISO 8601, e.g. 2026-03-01T14:00)") from exc


def _comparable(a: datetime, b: datetime) -> tuple[datetime, datetime]:
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a, b


def select(
    view: RunView,
    run: Any,
    *,
    branch: str | None = None,
    entities: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    training_safe: bool = False,
    licence: str | None = None,
) -> Selection:
    if (
        start is not None
        and end is not None
        and _comparable(start, end)[0] > _comparable(start, end)[1]
    ):
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
        tps = [
            t
            for t in tps
            if not (_comparable(t.timestamp, start)[0] < _comparable(t.timestamp, start)[1])
        ]
    if end is not None:
        tps = [
            t
            for t in tps
            if not (_comparable(t.timestamp, end)[0] > _comparable(t.timestamp, end)[1])
        ]
    safe = is_training_safe(run.provider, licence)
    turns: list[TurnInfo] = []
    if not (training_safe and not safe):
        for t in tps:
            for turn in view.turns(t.timepoint_id):
                if turn.status == "failed" or not turn.content:
                    continue
                if entities and turn.speaker not in entities:
                    continue
                turns.append(turn)
    return Selection(view, tuple(tps), tuple(turns), branch, tuple(entities), safe, licence, run)
