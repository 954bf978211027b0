"""Stored runs set up to go on: a replay from the recording's cassette, a resume from the last
committed timepoint, and the provider either goes on with (the recorded one or the request's).
Errors a user can cause are :class:`~engine.session.SessionError` in one sentence."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .model import events as ev
from .session import (
    RunRequest,
    SessionError,
    budget_for,
    has_budget,
    model_registry,
    open_provider,
    provider_settings,
    read_scenario,
)

if TYPE_CHECKING:
    from engine.config import Config
    from engine.llm.factory import Opened
    from engine.simulation import Simulation
    from engine.store import Store


@dataclass(frozen=True)
class Replay:
    """A recorded run set up to play again from its cassette."""

    run_id: str  # the recording's
    provider: str
    model: str
    simulation: Simulation


async def prepare_replay(
    store: Store,
    config: Config,
    run_id: str,
    *,
    scenario: str | None = None,
    seed: int | None = None,
) -> Replay:
    """Re-run a recorded run from its cassette: its own scenario (or ``scenario``) and seed (or
    ``seed``); the offline provider for an offline run, the recorded answers otherwise."""
    from engine.llm.budget import Budget
    from engine.llm.cassette import ReplayProvider, Transcripts
    from engine.llm.factory import OfflineProvider
    from engine.llm.registry import Router
    from engine.scenario import LoadedScenario, Scenario, ScenarioError
    from engine.scenario.loader import check_references
    from engine.simulation import Simulation, UnsupportedScenario
    from engine.store import StoreError

    try:
        recorded = await store.run_descriptor(run_id)
    except StoreError as exc:
        raise SessionError(str(exc)) from exc
    if scenario:
        loaded = read_scenario(scenario)
    else:
        try:
            stored = Scenario.model_validate(recorded["scenario_data"])
            check_references(stored, f"the scenario recorded with run {recorded['run_id']}")
        except ScenarioError as exc:
            raise SessionError(str(exc)) from exc
        except ValueError as exc:
            raise SessionError(
                f"the scenario recorded with run {recorded['run_id']} no longer loads"
            ) from exc
        loaded = LoadedScenario(
            scenario=stored,
            source=recorded.get("source", ""),
            warnings=tuple(recorded.get("warnings", ())),
        )
    seed = seed if seed is not None else int(recorded["seed"])
    name, model = recorded["provider"], recorded["model"]
    routing = recorded.get("routing") or {}
    router = None
    if name == "offline":
        provider: Any = OfflineProvider(seed)
    else:
        provider = ReplayProvider(name, model)
        router = Router(
            provider=name,
            default_model=model,
            registry=model_registry(config) if routing.get("routed") else None,
            fixed_model=routing.get("fixed_model"),
            prefer=routing.get("prefer"),
            training_safe=bool(routing.get("training_safe")),
        )
    try:
        sim = Simulation(
            loaded,
            provider=provider,
            store=store,
            seed=seed,
            budget=Budget(),
            router=router,
            replay=True,
            transcripts=Transcripts(recorded.get("attempts") or []),
            queries=tuple(
                e
                for e in await store.events(recorded["run_id"])
                if isinstance(e, ev.QueryAnswered | ev.RecordLookedUp | ev.QueriesApplied)
                or (isinstance(e, ev.EntityElevated) and e.query_id)
            ),
        )
    except UnsupportedScenario as exc:
        raise SessionError(str(exc)) from exc
    return Replay(recorded["run_id"], name, model, sim)


async def open_recorded(config: Config, request: RunRequest, recorded: dict[str, Any]) -> Opened:
    """The provider a stored run goes on with: the recorded one (or the request's), with the
    recorded fixed model and routing preferences."""
    from engine.llm.factory import OfflineProvider, Opened

    name = request.provider or recorded["provider"]
    seed = int(recorded["seed"])
    routing = recorded.get("routing") or {}
    if name == "offline":
        return Opened(OfflineProvider(seed), None)
    if request.model is None and routing.get("fixed_model") and name == recorded["provider"]:
        request = replace(request, model=routing["fixed_model"])
    settings = provider_settings(config, request, default_provider=name)
    return await open_provider(
        settings,
        model_registry(config),
        seed=seed,
        prefer=routing.get("prefer") or config.models.prefer,
        training_safe=bool(routing.get("training_safe")),
    )


@dataclass(frozen=True)
class Resumed:
    """A stopped or failed run set up to continue; close ``opened`` when it is done."""

    run_id: str
    simulation: Simulation
    opened: Opened


async def prepare_resume(store: Store, config: Config, run_id: str, request: RunRequest) -> Resumed:
    """Continue a run from its last committed timepoint: on the recorded provider (or the
    request's), with the recorded fixed model and routing preferences, under the request's
    budget (else the scenario's, else the configuration's)."""
    from engine.simulation import ResumeError, Simulation, UnsupportedScenario
    from engine.store import StoreError

    try:
        recorded = await store.run_descriptor(run_id)
        summary = await store.get_run(recorded["run_id"])
    except StoreError as exc:
        raise SessionError(str(exc)) from exc
    opened = await open_recorded(config, request, recorded)
    try:
        scenario_budget = (recorded.get("scenario_data") or {}).get("budget")
        budget = budget_for(request, config, scenario_has_budget=has_budget(scenario_budget))
        sim = await Simulation.resume(
            store,
            summary.run_id,
            provider=opened.provider,
            budget=budget,
            router=opened.router,
            cache=config.provider.cache,
        )
    except BaseException as exc:
        await opened.aclose()
        if isinstance(exc, ResumeError | UnsupportedScenario):
            raise SessionError(str(exc)) from exc
        raise
    return Resumed(summary.run_id, sim, opened)
