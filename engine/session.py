"""Everything a run needs from the configuration: one place for the command line and the TUI.

What the user asked for (flags, or the explorer's choices) is a :class:`RunRequest`;
:func:`plan_run` resolves it against the configuration and the environment into a
:class:`RunPlan`, what a run's :class:`~engine.simulation.Simulation` is built from. Replays and
resumes of a stored run are set up in :mod:`engine.reopen`. Every
error a user can cause is a :class:`SessionError` with one sentence saying what to change.

This module imports the engine lazily (the command line starts fast and the explorer can browse
stored runs without loading the simulation), and never a user interface.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.config import Config, ProviderSettings
    from engine.estimate import RunEstimate
    from engine.llm.budget import Budget
    from engine.llm.factory import OfflineProvider, Opened
    from engine.llm.protocol import Provider
    from engine.llm.registry import Preference, Registry, Router
    from engine.scenario import LoadedScenario
    from engine.simulation import RunControl, Simulation
    from engine.store import Store


class SessionError(Exception):
    """Bad input from the user (a flag, a file, a run id, the configuration): one sentence."""


@dataclass(frozen=True)
class RunRequest:
    """What the user asked for; ``None`` leaves the choice to the scenario, the run or the
    configuration."""

    scenario: str | None = None
    seed: int | None = None
    provider: str | None = None
    base_url: str | None = None
    model: str | None = None
    prefer: Preference | None = None
    training_safe: bool = False
    budget_tokens: int | None = None
    budget_usd: float | None = None
    no_budget: bool = False  # not even the scenario's or the configuration's budget
    cache: bool = True  # answer calls already recorded from the cassette
    estimate_only: bool = False  # nothing is sent, so no API key is needed


@dataclass(frozen=True)
class RunPlan:
    """A request resolved against the configuration: what to build the Simulation from."""

    loaded: LoadedScenario
    seed: int
    settings: ProviderSettings | None  # None: the offline provider
    registry: Registry
    prefer: Preference | None
    training_safe: bool
    budget: Budget | None  # None: the scenario's own
    cache: bool
    pace: float | None = None  # offline dialog characters a second, for a run people watch

    @property
    def local(self) -> bool:
        """The model runs here (offline or a local server): it costs nothing."""
        return self.settings is None or self.settings.preset.local

    @property
    def retry(self) -> dict[str, Any]:
        return retry_options(self.settings)


@dataclass(frozen=True)
class OverBudget:
    """The estimate exceeds the budget: the run will stop when it is spent, or only warn."""

    budget: str
    stops: bool


# --------------------------------------------------------------------------- configuration
def read_scenario(name: str) -> LoadedScenario:
    """A bundled scenario by name, or a scenario file."""
    from engine.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(name)
    except ScenarioError as exc:
        raise SessionError(str(exc)) from exc


def provider_settings(
    config: Config, request: RunRequest, *, default_provider: str | None = None
) -> ProviderSettings | None:
    """The provider to use, from the request, the environment and the configuration (None:
    the offline provider)."""
    from engine.config import ConfigError, resolve_provider

    try:
        return resolve_provider(
            config,
            name=request.provider or default_provider,
            base_url=request.base_url,
            model=request.model,
            require_key=not request.estimate_only,
        )
    except ConfigError as exc:
        raise SessionError(str(exc)) from exc


def model_registry(config: Config) -> Registry:
    from engine.llm.registry import RegistryError, load_registry

    try:
        return load_registry(config.models.registry)
    except RegistryError as exc:
        raise SessionError(str(exc)) from exc


def retry_options(settings: ProviderSettings | None) -> dict[str, Any]:
    """The gateway's retry settings for a provider (the offline provider never retries)."""
    if settings is None:
        return {}
    return {
        "max_attempts": settings.max_attempts,
        "backoff": settings.backoff,
        "max_backoff": settings.max_backoff,
    }


def budget_for(request: RunRequest, config: Config, *, scenario_has_budget: bool) -> Budget | None:
    """Flags first, then the scenario's own budget (None lets the engine use it), then the
    configuration's; ``no_budget`` means none at all (an inactive ``Budget()``)."""
    from engine.llm.budget import Budget

    if request.no_budget:
        return Budget()
    b = config.budget
    if request.budget_tokens is not None or request.budget_usd is not None:
        return Budget(
            tokens=request.budget_tokens, usd=request.budget_usd, warn_fraction=b.warn_fraction
        )
    if scenario_has_budget:
        return None
    if b.tokens is not None or b.usd is not None:
        return Budget(tokens=b.tokens, usd=b.usd, warn_fraction=b.warn_fraction)
    return None


def has_budget(spec: Any) -> bool:
    """Whether a scenario's budget (the schema's object, or its recorded dict) sets a limit."""
    if isinstance(spec, dict):
        return bool(spec.get("tokens") or spec.get("usd"))
    return spec is not None and bool(spec.tokens or spec.usd)


async def open_provider(
    settings: ProviderSettings | None,
    registry: Registry,
    *,
    seed: int,
    prefer: Preference | None = None,
    training_safe: bool = False,
) -> Opened:
    """The provider and router for ``settings``, checked against the server."""
    from engine.llm.factory import ProviderSetupError
    from engine.llm.factory import open_provider as open_

    try:
        return await open_(
            settings, registry, seed=seed, prefer=prefer, training_safe=training_safe
        )
    except ProviderSetupError as exc:
        raise SessionError(str(exc)) from exc


# --------------------------------------------------------------------------- a new run
def plan_run(config: Config, request: RunRequest) -> RunPlan:
    """Resolve a request to run ``request.scenario``."""
    if not request.scenario:
        raise SessionError("name a scenario to run")
    loaded = read_scenario(request.scenario)
    settings = provider_settings(config, request)
    registry = model_registry(config)
    budget = budget_for(request, config, scenario_has_budget=has_budget(loaded.scenario.budget))
    return RunPlan(
        loaded=loaded,
        seed=request.seed if request.seed is not None else loaded.scenario.seed,
        settings=settings,
        registry=registry,
        prefer=request.prefer or config.models.prefer,
        training_safe=request.training_safe or config.models.training_safe,
        budget=budget,
        cache=config.provider.cache and request.cache,
        pace=config.ui.pace,
    )


def ensure_supported(loaded: LoadedScenario) -> None:
    """Refuse a scenario this version cannot run before anything is opened for it."""
    from engine.simulation import SUPPORTED_MODES

    if loaded.scenario.mode not in SUPPORTED_MODES:
        raise SessionError(
            f"{loaded.scenario.name} uses {loaded.scenario.mode.value} mode, "
            "which this version cannot run yet (it runs forward, branching and portal scenarios)"
        )


async def open_plan(plan: RunPlan) -> Opened:
    """The provider and router a plan runs with."""
    return await open_provider(
        plan.settings,
        plan.registry,
        seed=plan.seed,
        prefer=plan.prefer,
        training_safe=plan.training_safe,
    )


def build_simulation(plan: RunPlan, opened: Opened, store: Store) -> Simulation:
    """The simulation of a planned run on an opened provider, recording into ``store``."""
    from engine.simulation import UnsupportedScenario

    try:
        return _simulation(plan, opened, store)
    except UnsupportedScenario as exc:
        raise SessionError(str(exc)) from exc


def _simulation(plan: RunPlan, opened: Opened, store: Store, control: Any = None) -> Simulation:
    from engine.simulation import Simulation

    return Simulation(
        plan.loaded,
        provider=opened.provider,
        store=store,
        seed=plan.seed,
        control=control,
        budget=plan.budget,
        router=opened.router,
        cache=plan.cache,
        retry=plan.retry,
    )


# --------------------------------------------------------------------------- estimates
def estimate_router(plan: RunPlan) -> Router | None:
    """The router an estimate prices with; it never touches the network."""
    from engine.llm.factory import ProviderSetupError, plan_router

    settings = plan.settings
    if settings is None:
        return None
    try:
        return plan_router(
            settings, plan.registry, prefer=plan.prefer, training_safe=plan.training_safe
        )
    except ProviderSetupError as exc:
        if settings.preset.local and settings.model is None:
            return None  # a local server's model is free whichever it is
        raise SessionError(str(exc)) from exc


async def estimate(plan: RunPlan, router: Router | None) -> RunEstimate:
    """What the planned run will cost, priced for ``router``'s models."""
    from engine.estimate import estimate_run

    return await estimate_run(plan.loaded, seed=plan.seed, router=router, local=plan.local)


def over_budget(forecast: RunEstimate, budget: Budget | None) -> OverBudget | None:
    """Whether the estimate exceeds the budget the run will have (None: it does not)."""
    if budget is None:
        return None
    over = (budget.tokens is not None and forecast.tokens > budget.tokens) or (
        budget.usd is not None and forecast.usd > budget.usd
    )
    return OverBudget(budget.text(), budget.hard) if over else None


# --------------------------------------------------------------------------- the explorer's runs
# A live screen's factory builds the simulation it watches from the store and the run control it
# is given, and releases what it opened afterwards. Their errors are the engine's own (a scenario,
# the provider's set-up), which the explorer reports.
@dataclass
class LiveRun:
    """A planned run for the explorer to watch; offline, it is paced for reading."""

    plan: RunPlan
    provider: Provider | None = None
    _opened: Opened | None = field(default=None, init=False, repr=False)

    async def __call__(self, store: Store, control: RunControl) -> Simulation:
        from engine.llm.factory import open_provider as open_

        plan = self.plan
        self._opened = await open_(
            plan.settings,
            plan.registry,
            seed=plan.seed,
            prefer=plan.prefer,
            training_safe=plan.training_safe,
            pace=plan.pace,
        )
        self.provider = self._opened.provider
        return _simulation(plan, self._opened, store, control)

    async def aclose(self) -> None:
        if self._opened is not None:
            await self._opened.aclose()


@dataclass
class OfflineRun:
    """A bundled scenario or scenario file on the offline provider, at a readable pace."""

    scenario: str
    seed: int | None = None
    pace: float | None = None
    provider: OfflineProvider | None = None

    async def __call__(self, store: Store, control: RunControl) -> Simulation:
        from engine.llm.factory import OfflineProvider
        from engine.scenario import load_scenario
        from engine.simulation import Simulation

        loaded = load_scenario(self.scenario)
        seed = loaded.scenario.seed if self.seed is None else self.seed
        self.provider = OfflineProvider(seed, chars_per_second=self.pace)
        return Simulation(loaded, provider=self.provider, store=store, seed=seed, control=control)

    async def aclose(self) -> None:
        """Nothing to release: the offline provider holds no connection."""


class ProviderUnavailable(SessionError):
    """The provider a run was made with cannot be set up here (no key, a bad address)."""


async def open_for_queries(
    config: Config, provider: str, model: str, seed: int
) -> tuple[Provider, Router | None, Callable[[], Awaitable[None]]]:
    """The provider a stored run was made with, set up from the configuration and the
    environment, to put questions to its entities: ``(provider, router, close)``. Raises
    :class:`ProviderUnavailable` saying what is missing."""
    from engine.llm.factory import ROUTED, ProviderSetupError
    from engine.llm.factory import open_provider as open_

    try:
        request = RunRequest(provider=provider, model=None if model in ("", ROUTED) else model)
        settings = provider_settings(config, request)
        opened = await open_(settings, model_registry(config), seed=seed, check=False)
    except (ProviderSetupError, SessionError) as exc:
        raise ProviderUnavailable(str(exc)) from None
    return opened.provider, opened.router, opened.aclose
