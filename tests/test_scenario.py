"""Our scenario format: bundled templates, the JSON Schema, and one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TEMPLATES

from engine.scenario import Scenario, ScenarioError, bundled_templates, json_schema, load_scenario

MINIMAL = {
    "schema_version": 1,
    "name": "tiny",
    "title": "Tiny",
    "description": "Two neighbours argue about a fence that moved in the night.",
    "setting": {"location": "Elm Row"},
    "entities": [
        {
            "id": "ann",
            "name": "Ann Reyes",
            "role": "Neighbour",
            "knowledge": ["The fence moved a metre."],
        },
        {"id": "bo", "name": "Bo Lind", "role": "Neighbour"},
    ],
    "timeline": {"count": 2},
}


def write(tmp_path: Path, data: object, name: str = "s.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_bundled_templates_all_load_and_are_ours() -> None:
    templates = bundled_templates()
    names = {t.name for t in templates}
    assert len(templates) >= 4
    assert {"lighthouse_night", "vintners_council"} <= names
    for path in TEMPLATES.glob("*.json"):
        assert path.stem == json.loads(path.read_text())["name"]
    big = [t for t in templates if t.entities >= 8]
    assert big, "at least one scenario has a full roster of eight or more entities"


def test_large_template_has_a_full_roster() -> None:
    scenario = load_scenario("vintners_council").scenario
    assert len(scenario.entities) >= 8
    for entity in scenario.entities:
        assert entity.role and entity.knowledge and entity.personality
        assert entity.voice is not None
        assert entity.voice.verbal_tics and entity.voice.speech_examples
        assert entity.voice.specificity_anchors and entity.voice.never_says
        assert len(entity.traits) == 8


def test_minimal_file_loads(tmp_path: Path) -> None:
    loaded = load_scenario(str(write(tmp_path, MINIMAL)))
    assert loaded.format == "timeloom" and loaded.warnings == ()
    assert loaded.scenario.total_entities == 2


def test_json_schema_is_printable_and_describes_the_format() -> None:
    schema = json_schema()
    assert schema["type"] == "object"
    assert {"schema_version", "name", "entities", "timeline"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    out = subprocess.run(
        [sys.executable, "-m", "tui.cli", "schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout)["title"] == "timeloom scenario"


@pytest.mark.parametrize(
    ("mutate", "field", "expected"),
    [
        (lambda d: d["timeline"].__setitem__("count", "three"), "timeline.count", "whole number"),
        (lambda d: d.__setitem__("colour", "red"), "colour", "not a known field"),
        (lambda d: d.pop("title"), "title", "required"),
        (lambda d: d.__setitem__("mode", "sideways"), "mode", "forward"),
        (
            lambda d: d["entities"][1].__setitem__("traits", {"warmth": 1.4}),
            "entities[1].traits.warmth",
            "less than or equal to 1",
        ),
        (lambda d: d["entities"][0].__setitem__("type", "ghost"), "entities[0].type", "human"),
        (
            lambda d: d.__setitem__("relationships", [{"between": ["ann", "cy"]}]),
            "relationships[0].between[1]",
            "entity ids",
        ),
        (lambda d: d["timeline"].__setitem__("step", "soon"), "timeline.step", "'2h'"),
        (lambda d: d["entities"].append(dict(d["entities"][0])), "entities[2].id", "used twice"),
    ],
)
def test_bad_files_get_one_sentence_naming_file_field_and_expectation(
    tmp_path: Path, mutate, field: str, expected: str
) -> None:
    data = json.loads(json.dumps(MINIMAL))
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert message.startswith(str(path))
    assert field in message and expected in message
    assert "\n" not in message


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{"schema_version": 1,\n "name": }')
    with pytest.raises(ScenarioError, match=r"line 2, column 10: not valid JSON"):
        load_scenario(str(path))


def test_unknown_bundled_name_lists_the_choices() -> None:
    with pytest.raises(ScenarioError, match="lighthouse_night"):
        load_scenario("no_such_scenario")


@pytest.mark.parametrize(
    "content",
    [
        '{"schema_version": 1, "name": ',
        '{"schema_version": 1}',
        "[1, 2]",
        json.dumps({**MINIMAL, "mode": "sideways"}),
    ],
)
def test_cli_rejects_bad_files_with_exit_2_and_no_traceback(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, content)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui.cli",
            "run",
            str(path),
            "--headless",
            "--db",
            str(tmp_path / "x.db"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0]


def test_every_field_is_honoured_or_rejected() -> None:
    # The strict schema forbids unknown keys at every level.
    for model in (Scenario,):
        assert model.model_config.get("extra") == "forbid"
    schema = json_schema()
    for name, definition in schema.get("$defs", {}).items():
        if definition.get("type") == "object":
            assert definition.get("additionalProperties") is False, name
