"""The BRANCHING part of a reference template: where its timeline splits and the courses it
names there, from ``metadata.branching_points``, ``metadata.branches`` (answers to a critical
question), ``metadata.timelines`` (strategies) or ``metadata.scenario_branches``. What the
reference expected of each course (outcomes, probabilities) is not used: a branch is scored
from what happens on it."""

from __future__ import annotations

import re
from typing import Any

from .fields import _Fields
from .names import _slug

MAX_ALTERNATIVES = 8
_EXPECTATIONS = ("outcome", "probability", "probability_of_term_sheet", "expected_dynamics")


def _words(value: Any) -> str:
    """``ml_ai_innovation_17_mechanisms`` → ``ml ai innovation 17 mechanisms``."""
    return re.sub(r"[_\s]+", " ", str(value)).strip()


def _name(key: Any) -> str:
    """``branch_a_fortify`` → ``Fortify``; ``timeline_b_business`` → ``Business``."""
    text = re.sub(r"^(branch|timeline)_([a-z]_)?", "", str(key))
    return _words(text).capitalize()[:80] or "Course"


class _Branching(_Fields):
    def _branching(self, total: int, ids: set[str]) -> dict[str, Any]:
        """The ``branching`` section for a timeline of ``total`` timepoints whose entities have
        ``ids``. Without a decision point named, the timeline splits where the template's
        ``before_count`` and ``count`` end (its "after" part is the branches)."""
        meta = self.section("metadata")
        tps = self.section("timepoints")
        before = tps.get("before_count") if isinstance(tps.get("before_count"), int) else 0
        count = tps.get("count") if isinstance(tps.get("count"), int) else 1
        out: dict[str, Any] = {}
        decision_at = before + count if before + count < total else max(1, total // 2)
        alternatives: list[dict[str, Any]] = []
        points = meta.get("branching_points")
        if isinstance(points, list) and points:
            if len(points) > 1:
                self.warn(
                    "metadata.branching_points",
                    f"only the first of {len(points)} decision points is branched",
                )
            point = points[0] if isinstance(points[0], dict) else {}
            at = re.fullmatch(r"tp_?0*(\d+)", str(point.get("timepoint", "")))
            if at and 1 <= int(at.group(1)) < total:
                decision_at = int(at.group(1))
            if isinstance(point.get("trigger"), str):
                out["decision"] = point["trigger"][:300]
            branches = point.get("branches")
            if isinstance(branches, dict):
                for key, value in branches.items():
                    if isinstance(value, dict):
                        label = value.get("label") or _name(key)
                        text = value.get("description") or label
                        alternatives.append({"name": str(label), "description": str(text)})
        if isinstance(meta.get("branches"), list):
            question = meta.get("critical_question")
            if isinstance(question, str):
                out["decision"] = question[:300]
            for item in meta["branches"]:
                if isinstance(item, dict) and item.get("answer"):
                    answer = str(item["answer"])
                    said = f"The answer given: {answer}" if question else answer
                    alternatives.append(
                        {"name": _name(item.get("id", answer)), "description": said}
                    )
        if isinstance(meta.get("timelines"), list):
            for item in meta["timelines"]:
                if not isinstance(item, dict):
                    continue
                lead = _slug(str(item.get("lead", "")))
                focus = _words(item.get("focus", "")) or "their own approach"
                alt: dict[str, Any] = {
                    "name": _name(item.get("id", focus)),
                    "description": f"The pitch leads with {focus}.",
                }
                if lead in ids:
                    alt["decided_by"] = lead
                alternatives.append(alt)
        if isinstance(meta.get("scenario_branches"), dict):
            for key, value in meta["scenario_branches"].items():
                if isinstance(value, dict) and value.get("description"):
                    alternatives.append(
                        {"name": _name(key), "description": str(value["description"])}
                    )
        for item in alternatives:
            item["description"] = item["description"][:600]
            if len(item["description"]) < 3:
                item["description"] = item["name"]
        if len(alternatives) > MAX_ALTERNATIVES:
            self.warn(
                "metadata",
                f"{len(alternatives)} courses are named; the first {MAX_ALTERNATIVES} are branched",
            )
            alternatives = alternatives[:MAX_ALTERNATIVES]
        if any(
            isinstance(v, dict) and any(k in v for k in _EXPECTATIONS)
            for group in (meta.get("branches"), meta.get("timelines"))
            if isinstance(group, list)
            for v in group
        ) or isinstance(meta.get("scenario_branches"), dict):
            self.warn(
                "metadata",
                "the outcomes and probabilities expected of each course are not used; a branch "
                "is scored from what happens on it",
            )
        out["decision_at"] = decision_at
        if alternatives:
            out["alternatives"] = alternatives
        if len(alternatives) < 2:
            out["count"] = 3  # the provider proposes the courses the template does not name
        return out
