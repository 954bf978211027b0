"""Loading scenario files, with errors that name the file, the field and what was expected."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from ..resources import bundled_dir
from ..safety import limits
from .errors import ScenarioError
from .schema import Scenario


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    source: str
    format: Literal["timeloom", "timepoint-pro"] = "timeloom"
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    title: str
    mode: str
    entities: int
    timepoints: int
    summary: str
    path: str
    tags: tuple[str, ...] = ()
    origin: str = "bundled"


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "string": "text",
    "bool": "true or false",
    "list": "a list",
    "dict": "an object",
    "model": "an object",
    "datetime": "a date and time such as 2030-01-07T09:00:00",
    "tuple": "a list",
}


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        return "is not a known field"
    msg = str(error["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    for prefix, word in _TYPE_WORDS.items():
        if kind.startswith(prefix) and kind.endswith(("_type", "_parsing")):
            msg = f"expected {word}"
            break
    msg = msg.replace("Input should be", "expected").replace("String should", "text should")
    if not isinstance(value, dict | list) and "got" not in msg:
        try:
            shown = json.dumps(value) if not isinstance(value, str) else repr(value[:80])
        except (TypeError, ValueError):
            shown = limits.shown_value(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        msg += f", got {shown}"
    return msg


def validation_message(source: str, exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    more = (
        f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        if len(errors) > 1
        else ""
    )
    where, what = _loc(tuple(first["loc"])), _describe(first)
    if what.startswith(f"{where}."):  # a check of several fields names them itself
        return f"{source}: {what}{more}"
    return f"{source}: {where} {what}{more}"


def check_references(scenario: Scenario, source: str) -> None:
    """Cross-field rules: unique ids, known ids in relationships and beats, ordered times."""
    ids: list[str] = [e.id for e in scenario.entities]
    seen: set[str] = set()
    for i, entity_id in enumerate(ids):
        if entity_id in seen:
            raise ScenarioError(
                f"{source}: entities[{i}].id {limits.shown_value(entity_id)} is used twice"
            )
        seen.add(entity_id)
    known = set(ids)

    def need(entity_id: str, where: str) -> None:
        if entity_id not in known:
            raise ScenarioError(
                f"{source}: {where} names {limits.shown_value(entity_id)}, expected one of the "
                f"entity ids ({limits.capped(ids) or 'none defined'})"
            )

    for i, rel in enumerate(scenario.relationships):
        for j, entity_id in enumerate(rel.between):
            need(entity_id, f"relationships[{i}].between[{j}]")
        if rel.between[0] == rel.between[1]:
            raise ScenarioError(f"{source}: relationships[{i}].between names the same entity twice")
    if scenario.branching is not None:
        for i, alt in enumerate(scenario.branching.alternatives):
            if alt.decided_by is not None:
                need(alt.decided_by, f"branching.alternatives[{i}].decided_by")
    timeline = scenario.timeline
    if len(timeline.beats) > timeline.count:
        raise ScenarioError(
            f"{source}: timeline.beats has {len(timeline.beats)} entries, expected at most "
            f"timeline.count ({timeline.count})"
        )
    previous = None
    for i, beat in enumerate(timeline.beats):
        for j, entity_id in enumerate(beat.present or ()):
            need(entity_id, f"timeline.beats[{i}].present[{j}]")
        for j, reveal in enumerate(beat.reveals):
            need(reveal.entity, f"timeline.beats[{i}].reveals[{j}].entity")
        if beat.at is not None:
            if previous is not None and beat.at <= previous:
                raise ScenarioError(
                    f"{source}: timeline.beats[{i}].at must be later than the beat before it"
                )
            previous = beat.at
    if scenario.total_entities == 0:
        raise ScenarioError(
            f"{source}: entities is empty, expected at least one entity or an entity_count"
        )


def parse_scenario(data: Any, source: str) -> LoadedScenario:
    """Turn parsed JSON into a scenario, detecting which of the two formats it is."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a JSON object at the top level")
    try:  # bounded before anything is built from it
        limits.check_tree(data, source)
    except limits.LimitError as exc:
        raise ScenarioError(str(exc)) from None
    if "scenario_description" in data and "schema_version" not in data:
        from .reference import convert_reference

        try:
            converted, warnings = convert_reference(data, source)
        except ScenarioError:
            raise
        except limits.LimitError as exc:
            raise ScenarioError(f"{source}: {exc}") from None
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            # A shape the converter does not expect somewhere it has no check of its own.
            raise ScenarioError(
                f"{source}: is not a timepoint-pro template this version can read "
                f"({exc.__class__.__name__}: {limits.shown_value(str(exc), 120)})"
            ) from None
        fmt: Literal["timeloom", "timepoint-pro"] = "timepoint-pro"
    else:
        converted, warnings, fmt = data, (), "timeloom"
    try:
        scenario = Scenario.model_validate(converted)
    except ValidationError as exc:
        raise ScenarioError(validation_message(source, exc)) from exc
    except limits.LimitError as exc:  # pragma: no cover - pydantic wraps what validators raise
        raise ScenarioError(f"{source}: {exc}") from None
    check_references(scenario, source)
    return LoadedScenario(scenario=scenario, source=source, format=fmt, warnings=tuple(warnings))


def load_file(path: Path) -> LoadedScenario:
    source = str(path)
    try:
        limits.check_file_size(path, limits.MAX_SCENARIO_BYTES, "a scenario file")
    except limits.LimitError as exc:
        raise ScenarioError(str(exc)) from None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ScenarioError(f"{source}: no such file") from exc
    except IsADirectoryError as exc:
        raise ScenarioError(f"{source}: is a folder, expected a scenario file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{source}: cannot be read ({exc.__class__.__name__})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"{source}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
        ) from exc
    except RecursionError:
        raise ScenarioError(
            f"{source}: nests deeper than the limit of {limits.MAX_JSON_DEPTH} levels"
        ) from None
    return parse_scenario(data, source)


def bundled_paths() -> list[Path]:
    folder = bundled_dir("templates")
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def user_paths() -> list[Path]:
    from ..paths import user_scenarios_dir

    folder = user_scenarios_dir()
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def load_scenario(ref: str) -> LoadedScenario:
    """Load a bundled scenario by name, or a scenario file (either format) by path."""
    path = Path(ref).expanduser()
    try:
        limits.check_path(path, "the scenario name or path")
    except limits.LimitError as exc:
        raise ScenarioError(str(exc)) from None
    if path.suffix == ".json" or path.exists() or "/" in ref or "\\" in ref:
        return load_file(path)
    for candidate in [*bundled_paths(), *user_paths()]:
        if candidate.stem == ref:
            return load_file(candidate)
    names = ", ".join(p.stem for p in bundled_paths())
    raise ScenarioError(f"no bundled scenario is called {ref!r}; try one of: {names}")


def _info(path: Path, origin: str) -> TemplateInfo:
    s = load_file(path).scenario
    summary = s.description.split(". ")[0].rstrip(".") + "."
    return TemplateInfo(
        s.name,
        s.title,
        s.mode.value,
        s.total_entities,
        s.timeline.count,
        summary,
        str(path),
        tuple(s.tags),
        origin,
    )


def scenario_catalog() -> tuple[list[TemplateInfo], list[str]]:
    """The bundled scenarios and the user's own; a user file that does not load is reported
    (one sentence each) and left out rather than hiding the others."""
    out = [_info(path, "bundled") for path in bundled_paths()]
    errors = []
    for path in user_paths():
        try:
            out.append(_info(path, "yours"))
        except ScenarioError as exc:
            errors.append(str(exc))
    return out, errors


def bundled_templates() -> list[TemplateInfo]:
    out = []
    for path in bundled_paths():
        loaded = load_file(path)
        s = loaded.scenario
        summary = s.description.split(". ")[0].rstrip(".") + "."
        out.append(
            TemplateInfo(
                s.name,
                s.title,
                s.mode.value,
                s.total_entities,
                s.timeline.count,
                summary,
                str(path),
                tuple(s.tags),
            )
        )
    return out
