"""The timeline of a reference template: how many timepoints, their step and start, and the
beats its metadata gives them (hints, titles, clock times)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from ...safety import limits
from ..schema import DEFAULT_START
from .fields import _Fields

STEP_BY_RESOLUTION = {
    "second": "1m",
    "minute": "5m",
    "hour": "1h",
    "day": "1d",
    "week": "1w",
    "month": "30d",
    "quarter": "90d",
    "year": "365d",
}


class _Timeline(_Fields):
    """The timepoints section and the beats a template's metadata gives."""

    def _timeline(self) -> dict[str, Any]:
        tps = self.section("timepoints")
        count = self.number("timepoints.count", tps.get("count"), integer=True) or 1
        before = self.number("timepoints.before_count", tps.get("before_count"), integer=True) or 0
        after = self.number("timepoints.after_count", tps.get("after_count"), integer=True) or 0
        total = max(1, int(count) + int(before) + int(after))
        # Bounded before anything is allocated for the timepoints (the beats below).
        limits.check_count(total, limits.MAX_TIMEPOINTS, "timepoints (count, before and after)")
        resolution = tps.get("resolution") or "hour"
        if resolution not in STEP_BY_RESOLUTION:
            raise self.fail(
                "timepoints.resolution", f"one of {', '.join(STEP_BY_RESOLUTION)}", resolution
            )
        timeline: dict[str, Any] = {"count": total, "step": STEP_BY_RESOLUTION[resolution]}
        start = DEFAULT_START
        year = re.search(r"\b(1[0-9]{3}|20[0-9]{2})\b", str(self.data.get("scenario_description")))
        if year and not tps.get("start_time"):
            # No start time given: set the story in the year its description names.
            start = DEFAULT_START.replace(year=int(year.group(1)))
            timeline_start = start
        else:
            timeline_start = None
        if tps.get("start_time"):
            try:
                start = datetime.fromisoformat(str(tps["start_time"])).replace(tzinfo=None)
            except ValueError as exc:
                raise self.fail(
                    "timepoints.start_time", "an ISO date and time", tps["start_time"]
                ) from exc
            if not DEFAULT_START.replace(year=2) <= start < limits.LAST_MOMENT:
                raise self.fail(
                    "timepoints.start_time",
                    f"a date from the year 2 to {limits.LAST_MOMENT.year - 1}",
                    tps["start_time"],
                )
            timeline["start"] = start.isoformat()
        if timeline_start is not None and "start" not in timeline:
            timeline["start"] = timeline_start.isoformat()
        timeline["beats"] = self._beats(total, start)
        if not timeline["beats"]:
            del timeline["beats"]
        return timeline

    def _beats(self, total: int, start: datetime) -> list[dict[str, Any]]:
        meta = self.section("metadata")
        beats: list[dict[str, Any]] = [{} for _ in range(total)]
        emphasis = meta.get("knowledge_provenance_emphasis")
        if isinstance(emphasis, dict):
            for entry in emphasis.get("discovery_timeline", []) or []:
                if isinstance(entry, dict) and isinstance(entry.get("timepoint"), int):
                    i = entry["timepoint"] - 1
                    if 0 <= i < total and isinstance(entry.get("event"), str):
                        beats[i]["hint"] = entry["event"]
            for key in emphasis:
                if key not in {"discovery_timeline"}:
                    self.warn(
                        f"metadata.knowledge_provenance_emphasis.{key}",
                        "described barriers are enforced only through exposure events",
                    )
        narrative = meta.get("narrative_beats")
        if isinstance(narrative, list):
            for item in narrative:
                match = re.match(r"t(\d+)_(.+)", str(item))
                if match and 0 < int(match.group(1)) <= total:
                    text = match.group(2).replace("_", " ")
                    beats[int(match.group(1)) - 1].setdefault("title", text.capitalize())
        circadian = meta.get("circadian_config")
        if isinstance(circadian, dict) and isinstance(circadian.get("timepoints"), list):
            moment = start.replace(hour=0, minute=0)
            last = None
            for i, clock in enumerate(circadian["timepoints"][:total]):
                match = re.match(r"^(\d{1,2}):(\d{2})$", str(clock))
                if not match:
                    raise self.fail(
                        f"metadata.circadian_config.timepoints[{i}]", "a time HH:MM", clock
                    )
                at = moment.replace(hour=int(match.group(1)), minute=int(match.group(2)))
                while last is not None and at <= last:
                    at += timedelta(days=1)
                beats[i]["at"] = at.isoformat()
                last = at
            for key in circadian:
                if key != "timepoints":
                    self.warn(
                        f"metadata.circadian_config.{key}",
                        "circadian effects (M14) are not modelled yet",
                    )
        while beats and not beats[-1]:
            beats.pop()
        return beats
