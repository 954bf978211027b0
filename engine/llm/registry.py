"""Model selection (M18): a registry of models, what each action needs, and a router.

All of it is data (``engine/data/llm/*.toml``), validated here: the models (id, provider,
context window, capabilities, licence, training-safe flag, prices), the requirements of every
action type, and the provider presets. Selection follows M18: a model must have every required
capability and enough context; among those, each preferred capability scores a point, and a
preference for quality, speed or cost adds its weight. The fallback chain is the primary choice
followed by the cost-preferring and speed-preferring choices. ``training_safe`` keeps only
models whose licence (MIT or Apache-2.0) lets their outputs train any model.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..resources import data_path
from .protocol import ActionType

TRAINING_SAFE_LICENSES = frozenset({"MIT", "Apache-2.0"})
Preference = Literal["quality", "speed", "cost"]


class Capability(StrEnum):
    """The fifteen capability dimensions of M18."""

    STRUCTURED_JSON = "structured_json"
    LONG_FORM_TEXT = "long_form_text"
    DIALOG_GENERATION = "dialog_generation"
    MATHEMATICAL = "mathematical"
    LOGICAL_REASONING = "logical_reasoning"
    CAUSAL_REASONING = "causal_reasoning"
    TEMPORAL_REASONING = "temporal_reasoning"
    LARGE_CONTEXT = "large_context"
    VERY_LARGE_CONTEXT = "very_large_context"
    FAST_INFERENCE = "fast_inference"
    COST_EFFICIENT = "cost_efficient"
    HIGH_QUALITY = "high_quality"
    CREATIVE = "creative"
    ANALYTICAL = "analytical"
    INSTRUCTION_FOLLOWING = "instruction_following"


class RegistryError(Exception):
    """A registry or preset file that cannot be used, in one sentence."""


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelProfile(_Data):
    id: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    context: int = Field(ge=512)
    max_output: int = Field(ge=1)
    capabilities: frozenset[Capability]
    license: str = Field(min_length=1)
    training_safe: bool
    price_in: float = Field(ge=0.0, description="US dollars per million input tokens")
    price_out: float = Field(ge=0.0, description="US dollars per million output tokens")
    quality: float = Field(ge=0.0, le=1.0)
    speed: float = Field(ge=0.0, le=1.0)
    cost: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _licence_allows_training(self) -> ModelProfile:
        if self.training_safe and self.license not in TRAINING_SAFE_LICENSES:
            raise ValueError(
                f"training_safe is true but the licence {self.license!r} is not one of "
                f"{', '.join(sorted(TRAINING_SAFE_LICENSES))}"
            )
        return self

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_in + completion_tokens * self.price_out) / 1_000_000


class ActionRequirement(_Data):
    required: frozenset[Capability] = frozenset()
    preferred: frozenset[Capability] = frozenset()
    min_context: int = Field(4096, ge=0)


class ProviderPreset(_Data):
    base_url: str
    key_env: str | None = None
    key_required: bool = False
    local: bool = False
    start_hint: str = ""
    concurrency: int = Field(8, ge=1, le=256)
    # how the server says how many requests it serves at once (then ``concurrency`` is only the
    # fallback): "llamacpp" reads its /props or /slots, "ollama" its OLLAMA_NUM_PARALLEL
    slots: Literal["fixed", "llamacpp", "ollama"] = "fixed"
    requests_per_minute: int = Field(0, ge=0)
    extra_body: dict[str, Any] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)


class _ModelsFile(_Data):
    models: tuple[ModelProfile, ...]


class _ActionsFile(_Data):
    actions: dict[ActionType, ActionRequirement]

    @model_validator(mode="after")
    def _every_action(self) -> _ActionsFile:
        missing = [a.value for a in ActionType if a not in self.actions]
        if missing:
            raise ValueError(f"no requirements for {', '.join(missing)}")
        return self


class _PresetsFile(_Data):
    presets: dict[str, ProviderPreset]


def _load(path: Path, model: type[_Data]) -> Any:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path} is not valid TOML ({exc})") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise RegistryError(f"{path}: {loc}: {err['msg']}") from exc


@dataclass(frozen=True)
class Registry:
    models: tuple[ModelProfile, ...]
    actions: dict[ActionType, ActionRequirement]
    source: str = ""

    def get(self, provider: str, model_id: str) -> ModelProfile | None:
        for m in self.models:
            if m.id == model_id and m.provider == provider:
                return m
        return None

    def served_by(self, provider: str) -> list[ModelProfile]:
        return [m for m in self.models if m.provider == provider]

    def training_safe_models(self, provider: str | None = None) -> list[str]:
        return [
            m.id
            for m in self.models
            if m.training_safe and (provider is None or m.provider == provider)
        ]

    def select(
        self,
        action: ActionType,
        provider: str,
        *,
        prefer: Preference | None = None,
        training_safe: bool = False,
    ) -> str | None:
        """The best model for ``action`` among those ``provider`` serves (M18), or None."""
        req = self.actions[action]
        scored: list[tuple[float, str]] = []
        for m in self.served_by(provider):
            if training_safe and not m.training_safe:
                continue
            if not req.required <= m.capabilities or m.context < req.min_context:
                continue
            score = float(len(req.preferred & m.capabilities))
            if prefer == "quality":
                score += m.quality * 2
            elif prefer == "speed":
                score += m.speed * 2
            elif prefer == "cost":
                score += (1 - m.cost) * 2
            scored.append((score, m.id))
        return max(scored)[1] if scored else None

    def chain(
        self,
        action: ActionType,
        provider: str,
        *,
        prefer: Preference | None = None,
        training_safe: bool = False,
        length: int = 3,
    ) -> list[str]:
        """The primary model, then the cost and speed alternatives: tried in order on failure."""
        out: list[str] = []
        for p in (prefer, "cost", "speed", "quality"):
            choice = self.select(action, provider, prefer=p, training_safe=training_safe)  # type: ignore[arg-type]
            if choice is not None and choice not in out:
                out.append(choice)
        return out[:length]


@lru_cache(maxsize=8)
def _cached_registry(models: str, actions: str, stamp: tuple[int, int]) -> Registry:
    m: _ModelsFile = _load(Path(models), _ModelsFile)
    a: _ActionsFile = _load(Path(actions), _ActionsFile)
    ids = [(x.provider, x.id) for x in m.models]
    dupes = sorted({f"{p}/{i}" for p, i in ids if ids.count((p, i)) > 1})
    if dupes:
        raise RegistryError(f"{models}: model {dupes[0]} is listed twice")
    return Registry(models=m.models, actions=dict(a.actions), source=models)


def load_registry(path: str | Path | None = None) -> Registry:
    """The model registry: ``path`` (a user's copy) or the bundled one."""
    models = Path(path).expanduser() if path else data_path("llm", "models.toml")
    try:
        info = models.stat()
        stamp = (info.st_mtime_ns, info.st_size)
    except OSError as exc:
        raise RegistryError(f"cannot read the model registry {models}: {exc.strerror}") from exc
    return _cached_registry(str(models), str(data_path("llm", "actions.toml")), stamp)


@lru_cache(maxsize=1)
def load_presets() -> dict[str, ProviderPreset]:
    presets: _PresetsFile = _load(data_path("llm", "providers.toml"), _PresetsFile)
    return dict(presets.presets)


PROVIDER_NAMES = ("offline", "openai", "openrouter", "ollama", "vllm", "llamacpp", "lmstudio")


@dataclass(frozen=True)
class Router:
    """Which model answers each action, and what to try when it fails.

    A fixed model (``--model``) answers everything; otherwise the registry routes per action
    among the models the provider serves, and ``default_model`` answers whatever the registry
    has nothing for (a local server's only model, for instance).
    """

    provider: str
    default_model: str
    registry: Registry | None = None
    fixed_model: str | None = None
    prefer: Preference | None = None
    training_safe: bool = False

    def chain(self, action: ActionType) -> tuple[str, ...]:
        if self.fixed_model is not None or self.registry is None:
            return (self.fixed_model or self.default_model,)
        routed = self.registry.chain(
            action, self.provider, prefer=self.prefer, training_safe=self.training_safe
        )
        return tuple(routed) or (self.default_model,)

    def describe(self) -> dict[str, Any]:
        """What a replay needs to route the same way (recorded in ``RunStarted``)."""
        return {
            "fixed_model": self.fixed_model,
            "prefer": self.prefer,
            "training_safe": self.training_safe,
            "routed": self.fixed_model is None and self.registry is not None,
        }

    def price(self, model: str) -> ModelProfile | None:
        return self.registry.get(self.provider, model) if self.registry else None


def check_training_safe(registry: Registry, provider: str, model: str) -> str | None:
    """Why ``model`` may not be used for training data, or None when it may."""
    if provider == "offline":
        return None
    profile = registry.get(provider, model)
    if profile is None:
        return (
            f"--training-safe keeps only MIT and Apache-2.0 models, and {model} is not in the "
            f"model registry ({registry.source}), so its licence cannot be checked; add it there "
            "or leave out --training-safe"
        )
    if not profile.training_safe:
        return (
            f"--training-safe keeps only MIT and Apache-2.0 models, and {model} is licensed "
            f"{profile.license}"
        )
    return None
