"""Scene-level entity sets (M10): the atmosphere's shift, its carry-over, the offline scene
generator, the prompt and the provider."""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random

import pytest
from pydantic import ValidationError

from engine.agents import emotion
from engine.agents.cast import initial_entity, profile_from_spec
from engine.agents.scene import carry_over, shift_after_dialog
from engine.llm.contexts import (
    CastMember,
    EntityBrief,
    MoodBrief,
    ScenarioBrief,
    SceneContext,
    TimepointEventContext,
)
from engine.llm.offline import OfflineProvider
from engine.llm.offline.events import generate_event
from engine.llm.offline.provider import GENERATORS
from engine.llm.offline.scene import generate_scene
from engine.llm.offline.scene.setting import time_bucket
from engine.llm.prompts import render
from engine.llm.protocol import ActionType, LLMRequest
from engine.llm.responses import RESPONSE_MODELS
from engine.model import Atmosphere, DialogTurn, Environment, PersonaParams, ResolutionLevel, Scene
from engine.model.clock import time_of_day
from engine.model.responses import SceneResponse
from engine.modes import forward
from engine.scenario import load_scenario

NOW = datetime(2030, 1, 1, 9)
PARAMS = PersonaParams(
    temperature=0.7, top_p=0.9, max_tokens=100, frequency_penalty=0.1, presence_penalty=0.1
)
ROOM = Atmosphere(
    tension=0.5, formality=0.5, valence=0.0, energy=0.5, description="A quiet side room."
)


def turn(
    i: int, stance: str = "informs", tone: str = "neutral", content: str = "Fine."
) -> DialogTurn:
    return DialogTurn(
        dialog_id="d",
        turn_index=i,
        speaker="a" if i % 2 == 0 else "b",
        content=content,
        emotional_tone=tone,
        stance=stance,
        persona=PARAMS,
        timestamp=NOW,
    )


def heated(n: int = 4) -> list[DialogTurn]:
    return [
        turn(i, "challenges", "heated", "No! You hid it from us and you can't stop now—")
        for i in range(n)
    ]


def agreeing(n: int = 4) -> list[DialogTurn]:
    return [
        turn(i, "supports", "warm", "Yes, agreed. Good, we'll get through this together.")
        for i in range(n)
    ]


# --------------------------------------------------------------------------- shift_after_dialog
def test_no_turns_leaves_the_atmosphere_unchanged() -> None:
    assert shift_after_dialog(ROOM, []) == ROOM


def test_a_run_of_challenges_heats_the_room() -> None:
    after = shift_after_dialog(ROOM, heated())
    assert after.tension > ROOM.tension + 0.15
    assert after.energy > ROOM.energy + 0.1
    assert after.valence < ROOM.valence - 0.15
    assert after.description.startswith(ROOM.description)
    assert len(after.description) > len(ROOM.description)  # a large change is described


def test_agreement_lowers_tension_and_warms_the_room() -> None:
    after = shift_after_dialog(ROOM, agreeing())
    assert after.tension < ROOM.tension - 0.15
    assert after.valence > ROOM.valence + 0.15


def test_more_heat_moves_the_room_further() -> None:
    one = shift_after_dialog(ROOM, heated(1))
    four = shift_after_dialog(ROOM, heated(4))
    assert ROOM.tension < one.tension < four.tension


def test_a_quiet_exchange_changes_little_and_keeps_the_description() -> None:
    after = shift_after_dialog(
        ROOM, [turn(0, content="The pump is in the boiler house."), turn(1, content="Noted.")]
    )
    assert after.description == ROOM.description
    assert abs(after.tension - ROOM.tension) < 0.05
    assert abs(after.formality - ROOM.formality) <= 0.1


def test_formality_drifts_only_slightly_toward_the_speakers_register() -> None:
    casual = [
        turn(i, "informs", "casual", "Yeah, okay love, we're gonna be fine, don't worry.")
        for i in range(6)
    ]
    after = shift_after_dialog(ROOM, casual)
    assert ROOM.formality - 0.15 <= after.formality < ROOM.formality
    formal = [turn(i, "informs", "formal", "Indeed, sir, policy requires it.") for i in range(6)]
    assert ROOM.formality < shift_after_dialog(ROOM, formal).formality <= ROOM.formality + 0.15


@pytest.mark.parametrize(
    "start",
    [
        Atmosphere(tension=1.0, formality=0.0, valence=-1.0, energy=1.0, description="Loud."),
        Atmosphere(tension=0.0, formality=1.0, valence=1.0, energy=0.0, description="Still."),
    ],
)
def test_shifted_values_stay_in_range(start: Atmosphere) -> None:
    for turns in (heated(12), agreeing(12)):
        after = shift_after_dialog(start, turns)
        assert 0.0 <= after.tension <= 1.0
        assert 0.0 <= after.formality <= 1.0
        assert -1.0 <= after.valence <= 1.0
        assert 0.0 <= after.energy <= 1.0


def test_shift_is_deterministic_and_leaves_its_input_alone() -> None:
    before = ROOM.model_copy()
    assert shift_after_dialog(ROOM, heated()) == shift_after_dialog(ROOM, heated())
    assert before == ROOM


# --------------------------------------------------------------------------- carry_over
def test_carry_over_blends_the_numbers_and_keeps_the_fresh_description() -> None:
    previous = Atmosphere(tension=1.0, formality=0.0, valence=-1.0, energy=1.0, description="Old.")
    fresh = Atmosphere(tension=0.0, formality=1.0, valence=1.0, energy=0.0, description="New.")
    blended = carry_over(previous, fresh, weight=0.3)
    assert blended.tension == pytest.approx(0.3)
    assert blended.formality == pytest.approx(0.7)
    assert blended.valence == pytest.approx(0.4)
    assert blended.energy == pytest.approx(0.3)
    assert blended.description == "New."
    assert carry_over(None, fresh) == fresh
    assert carry_over(previous, fresh, weight=0.0) == fresh
    assert carry_over(previous, fresh, weight=1.0).tension == pytest.approx(1.0)
    with pytest.raises(ValueError):
        carry_over(previous, fresh, weight=1.5)


def test_scene_models_are_frozen_and_validated() -> None:
    with pytest.raises(ValidationError):
        Atmosphere(tension=1.2, formality=0.5, valence=0.0, energy=0.5, description="x")
    with pytest.raises(ValidationError):
        Atmosphere(tension=0.5, formality=0.5, valence=0.0, energy=0.5, description="")
    scene = Scene(timepoint_id="tp01", environment=Environment(location="Ward 3"), atmosphere=ROOM)
    assert scene.after is None
    with pytest.raises(ValidationError):
        scene.after = ROOM  # type: ignore[misc]


# --------------------------------------------------------------------------- offline scenes
def _moods(loaded) -> dict[str, MoodBrief]:
    out = {}
    for spec in loaded.entities:
        entity = initial_entity(profile_from_spec(spec), spec.state, ResolutionLevel.SCENE)
        c, t = entity.cognitive, entity.tensor
        out[spec.id] = MoodBrief(
            valence=c.valence,
            arousal=c.arousal,
            energy=c.energy,
            fatigue=t.bio("fatigue"),
            pain=t.bio("pain"),
            label=emotion.mood_label(c, t.bio("fatigue"), t.bio("pain")),
        )
    return out


def scene_contexts(name: str = "snowbound_ward") -> list[SceneContext]:
    """One scene context per scripted beat, with the offline event as its event."""
    loaded = load_scenario(name).scenario
    brief = ScenarioBrief(
        name=loaded.name,
        title=loaded.title,
        description=loaded.description,
        location=loaded.setting.location,
        atmosphere=loaded.setting.atmosphere,
        tags=tuple(loaded.tags),
    )
    moods = _moods(loaded)
    people = {
        spec.id: CastMember(
            entity=EntityBrief(
                entity_id=spec.id, name=spec.name, role=spec.role, entity_type=spec.type
            ),
            mood=moods[spec.id],
        )
        for spec in loaded.entities
    }
    count = loaded.timeline.count
    contexts = []
    for index, beat in enumerate(loaded.timeline.beats[:count]):
        when = beat.at or loaded.timeline.start + index * timedelta(hours=2)
        tension = forward.tension(index, count, loaded.tension)
        present = tuple(people[e] for e in beat.present) or tuple(people.values())
        event = generate_event(
            TimepointEventContext(
                scenario=brief,
                index=index,
                count=count,
                phase=forward.phase(index, count),
                timestamp=when,
                time_of_day=time_of_day(when.hour),
                beat_title=beat.title,
                beat_hint=beat.hint,
                cast=present,
                tension=tension,
            ),
            Random(index),
        )
        contexts.append(
            SceneContext(
                scenario=brief,
                timepoint_id=f"tp{index + 1:02d}",
                timepoint_title=event.title,
                event_description=event.event_description,
                time_of_day=time_of_day(when.hour),
                tension=tension,
                present=present,
            )
        )
    return contexts


@pytest.fixture(scope="module")
def contexts() -> list[SceneContext]:
    return scene_contexts()


def _text(response: SceneResponse) -> str:
    env = response.environment
    return (
        " ".join((env.location, env.lighting, env.sound, env.weather, env.crowding))
        + " "
        + response.atmosphere.description
    )


def test_offline_scene_is_deterministic_per_seed_and_context(contexts) -> None:
    ctx = contexts[1]
    assert generate_scene(ctx, Random(7)) == generate_scene(ctx, Random(7))
    outputs = {generate_scene(ctx, Random(seed)).model_dump_json() for seed in range(6)}
    assert len(outputs) > 1
    assert generate_scene(contexts[0], Random(7)) != generate_scene(contexts[2], Random(7))


def test_offline_scene_validates_and_stays_in_range(contexts) -> None:
    for ctx in contexts:
        for seed in range(4):
            response = generate_scene(ctx, Random(seed))
            again = SceneResponse.model_validate_json(response.model_dump_json())
            assert again == response
            a = response.atmosphere
            assert 0 <= a.tension <= 1 and 0 <= a.formality <= 1 and 0 <= a.energy <= 1
            assert -1 <= a.valence <= 1
            assert a.description and "{" not in _text(response)
            assert response.environment.location


def test_offline_scene_is_scenario_specific(contexts) -> None:
    setting = ("ward 3", "boiler house", "snow", "generator", "emergency lighting", "monitor")
    for ctx in contexts:
        response = generate_scene(ctx, Random(1))
        text = _text(response).lower()
        assert any(word in text for word in setting), text
        names = [m.entity.name.split()[-1] for m in ctx.present]
        assert any(name in text for name in (n.lower() for n in names)) or any(
            n.split()[0].lower() in text for n in (m.entity.name for m in ctx.present)
        )
    lighthouse = scene_contexts("lighthouse_night")[0]
    text = _text(generate_scene(lighthouse, Random(1))).lower()
    assert "ward" not in text
    assert any(w in text for w in ("gale", "lantern", "spray", "skerrow", "stove", "clockwork"))


def test_offline_scene_follows_tension_and_arousal(contexts) -> None:
    ctx = contexts[0]

    def stirred(member: CastMember, arousal: float, valence: float) -> CastMember:
        mood = member.mood.model_copy(update={"arousal": arousal, "valence": valence})
        return member.model_copy(update={"mood": mood})

    calm = ctx.model_copy(
        update={"tension": 0.1, "present": tuple(stirred(m, 0.1, 0.3) for m in ctx.present)}
    )
    hot = ctx.model_copy(
        update={"tension": 0.95, "present": tuple(stirred(m, 0.9, -0.6) for m in ctx.present)}
    )
    for seed in range(5):
        cool_scene = generate_scene(calm, Random(seed)).atmosphere
        hot_scene = generate_scene(hot, Random(seed)).atmosphere
        assert hot_scene.tension > cool_scene.tension + 0.3
        assert hot_scene.energy > cool_scene.energy
        assert hot_scene.valence < cool_scene.valence
        assert hot_scene.description != cool_scene.description


def test_offline_scene_reads_the_hour() -> None:
    assert time_bucket("just after midnight") == "night"
    assert time_bucket("in the small hours") == "night"
    assert time_bucket("before dawn") == "dawn"
    assert time_bucket("mid-morning") == "morning"
    assert time_bucket("early afternoon") == "day"
    assert time_bucket("early evening") == "evening"


def test_previous_atmosphere_colours_the_description(contexts) -> None:
    ctx = contexts[2]
    fraught = Atmosphere(
        tension=0.95, formality=0.3, valence=-0.8, energy=0.9, description="A row."
    )
    plain = generate_scene(ctx, Random(3)).atmosphere.description
    after_row = generate_scene(ctx.model_copy(update={"previous": fraught}), Random(3))
    assert after_row.atmosphere.description != plain


# --------------------------------------------------------------------------- prompt and provider
def test_prompt_renders_the_scene_context(contexts) -> None:
    ctx = contexts[1].model_copy(update={"previous": ROOM})
    system, user = render(ActionType.SCENE_GENERATION, ctx, SceneResponse)
    assert system.role == "system" and "atmosphere" in system.content.lower()
    assert ctx.event_description in user.content
    for member in ctx.present:
        assert member.entity.name in user.content
        assert member.mood.label in user.content
    assert ROOM.description in user.content
    assert ctx.scenario.location in user.content
    assert '"tension"' in user.content  # the schema is attached


async def test_offline_provider_answers_scene_generation(contexts) -> None:
    assert ActionType.SCENE_GENERATION in GENERATORS
    assert RESPONSE_MODELS[ActionType.SCENE_GENERATION] is SceneResponse
    ctx = contexts[0]
    request = LLMRequest(
        action=ActionType.SCENE_GENERATION,
        messages=render(ActionType.SCENE_GENERATION, ctx, SceneResponse),
        context=ctx,
        response_model=SceneResponse,
    )
    first = await OfflineProvider(5).complete(request)
    second = await OfflineProvider(5).complete(request)
    assert isinstance(first.parsed, SceneResponse)
    assert first.text == second.text
    assert SceneResponse.model_validate_json(first.text) == first.parsed
