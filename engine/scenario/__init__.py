"""Scenarios: our strict format, the reference engine's template format, and loading."""

from .errors import ScenarioError
from .loader import (
    LoadedScenario,
    TemplateInfo,
    bundled_templates,
    load_scenario,
    scenario_catalog,
)
from .schema import Scenario, json_schema

__all__ = [
    "LoadedScenario",
    "Scenario",
    "ScenarioError",
    "TemplateInfo",
    "bundled_templates",
    "json_schema",
    "load_scenario",
    "scenario_catalog",
]
