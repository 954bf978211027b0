"""Carrying out one typed query over a run (M5, M2, M9): the action registry.

Each parsed query has an action here. Asking an entity first works out the level the
question needs (facts, intentions, a long conversation; more once it has been asked often) and,
when the entity is below it at that moment, plans an elevation and asks for consent: without it
nothing is spent and the plan is returned for the caller to show. With it, the elevation, the
answer and (for a name nobody has) the creation are recorded in ``unit`` through the run's
gateway, in that order. ``/who-knows`` and ``/why`` read the record, change nothing in any
World and make no call, and are recorded as a ``RecordLookedUp`` for the observer ledger.
Every action takes the next query number of its run (q0001, q0002, ...), whatever its kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..fidelity.questions import needed_level
from ..fidelity.templates import thresholds
from ..llm.gateway import Gateway
from ..model import events as ev
from ..model.common import MAIN_BRANCH
from ..model.common import ResolutionLevel as Level
from ..model.records import TimepointInfo
from ..world import Recorder, Unit
from . import elevation, lookup, ondemand
from .answer import Loaded, QueryAnswer, QueryFailed, ask, context_for, query_id
from .parse import Ask, Elevate, QueryError, WhoKnows, Why, parse_query, resolve_entity


@dataclass
class Outcome:
    """What a query did, or would do with consent (``needs_consent``)."""

    kind: str  # answer | elevated | who_knows | why | consent
    query_id: str | None = None
    answer: QueryAnswer | None = None
    elevation: elevation.ElevationPlan | None = None
    elevated: Any = None  # the EntityElevated event
    creation: ondemand.CreationPlan | None = None
    created: Any = None  # the EntityCreated event
    holders: list[lookup.Holder] = field(default_factory=list)
    chain: list[lookup.Step] = field(default_factory=list)
    message: str = ""

    @property
    def needs_consent(self) -> bool:
        return self.kind == "consent"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "query_id": self.query_id}
        if self.message:
            out["message"] = self.message
        if self.answer is not None:
            a = self.answer
            out["answer"] = {
                "entity_id": a.entity_id,
                "timepoint_id": a.timepoint_id,
                "question": a.question,
                "text": a.answer,
                "level": a.level,
                "status": a.status,
                "knowledge": list(a.provenance),
                "violations": list(a.violations),
                "tokens": a.prompt_tokens + a.completion_tokens,
                "cost_usd": a.cost_usd,
            }
        if self.elevation is not None:
            out["elevation"] = self.elevation.to_json()
            if self.elevated is not None:
                e = self.elevated
                out["elevation"].update(
                    done=True,
                    learned=e.learned,
                    tokens=e.prompt_tokens + e.completion_tokens,
                    cost_usd=e.cost_usd,
                )
        if self.creation is not None:
            out["creation"] = {**self.creation.to_json(), "done": self.created is not None}
            if self.created is not None:
                out["creation"]["name"] = self.created.profile.name
        if self.kind == "who_knows":
            out["holders"] = [h.to_json() for h in self.holders]
        if self.kind == "why":
            out["chain"] = [s.to_json() for s in self.chain]
            out["sentence"] = lookup.chain_sentence(self.chain)
        return out


@dataclass(frozen=True)
class Consent:
    """What the person asking agreed to spend on: raising a level, creating an entity."""

    elevate: bool = False
    create: bool = False


NO_CONSENT = Consent()


def _moment(
    view: Any, typed: str | None, default: str | None, branch: str | None
) -> TimepointInfo | None:
    """The moment a query is about: the one typed (``tp03``, or ``b1.tp03``), else the default
    (the selected one), else the newest of the branch."""
    wanted = typed or default
    if wanted:
        for candidate in (wanted, f"{branch}.{wanted}" if branch and branch != MAIN_BRANCH else ""):
            tp = view.timepoint(candidate) if candidate else None
            if tp is not None:
                return tp
        raise QueryFailed(f"run {view.run.run_id} has no timepoint {wanted!r}")
    on_branch = [t for t in view.timepoints if t.branch_id == (branch or MAIN_BRANCH)]
    if branch and branch != MAIN_BRANCH and branch not in view.branches and not on_branch:
        raise QueryFailed(f"run {view.run.run_id} has no branch {branch!r}")
    return on_branch[-1] if on_branch else None


class Executor:
    """Runs queries on one loaded run through a gateway and a recorder (the caller opens and
    commits ``unit``)."""

    def __init__(
        self,
        loaded: Loaded,
        gateway: Gateway,
        recorder: Recorder,
        unit: Unit,
        asked_before: int,
        profile_of: Any,
    ) -> None:
        self.loaded = loaded
        self.gateway = gateway
        self.recorder = recorder
        self.unit = unit
        self.asked_before = asked_before
        self.profile_of = profile_of  # async (entity_id) -> EntityProfile | None

    @property
    def view(self) -> Any:
        return self.loaded.view

    def _qid(self) -> str:
        """The next query number of the run: past every id an observer action holds (an
        elevation or a lookup answers no question, so counting answers alone would reuse one)."""
        taken = [int(q[1:]) for q in self.view.observer_ids() if q[:1] == "q" and q[1:].isdigit()]
        return query_id(max([self.asked_before, *taken]))

    def _looked_up(
        self,
        text: str,
        kind: str,
        phrase: str,
        entity_id: str | None,
        tp: TimepointInfo | None,
        found: tuple[str, ...],
        summary: str,
    ) -> str:
        qid = self._qid()
        self.recorder.emit(
            self.unit,
            None,
            ev.RecordLookedUp,
            branch_id=_branch(tp),
            query_id=qid,
            kind=kind,
            text=text,
            phrase=phrase,
            entity_id=entity_id,
            timepoint_id=tp.timepoint_id if tp else None,
            found=found,
            summary=summary,
            asked_at=datetime.now(UTC),
        )
        return qid

    async def run(
        self, text: str, *, at: str | None, branch: str | None, consent: Consent
    ) -> Outcome:
        try:
            parsed = parse_query(text)
        except QueryError as exc:
            raise QueryFailed(str(exc)) from exc
        if isinstance(parsed, WhoKnows):
            tp = _moment(self.view, None, at, branch)
            holders = lookup.who_knows(self.view, parsed.phrase, tp.timepoint_id if tp else None)
            message = f"{len(holders)} hold it"
            qid = self._looked_up(
                text,
                "who_knows",
                parsed.phrase,
                None,
                tp,
                tuple(h.entity_id for h in holders),
                message,
            )
            return Outcome("who_knows", qid, holders=holders, message=message)
        if isinstance(parsed, Why):
            entity_id = self._entity(parsed.entity)
            tp = _moment(self.view, parsed.timepoint, at, branch)
            chain = lookup.why(self.view, entity_id, parsed.phrase, tp.timepoint_id if tp else None)
            name = self.view.entities[entity_id].name
            message = lookup.chain_sentence(chain) or f"{name} knows nothing about that then"
            found = tuple(f"{s.name} {s.phrase()}: {s.information}" for s in chain)
            qid = self._looked_up(text, "why", parsed.phrase, entity_id, tp, found, message)
            return Outcome("why", qid, chain=chain, message=message)
        if isinstance(parsed, Elevate):
            return await self._elevate(parsed, at, branch, consent)
        if isinstance(parsed, Ask):
            return await self._ask(parsed, at, branch, consent)
        raise QueryFailed(
            "/fork opens a form in the explorer; headless, use: timeloom fork RUN_ID --at TP"
        )

    def _entity(self, typed: str) -> str:
        names = {k: e.name for k, e in self.view.entities.items()}
        try:
            return resolve_entity(typed, names)
        except QueryError as exc:
            raise QueryFailed(str(exc)) from exc

    async def _elevate(
        self, parsed: Elevate, at: str | None, branch: str | None, consent: Consent
    ) -> Outcome:
        entity_id = self._entity(parsed.entity)
        tp = _moment(self.view, parsed.timepoint, at, branch)
        current = elevation.current_level(self.view, entity_id, tp.timepoint_id if tp else None)
        if parsed.level:
            target = Level(parsed.level)
        else:
            target = list(Level)[min(current.rank + 1, len(Level) - 1)]
        planned = elevation.plan(
            self.view,
            self.gateway,
            self.loaded.scenario,
            entity_id,
            tp,
            target,
            "asked to by an observer",
            "",
        )
        name = self.view.entities[entity_id].name
        if planned is None:
            return Outcome("elevated", message=f"{name} is already at {current.value} or above")
        if not consent.elevate:
            return Outcome("consent", elevation=planned, message=planned.describe())
        qid = self._qid()
        done = await elevation.run(
            self.gateway, self.recorder, self.unit, self.view, planned, qid, _branch(tp)
        )
        return Outcome(
            "elevated", qid, elevation=planned, elevated=done, message=planned.describe()
        )

    async def _ask(
        self, parsed: Ask, at: str | None, branch: str | None, consent: Consent
    ) -> Outcome:
        tp = _moment(self.view, parsed.timepoint, at, branch)
        names = {k: e.name for k, e in self.view.entities.items()}
        creation = None
        try:
            entity_id = resolve_entity(parsed.entity, names)
        except QueryError as exc:
            if "could be" in str(exc):
                raise QueryFailed(str(exc)) from exc
            creation = ondemand.plan(self.view, parsed.entity, tp)
            if creation is None:
                raise QueryFailed(str(exc)) from exc
            if not consent.create:
                return Outcome("consent", creation=creation, message=creation.describe())
            entity_id = creation.entity_id
        qid = self._qid()
        created = None
        if creation is not None:
            created = await ondemand.create(
                self.gateway,
                self.recorder,
                self.unit,
                self.view,
                self.loaded.scenario,
                creation,
                qid,
                _branch(tp),
            )
            self.view.apply(created)
        asked = sum(1 for q in self.view.queries_of(entity_id))
        need, why = needed_level(parsed.question, asked)
        t = thresholds()
        if asked + 1 >= t.trained_access:
            need, why = max(need, Level.TRAINED, key=lambda lv: lv.rank), f"asked {asked + 1} times"
        elif asked + 1 >= t.frequent_access and need.rank < Level.DIALOG.rank:
            need, why = Level.DIALOG, f"asked {asked + 1} times"
        at_id = tp.timepoint_id if tp else None
        planned = (
            None
            if created is not None
            else elevation.plan(
                self.view,
                self.gateway,
                self.loaded.scenario,
                entity_id,
                tp,
                need,
                why,
                parsed.question,
            )
        )
        if planned is not None and not consent.elevate:
            return Outcome("consent", elevation=planned, message=planned.describe())
        elevated = None
        if planned is not None:
            before = len(self.unit.events)
            elevated = await elevation.run(
                self.gateway, self.recorder, self.unit, self.view, planned, qid, _branch(tp)
            )
            for event in self.unit.events[before:]:  # what it learned is known to the answer
                if event.PERSIST:
                    self.view.apply(event)
        level = max(
            need, elevation.current_level(self.view, entity_id, at_id), key=lambda v: v.rank
        )
        profile = await self.profile_of(entity_id)
        if profile is None:
            raise QueryFailed(f"run {self.view.run.run_id} has no entity {entity_id!r}")
        context = context_for(self.loaded, profile, tp, parsed.question, level)
        event = await ask(self.gateway, self.recorder, self.unit, qid, context, _branch(tp), level)
        return Outcome(
            "answer",
            qid,
            answer=QueryAnswer.of(event),
            elevation=planned,
            elevated=elevated,
            creation=creation,
            created=created,
        )


def _branch(tp: TimepointInfo | None) -> str:
    return tp.branch_id if tp else MAIN_BRANCH
