"""Reading the reference engine's template format (timepoint-pro) into our scenario format.

What maps onto something our engine does is converted; everything else that carries a value is
reported as a warning naming the field. Nothing is dropped silently.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from ..model.common import ENTITY_TYPES, ResolutionLevel, TemporalMode
from .loader import ScenarioError
from .schema import DEFAULT_START

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
TITLES = {
    "dr": "Dr.",
    "judge": "Judge",
    "cmdr": "Cmdr.",
    "lt": "Lt.",
    "capt": "Capt.",
    "captain": "Captain",
    "prof": "Prof.",
    "sgt": "Sgt.",
    "nurse": "Nurse",
}
ROLE_WORDS = frozenset(
    [
        "plaintiff",
        "defense",
        "defence",
        "counsel",
        "attorney",
        "witness",
        "general",
        "whistleblower",
        "sec",
        "cro",
        "cfo",
        "ceo",
        "cto",
        "coo",
        "regulator",
        "analyst",
        "eng",
        "engineer",
        "officer",
        "founder",
        "investor",
        "partner",
        "vp",
        "patient",
        "agent",
        "lead",
        "chief",
        "senior",
        "junior",
        "external",
        "internal",
        "program",
        "director",
        "compliance",
        "young",
        "investigator",
        "reviewer",
        "manager",
        "building",
    ]
)
FORWARD_TEMPORAL = frozenset({"mode", "dramatic_tension"})
BUDGET_TEMPORAL = frozenset(
    {
        "token_budget",
        "token_budget_mode",
        "fidelity_template",
        "fidelity_planning_mode",
        "custom_fidelity_schedule",
    }
)
# Honoured as the scenario's budget; the rest of BUDGET_TEMPORAL is reported as not enforced.
HONOURED_BUDGET = frozenset({"token_budget", "token_budget_mode"})
SOFT_BUDGET_MODES = frozenset({"soft", "soft_guidance", "max_quality"})
HARD_BUDGET_MODES = frozenset({"hard", "hard_constraint"})


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "t_" + slug
    return slug[:64]


def _type_of(key: str, declared: Any) -> str:
    if isinstance(declared, str) and declared in ENTITY_TYPES:
        return declared
    key = key.lower()
    for word, kind in (
        ("fox", "animal"),
        ("hound", "animal"),
        ("elk", "animal"),
        ("wolf", "animal"),
        ("heron", "animal"),
        ("okami", "kami"),
        ("kami", "kami"),
        ("spirit", "spirit"),
        ("shrine", "building"),
        ("building", "building"),
        ("ship", "vehicle"),
        ("moor", "environment"),
        ("planet", "environment"),
        ("biosphere", "environment"),
    ):
        if word in key:
            return kind
    return "human"


def name_from_id(entity_id: str, description: str) -> str:
    """A display name for an id such as ``witness_dr_patel``, preferring the fuller form the
    description uses ("Dr. Priya Patel")."""
    tokens = [t for t in entity_id.split("_") if t]
    titles = [TITLES[t] for t in tokens if t in TITLES]
    words = [t for t in tokens if t not in TITLES and t not in ROLE_WORDS]
    if not words:
        words = tokens[-1:]
    surname = words[-1].capitalize()
    for match in re.finditer(rf"((?:[A-Z][a-z]+\.? ){{1,2}}){surname}\b", description):
        lead = match.group(1).split()
        lead = [w for w in lead if w.rstrip(".").lower() not in {"the", "a", "an", "and", "with"}]
        if lead:
            return " ".join([*lead, surname])
    name = " ".join(w.capitalize() for w in words)
    return " ".join([*titles[:1], name]) if titles else name


class _Converter:
    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source
        self.warnings: list[str] = []

    def fail(self, path: str, expected: str, value: Any) -> ScenarioError:
        return ScenarioError(f"{self.source}: {path} expected {expected}, got {value!r}")

    def section(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "an object", value)
        return value

    def number(self, path: str, value: Any, *, integer: bool = False) -> float | int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(path, "a whole number" if integer else "a number", value)
        if integer and int(value) != value:
            raise self.fail(path, "a whole number", value)
        return int(value) if integer else float(value)

    def warn(self, path: str, why: str) -> None:
        self.warnings.append(f"{path}: {why}")

    def convert(self) -> dict[str, Any]:
        d = self.data
        description = d.get("scenario_description")
        if not isinstance(description, str) or len(description.strip()) < 20:
            raise self.fail(
                "scenario_description", "a description of at least 20 characters", description
            )
        temporal = self.section("temporal")
        mode = temporal.get("mode", "forward")
        if mode not in {m.value for m in TemporalMode}:
            raise self.fail(
                "temporal.mode", f"one of {', '.join(m.value for m in TemporalMode)}", mode
            )
        patch = self.section("patch")
        world = d.get("world_id") or patch.get("name") or "untitled"
        if not isinstance(world, str):
            raise self.fail("world_id", "text", world)
        title = patch.get("name") or world.replace("_", " ").title()
        tags = [t for t in patch.get("tags", []) if isinstance(t, str)]
        if isinstance(patch.get("category"), str):
            tags.insert(0, patch["category"])
        for key in ("author", "version", "description"):
            if patch.get(key):
                self.warn(f"patch.{key}", "kept only in the original file (not used by the engine)")
        out: dict[str, Any] = {
            "schema_version": 1,
            "name": _slug(world),
            "title": str(title),
            "description": description.strip(),
            "mode": mode,
            "tags": tags,
            "setting": {"location": self._location(description)},
        }
        tension = self.number("temporal.dramatic_tension", temporal.get("dramatic_tension"))
        if tension is not None:
            out["tension"] = max(0.0, min(1.0, tension))
        self._temporal_warnings(temporal, mode)
        budget = self._budget(temporal)
        if budget:
            out["budget"] = budget
        entities, count = self._entities(description)
        out["entities"] = entities
        if count is not None and count > len(entities):
            out["entity_count"] = count
        ents = self.section("entities")
        types = [t for t in ents.get("types", []) if t in ENTITY_TYPES]
        for t in ents.get("types", []):
            if t not in ENTITY_TYPES:
                self.warn("entities.types", f"unknown entity type {t!r} is not generated")
        if types:
            out["generated_types"] = types
        resolution = ents.get("initial_resolution")
        if resolution is not None:
            if resolution not in {r.value for r in ResolutionLevel}:
                raise self.fail(
                    "entities.initial_resolution",
                    f"one of {', '.join(r.value for r in ResolutionLevel)}",
                    resolution,
                )
            out["default_resolution"] = resolution
        level = self.number("entities.animism_level", ents.get("animism_level"), integer=True)
        if level is not None:
            out["animism_level"] = max(0, min(6, int(level)))
        for key in ("envelope", "adprs_envelopes"):
            if ents.get(key):
                self.warn(f"entities.{key}", "activation envelopes (ADPRS) are not supported yet")
        out["timeline"] = self._timeline()
        self._other_warnings()
        return out

    def _location(self, description: str) -> str:
        match = re.search(
            r"\b(?:in|at|on) (?:the )?([A-Z][\w'-]+(?: [A-Z][\w'-]+){0,3})", description
        )
        return match.group(1) if match else "the scene"

    def _temporal_warnings(self, temporal: dict[str, Any], mode: str) -> None:
        other_mode = sorted(
            k
            for k, v in temporal.items()
            if v is not None and k not in FORWARD_TEMPORAL and k not in BUDGET_TEMPORAL
        )
        if other_mode:
            self.warn(
                "temporal",
                f"{len(other_mode)} settings of the {mode} strategy are not "
                f"used by this version ({', '.join(other_mode)})",
            )
        fidelity = sorted(
            k for k in BUDGET_TEMPORAL - HONOURED_BUDGET if temporal.get(k) is not None
        )
        if fidelity:
            self.warn(
                "temporal",
                f"fidelity templates and planning are not enforced yet ({', '.join(fidelity)})",
            )

    def _budget(self, temporal: dict[str, Any]) -> dict[str, Any]:
        """``temporal.token_budget`` (with its mode) and ``max_cost_usd`` become the budget."""
        budget: dict[str, Any] = {}
        tokens = self.number("temporal.token_budget", temporal.get("token_budget"))
        if tokens is not None:
            if tokens < 1:
                raise self.fail("temporal.token_budget", "a positive number of tokens", tokens)
            budget["tokens"] = int(tokens)
        usd = self.number("max_cost_usd", self.data.get("max_cost_usd"))
        if usd is not None:
            if usd <= 0:
                raise self.fail("max_cost_usd", "a positive amount", usd)
            budget["usd"] = usd
        raw_mode = temporal.get("token_budget_mode")
        if raw_mode is not None:
            mode = str(raw_mode).lower()
            if mode not in SOFT_BUDGET_MODES | HARD_BUDGET_MODES:
                raise self.fail(
                    "temporal.token_budget_mode", "one of hard, soft, hard_constraint", raw_mode
                )
            if mode in SOFT_BUDGET_MODES and budget:
                budget["mode"] = "soft"
                if usd is not None:
                    self.warn(
                        "max_cost_usd",
                        "enforced as a soft limit (a warning) because token_budget_mode is soft",
                    )
        return budget

    def _roster(self, description: str) -> list[dict[str, Any]]:
        meta = self.section("metadata")
        roster: dict[str, dict[str, Any]] = {}
        raw = meta.get("entity_roster")
        if isinstance(raw, dict):
            for key, spec in raw.items():
                if not isinstance(spec, dict):
                    raise self.fail(f"metadata.entity_roster.{key}", "an object", spec)
                roster[key] = dict(spec)
        for section in ("embodied_constraints", "cognitive_traits", "animistic_entities"):
            block = meta.get(section)
            if isinstance(block, dict):
                for key in block:
                    roster.setdefault(key, {})
        panel = meta.get("panel_members")
        if isinstance(panel, list):
            for member in panel:
                if isinstance(member, dict) and isinstance(member.get("role"), str):
                    key = _slug(member["role"])
                    roster.setdefault(
                        key,
                        {
                            "role": member["role"],
                            "description": member.get("description", ""),
                            "initial_knowledge": member.get("private_knowledge", []),
                            "name": member["role"],
                        },
                    )
        firms = meta.get("vc_firms")
        if isinstance(firms, list):
            for firm in firms:
                if isinstance(firm, dict) and isinstance(firm.get("partner"), str):
                    key = _slug(firm["partner"])
                    roster.setdefault(
                        key,
                        {
                            "role": f"Partner at {firm.get('name', 'a venture firm')}",
                            "name": firm["partner"],
                            "initial_knowledge": [
                                f"{firm.get('name', 'the firm')} focuses on "
                                f"{str(firm.get('focus', 'early-stage deals')).replace('_', ' ')}"
                            ],
                        },
                    )
        return self._roster_entities(roster, meta, description)

    def _roster_entities(
        self, roster: dict[str, dict[str, Any]], meta: dict[str, Any], description: str
    ) -> list[dict[str, Any]]:
        entities = []
        unused: set[str] = set()
        embodied = (
            meta.get("embodied_constraints")
            if isinstance(meta.get("embodied_constraints"), dict)
            else {}
        )
        for key, spec in roster.items():
            entity_id = _slug(key)
            kind = _type_of(key, spec.get("type"))
            role = spec.get("role") or key.replace("_", " ")
            entity: dict[str, Any] = {
                "id": entity_id,
                "name": spec.get("name") or name_from_id(key, description),
                "type": kind,
                "role": str(role),
            }
            if spec.get("description"):
                entity["description"] = str(spec["description"])
            knowledge = [
                k for k in spec.get("initial_knowledge", []) if isinstance(k, str) and len(k) >= 3
            ]
            if knowledge:
                entity["knowledge"] = knowledge
            fidelity = spec.get("initial_fidelity")
            if fidelity in {r.value for r in ResolutionLevel}:
                entity["resolution"] = fidelity
            state = self._embodied(key, embodied.get(key))
            if state:
                entity["state"] = state
            for extra in spec:
                if extra not in {
                    "type",
                    "role",
                    "initial_knowledge",
                    "initial_fidelity",
                    "description",
                    "name",
                }:
                    unused.add(extra)
            entities.append(entity)
        for extra in sorted(unused):
            self.warn(f"metadata.entity_roster.*.{extra}", "not used by this version")
        return entities

    def _embodied(self, key: str, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict):
            return {}
        state: dict[str, Any] = {}
        for name in ("pain", "fatigue"):
            value = spec.get(f"{name}_level", spec.get(name))
            if isinstance(value, int | float):
                state[name] = max(0.0, min(1.0, float(value)))
        if isinstance(spec.get("age"), int):
            state["age"] = spec["age"]
        for extra in spec:
            if extra not in {"pain_level", "pain", "fatigue", "fatigue_level", "age"}:
                self.warn(f"metadata.embodied_constraints.{key}.{extra}", "not modelled yet")
        return state

    def _entities(self, description: str) -> tuple[list[dict[str, Any]], int | None]:
        ents = self.section("entities")
        count = self.number("entities.count", ents.get("count"), integer=True)
        roster = self._roster(description)
        return roster, int(count) if count is not None else None

    def _timeline(self) -> dict[str, Any]:
        tps = self.section("timepoints")
        count = self.number("timepoints.count", tps.get("count"), integer=True) or 1
        before = self.number("timepoints.before_count", tps.get("before_count"), integer=True) or 0
        after = self.number("timepoints.after_count", tps.get("after_count"), integer=True) or 0
        total = max(1, int(count) + int(before) + int(after))
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

    def _other_warnings(self) -> None:
        d = self.data
        handled_meta = {
            "entity_roster",
            "embodied_constraints",
            "cognitive_traits",
            "animistic_entities",
            "panel_members",
            "vc_firms",
            "knowledge_provenance_emphasis",
            "narrative_beats",
            "circadian_config",
        }
        meta = self.section("metadata")
        for key, value in meta.items():
            if key in handled_meta or value in (None, [], {}):
                continue
            self.warn(f"metadata.{key}", "not used by this version")
        for key in ("cognitive_traits", "animistic_entities"):
            if meta.get(key):
                self.warn(
                    f"metadata.{key}",
                    "entities are created from it, but its values are not modelled",
                )
        outputs = self.section("outputs")
        if outputs:
            self.warn(
                "outputs",
                "exports are chosen when exporting, not in the scenario; "
                f"ignored here ({', '.join(sorted(outputs))})",
            )
        variations = self.section("variations")
        if variations.get("enabled"):
            self.warn("variations", "variations are not supported yet")
        for key in ("economic_scenario", "founder_profiles"):
            if d.get(key) is not None:
                self.warn(key, "not supported yet")
        known = {
            "scenario_description",
            "world_id",
            "patch",
            "entities",
            "timepoints",
            "temporal",
            "outputs",
            "variations",
            "metadata",
            "economic_scenario",
            "founder_profiles",
            "max_cost_usd",
            "enable_checkpoints",
            "checkpoint_interval",
        }
        for key in d:
            if key not in known:
                self.warn(key, "unknown field in a timepoint-pro template; ignored")


def convert_reference(data: dict[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """Convert a timepoint-pro template; return our scenario data and the warnings."""
    converter = _Converter(data, source)
    converted = converter.convert()
    return converted, converter.warnings
