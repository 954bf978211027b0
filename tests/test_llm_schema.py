"""Answers a small model can produce: every response schema is bounded for constrained
decoding, and a number just out of range is clamped and noted instead of failing the call."""

from __future__ import annotations

import json

import pytest
from test_llm_fakeserver import FakeServer, Reply, _kind, answer_for
from test_llm_openai import calls, provider, run, small_scenario

from engine.llm.openai import _schema
from engine.llm.prompts import _schema as prompt_schema
from engine.llm.protocol import ActionType
from engine.llm.responses import RESPONSE_MODELS
from engine.llm.schema import bounded_schema, longest_answer, unbounded
from engine.model import events as ev
from engine.model.responses import (
    DialogTurnResponse,
    ExtractionResponse,
    SceneResponse,
    TimepointEventResponse,
)


@pytest.mark.parametrize("model", list(RESPONSE_MODELS.values()), ids=lambda m: m.__name__)
def test_every_response_schema_is_bounded(model) -> None:
    schema = bounded_schema(model)
    assert unbounded(schema) == []


def test_the_walk_finds_what_a_decoder_could_run_on() -> None:
    gaps = unbounded(DialogTurnResponse.model_json_schema())
    assert ".content: text without maxLength" in gaps
    assert ".knowledge_references: list without maxItems" in gaps
    schema = {"type": "object", "properties": {"x": {"type": "number", "minimum": 0}}}
    assert unbounded(schema) == [".x: number without minimum and maximum"]


def test_bounds_are_sized_to_the_field_and_the_models_own_are_kept() -> None:
    turn = bounded_schema(DialogTurnResponse)["properties"]
    assert turn["content"]["maxLength"] == 400
    assert turn["emotional_tone"]["maxLength"] == 24
    assert turn["knowledge_references"]["maxItems"] == 1
    # a field of one model bounded apart from the same name elsewhere ("Model.field")
    item = bounded_schema(ExtractionResponse)["$defs"]["KnowledgeItem"]["properties"]
    assert item["content"]["maxLength"] == 200
    assert bounded_schema(ExtractionResponse)["properties"]["items"]["maxItems"] == 3
    assert "maxLength" not in turn["stance"] and turn["stance"]["enum"]
    event = bounded_schema(TimepointEventResponse)["properties"]
    assert event["title"]["maxLength"] == 120  # the model's own bound
    assert event["importance"]["minimum"] == 0 and event["importance"]["maximum"] == 1
    # the model itself is not changed
    assert "maxLength" not in DialogTurnResponse.model_json_schema()["properties"]["content"]


EVERY_TURN = (
    ActionType.DIALOG_TURN,
    ActionType.KNOWLEDGE_EXTRACTION,
    ActionType.PROSPECTION,
    ActionType.SCENE_GENERATION,
    ActionType.TIMEPOINT_EVENT,
    ActionType.ENTITY_PRESENCE,
    ActionType.ENTITY_QUERY,
)


@pytest.mark.parametrize("action", EVERY_TURN, ids=lambda a: a.value)
def test_what_every_turn_asks_for_fits_a_small_models_answer(action) -> None:
    """The longest answer the schema allows stays within about 2,000 characters (some 500
    tokens): a small model with a few hundred tokens can always close the object."""
    model = RESPONSE_MODELS[action]
    assert longest_answer(bounded_schema(model)) <= 2000
    assert longest_answer(model.model_json_schema()) > 2000  # unbounded, it could run on


_BOUNDS = ("maxLength", "minLength", "maxItems", "minItems", "maxProperties", "minimum", "maximum")


def _meaning(schema):
    """What a schema allows, field by field: per path (through references, choices and list
    items) the values or types allowed, its bounds and its required fields. Two schemas
    written differently that allow the same answers have the same meaning."""
    defs = schema.get("$defs", {})
    found: dict[str, dict] = {}

    def walk(node, path):
        if "$ref" in node:  # the definition, and what is said beside the reference
            walk(defs[node["$ref"].rsplit("/", 1)[-1]], path)
            node = {key: value for key, value in node.items() if key != "$ref"}
        here = found.setdefault(path, {"allowed": set(), "bounds": set(), "required": set()})
        for choice in node.get("anyOf", ()):
            walk(choice, path)
        kinds = node.get("type")
        kinds = [kinds] if isinstance(kinds, str) else list(kinds or ())
        if "enum" in node:
            here["allowed"] |= {("value", v) for v in node["enum"]}
            kinds = [k for k in kinds if k == "null"]  # an enum's values carry their type
        here["allowed"] |= {("value", None) if k == "null" else ("type", k) for k in kinds}
        here["bounds"] |= {(k, node[k]) for k in _BOUNDS if k in node}
        here["required"] |= set(node.get("required", ()))
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{name}")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                walk(node[key], f"{path}[{key}]")
            elif key in node:
                here["bounds"].add((key, node[key]))

    walk(schema, "")
    return found


@pytest.mark.parametrize("action", list(RESPONSE_MODELS), ids=lambda a: a.value)
def test_the_bounded_schema_is_what_a_model_is_sent(action) -> None:
    """Structured output sends the bounded schema; the prompt shows a shorter schema of the
    same meaning: every field, value, bound and required field of it, without pydantic's
    titles, docstrings and defaults, choices of null folded into one type, and a definition
    used once written where it is used."""
    model = RESPONSE_MODELS[action]
    assert _schema(model) == bounded_schema(model)
    shown = json.loads(prompt_schema(model).split("Schema:\n", 1)[1])
    assert _meaning(shown) == _meaning(bounded_schema(model))
    text = json.dumps(shown)
    assert '"default"' not in text and '"$ref"' not in text
    assert '"title"' not in text or "title" in model.model_fields
    assert len(text) < 0.75 * len(json.dumps(bounded_schema(model)))


def test_the_meaning_of_a_schema_sees_a_lost_bound_a_lost_value_and_a_lost_null() -> None:
    """The comparison above can fail: a shown schema that dropped a bound, a value of a
    closed set or the null of an optional field means something else."""
    full = bounded_schema(DialogTurnResponse)
    shown = json.loads(prompt_schema(DialogTurnResponse).split("Schema:\n", 1)[1])
    for field, change in (
        ("content", lambda f: f.pop("maxLength")),
        ("stance", lambda f: f["enum"].pop()),
        ("addressed_to", lambda f: f.update(type="string")),
    ):
        broken = json.loads(json.dumps(shown))
        change(broken["properties"][field])
        assert _meaning(broken) != _meaning(full), field


async def test_a_number_just_out_of_range_is_clamped_and_noted(store, tmp_path) -> None:
    def script(seen, index):
        if _kind(seen.body.get("messages", [])) != "scene":
            return None
        answer = answer_for(seen.body)
        answer["atmosphere"]["energy"] = -0.2  # what small models do
        answer["atmosphere"]["tension"] = 1.3
        return Reply(text=json.dumps(answer))

    async with FakeServer(script) as server:
        prov = provider(server)
        try:
            summary, events = await run(small_scenario(tmp_path), store, prov)
        finally:
            await prov.aclose()
    assert summary.status.value == "completed", summary.status_reason
    scene_calls = [c for c in calls(events) if c.action == "scene_generation"]
    assert scene_calls and all(c.status.value == "degraded" for c in scene_calls)
    assert all("atmosphere.energy -0.2 -> 0" in (c.error or "") for c in scene_calls)
    assert all("atmosphere.tension 1.3 -> 1" in (c.error or "") for c in scene_calls)
    # no repair request was needed: one request per scene
    scene_bodies = [b for b in server.chat_bodies() if _kind(b.get("messages", [])) == "scene"]
    assert len(scene_bodies) == len(scene_calls)
    opened = [e for e in events if isinstance(e, ev.SceneRead)]
    assert opened and all(e.scene.atmosphere.energy == 0.0 for e in opened)


async def test_anything_else_wrong_still_gets_a_repair_request(store, tmp_path) -> None:
    def script(seen, index):
        messages = seen.body.get("messages", [])
        if _kind(messages) != "scene" or "could not be used" in messages[-1]["content"]:
            return None
        answer = answer_for(seen.body)
        answer["atmosphere"]["energy"] = "high"  # a word, not a number: not clamped
        return Reply(text=json.dumps(answer))

    async with FakeServer(script) as server:
        prov = provider(server)
        try:
            summary, events = await run(small_scenario(tmp_path), store, prov)
        finally:
            await prov.aclose()
    assert summary.status.value == "completed", summary.status_reason
    failed = [
        c for c in calls(events) if c.action == "scene_generation" and c.status.value == "failed"
    ]
    assert failed and all("atmosphere.energy" in (c.error or "") for c in failed)
    repairs = [
        b
        for b in server.chat_bodies()
        if "could not be used" in b["messages"][-1]["content"]
        and "atmosphere.energy" in b["messages"][-1]["content"]
    ]
    assert len(repairs) == len(failed)


def test_the_repair_request_names_each_wrong_field_and_what_it_was() -> None:
    from pydantic import ValidationError

    from engine.llm.validation import brief

    answer = {
        "environment": {"location": "the hall"},
        "atmosphere": {"tension": 2, "formality": 0.1, "valence": 0, "energy": "high"},
    }
    try:
        SceneResponse.model_validate(answer)
    except ValidationError as exc:
        problem = brief(exc)
    else:
        raise AssertionError("the answer should not validate")
    assert "atmosphere.tension: Input should be less than or equal to 1 (it was 2)" in problem
    assert "atmosphere.energy: " in problem and '(it was "high")' in problem
    assert "atmosphere.description: Field required" in problem


def test_clamping_takes_a_number_past_its_end_but_nothing_else() -> None:
    from pydantic import ValidationError

    from engine.llm.clamp import rescue
    from engine.llm.protocol import LLMResponse
    from engine.model.responses import ProspectionResponse

    def attempt(text: str):
        reply = LLMResponse(text=text, model="m")
        try:
            ProspectionResponse.model_validate_json(text)
        except ValidationError as exc:
            return rescue(reply, ProspectionResponse, exc)
        raise AssertionError("the answer should not validate")

    fixed = attempt(
        '{"memory": "the vote", "anxiety": 1e308, "expectations": '
        '[{"about": "a walkout", "likelihood": -0.5}]}'
    )
    assert fixed is not None
    answer, notes = fixed
    assert answer.anxiety == 1.0 and answer.expectations[0].likelihood == 0.0
    assert set(notes) == {"anxiety 1e+308 -> 1", "expectations.0.likelihood -0.5 -> 0"}
    assert attempt('{"memory": "the vote", "anxiety": "high"}') is None  # a word, not a number
    assert attempt('{"anxiety": 2}') is None  # a missing field is not a number out of range


def test_a_raw_newline_inside_a_string_is_still_an_answer() -> None:
    from engine.llm.jsonparse import extract_json

    reply = '{"content": "The Quay", "physical_state_influence": ">\n\n" }'
    assert extract_json(reply) == {"content": "The Quay", "physical_state_influence": ">\n\n"}


def test_a_definition_used_once_is_written_in_place_and_one_used_twice_stays() -> None:
    from engine.llm.schema import _inlined

    schema = {
        "$defs": {"Once": {"type": "string", "maxLength": 3}, "Twice": {"type": "integer"}},
        "properties": {
            "a": {"$ref": "#/$defs/Once", "minLength": 1},
            "b": {"$ref": "#/$defs/Twice"},
            "c": {"items": {"$ref": "#/$defs/Twice"}, "type": "array"},
        },
    }
    out = _inlined(schema)
    assert out["properties"]["a"] == {"type": "string", "maxLength": 3, "minLength": 1}
    assert out["$defs"] == {"Twice": {"type": "integer"}}
    assert out["properties"]["b"] == {"$ref": "#/$defs/Twice"}
    assert _meaning(out) == _meaning(schema)
