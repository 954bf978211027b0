"""Fidelity (M1, M2, M6): levels decide what an entity does and costs; the policy, the
templates, compression; and the read model's grid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, TEMPLATES, needs_fixtures, run_scenario

from engine.fidelity import policy
from engine.fidelity.templates import template, template_names, thresholds
from engine.llm.contexts import first_sentence
from engine.model import events as ev
from engine.model.common import ResolutionLevel as L
from engine.scenario import ScenarioError, load_scenario
from engine.steps.context import StepContext


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


# --------------------------------------------------------------------------- the policy
def test_eigenvector_centrality_finds_the_hub() -> None:
    nodes = ["hub", "a", "b", "c", "loner"]
    edges = {("hub", "a"): 1.0, ("hub", "b"): 1.0, ("hub", "c"): 1.0, ("a", "b"): 0.2}
    c = policy.centrality(nodes, edges)
    assert c["hub"] == 1.0
    assert c["a"] == c["b"] > c["c"] > c["loner"] == 0.0
    assert policy.centrality(["x", "y"], {}) == {"x": 0.0, "y": 0.0}


def _standing(entity_id: str, **kw) -> policy.Standing:
    return policy.Standing(
        entity_id=entity_id, present=kw.pop("present", True), current=L.SCENE, **kw
    )


def test_the_template_decides_who_leads_and_who_only_witnesses() -> None:
    people = [_standing(f"p{i}", centrality=i / 10) for i in range(6)]
    balanced = policy.decide(
        people,
        importance=0.3,
        template=template("balanced"),
        thresholds=thresholds(),
        max_speakers=3,
    )
    leads = {k for k, d in balanced.items() if d.level == L.DIALOG}
    assert leads == {"p5", "p4", "p3"}, "the most central present lead"
    assert balanced["p0"].level == L.SCENE and balanced["p0"].reason == "present"
    minimal = policy.decide(
        people,
        importance=0.3,
        template=template("minimal"),
        thresholds=thresholds(),
        max_speakers=3,
    )
    assert sum(d.level == L.DIALOG for d in minimal.values()) == 2
    assert minimal["p0"].level == L.TENSOR_ONLY
    maximum = policy.decide(
        people,
        importance=0.3,
        template=template("maximum"),
        thresholds=thresholds(),
        max_speakers=3,
    )
    assert all(d.level == L.TRAINED for d in maximum.values())


def test_critical_moments_raise_the_leads_of_a_template_that_says_so() -> None:
    people = [_standing("a", centrality=1.0), _standing("b", centrality=0.2)]
    hq = policy.decide(
        people,
        importance=0.9,
        template=template("high_quality"),
        thresholds=thresholds(),
        max_speakers=2,
    )
    assert hq["a"].level == L.TRAINED and hq["a"].reason == "leads a critical moment"


def test_pins_queries_holds_and_disuse() -> None:
    t = thresholds()
    people = [
        _standing("pinned", pinned=L.TENSOR_ONLY, centrality=1.0),
        _standing("asked", present=False, queries=t.frequent_access),
        _standing("often", present=False, queries=t.trained_access),
        _standing("held", present=False, held=L.TRAINED),
        _standing("idle", present=False, idle=t.idle_timepoints),
        _standing("recent", present=False, idle=0),
    ]
    d = policy.decide(
        people, importance=0.2, template=template("balanced"), thresholds=t, max_speakers=3
    )
    assert d["pinned"].level == L.TENSOR_ONLY, "a pin is not raised by centrality or leading"
    assert d["asked"].level == L.DIALOG and "asked" in d["asked"].reason
    assert d["often"].level == L.TRAINED
    assert d["held"].level == L.TRAINED and d["held"].reason == "raised by a query"
    assert d["idle"].level == L.TENSOR_ONLY and d["idle"].compressed
    assert d["recent"].level == L.SCENE, "away for a moment keeps its level"


def test_templates_are_data_with_budgets_and_schedules() -> None:
    assert {"minimal", "balanced", "high_quality", "maximum"} <= set(template_names())
    assert template("minimal").token_budget == 50000
    from engine.model.common import TemporalMode

    assert template("balanced").budget_for(TemporalMode.PORTAL) == 375000
    steps = template("portal_minimalist").step_levels(10)
    assert steps is not None and len(steps) == 10
    assert steps.count(L.TENSOR_ONLY) == 7 and steps.count(L.DIALOG) == 1
    pivots = template("portal_pivots").step_levels(6)
    assert pivots[0] == pivots[-1] == L.TRAINED
    with pytest.raises(ValueError, match="no fidelity template"):
        template("lavish")


def test_a_scenario_naming_an_unknown_template_is_refused(tmp_path: Path) -> None:
    data = json.loads((TEMPLATES / "harbor_strike.json").read_text())
    data["fidelity"] = {"template": "lavish"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ScenarioError, match="minimal"):
        load_scenario(str(path))


# --------------------------------------------------------------------------- levels in a run
def _pinned(tmp_path: Path, level: str, name: str = "harbor_strike") -> str:
    data = json.loads((TEMPLATES / f"{name}.json").read_text())
    for entity in data["entities"]:
        entity["resolution"] = level
    path = tmp_path / f"{name}-{level}.json"
    path.write_text(json.dumps(data))
    return str(path)


async def test_every_level_changes_what_a_run_does_and_costs(store, tmp_path: Path) -> None:
    seen = {}
    for level in L:
        summary, events = await run_scenario(
            _pinned(tmp_path, level.value, "vintners_council"), store
        )
        assert summary.status.value == "completed"
        calls = of(events, ev.LLMCallFinished)
        seen[level] = {
            "speakers": {e.turn.speaker for e in of(events, ev.DialogTurnFinished)},
            "actions": {c.action for c in calls},
            "tokens": sum(c.prompt_tokens for c in calls),
            # the run's opening turn: the same moment and an empty transcript at both
            # speaking levels, so what differs is the context the level brings
            "first": next(
                ((c.entity_id, c.prompt_tokens) for c in calls if c.action == "dialog_turn"),
                None,
            ),
            "witnessed": sum(  # the event seen, not what a beat reveals
                e.exposure.kind.value == "witnessed"
                and e.exposure.information
                in {t.timepoint.event_description for t in of(events, ev.TimepointCreated)}
                for e in of(events, ev.ExposureRecorded)
            ),
        }
        planned = of(events, ev.FidelityPlanned)
        assert planned and all(set(p.levels.values()) == {level} for p in planned)
    assert not seen[L.TENSOR_ONLY]["speakers"] and not seen[L.TENSOR_ONLY]["witnessed"]
    assert seen[L.SCENE]["witnessed"] > 0 and not seen[L.SCENE]["speakers"]
    assert not seen[L.GRAPH]["speakers"], "graph thinks but does not speak"
    # both levels speak with most of the cast (who exactly follows from what is said: a
    # question brings in the person asked, and a trained speaker says other things)
    assert len(seen[L.DIALOG]["speakers"]) >= 5 and len(seen[L.TRAINED]["speakers"]) >= 5
    tokens = [seen[level]["tokens"] for level in L]
    assert tokens[0] <= min(tokens[1], tokens[2]) and max(tokens[1], tokens[2]) < tokens[3], tokens
    assert tokens[3] > 10 * tokens[1], "speaking costs far more than witnessing"
    # (by how much depends on how much there is to know: this cast learns little beyond what
    # a dialog turn already carries)
    (opener, trained), (same, dialog) = seen[L.TRAINED]["first"], seen[L.DIALOG]["first"]
    assert opener == same
    assert trained > dialog + 20, ("a trained speaker brings its full context", trained, dialog)


def test_below_trained_a_call_gets_the_scenarios_gist() -> None:
    """The full premise and the atmosphere are TRAINED context (M1); a call about people below
    it gets the premise's first sentence and the setting."""
    scenario = load_scenario("vintners_council").scenario
    steps = StepContext.of(scenario, 0, None, None)  # type: ignore[arg-type]
    gist = steps.brief_for(L.DIALOG, L.GRAPH)
    assert steps.brief_for(L.DIALOG, L.TRAINED) is steps.brief
    assert steps.brief.description.startswith(gist.description)
    assert len(gist.description) < len(steps.brief.description) / 2
    assert gist.description.endswith(".") and gist.description.count(". ") == 0
    assert gist.atmosphere == "" and steps.brief.atmosphere
    assert gist.location == steps.brief.location and gist.title == steps.brief.title
    assert first_sentence("Dr. Hollins signs. Then she leaves.") == "Dr. Hollins signs."
    assert first_sentence("No stop here") == "No stop here"


async def test_graph_learns_and_reflects_where_scene_only_witnesses(store, tmp_path) -> None:
    data = json.loads((TEMPLATES / "snowbound_ward.json").read_text())
    ids = [e["id"] for e in data["entities"]]
    pins = dict(zip(ids, ["dialog", "dialog", "graph", "scene", "tensor_only"], strict=True))
    for entity in data["entities"]:
        entity["resolution"] = pins[entity["id"]]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(data))
    _summary, events = await run_scenario(str(path), store)
    by_level = {
        level: next(k for k, v in pins.items() if v == level) for level in set(pins.values())
    }
    speakers = {e.turn.speaker for e in of(events, ev.DialogTurnFinished)}
    assert speakers == {by_level["dialog"]} | {ids[1]}
    told = {
        x.exposure.entity_id
        for x in of(events, ev.ExposureRecorded)
        if x.exposure.kind.value == "told"
    }
    witnessed = {
        x.exposure.entity_id
        for x in of(events, ev.ExposureRecorded)
        if x.exposure.kind.value == "witnessed"
    }
    reflected = {c.entity_id for c in of(events, ev.LLMCallFinished) if c.action == "prospection"}
    assert by_level["graph"] in told and by_level["graph"] in reflected
    assert by_level["scene"] in witnessed
    assert by_level["scene"] not in told and by_level["scene"] not in reflected
    assert by_level["tensor_only"] not in witnessed | told | reflected


async def test_only_the_leads_speak_and_only_learners_learn(store) -> None:
    _summary, events = await run_scenario("vintners_council", store)
    planned = {p.timepoint_id: p for p in of(events, ev.FidelityPlanned)}
    for started in of(events, ev.DialogStarted):
        levels = planned[started.timepoint_id].levels
        assert all(levels[s].rank >= L.DIALOG.rank for s in started.participants)
    for x in of(events, ev.ExposureRecorded):
        if x.exposure.kind.value == "told":
            tp = x.exposure.timepoint_id
            assert planned[tp].levels[x.exposure.entity_id].rank >= L.GRAPH.rank
    for call in of(events, ev.LLMCallFinished):
        if call.action == "prospection":
            assert planned[call.timepoint_id].levels[call.entity_id].rank >= L.GRAPH.rank
        if call.action == "dialog_turn":
            assert call.entity_id is not None


async def test_an_entity_nobody_looks_at_is_compressed_and_loses_nothing(store, tmp_path) -> None:
    data = json.loads((TEMPLATES / "snowbound_ward.json").read_text())
    beats = data["timeline"]["beats"]
    for beat in beats[1:4]:  # Walter is at the first and the last timepoints only
        beat["present"] = [e for e in beat["present"] if e != "walter_ashby"]
    beats[4]["present"].append("walter_ashby") if "walter_ashby" not in beats[4][
        "present"
    ] else None
    path = tmp_path / "away.json"
    path.write_text(json.dumps(data))
    summary, events = await run_scenario(str(path), store)
    idle = thresholds().idle_timepoints
    compressed = [c for c in of(events, ev.EntityCompressed) if c.entity_id == "walter_ashby"]
    assert len(compressed) == 1
    c = compressed[0]
    assert c.timepoint_id == f"tp{idle + 2:02d}", "compressed once unseen for the idle time"
    assert c.resolution == L.TENSOR_ONLY and c.previous.rank > L.TENSOR_ONLY.rank
    assert c.full_tokens > 3 * c.compressed_tokens > 0, (c.full_tokens, c.compressed_tokens)
    last = of(events, ev.FidelityPlanned)[-1]
    assert last.levels["walter_ashby"].rank >= L.SCENE.rank, "back when present again"
    # nothing established about him was lost by compressing him
    held_before = {
        x.exposure.information
        for x in of(events, ev.ExposureRecorded)
        if x.exposure.entity_id == "walter_ashby" and x.seq < c.seq
    }
    rows = await store.table("exposure_events", summary.run_id)
    assert held_before <= {r["information"] for r in rows if r["entity_id"] == "walter_ashby"}
    levels = await store.table("fidelity", summary.run_id)
    assert any(r["cause"] == "compressed" and r["entity_id"] == "walter_ashby" for r in levels)


@needs_fixtures
def test_a_reference_templates_fidelity_template_is_used() -> None:
    path = next(FIXTURES.glob("templates/*/agent2_mission_failure.json"))
    loaded = load_scenario(str(path))
    assert loaded.scenario.fidelity.template == "dramatic"
    assert loaded.scenario.fidelity.initial == L.TRAINED
    assert not any("fidelity_template" in w for w in loaded.warnings)
    assert any("fidelity_planning_mode" in w for w in loaded.warnings), "what is not used is said"


async def test_compressed_then_raised_again_nothing_is_lost(store, tmp_path) -> None:
    from engine.llm.offline import OfflineProvider
    from engine.query.execute import Consent
    from engine.query.stored import run_query

    data = json.loads((TEMPLATES / "snowbound_ward.json").read_text())
    for beat in data["timeline"]["beats"][1:]:
        beat["present"] = [e for e in beat["present"] if e != "walter_ashby"]
    path = tmp_path / "away.json"
    path.write_text(json.dumps(data))
    summary, events = await run_scenario(str(path), store)
    c = next(e for e in of(events, ev.EntityCompressed) if e.entity_id == "walter_ashby")
    before = {
        r["information"]
        for r in await store.table("exposure_events", summary.run_id)
        if r["entity_id"] == "walter_ashby"
    }
    view = await store.load_view(summary.run_id, everything=True)
    assert view.level_at("walter_ashby", "tp05").level == "tensor_only"
    out = await run_query(
        store,
        OfflineProvider(),
        summary.run_id,
        "@walter_ashby@tp05 why did you drink from the jug?",
        consent=Consent(elevate=True),
    )
    assert out.elevated is not None and out.elevated.previous == L.TENSOR_ONLY
    after = await store.load_view(summary.run_id, everything=True)
    held = {k.information for k in after.knowledge_at("walter_ashby", "tp05")}
    assert before <= held, "compression kept everything, and raising him again loses nothing"
    assert after.level_at("walter_ashby", "tp05").level == "dialog"
    assert c.full_tokens > c.compressed_tokens


async def test_an_events_prompt_sums_up_a_crowd_of_witnesses(store, tmp_path) -> None:
    """The event call of a large cast names the people who think and speak, each with their
    mood, and gives those only witnessing (SCENE) as one line of how many and what they are;
    a cast of a dozen or fewer is named in full, witnesses too."""
    from engine.llm.offline import OfflineProvider
    from engine.llm.prompts import CAST_IN_FULL, render
    from engine.llm.protocol import ActionType
    from engine.model.responses import TimepointEventResponse

    data = json.loads((TEMPLATES / "vintners_council.json").read_text())
    for i, entity in enumerate(data["entities"]):
        entity["resolution"] = "dialog" if i < 2 else "scene"
    extra = data["entities"][-1]
    for i in range(CAST_IN_FULL):
        data["entities"].append(
            {**extra, "id": f"picker_{i}", "name": f"Picker Number{i}", "role": "picker"}
        )
    path = tmp_path / "crowd.json"
    path.write_text(json.dumps(data))
    prompts: list[str] = []

    class Recording(OfflineProvider):
        def _answer(self, request):  # type: ignore[no-untyped-def]
            if request.action == ActionType.TIMEPOINT_EVENT:
                messages = render(request.action, request.context, TimepointEventResponse)
                prompts.append(messages[-1].content)
            return super()._answer(request)

    _summary, events = await run_scenario(str(path), store, provider=Recording(0))
    leads = [e["name"] for e in data["entities"][:2]]
    crowd = [e["name"] for e in data["entities"][2:]]
    later = prompts[1:]  # the first is written before any level is decided
    assert later and len(prompts) == len(of(events, ev.TimepointCreated))
    for prompt in later:
        cast = prompt.split("Characters now:\n", 1)[1].split("\n\n", 1)[0]
        assert all(f"- {name}, " in cast for name in leads), cast
        assert not any(name in cast for name in crowd), cast
        assert f"Also there, watching: {len(crowd)} others: picker ({CAST_IN_FULL})" in cast
    small = data["entities"][: CAST_IN_FULL - 2]
    data["entities"] = small
    path.write_text(json.dumps(data))
    prompts.clear()
    await run_scenario(str(path), store, provider=Recording(0))
    for prompt in prompts[1:]:
        assert all(f"- {e['name']}, " in prompt for e in small) and "watching" not in prompt
