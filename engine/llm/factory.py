"""Building the provider and the model router a run uses, from resolved settings.

One place decides what a run talks to: the offline provider, or an OpenAI-compatible server
with its model chosen by ``--model``, by the server (a local server's only model) or by the
registry per action (M18). A server that cannot be reached, a key it refuses, or a model the
training-safe filter excludes is a :class:`ProviderSetupError` with one sentence saying what to
set or start.

The offline provider is a leaf of the LLM layer: code outside ``engine.llm`` takes
:class:`OfflineProvider` from here, never from ``engine.llm.offline`` (an import contract says so).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .offline import OfflineProvider
from .openai import OpenAIProvider
from .protocol import ActionType, Provider, ProviderError
from .registry import Preference, Registry, Router, check_training_safe

__all__ = [
    "ROUTED",
    "OfflineProvider",
    "Opened",
    "ProviderSetupError",
    "open_provider",
    "plan_router",
]

ROUTED = "routed"
ENGINE_ACTIONS = (
    ActionType.ENTITY_POPULATION,
    ActionType.TIMEPOINT_EVENT,
    ActionType.ENTITY_PRESENCE,
    ActionType.DIALOG_TURN,
    ActionType.KNOWLEDGE_EXTRACTION,
)


class ProviderSetupError(Exception):
    """The provider cannot be used as configured; one sentence."""


@dataclass
class Opened:
    provider: Provider
    router: Router | None
    concurrency: int | None = None  # calls in flight at once (None: the offline provider)
    concurrency_source: str = ""  # where that number came from, for the run's first line

    async def aclose(self) -> None:
        close = getattr(self.provider, "aclose", None)
        if close is not None:
            await close()


def plan_router(
    settings: Any,
    registry: Registry,
    *,
    prefer: Preference | None,
    training_safe: bool,
    discovered: str | None = None,
) -> Router:
    """The router for a provider: a fixed model (flag, config or the server's own), or the
    registry's choice per action."""
    model = settings.model or discovered
    if model is not None:
        if training_safe:
            why = check_training_safe(registry, settings.name, model)
            if why:
                raise ProviderSetupError(why)
        return Router(
            provider=settings.name,
            default_model=model,
            registry=registry,
            fixed_model=model,
            prefer=prefer,
            training_safe=training_safe,
        )
    if not registry.served_by(settings.name):
        raise ProviderSetupError(
            f"name the model to use with --model (or TIMELOOM_MODEL): the model registry has "
            f"none for {settings.name}"
        )
    router = Router(
        provider=settings.name,
        default_model=ROUTED,
        registry=registry,
        prefer=prefer,
        training_safe=training_safe,
    )
    for action in ENGINE_ACTIONS:
        if not registry.chain(action, settings.name, prefer=prefer, training_safe=training_safe):
            filt = " training-safe" if training_safe else ""
            raise ProviderSetupError(
                f"no{filt} model in the registry ({registry.source}) can do "
                f"{action.value} for {settings.name}; add one there or name a model with --model"
            )
    return router


async def open_provider(
    settings: Any,
    registry: Registry,
    *,
    seed: int = 0,
    prefer: Preference | None = None,
    training_safe: bool = False,
    check: bool = True,
    pace: float | None = None,
    **provider_options: Any,
) -> Opened:
    """The provider and router for ``settings`` (None: the offline provider).

    With ``check``, the server is asked for its models first: that proves it can be reached
    and, for a local server with no model named, tells which model it serves."""
    if settings is None:
        return Opened(OfflineProvider(seed, chars_per_second=pace), None)
    discovered: str | None = None
    provisional = settings.model or ROUTED
    provider = OpenAIProvider.from_settings(settings, provisional, **provider_options)
    try:
        if check:
            try:
                models = await provider.list_models()
            except ProviderError as exc:
                raise ProviderSetupError(str(exc)) from None
            if settings.model is None and settings.preset.local:
                if not models:
                    raise ProviderSetupError(
                        f"the server at {settings.base_url} lists no model; load one there or "
                        "name it with --model"
                    )
                discovered = models[0]
        router = plan_router(
            settings, registry, prefer=prefer, training_safe=training_safe, discovered=discovered
        )
        calls, source = settings.concurrency, "the preset"
        if getattr(settings, "concurrency_given", False):
            source = "the configuration"
        elif check and settings.preset.slots != "fixed":
            slots, source = await provider.serving_slots(settings.preset.slots, dict(os.environ))
            if slots is not None:
                calls = slots
            else:
                source = f"{source}; one at a time"
            provider.set_concurrency(calls)
    except BaseException:
        await provider.aclose()
        raise
    provider.model = router.fixed_model or ROUTED
    return Opened(provider, router, calls, source)
