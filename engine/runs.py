"""What identifies a run and what can go wrong before one starts: ids, the configuration hash,
a scenario's own budget, and the errors a user can cause."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from . import __version__
from .llm.budget import Budget
from .model import events as ev
from .scenario.loader import LoadedScenario
from .scenario.schema import Scenario


class UnsupportedScenario(Exception):
    """The scenario loads but asks for something this version cannot run."""


class ResumeError(Exception):
    """A run that cannot be resumed, explained in one sentence."""


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


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


def scenario_budget(scenario: Scenario, warn_fraction: float = 0.8) -> Budget | None:
    """The budget a scenario file asks for, if any."""
    spec = scenario.budget
    if spec is None or (spec.tokens is None and spec.usd is None):
        return None
    return Budget(
        tokens=spec.tokens, usd=spec.usd, hard=spec.mode == "hard", warn_fraction=warn_fraction
    )


def recorded_scenario(run_id: str, events: list[ev.EventBase]) -> tuple[LoadedScenario, int]:
    """The scenario and seed a stored run started with, read from its first event, for a
    resume or a fork to go on from; a log without a start or with a scenario that no longer
    loads is a :class:`ResumeError`."""
    start = events[0] if events else None
    if not isinstance(start, ev.RunStarted):
        raise ResumeError(f"the run {run_id} has no recorded start; it cannot resume")
    try:
        scenario = Scenario.model_validate(start.scenario_data)
    except ValueError as exc:
        raise ResumeError(
            f"the scenario recorded with run {run_id} no longer loads: {exc}"
        ) from exc
    loaded = LoadedScenario(scenario=scenario, source=start.source, warnings=start.warnings)
    return loaded, start.seed
