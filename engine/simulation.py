"""The Simulation: one scenario, one provider, one store, one run.

``Simulation.events()`` runs the scenario and yields every event as it happens; ``run()`` does
the same and returns the run's summary. Events are written to the store in one transaction per
timepoint (setup and the end of the run are their own transactions). Independent calls run
concurrently; the order of persisted events depends only on the scenario, the seed and the
provider's answers, never on which call happened to finish first.

Every call goes through one :class:`~engine.llm.gateway.Gateway`, which also consults the
cassette (answers recorded earlier are re-used for free), the model router (M18) and the budget.
A hard budget stops the run cleanly before a call could overspend: the run is marked ``stopped``
with a reason starting "budget", the calls already made stay recorded, and
:meth:`Simulation.resume` continues it later from its last committed timepoint, rebuilding the
world from the stored events.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

from pydantic import BaseModel

from . import __version__
from .agents import emotion, persona, prospection, relationships, steering
from .agents import scene as scene_agent
from .agents.cast import initial_entity, profile_from_draft, profile_from_spec, slug
from .fidelity.resolution import resolution_for
from .knowledge import validators
from .knowledge.exposure import KnowledgeLedger, initial_exposures, told_exposures
from .llm.budget import Budget, BudgetExceeded, BudgetNotice, BudgetTracker
from .llm.cassette import Cassette, Transcripts
from .llm.contexts import (
    CastMember,
    DialogTurnContext,
    EntityBrief,
    ExtractionContext,
    KnowledgeRef,
    MoodBrief,
    PopulationContext,
    PresenceContext,
    ProspectionContext,
    RelationBrief,
    ScenarioBrief,
    SceneContext,
    SpeakingStyle,
    TimepointEventContext,
    TurnBrief,
)
from .llm.gateway import CallRecord, Gateway, LLMCallFailed
from .llm.protocol import ActionType, Provider, SamplingParams
from .llm.registry import Router
from .model import events as ev
from .model.clock import time_of_day
from .model.common import MAIN_BRANCH, ExposureType, RunStatus, StepStatus, TemporalMode
from .model.dialog import DialogTurn
from .model.entity import Entity
from .model.inner import InnerLife
from .model.knowledge import ExposureEvent
from .model.relationship import Relationship, pair_key
from .model.responses import (
    DialogTurnResponse,
    ExtractionResponse,
    PopulationResponse,
    PresenceResponse,
    ProspectionResponse,
    SceneResponse,
    TimepointEventResponse,
)
from .model.run import RunCounts, RunSummary
from .model.scene import Atmosphere, Scene
from .model.tensors import CognitiveState, TTMTensor
from .model.timepoint import Timepoint
from .scenario.loader import LoadedScenario
from .scenario.schema import Scenario
from .store import Store, StoreError
from .temporal import forward
from .temporal.causal import CausalGraph

SUPPORTED_MODES = frozenset({TemporalMode.FORWARD})
PRIOR_BEATS = 8
PREVIOUS_TURNS = 6
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class _EventPlan:
    """What the call that writes a timepoint's event is made from."""

    index: int
    tp_id: str
    when: datetime
    beat: Any
    tension: float
    context: TimepointEventContext


class UnsupportedScenario(Exception):
    """The scenario loads but asks for something this version cannot run."""


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TimepointFailure(Exception):
    pass


class ResumeError(Exception):
    """A run that cannot be resumed, explained in one sentence."""


class RunControl:
    """Pause, resume, single-step and stop a running simulation between timepoints."""

    def __init__(self) -> None:
        self._go = asyncio.Event()
        self._go.set()
        self._single_step = False
        self.stop_reason: str | None = None

    @property
    def paused(self) -> bool:
        return not self._go.is_set()

    @property
    def holding(self) -> bool:
        """Paused, single-stepping or stopping: nothing should be spent ahead of time."""
        return self.paused or self._single_step or self.stop_reason is not None

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._single_step = False
        self._go.set()

    def step(self) -> None:
        """Run exactly one more timepoint, then pause."""
        self._single_step = True
        self._go.set()

    def stop(self, reason: str = "stopped by the user") -> None:
        self.stop_reason = reason
        self._go.set()

    async def gate(self) -> None:
        await self._go.wait()
        if self.stop_reason is not None:
            raise _Stop(self.stop_reason)
        if self._single_step:
            self._go.clear()


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def config_hash(scenario_data: dict[str, Any], seed: int, provider: str, model: str) -> str:
    payload = {
        "scenario": scenario_data,
        "seed": seed,
        "provider": provider,
        "model": model,
        "engine": __version__,
    }
    data = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


@dataclass
class _Tally:
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "entities",
                "timepoints",
                "dialog_turns",
                "exposure_events",
                "llm_calls",
                "failed_steps",
            ),
            0,
        )
    )
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    spent_tokens: int = 0
    spent_usd: float = 0.0
    cached_calls: int = 0

    def copy(self) -> _Tally:
        return _Tally(
            dict(self.counts),
            self.prompt_tokens,
            self.completion_tokens,
            self.cost_usd,
            self.spent_tokens,
            self.spent_usd,
            self.cached_calls,
        )

    def add(self, event: ev.EventBase) -> None:
        c = self.counts
        if isinstance(event, ev.EntityCreated):
            c["entities"] += 1
        elif isinstance(event, ev.TimepointCompleted):
            c["timepoints"] += 1
        elif isinstance(event, ev.DialogTurnFinished):
            c["dialog_turns"] += 1
        elif isinstance(event, ev.ExposureRecorded):
            c["exposure_events"] += 1
        elif isinstance(
            event, ev.DialogTurnFailed | ev.KnowledgeExtractionFailed | ev.MechanismFailed
        ):
            c["failed_steps"] += 1
        elif isinstance(event, ev.LLMCallFinished):
            c["llm_calls"] += 1
            self.prompt_tokens += event.prompt_tokens
            self.completion_tokens += event.completion_tokens
            self.cost_usd += event.cost_usd
            if event.cached:
                self.cached_calls += 1
            else:
                self.spent_tokens += event.prompt_tokens + event.completion_tokens
                self.spent_usd += event.cost_usd
        elif isinstance(event, ev.TimepointFailed):
            c["llm_calls"] += event.llm_calls
            c["failed_steps"] += 1
            self.prompt_tokens += event.prompt_tokens
            self.completion_tokens += event.completion_tokens
            self.cost_usd += event.cost_usd
            self.spent_tokens += event.prompt_tokens + event.completion_tokens
            self.spent_usd += event.cost_usd

    def run_counts(self) -> RunCounts:
        return RunCounts(**self.counts)


_END = object()


def scenario_budget(scenario: Scenario, warn_fraction: float = 0.8) -> Budget | None:
    """The budget a scenario file asks for, if any."""
    spec = scenario.budget
    if spec is None or (spec.tokens is None and spec.usd is None):
        return None
    return Budget(
        tokens=spec.tokens, usd=spec.usd, hard=spec.mode == "hard", warn_fraction=warn_fraction
    )


def _horizon(step: timedelta) -> str:
    """How far ahead a character looks: the time to the next timepoint, in words."""
    minutes = round(step.total_seconds() / 60)
    if minutes < 120:
        return f"the next {minutes} minutes"
    hours = round(minutes / 60)
    if hours < 48:
        return f"the next {hours} hours"
    return f"the next {round(hours / 24)} days"


def _call_number(call_id: str) -> int:
    head = call_id.split(".", 1)[0].lstrip("c")
    return int(head) if head.isdigit() else 0


class Simulation:
    def __init__(
        self,
        loaded: LoadedScenario,
        *,
        provider: Provider,
        store: Store,
        seed: int | None = None,
        run_id: str | None = None,
        control: RunControl | None = None,
        gateway: Gateway | None = None,
        budget: Budget | None = None,
        router: Router | None = None,
        cache: bool = True,
        replay: bool = False,
        retry: dict[str, Any] | None = None,
        transcripts: Transcripts | None = None,
    ) -> None:
        """``budget`` overrides the scenario's own (``Budget()`` means none at all); ``router``
        picks models per action (M18);
        ``cache`` answers repeated calls from the cassette; ``replay`` only reads it (a replay
        records nothing new) and plays back the recorded ``transcripts`` of its calls, failed
        attempts included; ``retry`` holds the gateway's retry settings."""
        scenario = loaded.scenario
        if scenario.mode not in SUPPORTED_MODES:
            raise UnsupportedScenario(
                f"{scenario.name} uses {scenario.mode.value} mode, which this version cannot run "
                f"yet (it runs {', '.join(sorted(m.value for m in SUPPORTED_MODES))} scenarios)"
            )
        self.loaded = loaded
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.provider = provider
        self.store = store
        self.run_id = run_id or new_run_id()
        self.control = control or RunControl()
        self.router = router
        if budget is None:
            self.budget = scenario_budget(scenario)
        else:  # an inactive Budget() means: no budget, not even the scenario's
            self.budget = budget if budget.active else None
        tracker = (
            BudgetTracker(self.budget, on_notice=self._on_budget_notice) if self.budget else None
        )
        cassette = (
            Cassette(store.cassette_get, record=not replay)
            if cache and getattr(provider, "cacheable", False)
            else None
        )
        if gateway is None:
            gateway = Gateway(
                provider,
                router=router,
                cassette=cassette,
                budget=tracker,
                transcripts=transcripts if replay else None,
                **(retry or {}),
            )
        else:
            gateway.router = gateway.router or router
            gateway.cassette = gateway.cassette or cassette
            gateway.budget = gateway.budget or tracker
        self.gateway = gateway
        self.scenario_data = scenario.model_dump(mode="json")
        self.config_hash = config_hash(self.scenario_data, self.seed, provider.name, provider.model)
        self.brief = ScenarioBrief(
            name=scenario.name,
            title=scenario.title,
            description=scenario.description,
            location=scenario.setting.location,
            atmosphere=scenario.setting.atmosphere,
            tags=tuple(scenario.tags),
        )
        # world state
        self.entities: dict[str, Entity] = {}
        self.ledger = KnowledgeLedger()
        self.relations: dict[tuple[str, str], Relationship] = {}
        self.notes: dict[tuple[str, str], str] = {}
        self.timepoints: list[Timepoint] = []
        self.graph = CausalGraph()
        self.prior_beats: list[str] = []
        self.inner: dict[str, InnerLife] = {}
        self._atmosphere: Atmosphere | None = None  # the room as the last dialog left it
        # event plumbing
        self._seq = 0
        self._pending: list[ev.EventBase] = []
        self._listeners: list[Callable[[ev.EventBase], None]] = []
        self._tally = _Tally()
        self._exposure_counter = 0
        self._sim_time: datetime | None = scenario.timeline.start
        self._started = 0.0
        self._summary: RunSummary | None = None
        self._emitted_calls: set[str] = set()
        self._resume_index: int | None = None
        self._extractions: set[asyncio.Future[Any]] = set()
        # The next timepoint's event call, started while the current timepoint finishes.
        self._prefetched: tuple[_EventPlan, asyncio.Future[Any]] | None = None

    # ------------------------------------------------------------------ plumbing
    def _emit(self, cls: type[ev.EventBase], **fields: Any) -> ev.EventBase:
        if cls.PERSIST:
            self._seq += 1
        fields.setdefault("sim_time", self._sim_time)
        event = cls(run_id=self.run_id, branch_id=MAIN_BRANCH, seq=self._seq, **fields)
        if event.PERSIST:
            self._pending.append(event)
        for listener in self._listeners:
            listener(event)
        return event

    def _emit_calls(self, records: list[CallRecord]) -> None:
        for r in records:
            if r.call_id in self._emitted_calls:
                continue
            self._emitted_calls.add(r.call_id)
            self._emit(
                ev.LLMCallFinished,
                call_id=r.call_id,
                action=r.action,
                provider=r.provider,
                model=r.model,
                status=r.status,
                prompt_tokens=r.prompt_tokens,
                completion_tokens=r.completion_tokens,
                cost_usd=r.cost_usd,
                latency_ms=round(r.latency_ms, 3),
                request_hash=r.request_hash,
                timepoint_id=r.timepoint_id,
                error=r.error,
                cached=r.cached,
            )

    def _on_budget_notice(self, notice: BudgetNotice) -> None:
        self._emit(
            ev.BudgetWarning,
            dimension=notice.dimension,
            spent=round(notice.spent, 6),
            limit=notice.limit,
            exceeded=notice.exceeded,
            hard=notice.hard,
            message=notice.text(),
        )

    async def _commit(self) -> None:
        batch, self._pending = self._pending, []
        cassette = self.gateway.cassette
        await self.store.append(batch, cassette.drain() if cassette is not None else ())
        for event in batch:
            self._tally.add(event)

    def _abandon(self) -> None:
        """Drop the uncommitted part of a timepoint but keep what was spent on it: the calls
        already made (including those still unreported) and budget warnings stay in the log."""
        self._pending = [
            e for e in self._pending if isinstance(e, ev.LLMCallFinished | ev.BudgetWarning)
        ]
        self._emit_calls([r for r in self.gateway.records if r.call_id not in self._emitted_calls])

    def _in_background(self, call: Any) -> asyncio.Future[Any]:
        """Start a call that runs alongside others; a failed or stopped timepoint cancels it."""
        task = asyncio.ensure_future(call)
        self._extractions.add(task)
        return task

    async def _cancel_background(self) -> None:
        """Cancel the calls running in the background (extractions, the prefetched event)."""
        tasks = list(self._extractions)
        if self._prefetched is not None:
            tasks.append(self._prefetched[1])
            self._prefetched = None
        for task in tasks:
            if not task.done():
                task.cancel()
        if tasks:  # also collects the exceptions of those that ended on their own
            await asyncio.gather(*tasks, return_exceptions=True)
        self._extractions.clear()

    def _next_exposure_id(self) -> str:
        self._exposure_counter += 1
        return f"x{self._exposure_counter:06d}"

    def _rng(self, *parts: object) -> Random:
        return Random(":".join(str(p) for p in (self.seed, *parts)))

    # ------------------------------------------------------------------ public API
    async def events(self) -> AsyncIterator[ev.EventBase]:
        """Run the simulation, yielding every event (streamed chunks included) as it happens."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        self._listeners.append(queue.put_nowait)
        driver = asyncio.create_task(self._drive())
        driver.add_done_callback(lambda _: queue.put_nowait(_END))
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                yield item
            await driver
        finally:
            if not driver.done():
                self.control.stop("the viewer closed")
                driver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await driver
            self._listeners.remove(queue.put_nowait)

    async def run(self, on_event: Callable[[ev.EventBase], None] | None = None) -> RunSummary:
        async for event in self.events():
            if on_event is not None:
                on_event(event)
        assert self._summary is not None
        return self._summary

    @property
    def summary(self) -> RunSummary | None:
        return self._summary

    # ------------------------------------------------------------------ resume
    @classmethod
    async def resume(
        cls, store: Store, run_id: str, *, provider: Provider, **options: Any
    ) -> Simulation:
        """A simulation that continues a stopped, failed or interrupted run from its last
        committed timepoint, with the world rebuilt from the stored events. ``options`` are
        those of the constructor (budget, router, control, cache, retry)."""
        summary = await store.get_run(run_id)
        if summary.status is RunStatus.COMPLETED:
            raise ResumeError(f"the run {summary.run_id} is complete; there is nothing to resume")
        events = await store.events(summary.run_id)
        start = events[0] if events else None
        if not isinstance(start, ev.RunStarted):
            raise ResumeError(f"the run {summary.run_id} has no recorded start; it cannot resume")
        try:
            scenario = Scenario.model_validate(start.scenario_data)
        except ValueError as exc:
            raise ResumeError(
                f"the scenario recorded with run {summary.run_id} no longer loads: {exc}"
            ) from exc
        loaded = LoadedScenario(scenario=scenario, source=start.source, warnings=start.warnings)
        sim = cls(
            loaded,
            provider=provider,
            store=store,
            seed=start.seed,
            run_id=summary.run_id,
            **options,
        )
        sim._restore(events)
        return sim

    def _restore(self, events: list[ev.EventBase]) -> None:
        """Rebuild the world state from a run's stored events (what the live run held in memory
        when it committed its last timepoint)."""
        for spec in self.scenario.relationships:
            if spec.note:
                self.notes[pair_key(*spec.between)] = spec.note
        dialog_turns: dict[str, list[DialogTurn]] = {}
        completed = 0
        calls = 0
        for event in events:
            self._tally.add(event)
            self._seq = max(self._seq, event.seq)
            if isinstance(event, ev.EntityCreated):
                p = event.profile
                self.entities[p.entity_id] = Entity(
                    entity_id=p.entity_id,
                    profile=p,
                    tensor=event.tensor.to_tensor(),
                    cognitive=event.cognitive,
                    resolution=event.resolution,
                )
            elif isinstance(event, ev.EntityElevated):
                entity = self.entities[event.entity_id]
                self.entities[event.entity_id] = entity.model_copy(
                    update={"resolution": event.resolution}
                )
            elif isinstance(event, ev.TensorUpdated):
                entity = self.entities[event.entity_id]
                self.entities[event.entity_id] = entity.model_copy(
                    update={
                        "tensor": event.tensor.to_tensor(),
                        "cognitive": event.cognitive,
                        "resolution": event.resolution,
                    }
                )
            elif isinstance(event, ev.ExposureRecorded):
                self.ledger.record(event.exposure)
                number = event.exposure.exposure_id.lstrip("x")
                if number.isdigit():
                    self._exposure_counter = max(self._exposure_counter, int(number))
            elif isinstance(event, ev.AtmosphereShifted):
                self._atmosphere = event.atmosphere
            elif isinstance(event, ev.InnerLifeUpdated):
                self.inner[event.entity_id] = event.inner
            elif isinstance(event, ev.RelationshipUpdated):
                rel = event.relationship
                self.relations[(rel.a, rel.b)] = rel
            elif isinstance(event, ev.TimepointCreated):
                self.timepoints.append(event.timepoint)
                self.graph.add(event.timepoint)
                self._sim_time = event.timepoint.timestamp
            elif isinstance(event, ev.TimepointCompleted):
                completed += 1
            elif isinstance(event, ev.DialogTurnFinished):
                dialog_turns.setdefault(event.turn.dialog_id, []).append(event.turn)
            elif isinstance(event, ev.DialogFinished):
                for turn in dialog_turns.pop(event.dialog_id, []):
                    self.prior_beats.append(
                        f"{self.entities[turn.speaker].name}: {turn.content.split('. ')[0][:120]}"
                    )
                self.prior_beats = self.prior_beats[-PRIOR_BEATS:]
            elif isinstance(event, ev.LLMCallFinished):
                self._emitted_calls.add(event.call_id)
                calls = max(calls, _call_number(event.call_id))
        self.gateway.resume_numbering(calls)
        if self.gateway.budget is not None:
            # A resumed run's budget counts what the whole run has spent.
            self.gateway.budget.spent_tokens = self._tally.spent_tokens
            self.gateway.budget.spent_usd = self._tally.spent_usd
        if completed != len(self.timepoints):
            raise ResumeError(
                f"the run {self.run_id} has {len(self.timepoints)} timepoints but "
                f"{completed} completed; its log is inconsistent"
            )
        self._resume_index = completed

    # ------------------------------------------------------------------ the run
    async def _drive(self) -> None:
        self._started = time.perf_counter()
        try:
            first = await self._open()
        except StoreError:
            raise
        status, reason = RunStatus.COMPLETED, None
        try:
            if not self.entities:
                await self._setup()
                await self._commit()
            for index in range(first, self.scenario.timeline.count):
                await self.control.gate()
                mark = self._seq
                try:
                    await self._timepoint(index)
                except (LLMCallFailed, _TimepointFailure) as exc:
                    await self._cancel_background()
                    self._fail_timepoint(index, mark, exc)
                    status, reason = RunStatus.FAILED, f"timepoint {index + 1}: {exc}"
                    break
                await self._commit()
        except _Stop as stop:
            await self._cancel_background()
            self._pending.clear()
            status, reason = RunStatus.STOPPED, stop.reason
        except BudgetExceeded as exc:
            await self._cancel_background()
            self._abandon()
            status, reason = RunStatus.STOPPED, str(exc)
        except LLMCallFailed as exc:  # during setup
            self._emit_calls(exc.records)
            status, reason = RunStatus.FAILED, f"setup: {exc}"
        except asyncio.CancelledError:
            await self._cancel_background()
            self._abandon()
            await self._finish(RunStatus.STOPPED, self.control.stop_reason or "cancelled")
            raise
        except StoreError:
            raise
        except Exception as exc:
            await self._cancel_background()
            self._pending.clear()
            await self._finish(RunStatus.FAILED, f"internal error: {exc.__class__.__name__}: {exc}")
            raise
        await self._finish(status, reason)

    async def _open(self) -> int:
        """Record the start (or the resumption) of the run; return the first timepoint to run."""
        if self._resume_index is not None:
            self._emit(
                ev.RunResumed,
                from_index=self._resume_index,
                provider=self.provider.name,
                model=self.provider.model,
                budget=self.budget.describe() if self.budget else None,
                resumed_at=datetime.now(UTC),
            )
            await self._commit()
            return self._resume_index
        started_at = datetime.now(UTC)
        self._emit(
            ev.RunStarted,
            scenario=self.scenario.name,
            title=self.scenario.title,
            mode=self.scenario.mode,
            seed=self.seed,
            config_hash=self.config_hash,
            provider=self.provider.name,
            model=self.provider.model,
            source=self.loaded.source,
            scenario_data=self.scenario_data,
            planned_timepoints=self.scenario.timeline.count,
            warnings=self.loaded.warnings,
            started_at=started_at,
            budget=self.budget.describe() if self.budget else None,
            routing=self.router.describe() if self.router else {},
        )
        await self._commit()
        return 0

    def _fail_timepoint(self, index: int, mark: int, exc: Exception) -> None:
        discarded = self._pending
        self._pending = []
        calls = [e for e in discarded if isinstance(e, ev.LLMCallFinished)]
        records = exc.records if isinstance(exc, LLMCallFailed) else []
        tp_id = self._timepoint_id(index)
        self._emit(
            ev.TimepointFailed,
            index=index,
            timepoint_id=tp_id if any(t.timepoint_id == tp_id for t in self.timepoints) else None,
            error=str(exc),
            discarded_from_seq=mark + 1,
            llm_calls=len(calls) + len(records),
            prompt_tokens=sum(c.prompt_tokens for c in calls)
            + sum(r.prompt_tokens for r in records),
            completion_tokens=sum(c.completion_tokens for c in calls)
            + sum(r.completion_tokens for r in records),
            cost_usd=sum(c.cost_usd for c in calls) + sum(r.cost_usd for r in records),
        )

    async def _finish(self, status: RunStatus, reason: str | None) -> None:
        wall = time.perf_counter() - self._started
        # the tally of what is committed, plus the final event itself
        pending_tally = self._tally.copy()
        for event in self._pending:
            pending_tally.add(event)
        finished_at = datetime.now(UTC)
        self._emit(
            ev.RunFinished,
            status=status,
            reason=reason,
            counts=pending_tally.run_counts(),
            prompt_tokens=pending_tally.prompt_tokens,
            completion_tokens=pending_tally.completion_tokens,
            cost_usd=round(pending_tally.cost_usd, 6),
            wall_seconds=round(wall, 4),
            finished_at=finished_at,
            spent_tokens=pending_tally.spent_tokens,
            spent_usd=round(pending_tally.spent_usd, 6),
            cached_calls=pending_tally.cached_calls,
        )
        await self._commit()
        self._summary = await self.store.get_run(self.run_id)

    # ------------------------------------------------------------------ setup
    async def _setup(self) -> None:
        s = self.scenario
        start = s.timeline.start
        profiles = [profile_from_spec(spec) for spec in s.entities]
        states = {spec.id: spec.state for spec in s.entities}
        resolutions = {spec.id: spec.resolution or s.default_resolution for spec in s.entities}
        missing = s.total_entities - len(profiles)
        if missing > 0:
            context = PopulationContext(
                scenario=self.brief,
                count=missing,
                existing=tuple(
                    EntityBrief(
                        entity_id=p.entity_id, name=p.name, role=p.role, entity_type=p.entity_type
                    )
                    for p in profiles
                ),
                types=tuple(s.generated_types),
            )
            answer, records = await self.gateway.call(
                ActionType.ENTITY_POPULATION,
                context,
                PopulationResponse,
                sampling=SamplingParams(temperature=0.9, max_tokens=2400, seed=self.seed),
            )
            self._emit_calls(records)
            taken = {p.entity_id for p in profiles}
            assert isinstance(answer, PopulationResponse)
            for draft in answer.entities[:missing]:
                entity_id = slug(draft.name, taken)
                taken.add(entity_id)
                profiles.append(profile_from_draft(draft, entity_id))
                resolutions[entity_id] = s.default_resolution
        for profile in profiles:
            entity = initial_entity(
                profile, states.get(profile.entity_id), resolutions[profile.entity_id]
            )
            self.entities[entity.entity_id] = entity
            self._emit(
                ev.EntityCreated,
                profile=profile,
                resolution=entity.resolution,
                tensor=ev.TensorSnapshot.of(entity.tensor),
                cognitive=entity.cognitive,
            )
        for entity in self.entities.values():
            for exposure in initial_exposures(
                entity.entity_id, entity.profile.initial_knowledge, start, self._next_exposure_id
            ):
                if self.ledger.record(exposure):
                    self._emit(ev.ExposureRecorded, exposure=exposure)
        for spec in s.relationships:
            key = pair_key(*spec.between)
            rel = Relationship(a=key[0], b=key[1], trust=spec.trust, alignment=spec.alignment)
            self.relations[key] = rel
            if spec.note:
                self.notes[key] = spec.note
            self._emit(ev.RelationshipUpdated, timepoint_id="", relationship=rel)

    # ------------------------------------------------------------------ briefs
    def _brief(self, entity: Entity) -> EntityBrief:
        p = entity.profile
        return EntityBrief(
            entity_id=p.entity_id, name=p.name, role=p.role, entity_type=p.entity_type
        )

    def _mood(self, entity: Entity) -> MoodBrief:
        c, t = entity.cognitive, entity.tensor
        return MoodBrief(
            valence=c.valence,
            arousal=c.arousal,
            energy=c.energy,
            fatigue=t.bio("fatigue"),
            pain=t.bio("pain"),
            label=emotion.mood_label(c, t.bio("fatigue"), t.bio("pain")),
        )

    def _private_knowledge(
        self, entity_id: str, limit: int = 3, *, before_dialog: str | None = None
    ) -> tuple[str, ...]:
        """What ``entity_id`` was given (initially or by a beat) that nobody else holds; with
        ``before_dialog``, what others learned in that dialog does not count yet."""
        others = [e for e in self.entities if e != entity_id]
        own = [
            x
            for x in self.ledger.exposures(entity_id)
            if x.kind in (ExposureType.INITIAL, ExposureType.LEARNED)
        ]

        def held_by_another(information: str) -> bool:
            for other in others:
                held = self.ledger.exposure(other, information)
                if held is not None and (before_dialog is None or held.dialog_id != before_dialog):
                    return True
            return False

        private = [x.information for x in own if not held_by_another(x.information)]
        return tuple(private[:limit])

    def _relation(self, a: str, b: str) -> Relationship:
        key = pair_key(a, b)
        return self.relations.get(key) or Relationship(a=key[0], b=key[1])

    def _timepoint_id(self, index: int) -> str:
        width = max(2, len(str(self.scenario.timeline.count)))
        return f"tp{index + 1:0{width}d}"

    # ------------------------------------------------------------------ one timepoint
    def _plan_event(self, index: int, moods: dict[str, MoodBrief] | None = None) -> _EventPlan:
        """The context of the call that writes timepoint ``index``'s event.

        The cast's secrets are taken as they stood before the previous timepoint's dialog, and
        ``moods`` (when given) are the moods that dialog leaves: the call can then start while
        that dialog's last turns are still being digested, and its context is the same whether
        it starts early or not (after a pause or a resume).
        """
        s = self.scenario
        count = s.timeline.count
        beat = s.timeline.beats[index] if index < len(s.timeline.beats) else None
        previous = self.timepoints[-1] if self.timepoints else None
        if beat is not None and beat.at is not None:
            when = beat.at
        elif previous is not None:
            when = previous.timestamp + s.timeline.step_delta
        else:
            when = s.timeline.start
        if previous is not None and when <= previous.timestamp:
            when = previous.timestamp + s.timeline.step_delta
        tension = forward.tension(index, count, s.tension)
        last_dialog = f"{previous.timepoint_id}-d1" if previous is not None else None
        context = TimepointEventContext(
            scenario=self.brief,
            index=index,
            count=count,
            phase=forward.phase(index, count),
            timestamp=when,
            time_of_day=time_of_day(when.hour),
            beat_title=beat.title if beat else None,
            beat_hint=beat.hint if beat else None,
            previous_events=tuple(t.event_description for t in self.timepoints[-3:]),
            cast=tuple(
                CastMember(
                    entity=self._brief(e),
                    mood=moods[e.entity_id] if moods else self._mood(e),
                    knowledge=self._private_knowledge(e.entity_id, before_dialog=last_dialog),
                )
                for e in self.entities.values()
            ),
            tension=tension,
        )
        return _EventPlan(
            index=index,
            tp_id=self._timepoint_id(index),
            when=when,
            beat=beat,
            tension=tension,
            context=context,
        )

    async def _event_call(self, plan: _EventPlan) -> tuple[BaseModel, list[CallRecord]]:
        return await self.gateway.call(
            ActionType.TIMEPOINT_EVENT,
            plan.context,
            TimepointEventResponse,
            sampling=SamplingParams(temperature=0.8, max_tokens=600, seed=self.seed),
            timepoint_id=plan.tp_id,
        )

    def _after_dialog(self, present: list[str], turns: list[DialogTurn]) -> dict[str, Entity]:
        """Every entity as a dialog leaves its mood (the knowledge dimension aside, which waits
        for the extraction): what the next event and the inner-life calls are written from."""
        out = {}
        for entity_id, entity in self.entities.items():
            after = self._state_after(entity, present, turns, new_knowledge=0)
            if after is not None:
                entity = entity.model_copy(update={"tensor": after[0], "cognitive": after[1]})
            out[entity_id] = entity
        return out

    def _prefetch_event(self, tp: Timepoint, after: dict[str, Entity]) -> None:
        """Start the next timepoint's event call as soon as this timepoint's dialog has been
        spoken, unless the run is paused or stepping (then nothing is spent ahead of time)."""
        index = tp.index + 1
        if index >= self.scenario.timeline.count or self.control.holding:
            return
        moods = {entity_id: self._mood(entity) for entity_id, entity in after.items()}
        plan = self._plan_event(index, moods)
        self._prefetched = (plan, asyncio.ensure_future(self._event_call(plan)))

    async def _timepoint(self, index: int) -> None:
        s = self.scenario
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None:  # started by the previous timepoint, for this one
            plan = prefetched[0]
            answer, records = await prefetched[1]
        else:
            plan = self._plan_event(index)
            answer, records = await self._event_call(plan)
        beat, when, tp_id, tension = plan.beat, plan.when, plan.tp_id, plan.tension
        self._sim_time = when
        previous = self.timepoints[-1] if self.timepoints else None
        issues: list[str] = []
        self._emit_calls(records)
        assert isinstance(answer, TimepointEventResponse)
        present = await self._presence(tp_id, answer.event_description, beat, issues)
        importance = beat.importance if beat and beat.importance is not None else answer.importance
        timepoint = Timepoint(
            timepoint_id=tp_id,
            index=index,
            timestamp=when,
            causal_parent=previous.timepoint_id if previous else None,
            title=beat.title if beat and beat.title else answer.title,
            event_description=answer.event_description,
            entities_present=tuple(present),
            importance=importance,
            tension=max(tension, answer.tension) if beat else answer.tension,
        )
        self.graph.add(timepoint)
        self.timepoints.append(timepoint)
        self._emit(
            ev.TimepointCreated,
            timepoint=timepoint,
            status=StepStatus.DEGRADED if issues else StepStatus.OK,
            issues=tuple(issues),
        )

        # What the people present see, and what the beat reveals.
        for entity_id in present:
            self._record_exposure(
                ExposureEvent(
                    exposure_id=self._next_exposure_id(),
                    entity_id=entity_id,
                    kind=ExposureType.WITNESSED,
                    information=answer.event_description,
                    source=None,
                    timestamp=when,
                    confidence=1.0,
                    timepoint_id=tp_id,
                )
            )
        for reveal in beat.reveals if beat else ():
            self._record_exposure(
                ExposureEvent(
                    exposure_id=self._next_exposure_id(),
                    entity_id=reveal.entity,
                    kind=ExposureType(reveal.kind),
                    information=reveal.information,
                    source=reveal.source,
                    timestamp=when,
                    confidence=reveal.confidence,
                    timepoint_id=tp_id,
                )
            )

        present_entities = [self.entities[e] for e in present]
        speakers = steering.choose_speakers(
            present_entities, answer.event_description, s.animism_level, s.dialog.max_speakers
        )
        speaker_ids = {e.entity_id for e in speakers}
        for entity in present_entities:
            level, reason = resolution_for(
                entity.resolution,
                present=True,
                speaks=entity.entity_id in speaker_ids and len(speakers) > 1,
                importance=importance,
            )
            if reason is not None:
                self._emit(
                    ev.EntityElevated,
                    entity_id=entity.entity_id,
                    timepoint_id=tp_id,
                    previous=entity.resolution,
                    resolution=level,
                    reason=reason,
                )
                self.entities[entity.entity_id] = entity.model_copy(update={"resolution": level})

        turns: list[DialogTurn] = []
        new_knowledge: dict[str, int] = {}
        if len(speakers) >= 2:
            turns = await self._dialog(
                timepoint,
                [self.entities[e.entity_id] for e in speakers],
                present,
                issues,
                new_knowledge,
            )
        else:
            eligible = len(speakers)
            self._emit(
                ev.DialogSkipped,
                timepoint_id=tp_id,
                reason=f"{eligible} of {len(present)} present entities can take part in "
                "dialog; a dialog needs two",
            )

        self._update_state(timepoint, present, turns, new_knowledge)
        self._emit(
            ev.TimepointCompleted,
            timepoint_id=tp_id,
            status=StepStatus.DEGRADED if issues else StepStatus.OK,
            issues=tuple(issues),
        )

    def _record_exposure(self, exposure: ExposureEvent) -> bool:
        if self.ledger.record(exposure):
            self._emit(ev.ExposureRecorded, exposure=exposure)
            return True
        return False

    async def _presence(
        self, tp_id: str, description: str, beat: Any, issues: list[str]
    ) -> list[str]:
        ids = list(self.entities)
        if beat is not None and beat.present is not None:
            return [e for e in ids if e in set(beat.present)]
        if len(ids) <= 2:
            return ids
        max_present = max(2, min(len(ids), self.scenario.dialog.max_speakers + 2))
        context = PresenceContext(
            scenario=self.brief,
            timepoint_id=tp_id,
            event_description=description,
            candidates=tuple(self._brief(e) for e in self.entities.values()),
            min_present=2,
            max_present=max_present,
        )
        answer, records = await self.gateway.call(
            ActionType.ENTITY_PRESENCE,
            context,
            PresenceResponse,
            sampling=SamplingParams(temperature=0.2, max_tokens=300, seed=self.seed),
            timepoint_id=tp_id,
        )
        self._emit_calls(records)
        assert isinstance(answer, PresenceResponse)
        unknown = [e for e in answer.entities_present if e not in self.entities]
        if unknown:
            issues.append(f"presence named unknown entities, left out: {', '.join(unknown)}")
        chosen = set(answer.entities_present)
        present = [e for e in ids if e in chosen]
        if not present:
            raise _TimepointFailure("the presence answer named no known entity")
        return present

    # ------------------------------------------------------------------ dialog
    def _style(self, entity: Entity) -> SpeakingStyle:
        return persona.speaking_style(entity.profile, entity.tensor)

    def _knowledge_refs(self, entity: Entity, tp_id: str) -> tuple[KnowledgeRef, ...]:
        out = []
        for x in self.ledger.recall(entity.entity_id, entity.resolution, exclude_timepoint=tp_id):
            source = self.entities[x.source].name if x.source in self.entities else x.source
            out.append(
                KnowledgeRef(
                    information=x.information,
                    kind=x.kind.value,
                    category=x.category,
                    source=source,
                    timepoint_id=x.timepoint_id,
                    confidence=x.confidence,
                )
            )
        return tuple(out)

    def _turn_brief(self, turn: DialogTurn) -> TurnBrief:
        return TurnBrief(
            turn_index=turn.turn_index,
            speaker_id=turn.speaker,
            speaker_name=self.entities[turn.speaker].name,
            content=turn.content,
            knowledge_references=turn.knowledge_references,
            stance=turn.stance,
            emotional_tone=turn.emotional_tone,
            addressed_to=turn.addressed_to,
        )

    async def _dialog(
        self,
        tp: Timepoint,
        speakers: list[Entity],
        present: list[str],
        issues: list[str],
        new_knowledge: dict[str, int],
    ) -> list[DialogTurn]:
        s = self.scenario
        dialog_id = f"{tp.timepoint_id}-d1"
        planned = s.dialog.turns
        self._emit(
            ev.DialogStarted,
            dialog_id=dialog_id,
            timepoint_id=tp.timepoint_id,
            participants=tuple(e.entity_id for e in speakers),
            planned_turns=planned,
        )
        rng = self._rng("dialog", tp.timepoint_id)
        styles = {e.entity_id: self._style(e) for e in speakers}
        turns: list[DialogTurn] = []
        spoken: dict[str, int] = {}
        failed = 0
        extraction_tasks: list[tuple[DialogTurn, asyncio.Task[Any]]] = []
        next_index = 0
        last_speaker: str | None = None
        scene_call = self._start_scene(tp, present)
        scene: Scene | None = None
        while True:
            plans = steering.plan_round(
                speakers, spoken, last_speaker, next_index, planned, s.dialog.parallel, rng
            )
            if not plans:
                break
            contexts = []
            for plan in plans:
                entity = self.entities[plan.speaker]
                params = persona.persona_params(
                    entity.cognitive, entity.tensor, styles[plan.speaker], plan.turn_index, planned
                )
                contexts.append(
                    self._turn_context(
                        tp, entity, styles[plan.speaker], plan, present, turns, spoken, params
                    ).model_copy(update={"atmosphere": scene.atmosphere if scene else None})
                )
                self._emit(
                    ev.DialogTurnStarted,
                    dialog_id=dialog_id,
                    turn_index=plan.turn_index,
                    speaker=plan.speaker,
                    addressed_to=plan.addressed_to,
                    persona=params,
                )
            results = await asyncio.gather(
                *(
                    self._speak(dialog_id, plan.turn_index, ctx, tp.timepoint_id)
                    for plan, ctx in zip(plans, contexts, strict=True)
                ),
                return_exceptions=True,
            )
            for plan, ctx, result in zip(plans, contexts, results, strict=True):
                next_index = max(next_index, plan.turn_index + 1)
                if isinstance(result, LLMCallFailed):
                    self._emit_calls(result.records)
                    self._emit(
                        ev.DialogTurnFailed,
                        dialog_id=dialog_id,
                        turn_index=plan.turn_index,
                        speaker=plan.speaker,
                        error=str(result),
                    )
                    failed += 1
                    continue
                if isinstance(result, BaseException):
                    raise result
                answer, records = result
                self._emit_calls(records)
                turn = self._accept_turn(
                    dialog_id, tp, plan.turn_index, plan.speaker, answer, ctx, present
                )
                turns.append(turn)
                spoken[plan.speaker] = spoken.get(plan.speaker, 0) + 1
                last_speaker = plan.speaker
                task = self._in_background(self._extract(tp, turn, present))
                extraction_tasks.append((turn, task))
            if scene_call is not None:  # read alongside the opening turn, known by the rest
                scene, scene_call = await self._finish_scene(tp, scene_call, issues), None
        after = self._after_dialog(present, turns)
        self._prefetch_event(tp, after)
        inner_calls = self._start_inner_life(tp, dialog_id, turns, present, after)
        for turn, task in extraction_tasks:
            try:
                answer, records = await task
            except LLMCallFailed as exc:
                self._emit_calls(exc.records)
                self._emit(
                    ev.KnowledgeExtractionFailed,
                    dialog_id=dialog_id,
                    turn_index=turn.turn_index,
                    error=str(exc),
                )
                issues.append(f"knowledge extraction failed for turn {turn.turn_index + 1}")
                continue
            self._emit_calls(records)
            self._apply_extraction(tp, turn, answer, present, new_knowledge)
        if failed:
            issues.append(f"{failed} of {planned} dialog turns failed")
        status = (
            StepStatus.OK
            if not failed
            else (StepStatus.FAILED if not turns else StepStatus.DEGRADED)
        )
        self._emit(
            ev.DialogFinished,
            dialog_id=dialog_id,
            timepoint_id=tp.timepoint_id,
            turn_count=len(turns),
            failed_turns=failed,
            status=status,
        )
        if scene is not None:
            self._atmosphere = scene_agent.shift_after_dialog(scene.atmosphere, turns)
            self._emit(
                ev.AtmosphereShifted, timepoint_id=tp.timepoint_id, atmosphere=self._atmosphere
            )
        await self._finish_inner_life(tp, dialog_id, turns, inner_calls, issues)
        self._extractions.clear()
        for turn in turns:
            self.prior_beats.append(
                f"{self.entities[turn.speaker].name}: {turn.content.split('. ')[0][:120]}"
            )
        self.prior_beats = self.prior_beats[-PRIOR_BEATS:]
        return turns

    # ------------------------------------------------------------------ the scene (M10)
    def _start_scene(self, tp: Timepoint, present: list[str]) -> asyncio.Future[Any] | None:
        if not self.scenario.mechanisms.atmosphere:
            return None
        context = SceneContext(
            scenario=self.brief,
            timepoint_id=tp.timepoint_id,
            timepoint_title=tp.title,
            event_description=tp.event_description,
            time_of_day=time_of_day(tp.timestamp.hour),
            tension=tp.tension,
            present=tuple(
                CastMember(entity=self._brief(e), mood=self._mood(e))
                for e in (self.entities[x] for x in present)
            ),
            previous=self._atmosphere,
        )
        return self._in_background(
            self.gateway.call(
                ActionType.SCENE_GENERATION,
                context,
                SceneResponse,
                sampling=SamplingParams(temperature=0.6, max_tokens=500, seed=self.seed),
                timepoint_id=tp.timepoint_id,
            )
        )

    async def _finish_scene(
        self, tp: Timepoint, call: asyncio.Future[Any], issues: list[str]
    ) -> Scene | None:
        try:
            answer, records = await call
        except LLMCallFailed as exc:
            self._emit_calls(exc.records)
            self._emit(
                ev.MechanismFailed, mechanism="scene", timepoint_id=tp.timepoint_id, error=str(exc)
            )
            issues.append("the scene's atmosphere was not read")
            return None
        self._emit_calls(records)
        assert isinstance(answer, SceneResponse)
        scene = Scene(
            timepoint_id=tp.timepoint_id,
            environment=answer.environment,
            atmosphere=scene_agent.carry_over(self._atmosphere, answer.atmosphere),
        )
        self._emit(ev.SceneRead, timepoint_id=tp.timepoint_id, scene=scene)
        return scene

    # ------------------------------------------------------------------ inner life (M15)
    def _start_inner_life(
        self,
        tp: Timepoint,
        dialog_id: str,
        turns: list[DialogTurn],
        present: list[str],
        after: dict[str, Entity],
    ) -> list[tuple[str, ProspectionContext, asyncio.Future[Any]]]:
        """One call per person present: how each remembers the dialog and what it expects next.
        They run alongside the knowledge extraction and the next timepoint's event."""
        if not self.scenario.mechanisms.inner_life or not turns:
            return []
        horizon = _horizon(self.scenario.timeline.step_delta)
        briefs = tuple(self._turn_brief(t) for t in turns)
        calls = []
        for entity_id in present:
            entity = after[entity_id]
            if steering.speaking_mode(entity.profile.entity_type) != "speech":
                continue
            own_refs = [r for t in turns if t.speaker == entity_id for r in t.knowledge_references]
            private = self._private_knowledge(entity_id, limit=12, before_dialog=dialog_id)
            previous = self.inner.get(entity_id)
            context = ProspectionContext(
                scenario=self.brief,
                timepoint_id=tp.timepoint_id,
                timepoint_title=tp.title,
                event_description=tp.event_description,
                entity=self._brief(entity),
                personality=entity.profile.personality,
                voice=entity.profile.voice,
                mood=self._mood(entity),
                spoke=any(t.speaker == entity_id for t in turns),
                turns=briefs,
                withheld=prospection.withheld(private, own_refs),
                concerns=previous.concerns if previous else (),
                expectations=previous.expectations if previous else (),
                horizon=horizon,
            )
            task = self._in_background(
                self.gateway.call(
                    ActionType.PROSPECTION,
                    context,
                    ProspectionResponse,
                    sampling=SamplingParams(temperature=0.7, max_tokens=700, seed=self.seed),
                    timepoint_id=tp.timepoint_id,
                )
            )
            calls.append((entity_id, context, task))
        return calls

    async def _finish_inner_life(
        self,
        tp: Timepoint,
        dialog_id: str,
        turns: list[DialogTurn],
        calls: list[tuple[str, ProspectionContext, asyncio.Future[Any]]],
        issues: list[str],
    ) -> None:
        texts = [t.content for t in turns]
        for entity_id, context, task in calls:
            name = self.entities[entity_id].name
            try:
                answer, records = await task
            except LLMCallFailed as exc:
                self._emit_calls(exc.records)
                self._emit(
                    ev.MechanismFailed,
                    mechanism="inner_life",
                    timepoint_id=tp.timepoint_id,
                    entity_id=entity_id,
                    error=str(exc),
                )
                issues.append(f"the inner life of {name} was not updated")
                continue
            self._emit_calls(records)
            assert isinstance(answer, ProspectionResponse)
            inner = prospection.inner_life(
                entity_id,
                tp.timepoint_id,
                answer,
                self.inner.get(entity_id),
                context.withheld,
                texts,
            )
            self.inner[entity_id] = inner
            self._emit(
                ev.InnerLifeUpdated, entity_id=entity_id, timepoint_id=tp.timepoint_id, inner=inner
            )
            for information, confidence in prospection.anticipations(inner.expectations):
                self._record_exposure(
                    ExposureEvent(
                        exposure_id=self._next_exposure_id(),
                        entity_id=entity_id,
                        kind=ExposureType.ANTICIPATED,
                        information=information,
                        source=None,
                        timestamp=tp.timestamp,
                        confidence=confidence,
                        timepoint_id=tp.timepoint_id,
                        dialog_id=dialog_id,
                        category="expectation",
                    )
                )

    def _turn_context(
        self,
        tp: Timepoint,
        entity: Entity,
        style: SpeakingStyle,
        plan: steering.TurnPlan,
        present: list[str],
        turns: list[DialogTurn],
        spoken: dict[str, int],
        params: Any,
    ) -> DialogTurnContext:
        inner = self.inner.get(entity.entity_id)
        listeners = []
        for other in present:
            if other == entity.entity_id:
                continue
            rel = self._relation(entity.entity_id, other)
            listeners.append(
                RelationBrief(
                    entity=self._brief(self.entities[other]),
                    trust=rel.trust,
                    alignment=rel.alignment,
                    note=self.notes.get(pair_key(entity.entity_id, other), ""),
                )
            )
        return DialogTurnContext(
            scenario=self.brief,
            timepoint_id=tp.timepoint_id,
            timepoint_title=tp.title,
            event_description=tp.event_description,
            time_of_day=time_of_day(tp.timestamp.hour),
            tension=tp.tension,
            speaker=self._brief(entity),
            speaker_description=entity.profile.description,
            personality=entity.profile.personality,
            voice=entity.profile.voice,
            style=style,
            mood=self._mood(entity),
            speaking_mode=steering.speaking_mode(entity.profile.entity_type),  # type: ignore[arg-type]
            knowledge=self._knowledge_refs(entity, tp.timepoint_id),
            listeners=tuple(listeners),
            previous_turns=tuple(self._turn_brief(t) for t in turns[-PREVIOUS_TURNS:]),
            addressed_to=plan.addressed_to,
            move=plan.move,
            turn_index=plan.turn_index,
            planned_turns=self.scenario.dialog.turns,
            speaker_turn_number=spoken.get(entity.entity_id, 0),
            prior_beats=tuple(self.prior_beats),
            persona=params,
            memory=inner.memory if inner else "",
            concerns=tuple(c.topic for c in inner.concerns[:3]) if inner else (),
        )

    async def _speak(
        self, dialog_id: str, turn_index: int, ctx: DialogTurnContext, tp_id: str
    ) -> tuple[DialogTurnResponse, list[CallRecord]]:
        def chunk(text: str) -> None:
            self._emit(ev.DialogTokens, dialog_id=dialog_id, turn_index=turn_index, text=text)

        def reset() -> None:
            self._emit(ev.DialogStreamReset, dialog_id=dialog_id, turn_index=turn_index)

        p = ctx.persona
        answer, records = await self.gateway.call(
            ActionType.DIALOG_TURN,
            ctx,
            DialogTurnResponse,
            sampling=SamplingParams(
                temperature=p.temperature,
                top_p=p.top_p,
                max_tokens=p.max_tokens,
                frequency_penalty=p.frequency_penalty,
                presence_penalty=p.presence_penalty,
                seed=self.seed,
            ),
            timepoint_id=tp_id,
            on_chunk=chunk,
            on_reset=reset,
        )
        assert isinstance(answer, DialogTurnResponse)
        return answer, records

    def _accept_turn(
        self,
        dialog_id: str,
        tp: Timepoint,
        turn_index: int,
        speaker: str,
        answer: DialogTurnResponse,
        ctx: DialogTurnContext,
        present: list[str],
    ) -> DialogTurn:
        """Validate a turn (M4) and record it. References the speaker cannot know are removed
        from the turn and reported; the turn is then marked degraded."""
        known = self.ledger.items(speaker)
        result = validators.information_conservation(answer.knowledge_references, known)
        refs = tuple(r for r in answer.knowledge_references if r not in result.violations)
        issues = tuple(f"referenced unknown knowledge: {v}" for v in result.violations)
        self._emit(
            ev.ValidationReported,
            validator=result.validator,
            entity_id=speaker,
            timepoint_id=tp.timepoint_id,
            dialog_id=dialog_id,
            turn_index=turn_index,
            valid=result.valid,
            violations=result.violations,
            action="" if result.valid else "unknown references removed from the turn",
        )
        addressed = answer.addressed_to if answer.addressed_to in present else ctx.addressed_to
        turn = DialogTurn(
            dialog_id=dialog_id,
            turn_index=turn_index,
            speaker=speaker,
            content=answer.content,
            emotional_tone=answer.emotional_tone,
            knowledge_references=refs,
            addressed_to=addressed if addressed != speaker else None,
            stance=answer.stance,
            physical_state_influence=answer.physical_state_influence,
            persona=ctx.persona,
            timestamp=tp.timestamp + timedelta(minutes=2 * turn_index),
            status=StepStatus.DEGRADED if issues else StepStatus.OK,
            issues=issues,
        )
        self._emit(ev.DialogTurnFinished, turn=turn)
        return turn

    async def _extract(
        self, tp: Timepoint, turn: DialogTurn, present: list[str]
    ) -> tuple[ExtractionResponse, list[CallRecord]]:
        listeners = [self.entities[e] for e in present if e != turn.speaker]
        context = ExtractionContext(
            scenario=self.brief,
            timepoint_id=tp.timepoint_id,
            turn=self._turn_brief(turn),
            speaker=self._brief(self.entities[turn.speaker]),
            listeners=tuple(self._brief(e) for e in listeners),
            known_by_listeners={
                e.entity_id: tuple(self.ledger.items(e.entity_id)[-12:]) for e in listeners
            },
        )
        answer, records = await self.gateway.call(
            ActionType.KNOWLEDGE_EXTRACTION,
            context,
            ExtractionResponse,
            sampling=SamplingParams(temperature=0.1, max_tokens=900, seed=self.seed),
            timepoint_id=tp.timepoint_id,
        )
        assert isinstance(answer, ExtractionResponse)
        return answer, records

    def _apply_extraction(
        self,
        tp: Timepoint,
        turn: DialogTurn,
        answer: ExtractionResponse,
        present: list[str],
        new_knowledge: dict[str, int],
    ) -> None:
        present_set = set(present)
        speaker_known = set(self.ledger.items(turn.speaker))
        for item in answer.items:
            item = item.model_copy(update={"speaker": turn.speaker})
            check = validators.extraction_provenance(
                item,
                speaker_known=speaker_known,
                turn_references=set(turn.knowledge_references),
                present=present_set,
            )
            if not check.valid:
                self._emit(
                    ev.ValidationReported,
                    validator=check.validator,
                    entity_id=turn.speaker,
                    timepoint_id=tp.timepoint_id,
                    dialog_id=turn.dialog_id,
                    turn_index=turn.turn_index,
                    valid=False,
                    violations=check.violations,
                    action="item not recorded",
                )
                continue
            for exposure in told_exposures(
                item,
                ledger=self.ledger,
                present=present_set,
                timepoint_id=tp.timepoint_id,
                at=turn.timestamp,
                dialog_id=turn.dialog_id,
                turn_index=turn.turn_index,
                make_id=self._next_exposure_id,
            ):
                if self._record_exposure(exposure):
                    new_knowledge[exposure.entity_id] = new_knowledge.get(exposure.entity_id, 0) + 1

    # ------------------------------------------------------------------ state after a timepoint
    def _state_after(
        self, entity: Entity, present: list[str], turns: list[DialogTurn], new_knowledge: int
    ) -> tuple[TTMTensor, CognitiveState, str] | None:
        """An entity's tensor and cognitive state after a timepoint: changed by the dialog it
        took part in or witnessed, or rested when it was away. None when nothing changes.
        ``new_knowledge`` only moves the knowledge dimension, never the mood."""
        entity_id = entity.entity_id
        if entity_id in present:
            trust = {other: self._relation(entity_id, other).trust for other in present}
            cognitive = emotion.dialog_impact(
                entity_id,
                emotion.ttm_to_cognitive(entity.tensor),
                turns,
                trust=trust,
                new_knowledge=new_knowledge + 1,
                vitality=entity.tensor.bio("vitality"),
            )
            tensor = emotion.cognitive_to_ttm(entity.tensor, cognitive)
            cause = "dialog" if any(t.speaker == entity_id for t in turns) else "witnessed"
            return tensor, cognitive, cause
        if self.timepoints and len(self.timepoints) > 1:
            tensor = emotion.rest(entity.tensor, self.scenario.timeline.step_delta / _HOUR)
            if tensor.as_tuples() == entity.tensor.as_tuples():
                return None
            return tensor, emotion.ttm_to_cognitive(tensor), "rest"
        return None

    def _update_state(
        self,
        tp: Timepoint,
        present: list[str],
        turns: list[DialogTurn],
        new_knowledge: dict[str, int],
    ) -> None:
        for entity_id, entity in list(self.entities.items()):
            after = self._state_after(entity, present, turns, new_knowledge.get(entity_id, 0))
            if after is None:
                continue
            tensor, cognitive, cause = after
            updated = entity.model_copy(update={"tensor": tensor, "cognitive": cognitive})
            self.entities[entity_id] = updated
            self._emit(
                ev.TensorUpdated,
                entity_id=entity_id,
                timepoint_id=tp.timepoint_id,
                resolution=updated.resolution,
                tensor=ev.TensorSnapshot.of(tensor),
                cognitive=cognitive,
                cause=cause,
            )
        knowledge = {e: self.ledger.items(e) for e in present}
        for rel in relationships.update_after_dialog(self.relations, turns, knowledge):
            self.relations[(rel.a, rel.b)] = rel
            self._emit(ev.RelationshipUpdated, timepoint_id=tp.timepoint_id, relationship=rel)
