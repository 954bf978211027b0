"""The reference engine's templates: every one loads, every FORWARD one runs offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import needs_fixtures, persisted, reference_templates, run_scenario

from engine.model import events as ev
from engine.scenario import ScenarioError, load_scenario
from engine.scenario.reference.names import name_from_id
from engine.simulation import Simulation, UnsupportedScenario

TEMPLATES = reference_templates()
FORWARD = [p for p in TEMPLATES if json.loads(p.read_text())["temporal"]["mode"] == "forward"]
BRANCHING = [p for p in TEMPLATES if json.loads(p.read_text())["temporal"]["mode"] == "branching"]
PORTAL = [p for p in TEMPLATES if json.loads(p.read_text())["temporal"]["mode"] == "portal"]
OTHER = [p for p in TEMPLATES if p not in FORWARD and p not in BRANCHING and p not in PORTAL]


@needs_fixtures
def test_fixture_set_is_complete() -> None:
    assert len(TEMPLATES) >= 18 and len(FORWARD) >= 8


@needs_fixtures
@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_reference_template_loads_with_named_warnings(path: Path) -> None:
    loaded = load_scenario(str(path))
    assert loaded.format == "timepoint-pro"
    raw = json.loads(path.read_text())
    assert loaded.scenario.description == raw["scenario_description"].strip()
    assert loaded.scenario.mode.value == raw["temporal"]["mode"]
    assert loaded.warnings, "every reference template carries settings we report"
    for warning in loaded.warnings:
        field = warning.split(":", 1)[0]
        head = field.split(".")[0]
        assert head in raw, f"warning {warning!r} names a field the file does not have"
    roster = raw["metadata"].get("entity_roster") or {}
    ids = {e.id for e in loaded.scenario.entities}
    assert set(roster) <= ids
    for entity in loaded.scenario.entities:
        if entity.id in roster:
            assert list(entity.knowledge) == roster[entity.id].get("initial_knowledge", [])


@needs_fixtures
@pytest.mark.parametrize("path", FORWARD, ids=lambda p: p.stem)
async def test_every_forward_reference_template_runs_offline(path: Path, store) -> None:
    summary, events = await run_scenario(str(path), store, seed=3)
    assert summary.status.value == "completed", summary.status_reason
    raw = json.loads(path.read_text())
    tps = raw["timepoints"]
    assert summary.counts.timepoints == tps["count"] + tps["before_count"] + tps["after_count"]
    assert summary.counts.entities == max(
        raw["entities"]["count"], len(raw["metadata"].get("entity_roster") or {})
    )
    descriptions = [
        e.timepoint.event_description for e in events if isinstance(e, ev.TimepointCreated)
    ]
    assert len(set(descriptions)) == len(descriptions)
    assert not any("continue to unfold" in d.lower() for d in descriptions)
    assert len(persisted(events)) == await store.count("events", summary.run_id)


@needs_fixtures
@pytest.mark.parametrize("path", OTHER, ids=lambda p: p.stem)
async def test_other_modes_load_but_refuse_to_run_with_a_clear_sentence(path: Path, store) -> None:
    loaded = load_scenario(str(path))
    with pytest.raises(UnsupportedScenario, match="mode, which this version cannot run yet"):
        Simulation(loaded, provider=None, store=store)  # type: ignore[arg-type]


@needs_fixtures
def test_names_in_the_description_become_the_cast() -> None:
    path = next(p for p in TEMPLATES if p.stem == "jefferson_dinner")
    loaded = load_scenario(str(path))
    assert loaded.scenario.entity_count == 3 and loaded.scenario.entities == []


@needs_fixtures
async def test_jefferson_dinner_is_populated_with_its_named_guests(store) -> None:
    path = next(p for p in TEMPLATES if p.stem == "jefferson_dinner")
    _, events = await run_scenario(str(path), store)
    names = [e.profile.name for e in events if isinstance(e, ev.EntityCreated)]
    assert names == ["Jefferson", "Hamilton", "Madison"]
    # Roles come from archetypes that fit a political dinner (matched on the text and tags).
    archetypes = {e.profile.archetype for e in events if isinstance(e, ev.EntityCreated)}
    assert archetypes <= {"statesman", "diplomat", "senator", "political_aide"}, archetypes
    first = next(e for e in events if isinstance(e, ev.TimepointCreated))
    assert first.timepoint.timestamp.year == 1790
    calls = [
        e for e in events if isinstance(e, ev.LLMCallFinished) and e.action == "entity_population"
    ]
    assert len(calls) == 1


def test_name_from_id_prefers_the_description() -> None:
    text = "Dr. Elena Martinez, an experienced ER physician, treats Michael Chen."
    assert name_from_id("dr_martinez", text) == "Dr. Elena Martinez"
    assert name_from_id("judge_martinez", "nothing here") == "Judge Martinez"
    assert name_from_id("plaintiff_counsel_reeves", "") == "Reeves"


def test_reference_files_with_bad_values_name_the_field(tmp_path: Path) -> None:
    data = {
        "scenario_description": "A long enough description of a scenario.",
        "timepoints": {"count": "many"},
    }
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(data))
    with pytest.raises(
        ScenarioError, match=r"timepoints.count expected a whole number, got 'many'"
    ):
        load_scenario(str(path))
    data = {
        "scenario_description": "A long enough description of a scenario.",
        "temporal": {"mode": "sideways"},
    }
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError, match=r"temporal.mode expected one of forward"):
        load_scenario(str(path))
