"""The calls and the record of a PORTAL search: the :class:`~engine.portal.search.Host` the
search drives. Each call is made with no side effect; what it produced (or how it failed) is
recorded afterwards, in the order the search gives, as PORTAL events with their call records.
A failed proposal is a recorded failure, never a stand-in state; a part of a score that could not
be judged is missing, never invented."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..llm.contexts import (
    AntecedentContext,
    AntecedentScoringContext,
    PathCoherenceContext,
    PortalStateBrief,
)
from ..llm.gateway import CallRecord, LLMCallFailed
from ..llm.protocol import ActionType
from ..model import portal_events as pe
from ..model.responses import AntecedentScore, AntecedentsResponse, PathCoherence
from ..portal import Candidate, hybrid
from ..portal.search import Judged, Request
from ..scenario.schema import PortalSpec
from ..steps.briefs import brief
from ..steps.context import StepContext
from ..world import World

CAST = 12  # the people a PORTAL call is told about


@dataclass(frozen=True)
class State:
    """What a candidate says beyond what the search reads: its time, title, link and context."""

    when: datetime
    title: str
    causal_link: str = ""
    world_context: str = ""


@dataclass(frozen=True)
class Answered:
    answer: Any
    records: list[CallRecord]
    error: str | None = None


def title_of(description: str, events: Sequence[str]) -> str:
    text = events[0] if events else description.split(". ")[0]
    text = text.strip().rstrip(".")
    text = text[:1].upper() + text[1:]
    return text if len(text) <= 60 else text[:59].rsplit(" ", 1)[0] + "…"


class PortalHost:
    def __init__(
        self, steps: StepContext, world: World, spec: PortalSpec, times: list[datetime], gate: Any
    ) -> None:
        self.steps = steps
        self.world = world
        self.spec = spec
        self.times = times
        self._gate = gate
        self.states: dict[str, State] = {}
        self.prefix = ""  # a search begun again (after a resume) numbers its states apart
        self._counts: dict[int, int] = {}
        self._said: dict[tuple[str, ...], str] = {}  # the judge's sentence, by path
        self._unit: Any = None
        self.cast = tuple(brief(e) for e in world.active()[:CAST])
        self.weights = spec.weights.model_dump()

    # ------------------------------------------------------------------ helpers
    def brief(self, c: Candidate) -> PortalStateBrief:
        return PortalStateBrief(
            description=c.description,
            key_events=c.key_events,
            when=self.states[c.candidate_id].when,
        )

    @property
    def unit(self) -> Any:
        """The unit the search's events wait in until the next commit (opened when needed)."""
        if self._unit is None:
            self._unit = self.steps.recorder.open("portal")
        return self._unit

    def emit(self, cls: type[Any], **fields: Any) -> Any:
        return self.steps.recorder.emit(self.unit, None, cls, **fields)

    async def _call(
        self, key: str, action: ActionType, context: Any, response: type, tokens: int
    ) -> Answered:
        try:
            answer, records = await self.steps.call(
                key, action, context, response, self.steps.sampling(0.7, tokens)
            )
        except LLMCallFailed as exc:
            return Answered(None, list(exc.records), str(exc))
        return Answered(answer, records)

    def _records(self, answered: Answered) -> None:
        self.steps.recorder.calls(self.unit, None, answered.records)

    # ------------------------------------------------------------------ the Host
    async def gate(self) -> None:
        await self._gate()

    async def commit(self) -> None:
        if self._unit is not None:
            unit, self._unit = self._unit, None
            await self.steps.recorder.commit(unit)

    def endpoint(self) -> Candidate:
        cid = f"{self.prefix}e"
        self.states[cid] = State(self.times[0], "The endpoint")
        self.emit(
            pe.PortalCandidateProposed,
            candidate_id=cid,
            slot=0,
            later_id=None,
            when=self.times[0],
            title="The endpoint",
            description=self.spec.endpoint,
            source="scenario",
        )
        return Candidate(cid, 0, None, self.spec.endpoint)

    async def propose(self, r: Request) -> Answered:
        context = AntecedentContext(
            scenario=self.steps.brief,
            endpoint=self.spec.endpoint,
            origin_at=self.spec.origin_at,
            consequent=self.brief(r.later),
            when=self.times[r.slot],
            step=r.slot,
            steps=self.spec.backward_steps,
            cast=self.cast,
            later=tuple(c.description for c in r.toward),
            earlier=self.brief(r.earlier) if r.earlier is not None else None,
            avoid=r.avoid,
            wanted=self.spec.candidates_per_step,
        )
        key = f"portal/s{r.slot}/{r.later.candidate_id}/a{r.attempt}"
        if r.lane:
            key += f"/l{r.lane}"
        if r.earlier is not None:
            key += f"/{r.earlier.candidate_id}"
        return await self._call(
            key, ActionType.PORTAL_BACKWARD_REASONING, context, AntecedentsResponse, 1800
        )

    def proposed(self, r: Request, got: Answered) -> list[Candidate]:
        self._records(got)
        if got.error is not None:
            self.emit(
                pe.PortalStepFailed,
                stage="generation",
                slot=r.slot,
                later_id=r.later.candidate_id,
                error=got.error,
            )
            return []
        assert isinstance(got.answer, AntecedentsResponse)
        known = set(self.world.entities)
        out = []
        for draft in got.answer.candidates[: self.spec.candidates_per_step]:
            n = self._counts[r.slot] = self._counts.get(r.slot, 0) + 1
            cid = f"{self.prefix}s{r.slot}.{n}"
            present = tuple(e for e in draft.entities_present if e in known)
            changes = {e: v for e, v in draft.entity_changes.items() if e in known}
            title = title_of(draft.description, draft.key_events)
            self.states[cid] = State(
                self.times[r.slot], title, draft.causal_link, draft.world_context
            )
            self.emit(
                pe.PortalCandidateProposed,
                candidate_id=cid,
                slot=r.slot,
                later_id=r.later.candidate_id,
                earlier_id=r.earlier.candidate_id if r.earlier is not None else None,
                when=self.times[r.slot],
                title=title,
                description=draft.description,
                key_events=draft.key_events,
                entity_changes=changes,
                world_context=draft.world_context,
                causal_link=draft.causal_link,
                entities_present=present,
                attempt=r.attempt,
            )
            out.append(
                Candidate(
                    cid,
                    r.slot,
                    r.later.candidate_id,
                    draft.description,
                    draft.key_events,
                    present,
                    {e: abs(v) for e, v in changes.items()},
                )
            )
        return out

    async def score(self, c: Candidate, later: Candidate) -> Answered:
        context = AntecedentScoringContext(
            scenario=self.steps.brief,
            endpoint=self.spec.endpoint,
            consequent=self.brief(later),
            candidate=self.brief(c),
            causal_link=self.states[c.candidate_id].causal_link,
            cast=self.cast,
            present=c.entities_present,
        )
        return await self._call(
            f"portal/score/{c.candidate_id}",
            ActionType.PORTAL_PATH_SCORING,
            context,
            AntecedentScore,
            500,
        )

    def scored(self, c: Candidate, got: Answered) -> Candidate:
        self._records(got)
        if got.error is not None:
            self.emit(
                pe.PortalStepFailed,
                stage="scoring",
                slot=c.step,
                candidate_id=c.candidate_id,
                error=got.error,
            )
            parts: dict[str, float | None] = dict.fromkeys(self.weights)
            why = f"the scoring call failed: {got.error}"
        else:
            assert isinstance(got.answer, AntecedentScore)
            parts = {name: getattr(got.answer, name) for name in self.weights}
            why = got.answer.reason or "the judge gave no value"
        result = hybrid(parts, self.weights)
        components = {n: float(v) for n, v in parts.items() if v is not None}
        missing = {n: why for n in result.missing}
        self.emit(
            pe.PortalCandidateScored,
            candidate_id=c.candidate_id,
            components=components,
            missing=missing,
            weights={n: round(w, 4) for n, w in result.used.items()},
            score=result.score,
            reason=got.answer.reason if got.error is None else "",
        )
        return Candidate(
            c.candidate_id,
            c.step,
            c.parent_id,
            c.description,
            c.key_events,
            c.entities_present,
            c.entity_changes,
            components,
            missing,
            result.score,
        )

    def kept(self, slot: int, kept: Sequence[Candidate], aside: Sequence[Candidate]) -> None:
        self.emit(
            pe.PortalBeamKept,
            slot=slot,
            kept=tuple(c.candidate_id for c in kept),
            set_aside=tuple(c.candidate_id for c in aside),
        )

    async def judge(self, path: Sequence[Candidate]) -> Answered:
        context = PathCoherenceContext(
            scenario=self.steps.brief,
            endpoint=self.spec.endpoint,
            states=tuple(self.brief(c) for c in path),
            links=tuple(self.states[c.candidate_id].causal_link for c in path[:-1]),
        )
        key = "portal/judge/" + "/".join(c.candidate_id for c in path[:-1])
        return await self._call(key, ActionType.TEMPORAL_REASONING, context, PathCoherence, 400)

    def judged(self, path: Sequence[Candidate], got: Answered) -> list[float | None] | None:
        self._records(got)
        if got.error is not None:
            self.emit(
                pe.PortalStepFailed,
                stage="coherence",
                slot=None,
                candidate_id=path[0].candidate_id,
                error=got.error,
            )
            return None
        assert isinstance(got.answer, PathCoherence)
        self._said[tuple(c.candidate_id for c in path)] = got.answer.reason
        wanted = len(path) - 1
        links = list(got.answer.links[:wanted])
        return links + [None] * (wanted - len(links))  # a link the judge left out is unjudged

    def decided(self, judged: Judged) -> None:
        self.emit(
            pe.PortalPathJudged,
            path_id=judged.path_id,
            candidate_ids=tuple(c.candidate_id for c in judged.path),
            links=judged.links,
            coherence=judged.coherence,
            action=judged.verdict.action,
            at_slot=judged.verdict.at_step,
            reason=judged.verdict.reason,
            backtracks=judged.backtracks,
            judge=self._said.get(tuple(c.candidate_id for c in judged.path), ""),
        )
