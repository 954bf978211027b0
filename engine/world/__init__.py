"""The state of one branch of a run (World) and the recorder that makes, folds and commits
events."""

from .recorder import Recorder, Unit
from .world import World

__all__ = ["Recorder", "Unit", "World"]
