"""The entities of a reference template: its roster and the other metadata sections that name
entities, each with its knowledge, fidelity and bodily state."""

from __future__ import annotations

from typing import Any

from ...model.common import ResolutionLevel
from .fields import _Fields
from .names import _slug, _type_of, name_from_id


class _Entities(_Fields):
    """The entities section and the roster a template's metadata gives."""

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
                k
                for k in self.strings(
                    f"metadata.entity_roster.{key}.initial_knowledge", spec.get("initial_knowledge")
                )
                if len(k) >= 3
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
