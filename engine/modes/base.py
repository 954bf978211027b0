"""Temporal modes as strategies (M17).

A mode decides which timepoints are made, on which branches and in what order; the steps
decide how a timepoint is made. A mode drives a :class:`Driver`, which offers the operations a
search over many branches needs: advance a branch by one timepoint (several may advance side
by side), open a branch from any completed timepoint of another, and wait at the run's gate
(pause, step, stop). FORWARD is one chain; BRANCHING, PORTAL, CYCLICAL and DIRECTORIAL are new
files beside it, not new branches of one class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Protocol

from ..model.common import TemporalMode
from ..model.events import EventBase
from ..model.timepoint import Phase, Timepoint
from ..scenario.schema import Scenario
from ..steps.context import StepContext
from ..world import World


class StepFailed(Exception):
    """A timepoint could not be made; its failure is already recorded (``TimepointFailed``)
    and its partial events discarded. The mode decides whether the run goes on."""

    def __init__(self, index: int, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.index = index
        self.cause = cause


class ModeFailed(Exception):
    """A mode's own work (not a timepoint) failed: the courses of a branching run could not
    be proposed, a PORTAL search found no path. Its calls and failures are in the record."""


class Driver(Protocol):
    """What a mode can do to a run."""

    worlds: dict[str, World]
    steps: StepContext  # the run's settings, gateway and recorder, for a mode's own calls
    closed: set[str]  # branches already finished (a resumed run's, too)

    async def events(self) -> list[EventBase]:
        """The run's committed events, in order."""

    async def gate(self) -> None:
        """Wait while the run is paused; raise when it is asked to stop."""

    async def advance(self, world: World, index: int, given: Any = None) -> Timepoint:
        """Make and commit timepoint ``index`` on ``world``'s branch (raises StepFailed);
        ``given`` (a :class:`~engine.steps.timepoint.Given`) says what happens there."""

    async def advance_together(
        self, worlds: list[World], index: int, given: dict[str, Any] | None = None
    ) -> dict[str, StepFailed]:
        """Make timepoint ``index`` on several branches side by side, committed in the order
        given; return the branches whose timepoint failed."""

    async def close(
        self, world: World, status: Any, reason: str | None = None, outcome: Any = None
    ) -> None:
        """Record that a branch is finished, with its outcome when it was scored."""

    async def fork(
        self,
        parent: World,
        at: str | None,
        branch_id: str,
        *,
        label: str = "",
        intervention: Any = None,
    ) -> World:
        """Open a branch whose World is ``parent``'s as it stood once ``at`` was complete (with
        ``at`` None: before its first timepoint)."""


class Mode(ABC):
    mode: ClassVar[TemporalMode]

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario

    def planned_timepoints(self) -> int:
        """How many timepoints a run of this scenario makes (for progress)."""
        return self.scenario.timeline.count

    def makes(self, branch_id: str, index: int) -> bool:
        """Whether the run makes timepoint ``index`` on ``branch_id`` (nothing is started ahead
        of time for a timepoint it will not make: that call would be spent and never used)."""
        return index < self.scenario.timeline.count

    @abstractmethod
    def arc(self, index: int, count: int) -> tuple[Phase, float]:
        """The dramatic phase and the tension of the ``index``-th of ``count`` moments."""

    @abstractmethod
    async def run(self, driver: Driver) -> None:
        """Make the run's timepoints, from wherever its Worlds stand (a resumed run's Worlds
        are rebuilt from its log first)."""
