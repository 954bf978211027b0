"""The temporal modes (M17), one strategy a module."""

from __future__ import annotations

from ..model.common import TemporalMode
from .base import Driver, Mode, ModeFailed, StepFailed
from .branching import Branching
from .control import RunControl, Stopped
from .forward import Forward
from .portal import Portal

MODES: dict[TemporalMode, type[Mode]] = {
    Forward.mode: Forward,
    Branching.mode: Branching,
    Portal.mode: Portal,
}
SUPPORTED_MODES = frozenset(MODES)

__all__ = [
    "MODES",
    "SUPPORTED_MODES",
    "Branching",
    "Driver",
    "Forward",
    "Mode",
    "ModeFailed",
    "Portal",
    "RunControl",
    "StepFailed",
    "Stopped",
]
