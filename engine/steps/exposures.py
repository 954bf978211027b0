"""Recording an exposure (M3) on a World: an id is given only to what the ledger accepts."""

from __future__ import annotations

from ..model import events as ev
from ..model.knowledge import ExposureEvent
from ..world import Recorder, Unit, World
from .context import Moment


def record_on(recorder: Recorder, unit: Unit, world: World, exposure: ExposureEvent) -> bool:
    """Record ``exposure`` (its id is assigned here) unless the entity already held it or it
    is withheld from the entity on this branch."""
    if not world.ledger.accepts(exposure.entity_id, exposure.information):
        return False
    exposure = exposure.model_copy(update={"exposure_id": world.next_exposure_id()})
    recorder.emit(unit, world, ev.ExposureRecorded, exposure=exposure)
    return True


def record(m: Moment, exposure: ExposureEvent) -> bool:
    return record_on(m.steps.recorder, m.unit, m.world, exposure)
