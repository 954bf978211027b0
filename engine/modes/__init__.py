"""The temporal modes (M17), one strategy a module."""

from __future__ import annotations

from ..model.common import TemporalMode
from .base import Driver, Mode, StepFailed
from .branching import Branching
from .control import RunControl, Stopped
from .forward import Forward

MODES: dict[TemporalMode, type[Mode]] = {Forward.mode: Forward, Branching.mode: Branching}
SUPPORTED_MODES = frozenset(MODES)

__all__ = [
    "MODES",
    "SUPPORTED_MODES",
    "Branching",
    "Driver",
    "Forward",
    "Mode",
    "RunControl",
    "StepFailed",
    "Stopped",
]
