"""The read model: one fold of a run's events into what screens and commands show."""

from .info import RunInfo
from .runview import RunView
from .tally import RunTally

__all__ = ["RunInfo", "RunTally", "RunView"]
