"""What every observer action records the same way: its one call, with every attempt
recorded whether it answers or fails, and the exposures it brings (ids ``q0003-x01``: the
query and a running number, unique within the run's branch)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from ..llm.gateway import Gateway, LLMCallFailed
from ..llm.protocol import ActionType, SamplingParams
from ..model import events as ev
from ..model.common import MAIN_BRANCH, ExposureType
from ..model.knowledge import ExposureEvent
from ..world import Recorder, Unit


async def recorded_call(
    gateway: Gateway,
    recorder: Recorder,
    unit: Unit,
    branch_id: str,
    action: ActionType,
    context: BaseModel,
    response: type[BaseModel],
    *,
    sampling: SamplingParams,
    timepoint_id: str | None,
    call_key: str,
    entity_id: str | None,
    failed: type[Exception],
    failure: str,
) -> tuple[Any, list[Any]]:
    """Make the call and record its attempts in ``unit``; a call that fails raises ``failed``
    with ``failure`` and the reason, its attempts recorded all the same."""
    try:
        answer, records = await gateway.call(
            action,
            context,
            response,
            sampling=sampling,
            timepoint_id=timepoint_id,
            call_key=call_key,
            entity_id=entity_id,
        )
    except LLMCallFailed as exc:
        recorder.calls(unit, None, exc.records, branch_id)
        raise failed(f"{failure}: {exc}") from exc
    recorder.calls(unit, None, records, branch_id)
    assert isinstance(answer, response)
    return answer, records


def record_exposure(
    recorder: Recorder,
    unit: Unit,
    branch_id: str,
    exposure_id: str,
    *,
    entity_id: str,
    kind: ExposureType,
    information: str,
    timestamp: datetime,
    timepoint_id: str | None,
    confidence: float = 1.0,
) -> None:
    prefix = "" if branch_id == MAIN_BRANCH else f"{branch_id}."
    recorder.emit(
        unit,
        None,
        ev.ExposureRecorded,
        branch_id=branch_id,
        exposure=ExposureEvent(
            exposure_id=f"{prefix}{exposure_id}",
            entity_id=entity_id,
            kind=kind,
            information=information,
            timestamp=timestamp,
            confidence=confidence,
            timepoint_id=timepoint_id,
        ),
    )
