"""The scenario brief a question's calls carry, from the scenario a run recorded."""

from __future__ import annotations

from typing import Any

from ..llm.contexts import ScenarioBrief


def scenario_brief(scenario: dict[str, Any]) -> ScenarioBrief:
    setting = scenario.get("setting") or {}
    tags = scenario.get("tags")
    return ScenarioBrief(
        name=str(scenario.get("name", "")),
        title=str(scenario.get("title", "")),
        description=str(scenario.get("description", "")),
        location=str(setting.get("location", "")),
        atmosphere=str(setting.get("atmosphere", "")),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
    )
