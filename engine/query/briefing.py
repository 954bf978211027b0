"""What a question's calls carry: the scenario brief from the scenario a run recorded, and a
held item of knowledge with its source named."""

from __future__ import annotations

from typing import Any

from ..llm.contexts import KnowledgeRef, ScenarioBrief
from ..model.records import KnowledgeInfo


def scenario_brief(scenario: dict[str, Any], *, full: bool = True) -> ScenarioBrief:
    """The scenario a run recorded, whole, or its gist for a call below TRAINED (M1)."""
    setting = scenario.get("setting") or {}
    tags = scenario.get("tags")
    brief = ScenarioBrief(
        name=str(scenario.get("name", "")),
        title=str(scenario.get("title", "")),
        description=str(scenario.get("description", "")),
        location=str(setting.get("location", "")),
        atmosphere=str(setting.get("atmosphere", "")),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
    )
    return brief if full else brief.gist()


def knowledge_ref(
    k: KnowledgeInfo, names: dict[str, str], *, private: bool = False
) -> KnowledgeRef:
    """A held item as a call carries it: its source by name when the source is someone."""
    return KnowledgeRef(
        information=k.information,
        kind=k.kind,
        category=k.category,
        source=names.get(k.source, k.source) if k.source else k.source,
        timepoint_id=k.timepoint_id,
        confidence=k.confidence,
        private=private,
    )
