"""M10 and M15 inside a run: the scene is read alongside the opening turn and known by the
turns after it; after each dialog everyone present updates an inner life that the next dialog
carries; failures degrade the timepoint instead of inventing anything; the explorer's read model
answers the same live and from the store."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import ScriptedProvider, persisted, run_scenario

from engine.llm.contexts import DialogTurnContext
from engine.llm.offline import text as tx
from engine.llm.offline.library import inner_bank
from engine.llm.offline.prospection.topics import topic_kind
from engine.llm.offline.scene.description import repeated_phrase
from engine.llm.offline.scene.setting import time_bucket
from engine.llm.protocol import ActionType, LLMRequest
from engine.model import events as ev
from engine.model.clock import time_of_day
from engine.model.common import ExposureType
from engine.scenario import load_scenario
from engine.scenario.loader import LoadedScenario
from engine.simulation import Simulation
from engine.view import RunView


def of(events: list[ev.EventBase], cls: type) -> list[Any]:
    return [e for e in persisted(events) if isinstance(e, cls)]


class Recording(ScriptedProvider):
    """Keeps every dialog-turn context it was asked to answer."""

    def __init__(self, seed: int = 0, **options: Any) -> None:
        super().__init__(seed, **options)
        self.turns: list[DialogTurnContext] = []

    async def _answer(self, request: LLMRequest):  # type: ignore[no-untyped-def]
        if isinstance(request.context, DialogTurnContext):
            self.turns.append(request.context)
        return await super()._answer(request)


async def test_a_run_reads_scenes_and_keeps_inner_lives(store) -> None:
    provider = Recording(3)
    summary, events = await run_scenario("snowbound_ward", store, seed=3, provider=provider)
    assert summary.status.value == "completed"
    dialogs = of(events, ev.DialogFinished)
    scenes, shifts = of(events, ev.SceneRead), of(events, ev.AtmosphereShifted)
    assert len(scenes) == len(shifts) == len(dialogs) == 5
    assert provider.calls[ActionType.SCENE_GENERATION] == 5
    # Everyone present (all human here) remembers each dialog.
    present = sum(len(e.timepoint.entities_present) for e in of(events, ev.TimepointCreated))
    inner = of(events, ev.InnerLifeUpdated)
    assert len(inner) == present == provider.calls[ActionType.PROSPECTION]
    assert all(e.inner.memory and e.inner.entity_id == e.entity_id for e in inner)
    # The opening turn is written while the room is read; the turns after it know the room.
    opening = [c for c in provider.turns if c.turn_index == 0]
    later = [c for c in provider.turns if c.turn_index > 0]
    assert all(c.atmosphere is None for c in opening)
    assert all(c.atmosphere is not None for c in later)
    first_scene = scenes[0].scene.atmosphere
    assert any(c.atmosphere == first_scene for c in later if c.timepoint_id == "tp01")
    # What a character carries into the next dialog is its memory of the last one.
    memories = {(e.entity_id, e.timepoint_id): e.inner.memory for e in inner}
    carried = [c for c in provider.turns if c.timepoint_id == "tp02"]
    assert carried
    for c in carried:  # someone who was not there at tp01 has nothing to carry yet
        assert c.memory == memories.get((c.speaker.entity_id, "tp01"), "")
        assert bool(c.concerns) == bool(c.memory)
    assert any(c.memory for c in carried)
    assert all(not c.memory for c in provider.turns if c.timepoint_id == "tp01")
    # Likely expectations became knowledge the character holds, tagged as anticipated.
    anticipated = [
        e.exposure
        for e in of(events, ev.ExposureRecorded)
        if e.exposure.kind is ExposureType.ANTICIPATED
    ]
    likely = {
        (e.entity_id, x.about) for e in inner for x in e.inner.expectations if x.likelihood >= 0.6
    }
    assert anticipated and {(x.entity_id, x.information) for x in anticipated} <= likely
    assert all(x.category == "expectation" for x in anticipated)

    # The read model answers the same live and from the store.
    live = RunView.starting(of(events, ev.RunStarted)[0])
    for event in events:
        live.apply(event)
    stored = await store.load_view(summary.run_id, everything=True)
    ids = [t.timepoint_id for t in stored.timepoints]
    for tp in ids:
        assert stored.scene(tp) == live.scene(tp) and stored.scene(tp).after is not None
    for entity_id in stored.entities:
        for at in [None, *ids]:
            assert stored.inner_at(entity_id, at) == live.inner_at(entity_id, at)
    assert live.inner_at("maeve_kilbride", None) is None
    assert live.inner_at("maeve_kilbride", "tp05").timepoint_id == "tp05"


async def test_either_mechanism_can_be_switched_off(store) -> None:
    base = load_scenario("snowbound_ward")
    quiet = base.scenario.model_copy(
        update={
            "mechanisms": base.scenario.mechanisms.model_copy(
                update={"inner_life": False, "atmosphere": False}
            )
        }
    )
    provider = ScriptedProvider(3)
    seen: list[ev.EventBase] = []
    sim = Simulation(
        LoadedScenario(scenario=quiet, source="test"), provider=provider, store=store, seed=3
    )
    summary = await sim.run(seen.append)
    assert summary.status.value == "completed"
    assert ActionType.PROSPECTION not in provider.calls
    assert ActionType.SCENE_GENERATION not in provider.calls
    assert not of(seen, ev.SceneRead) and not of(seen, ev.InnerLifeUpdated)


async def test_failed_scene_and_inner_life_calls_degrade_the_timepoint(store) -> None:
    def fail(request: LLMRequest, n: int) -> bool:
        return (request.action is ActionType.PROSPECTION and n == 2) or (
            request.action is ActionType.SCENE_GENERATION and n == 1
        )

    summary, events = await run_scenario(
        "snowbound_ward", store, seed=3, provider=ScriptedProvider(3, fail=fail)
    )
    assert summary.status.value == "completed"
    failures = of(events, ev.MechanismFailed)
    assert sorted(f.mechanism for f in failures) == ["inner_life", "scene"]
    assert all(f.timepoint_id == "tp01" and "scripted failure" in f.error for f in failures)
    first = of(events, ev.TimepointCompleted)[0]
    assert first.status.value == "degraded"
    assert any("atmosphere was not read" in i for i in first.issues)
    assert any("inner life of" in i for i in first.issues)
    # Nothing stands in for what failed: no scene for tp01, one inner life fewer.
    assert next(s.timepoint_id for s in of(events, ev.SceneRead)) == "tp02"
    tp01_inner = [e for e in of(events, ev.InnerLifeUpdated) if e.timepoint_id == "tp01"]
    assert len(tp01_inner) == len(of(events, ev.TimepointCreated)[0].timepoint.entities_present) - 1
    assert summary.counts.failed_steps == 2


# --------------------------------------------------------------------------- offline text quality
SCENARIOS = (
    "harbor_strike",
    "snowbound_ward",
    "vintners_council",
    "orbital_audit",
    "lighthouse_night",
    "river_spirit",
)


def _template_pattern(template: str) -> re.Pattern[str]:
    """A template as a regular expression, each slot a named group (contractions expanded)."""
    text = re.escape(tx.expand(template))
    seen: set[str] = set()

    def group(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in seen:
            return f"(?P={name})"
        seen.add(name)
        return f"(?P<{name}>.+?)"

    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", group, text) + "$", re.IGNORECASE)


def _expect_patterns() -> list[tuple[re.Pattern[str], str, set[str]]]:
    """(pattern, group, kinds it may take) for every kind-bound expectation template."""
    kinds: dict[tuple[str, str], set[str]] = {}
    for group, by_kind in inner_bank().expect.items():
        for key, templates in by_kind.items():
            for template in templates:
                kinds.setdefault((group, template), set()).update(key.split())
    return [(_template_pattern(t), g, k) for (g, t), k in kinds.items() if "any" not in k]


def _outside_quotes(text: str) -> str:
    return re.sub(r'"[^"]*"', "", text)


@pytest.mark.parametrize("name", SCENARIOS)
async def test_offline_inner_lives_and_scenes_read_well(store, name) -> None:
    loaded = load_scenario(name).scenario
    people: dict[str, str] = {}
    for e in loaded.entities:
        people[e.name] = people[tx.first_name(e.name)] = tx.first_name(e.name)
    names = {e.id: e.name for e in loaded.entities}
    patterns = _expect_patterns()
    fallback = inner_bank().fallback_topic
    matched = 0
    for seed in (1, 2):
        _, events = await run_scenario(name, store, seed=seed)
        for update in of(events, ev.InnerLifeUpdated):
            inner = update.inner
            full = names[update.entity_id]
            # 1. A template written for one kind of topic never takes another kind.
            for e in inner.expectations:
                sentence = tx.expand(e.about)
                for pattern, group, allowed in patterns:
                    found = pattern.match(sentence)
                    if not found:
                        continue
                    matched += 1
                    slot = next(
                        s for s in ("event_topic", "concern", "topic") if s in found.re.groupindex
                    )
                    subject = found.group(slot)
                    kind = (
                        "condition" if subject.lower() == fallback else topic_kind(subject, people)
                    )
                    assert kind in allowed, (group, kind, e.about)
            # 2. A character never speaks of itself by its own full name, nor names a person
            # twice in one clause ("Walter wouldn't let Walter Ashby's furosemide go").
            for text in (inner.memory, inner.suppressed, *(x.about for x in inner.expectations)):
                plain = _outside_quotes(text)
                assert full not in plain, (full, text)
                for sentence in tx.sentences(plain):
                    for first in {tx.first_name(n) for n in names.values()}:
                        esc = re.escape(first)
                        twice = rf"{esc}\b[^.,;:]*\b{esc}(?: [A-Z][\w-]+)?['’]s\b"
                        assert not re.match(twice, sentence), sentence
        # 3. No scene repeats a phrase of five words across its fields; the senses are
        # lower-case fragments, and the lighting agrees with the hour.
        hours = {
            e.timepoint.timepoint_id: time_bucket(time_of_day(e.timepoint.timestamp.hour))
            for e in of(events, ev.TimepointCreated)
        }
        for read in of(events, ev.SceneRead):
            scene = read.scene
            env = scene.environment
            fields = [
                env.lighting,
                env.sound,
                env.weather,
                env.crowding,
                scene.atmosphere.description,
            ]
            assert repeated_phrase([f for f in fields if f]) is None, fields
            for sense in (env.lighting, env.sound, env.weather):
                first = sense.split(" ", 1)[0]
                assert (
                    not sense or not first[:1].isupper() or first in loaded.setting.atmosphere[1:]
                )
                assert not sense.endswith(".")
            bucket = hours[scene.timepoint_id]
            senses = " ".join((env.lighting, env.weather)).lower()
            if bucket == "night":
                assert not re.search(r"\b(morning|daylight|afternoon)\b", senses), senses
            if bucket in ("morning", "day"):
                assert not re.search(r"\b(night|midnight|evening|dusk)\b", senses), senses
    assert matched >= 3
