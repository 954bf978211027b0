"""PORTAL scenarios: the portal section of our schema, its impossible settings (one sentence
naming the field), and the reference PORTAL templates' settings carried over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, TEMPLATES, needs_fixtures

from engine.scenario import ScenarioError, load_scenario
from tui.cli import main

PORTAL = {
    "endpoint": "The harbour board sells the North Quay to a developer in 1972.",
    "endpoint_at": "1972-06-01T12:00:00",
    "origin_at": "1968-09-16T09:00:00",
    "backward_steps": 4,
    "candidates_per_step": 3,
    "path_count": 3,
}


def _write(tmp_path: Path, **changes) -> Path:
    data = json.loads((TEMPLATES / "harbor_strike.json").read_text())
    data["mode"] = "portal"
    data["portal"] = {**PORTAL, **changes}
    path = tmp_path / "portal.json"
    path.write_text(json.dumps(data))
    return path


def test_a_portal_scenario_loads_with_its_search_settings(tmp_path) -> None:
    loaded = load_scenario(str(_write(tmp_path, strategy="oscillating", beam=4)))
    p = loaded.scenario.portal
    assert p is not None and p.backward_steps == 4 and p.strategy == "oscillating"
    assert p.width == 4 and p.weights.causal_necessity == 0.3


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"origin_at": "1973-01-01T00:00:00"}, "portal.origin_at"),
        ({"backward_steps": 0}, "backward_steps"),
        ({"candidates_per_step": 0}, "candidates_per_step"),
        ({"path_count": 5, "beam": 2}, "portal.path_count"),
        (
            {
                "weights": {
                    "plausibility": 0,
                    "historical_precedent": 0,
                    "causal_necessity": 0,
                    "entity_capability": 0,
                }
            },
            "portal.weights",
        ),
        ({"strategy": "sideways"}, "strategy"),
    ],
)
def test_impossible_portal_settings_are_one_sentence(tmp_path, capsys, changes, words) -> None:
    path = _write(tmp_path, **changes)
    with pytest.raises(ScenarioError, match=words):
        load_scenario(str(path))
    code = main(["run", str(path), "--headless", "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err


def test_the_portal_section_belongs_to_portal_mode(tmp_path) -> None:
    data = json.loads((TEMPLATES / "harbor_strike.json").read_text())
    data["portal"] = PORTAL
    path = tmp_path / "forward.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError, match="portal section belongs to portal mode"):
        load_scenario(str(path))
    del data["portal"]
    data["mode"] = "portal"
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError, match="needs a portal section"):
        load_scenario(str(path))


@needs_fixtures
@pytest.mark.parametrize(
    ("name", "steps"),
    [("mars_mission_portal", 10), ("agent1_regulatory_stress", 5), ("agent3_litigation_portal", 8)],
)
def test_reference_portal_templates_carry_their_settings(name, steps) -> None:
    path = next(FIXTURES.glob(f"templates/*/{name}.json"))
    loaded = load_scenario(str(path))
    p = loaded.scenario.portal
    assert loaded.scenario.mode.value == "portal" and p is not None
    assert p.backward_steps == steps and p.strategy == "adaptive" and p.path_count == 5
    assert p.candidates_per_step == 3 and p.coherence_threshold == 0.7
    assert p.origin_at < p.endpoint_at and p.simulation_judging
    assert any("judge_model" in w for w in loaded.warnings), "what is not used is named"
