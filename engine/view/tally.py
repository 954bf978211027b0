"""The one fold that counts a run: every count shown anywhere comes from here.

The live view, the store's run row and ``RunFinished`` all fold events through
:class:`RunTally`, so they cannot disagree. Every event type is either counted by a handler
below or named in :data:`IGNORED`; a test checks that none is forgotten.

Counts cover the whole run: a call answered from the cassette counts as a call with the tokens
and cost of its recorded answer; ``spent_*`` hold what was actually paid. Events that were
delivered live and then discarded (a failed timepoint) are taken back out with
:meth:`RunTally.remove`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any

from ..model import events as ev
from ..model.portal_events import PORTAL_EVENTS
from ..model.run import RunCounts


@dataclass(slots=True)
class RunTally:
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

    # ------------------------------------------------------------------ folding
    def add(self, event: ev.EventBase, sign: int = 1) -> bool:
        """Count one event (``sign=-1`` takes it back out); return whether a count changed."""
        handler = _HANDLERS.get(type(event))
        if handler is None:
            if type(event) not in IGNORED:
                raise TypeError(f"the run tally has no rule for {type(event).__name__}")
            return False
        handler(self, event, sign)
        return True

    def remove(self, event: ev.EventBase) -> bool:
        return self.add(event, -1)

    def add_all(self, events: Iterable[ev.EventBase]) -> RunTally:
        for event in events:
            self.add(event)
        return self

    @classmethod
    def of(cls, events: Iterable[ev.EventBase]) -> RunTally:
        return cls().add_all(events)

    # ------------------------------------------------------------------ reading
    def copy(self) -> RunTally:
        return RunTally(**self.as_dict())

    def minus(self, before: RunTally) -> RunTally:
        """What was counted since ``before`` (a fork's own share of its run)."""
        mine, theirs = self.as_dict(), before.as_dict()
        return RunTally(**{k: v - theirs[k] for k, v in mine.items()})

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def counts(self) -> RunCounts:
        return RunCounts(
            entities=self.entities,
            timepoints=self.timepoints,
            dialog_turns=self.dialog_turns,
            exposure_events=self.exposure_events,
            llm_calls=self.llm_calls,
            failed_steps=self.failed_steps,
            queries=self.queries,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cost_usd=round(self.cost_usd, 6),
        )

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(RunTally))
"""The tally's counters, which are also the run row's columns of the same names."""


def _counter(name: str) -> Callable[[RunTally, Any, int], None]:
    def count(t: RunTally, _event: Any, sign: int) -> None:
        setattr(t, name, getattr(t, name) + sign)

    return count


def _call(t: RunTally, e: ev.LLMCallFinished, sign: int) -> None:
    t.llm_calls += sign
    t.prompt_tokens += sign * e.prompt_tokens
    t.completion_tokens += sign * e.completion_tokens
    t.cost_usd += sign * e.cost_usd
    if e.cached:  # answered from the cassette: nothing was paid for it now
        t.cached_calls += sign
    else:
        t.spent_tokens += sign * (e.prompt_tokens + e.completion_tokens)
        t.spent_usd += sign * e.cost_usd


def _discarded(t: RunTally, e: ev.EventsDiscarded, sign: int) -> None:
    for event in e.events:
        t.add(event, -sign)


_HANDLERS: dict[type, Callable[[RunTally, Any, int], None]] = {
    ev.EntityCreated: _counter("entities"),
    ev.TimepointCompleted: _counter("timepoints"),
    ev.DialogTurnFinished: _counter("dialog_turns"),
    ev.ExposureRecorded: _counter("exposure_events"),
    ev.DialogTurnFailed: _counter("failed_steps"),
    ev.KnowledgeExtractionFailed: _counter("failed_steps"),
    ev.MechanismFailed: _counter("failed_steps"),
    ev.TimepointFailed: _counter("failed_steps"),
    ev.LLMCallFinished: _call,
    ev.EventsDiscarded: _discarded,
    ev.QueryAnswered: _counter("queries"),
}

IGNORED: frozenset[type] = frozenset(
    {
        ev.RunStarted,
        ev.RunResumed,
        ev.EntityElevated,
        ev.EntityCompressed,
        ev.FidelityPlanned,
        ev.TimepointCreated,
        ev.DialogStarted,
        ev.DialogSkipped,
        ev.DialogTurnStarted,
        ev.DialogTokens,
        ev.DialogStreamReset,
        ev.DialogFinished,
        ev.ValidationReported,
        ev.SceneRead,
        ev.AtmosphereShifted,
        ev.InnerLifeUpdated,
        ev.TensorUpdated,
        ev.RelationshipUpdated,
        ev.BudgetWarning,
        ev.BranchCreated,
        ev.BranchFinished,
        ev.BranchScored,
        ev.RecordLookedUp,
        ev.QueriesApplied,
        ev.RunFinished,
        *PORTAL_EVENTS,  # the search's calls are counted as calls; its states are not timepoints
    }
)
"""Events that change no count (they are still folded by the view and the store)."""

HANDLED: frozenset[type] = frozenset(_HANDLERS)
