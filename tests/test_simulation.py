"""FORWARD runs: validators, failures recorded honestly, concurrency, streaming, control."""

from __future__ import annotations

import asyncio
import json

from conftest import TEMPLATES, ScriptedProvider, run_scenario

from engine.llm.gateway import Gateway
from engine.llm.protocol import ActionType
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.simulation import RunControl, Simulation


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


async def test_references_to_unknown_knowledge_are_caught_and_reported(store) -> None:
    def inject(request, answer):
        if request.action is ActionType.DIALOG_TURN:
            return answer.model_copy(
                update={
                    "knowledge_references": (
                        *answer.knowledge_references,
                        "a secret nobody told them",
                    )
                }
            )
        return answer

    summary, events = await run_scenario(
        "harbor_strike", store, provider=ScriptedProvider(edit=inject)
    )
    assert summary.status.value == "completed"
    bad = [v for v in of(events, ev.ValidationReported) if not v.valid]
    assert bad and all(v.validator == "information_conservation" for v in bad)
    assert all(v.violations == ("a secret nobody told them",) for v in bad)
    for turn in (e.turn for e in of(events, ev.DialogTurnFinished)):
        assert "a secret nobody told them" not in turn.knowledge_references
        assert turn.status.value == "degraded" and turn.issues
    rows = await store.table("validations", summary.run_id)
    assert any(r["valid"] == 0 for r in rows)


async def test_a_failed_turn_is_recorded_and_the_run_goes_on(store) -> None:
    provider = ScriptedProvider(fail=lambda req, n: req.action is ActionType.DIALOG_TURN and n == 3)
    summary, events = await run_scenario("lighthouse_night", store, provider=provider)
    assert summary.status.value == "completed"
    failed = of(events, ev.DialogTurnFailed)
    assert len(failed) == 1 and "scripted failure" in failed[0].error
    assert summary.counts.failed_steps == 1
    completed = of(events, ev.TimepointCompleted)
    assert (
        completed[0].status.value == "degraded" and "dialog turns failed" in completed[0].issues[0]
    )
    dialog = of(events, ev.DialogFinished)[0]
    assert dialog.failed_turns == 1 and dialog.status.value == "degraded"
    calls = [c for c in of(events, ev.LLMCallFinished) if c.status.value == "failed"]
    assert calls and calls[0].error
    # Nothing was invented in place of the failed turn.
    indices = [
        e.turn.turn_index
        for e in of(events, ev.DialogTurnFinished)
        if e.turn.dialog_id == failed[0].dialog_id
    ]
    assert failed[0].turn_index not in indices


async def test_retryable_failures_are_retried_and_both_attempts_recorded(store) -> None:
    provider = ScriptedProvider(
        retryable=True, fail=lambda req, n: req.action is ActionType.TIMEPOINT_EVENT and n == 1
    )
    loaded = load_scenario("lighthouse_night")
    sim = Simulation(loaded, provider=provider, store=store, gateway=Gateway(provider, backoff=0))
    events: list = []
    summary = await sim.run(events.append)
    assert summary.status.value == "completed"
    first = [c for c in of(events, ev.LLMCallFinished) if c.action == "timepoint_event"][:2]
    assert [c.status.value for c in first] == ["failed", "ok"]


async def test_independent_calls_run_concurrently(store) -> None:
    provider = ScriptedProvider(delay=0.005)
    summary, _ = await run_scenario("vintners_council", store, provider=provider)
    assert summary.status.value == "completed"
    assert provider.max_in_flight >= 2


async def test_streamed_chunks_add_up_to_each_turn(store) -> None:
    _, events = await run_scenario("orbital_audit", store, seed=2)
    text: dict[tuple[str, int], str] = {}
    for e in of(events, ev.DialogTokens):
        text[(e.dialog_id, e.turn_index)] = text.get((e.dialog_id, e.turn_index), "") + e.text
    finished = of(events, ev.DialogTurnFinished)
    assert finished
    for e in finished:
        assert text[(e.turn.dialog_id, e.turn.turn_index)].strip() == e.turn.content


async def test_knowledge_flows_only_to_people_who_were_there(store) -> None:
    _summary, events = await run_scenario("vintners_council", store, seed=3)
    present = {
        e.timepoint.timepoint_id: set(e.timepoint.entities_present)
        for e in of(events, ev.TimepointCreated)
    }
    told = [e.exposure for e in of(events, ev.ExposureRecorded) if e.exposure.kind == "told"]
    assert told
    for x in told:
        assert x.entity_id in present[x.timepoint_id] and x.source in present[x.timepoint_id]
        assert x.entity_id != x.source
    scenario = load_scenario("vintners_council").scenario
    reveals = [(b, r) for b in scenario.timeline.beats for r in b.reveals]
    learned = {
        (x.exposure.entity_id, x.exposure.information) for x in of(events, ev.ExposureRecorded)
    }
    assert all((r.entity, r.information) in learned for _, r in reveals)


async def test_tensors_move_and_are_stored_per_timepoint(store) -> None:
    summary, events = await run_scenario("snowbound_ward", store, seed=2)
    updates = of(events, ev.TensorUpdated)
    created = {e.profile.entity_id: e for e in of(events, ev.EntityCreated)}
    speakers = {e.turn.speaker for e in of(events, ev.DialogTurnFinished)}
    spent = [u for u in updates if u.cause == "dialog" and u.entity_id in speakers]
    assert spent
    first = spent[0]
    assert first.cognitive.energy < created[first.entity_id].cognitive.energy
    # TTM and cognitive agree after every update (the back-sync ran).
    for u in updates:
        assert abs(u.tensor.context[3] * 100 - u.cognitive.energy) < 1e-6
        assert abs(u.tensor.context[1] * 2 - 1 - u.cognitive.valence) < 1e-6
    rows = await store.table("entity_states", summary.run_id)
    assert len(rows) == len(created) + len(updates)


async def test_pause_step_and_stop(store) -> None:
    control = RunControl()
    control.step()  # one timepoint, then pause
    loaded = load_scenario("orbital_audit")
    sim = Simulation(loaded, provider=ScriptedProvider(), store=store, control=control)
    one_done = asyncio.Event()
    seen: list = []

    def watch(event) -> None:
        seen.append(event)
        if isinstance(event, ev.TimepointCompleted):
            one_done.set()

    task = asyncio.create_task(sim.run(watch))
    await one_done.wait()
    for _ in range(20):
        await asyncio.sleep(0)
    assert control.paused and len(of(seen, ev.TimepointCompleted)) == 1
    control.stop("enough for now")
    summary = await task
    assert summary.status.value == "stopped" and summary.status_reason == "enough for now"
    assert summary.counts.timepoints == 1
    assert [
        t["timepoint_id"] for t in await store.table("timepoints", summary.run_id, order="idx")
    ] == ["tp01"]


async def test_population_failure_fails_the_run_and_keeps_the_record(store, tmp_path) -> None:
    path = tmp_path / "gen.json"
    data = json.loads((TEMPLATES / "harbor_strike.json").read_text())
    data["entity_count"] = 5
    path.write_text(json.dumps(data))
    provider = ScriptedProvider(fail=lambda req, n: req.action is ActionType.ENTITY_POPULATION)
    summary, _events = await run_scenario(str(path), store, provider=provider)
    assert summary.status.value == "failed" and summary.status_reason.startswith("setup")
    assert next(e.type for e in await store.events(summary.run_id)) == "run_started"


async def test_generated_entities_fill_the_roster(store, tmp_path) -> None:
    path = tmp_path / "gen.json"
    data = json.loads((TEMPLATES / "harbor_strike.json").read_text())
    data["entity_count"] = 5
    path.write_text(json.dumps(data))
    _, events = await run_scenario(str(path), store)
    created = of(events, ev.EntityCreated)
    assert len(created) == 5
    generated = [c.profile for c in created if c.profile.source == "generated"]
    assert len(generated) == 2 and all(p.role and p.initial_knowledge for p in generated)
    assert len({p.entity_id for p in (c.profile for c in created)}) == 5


async def test_presence_answers_naming_strangers_degrade_the_timepoint(store, tmp_path) -> None:
    def stranger(request, answer):
        if request.action is ActionType.ENTITY_PRESENCE:
            return answer.model_copy(
                update={"entities_present": (*answer.entities_present, "ghost")}
            )
        return answer

    data = json.loads((TEMPLATES / "vintners_council.json").read_text())
    for beat in data["timeline"]["beats"]:
        beat.pop("present", None)
    path = tmp_path / "open.json"
    path.write_text(json.dumps(data))
    provider = ScriptedProvider(edit=stranger)
    _, events = await run_scenario(str(path), store, provider=provider)
    assert provider.calls[ActionType.ENTITY_PRESENCE] == data["timeline"]["count"]
    created = of(events, ev.TimepointCreated)
    assert created and all(c.status.value == "degraded" for c in created if c.issues)
    assert any("ghost" in issue for c in created for issue in c.issues)
    assert all("ghost" not in c.timepoint.entities_present for c in created)


class _Counting:
    """A provider that counts the calls it is asked to start."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.started = 0

    async def complete(self, request):
        self.started += 1
        return await self.inner.complete(request)

    async def stream(self, request):
        self.started += 1
        async for piece in self.inner.stream(request):
            yield piece


async def test_pause_holds_every_new_call_at_once_and_its_time_is_counted(store) -> None:
    now = [100.0]
    control = RunControl(clock=lambda: now[0])
    provider = _Counting(ScriptedProvider())
    sim = Simulation(
        load_scenario("orbital_audit"), provider=provider, store=store, control=control
    )
    spoke = asyncio.Event()
    at_pause: list[int] = []

    def watch(event) -> None:
        if isinstance(event, ev.DialogTurnFinished) and not spoke.is_set():
            control.pause()  # in the middle of a timepoint, not between two
            at_pause.append(provider.started)
            spoke.set()

    task = asyncio.create_task(sim.run(watch))
    await spoke.wait()
    for _ in range(200):  # let everything that can run, run
        await asyncio.sleep(0)
    held = provider.started
    assert held == at_pause[0], "no new call starts once paused"
    assert not task.done()
    now[0] += 42.0
    assert control.paused_seconds() == 42.0
    control.resume()
    summary = await task
    assert summary.status.value == "completed" and provider.started > held
    now[0] += 10.0
    assert control.paused_seconds() == 42.0, "the clock runs again once resumed"


async def test_a_paused_run_can_still_be_questioned_and_stopped(store) -> None:
    control = RunControl()
    sim = Simulation(
        load_scenario("orbital_audit"), provider=ScriptedProvider(), store=store, control=control
    )
    spoke = asyncio.Event()

    def watch(event) -> None:
        if isinstance(event, ev.TimepointCompleted) and not spoke.is_set():
            control.pause()
            spoke.set()

    task = asyncio.create_task(sim.run(watch))
    await spoke.wait()
    entity = next(iter(sim.world.entities))
    outcome = await sim.query(f"@{entity} what happened?")
    assert outcome.kind in ("answer", "consent")
    control.stop("enough")
    summary = await task
    assert summary.status.value == "stopped" and summary.status_reason == "enough"


async def test_a_step_pressed_mid_timepoint_finishes_that_timepoint_then_holds(store) -> None:
    control = RunControl()
    sim = Simulation(
        load_scenario("orbital_audit"), provider=ScriptedProvider(), store=store, control=control
    )
    spoke, done = asyncio.Event(), asyncio.Event()
    completed: list = []

    def watch(event) -> None:
        if isinstance(event, ev.DialogTurnFinished) and not spoke.is_set():
            control.pause()
            spoke.set()
        if isinstance(event, ev.TimepointCompleted):
            completed.append(event)
            done.set()

    task = asyncio.create_task(sim.run(watch))
    await spoke.wait()
    assert not completed
    control.step()
    await done.wait()
    for _ in range(200):
        await asyncio.sleep(0)
    assert len(completed) == 1 and control.paused, "the next timepoint waits"
    control.stop("seen enough")
    summary = await task
    assert summary.status.value == "stopped" and summary.counts.timepoints == 1
