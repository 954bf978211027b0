"""Queries that elevate (M5, M2), entities made on demand (M9), lookups of the record, the
observer ledger, and replays of runs that were questioned."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import TEMPLATES, ScriptedProvider, run_scenario

from engine.config import Config
from engine.fidelity.questions import needed_level
from engine.fidelity.templates import thresholds
from engine.knowledge.validators import elaboration_consistency
from engine.llm.offline import OfflineProvider
from engine.model import events as ev
from engine.model.common import ResolutionLevel as L
from engine.query.answer import QueryFailed
from engine.query.execute import Consent
from engine.query.lookup import chain_sentence
from engine.query.stored import run_query
from engine.reopen import prepare_replay

YES = Consent(elevate=True, create=True)


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


async def _minimal_run(store, tmp_path: Path, name: str = "snowbound_ward"):
    """A run in which most people are carried as tensors: the ones to raise."""
    data = json.loads((TEMPLATES / f"{name}.json").read_text())
    data["fidelity"] = {"template": "minimal"}
    path = tmp_path / f"{name}-minimal.json"
    path.write_text(json.dumps(data))
    summary, events = await run_scenario(str(path), store)
    return summary, events


def _low(events, tp: str = "tp03") -> str:
    """Someone carried below the graph level at ``tp``."""
    planned = next(p for p in of(events, ev.FidelityPlanned) if p.timepoint_id == tp)
    return min(sorted(planned.levels), key=lambda k: planned.levels[k].rank)


def test_questions_need_levels() -> None:
    assert needed_level("where is the ledger kept?")[0] == L.GRAPH
    assert needed_level("why did you hide it?")[0] == L.DIALOG
    assert needed_level("what will you do next?")[0] == L.DIALOG
    assert needed_level("tell me everything about that night")[0] == L.TRAINED
    assert needed_level("where?", asked_before=10)[0] == L.TRAINED


def test_an_elaboration_may_not_contradict_or_reach_ahead() -> None:
    accepted, rejected = elaboration_consistency(
        [
            "Bastien did not sign the letter",
            "The harvest in the upper terraces failed",
            "Ruth will call the Minister",
        ],
        ["Bastien signed the letter in March"],
        ["Ruth will call the Minister on Thursday"],
    )
    assert accepted == ["The harvest in the upper terraces failed"]
    assert len(rejected) == 2
    assert "contradicts" in rejected[0] and "not known yet" in rejected[1]


async def test_a_question_raises_an_entity_only_with_consent(store, tmp_path) -> None:
    summary, events = await _minimal_run(store, tmp_path)
    who = _low(events)
    before = await store.events(summary.run_id)
    asked = await run_query(
        store, OfflineProvider(), summary.run_id, f"@{who}@tp03 why did you keep quiet?"
    )
    assert asked.needs_consent and asked.elevation is not None
    plan = asked.elevation
    assert plan.current.rank < L.GRAPH.rank and plan.target == L.DIALOG
    assert plan.estimated_tokens > 100 and "why" in plan.reason
    assert len(await store.events(summary.run_id)) == len(before), "nothing spent without consent"

    held = {
        r["information"]
        for r in await store.table("exposure_events", summary.run_id)
        if r["entity_id"] == who
    }
    done = await run_query(
        store,
        OfflineProvider(),
        summary.run_id,
        f"@{who}@tp03 why did you keep quiet?",
        consent=YES,
    )
    assert done.kind == "answer" and done.elevated is not None
    e = done.elevated
    assert e.query_id == done.query_id and e.previous == plan.current and e.resolution == L.DIALOG
    assert e.learned > 0, "what was said in front of them comes back"
    assert done.answer.level == "dialog" and done.answer.answer
    after = [
        r for r in await store.table("exposure_events", summary.run_id) if r["entity_id"] == who
    ]
    assert held <= {r["information"] for r in after}, "nothing held before is lost"
    learned = [r for r in after if r["exposure_id"].startswith(done.query_id)]
    assert len(learned) == e.learned and all(r["kind"] == "learned" for r in learned)
    assert all(r["timepoint_id"] == "tp03" for r in learned)
    levels = await store.table("fidelity", summary.run_id)
    assert any(r["cause"] == "query" and r["query_id"] == done.query_id for r in levels)
    calls = await store.table("llm_calls", summary.run_id)
    assert any(c["action"] == "entity_elaboration" and c["entity_id"] == who for c in calls)
    # asked again at the same moment, it is already there: no second elevation
    again = await run_query(
        store, OfflineProvider(), summary.run_id, f"@{who}@tp03 why then?", consent=YES
    )
    assert again.elevated is None and again.answer is not None


async def test_explicit_elevation_and_the_ledger(store, tmp_path) -> None:
    summary, events = await _minimal_run(store, tmp_path)
    who = _low(events)
    out = await run_query(
        store, OfflineProvider(), summary.run_id, f"/elevate @{who}@tp04 to trained", consent=YES
    )
    assert out.kind == "elevated" and out.elevated.resolution == L.TRAINED
    view = await store.load_view(summary.run_id, everything=True)
    assert view.level_at(who, "tp04").level == "trained"
    assert view.level_at(who, "tp03").level != "trained", "an elevation holds from its moment on"
    ledger = view.observer_actions()
    assert [(a.kind, a.entity_id, a.query_id) for a in ledger] == [("elevated", who, out.query_id)]
    noop = await run_query(
        store, OfflineProvider(), summary.run_id, f"/elevate @{who}@tp04 to scene", consent=YES
    )
    assert "already" in noop.message


async def test_questions_accumulate_into_higher_levels(store, tmp_path) -> None:
    summary, events = await _minimal_run(store, tmp_path)
    who = _low(events)
    t = thresholds()
    levels = []
    for n in range(t.trained_access):
        out = await run_query(
            store,
            OfflineProvider(),
            summary.run_id,
            f"@{who}@tp02 where was the ledger kept, the {n}th time?",
            consent=YES,
        )
        levels.append(out.answer.level)
    assert levels[0] == "graph", "a question of fact needs the graph level"
    assert "dialog" in levels and levels[-1] == "trained", levels


async def test_a_name_nobody_has_is_created_on_demand(store) -> None:
    summary, _ = await run_scenario("harbor_strike", store)
    offer = await run_query(store, OfflineProvider(), summary.run_id, "@dock_worker_12 who else?")
    assert offer.needs_consent and offer.creation.role == "dock worker"
    out = await run_query(
        store, OfflineProvider(), summary.run_id, "@dock_worker_12 who else?", consent=YES
    )
    created = out.created
    assert created.query_id == out.query_id and created.profile.source == "on_demand"
    assert created.profile.role == "dock worker" and created.profile.name
    view = await store.load_view(summary.run_id, everything=True)
    assert "dock_worker_12" in view.entities
    assert ("created", "dock_worker_12") in {(a.kind, a.entity_id) for a in view.observer_actions()}
    tp = out.answer.timepoint_id
    witnessed = [k for k in view.knowledge_at("dock_worker_12", tp) if k.kind == "witnessed"]
    assert witnessed and witnessed[0].timepoint_id == tp, "they were there"
    again = await run_query(store, OfflineProvider(), summary.run_id, "@dock_worker_12 and?")
    assert again.created is None and again.answer is not None, "now they exist"


async def test_who_knows_and_why(store) -> None:
    summary, events = await run_scenario("vintners_council", store)
    told = next(
        x.exposure
        for x in of(events, ev.ExposureRecorded)
        if x.exposure.kind.value == "told" and len(x.exposure.information) > 20
    )
    phrase = " ".join(told.information.split()[:8])
    at = told.timepoint_id
    holders = await run_query(store, OfflineProvider(), summary.run_id, f'/who-knows "{phrase}"')
    assert holders.kind == "who_knows"
    assert told.entity_id in {h.entity_id for h in holders.holders}
    chain = await run_query(
        store, OfflineProvider(), summary.run_id, f'/why @{told.entity_id}@{at} "{phrase}"'
    )
    first = chain.chain[0]
    assert first.entity_id == told.entity_id and first.kind == "told"
    assert first.source == told.source and first.timepoint_id == at
    assert chain_sentence(chain.chain).startswith(f"{first.name} was told by ")
    nothing = await run_query(
        store, OfflineProvider(), summary.run_id, f'/why @{told.entity_id} "zeppelins over Lisbon"'
    )
    assert nothing.chain == [] and "knows nothing" in nothing.message
    # each look is part of the record (the observer ledger), with what it found, and changed
    # nothing else: no call, no exposure, no level
    after = await store.events(summary.run_id)
    looked = of(after, ev.RecordLookedUp)
    assert [(x.kind, x.query_id) for x in looked] == [
        ("who_knows", holders.query_id),
        ("why", chain.query_id),
        ("why", nothing.query_id),
    ]
    assert len({holders.query_id, chain.query_id, nothing.query_id}) == 3
    assert looked[0].found == tuple(h.entity_id for h in holders.holders)
    assert looked[1].entity_id == told.entity_id and looked[1].timepoint_id == at
    assert looked[1].summary == chain.message and looked[2].found == ()
    last = max(e.seq for e in events if e.PERSIST)
    added = {type(e) for e in after if e.seq > last}
    assert added == {ev.RecordLookedUp}
    view = await store.load_view(summary.run_id)
    assert [(x.query_id, x.text) for x in view.lookups()] == [(x.query_id, x.text) for x in looked]


async def test_every_observer_action_takes_its_own_query_number(store, tmp_path) -> None:
    summary, events = await _minimal_run(store, tmp_path)
    who = _low(events)
    raised = await run_query(
        store, OfflineProvider(), summary.run_id, f"/elevate @{who}@tp03 to graph", consent=YES
    )
    asked = await run_query(
        store, OfflineProvider(), summary.run_id, f"@{who}@tp03 what happened?", consent=YES
    )
    looked = await run_query(store, OfflineProvider(), summary.run_id, '/who-knows "the"')
    again = await run_query(
        store, OfflineProvider(), summary.run_id, f"@{who}@tp03 and then?", consent=YES
    )
    ids = [raised.query_id, asked.query_id, looked.query_id, again.query_id]
    assert ids == ["q0001", "q0002", "q0003", "q0004"]


@pytest.mark.parametrize(
    "text",
    ["", "@", "/elevate", "/elevate @nobody_known_here to godlike", '/why mara "x"', "/nonsense"],
)
async def test_malformed_queries_are_one_sentence(store, text) -> None:
    summary, _ = await run_scenario("harbor_strike", store)
    with pytest.raises(QueryFailed) as caught:
        await run_query(store, OfflineProvider(), summary.run_id, text, consent=YES)
    message = str(caught.value)
    assert message and "\n" not in message and "Traceback" not in message


async def test_a_questioned_run_replays_identically(store, tmp_path) -> None:
    summary, events = await _minimal_run(store, tmp_path, "harbor_strike")
    who = sorted(e.profile.entity_id for e in of(events, ev.EntityCreated))[0]
    await run_query(
        store, OfflineProvider(), summary.run_id, f"@{who}@tp01 why did you come?", consent=YES
    )
    await run_query(store, OfflineProvider(), summary.run_id, f"@{who} where is it?", consent=YES)
    await run_query(store, OfflineProvider(), summary.run_id, f'/why @{who} "strike"')
    original = await store.events(summary.run_id)
    assert of(original, ev.EntityElevated) or of(original, ev.QueryAnswered)
    assert of(original, ev.RecordLookedUp)
    replay = await prepare_replay(store, Config(), summary.run_id)
    copy = await replay.simulation.run()
    again = await store.events(copy.run_id)
    assert [e.deterministic_dump() for e in again] == [e.deterministic_dump() for e in original]


async def test_the_query_command(tmp_path, capsys) -> None:
    import asyncio

    from tui.cli import main

    db = tmp_path / "runs.db"
    data = json.loads((TEMPLATES / "snowbound_ward.json").read_text())
    data["fidelity"] = {"template": "minimal"}
    path = tmp_path / "minimal.json"
    path.write_text(json.dumps(data))

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--db", str(db)])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = await asyncio.to_thread(run, "run", str(path), "--headless", "--json")
    assert code == 0
    run_id = json.loads(out)["run_id"]
    summary = json.loads(out)
    assert summary["fidelity"]["actual"]["cells"]
    planned = next(
        p for p in of(await _events(db, run_id), ev.FidelityPlanned) if p.timepoint_id == "tp03"
    )
    low = min(sorted(planned.levels), key=lambda k: planned.levels[k].rank)
    code, out, err = await asyncio.to_thread(run, "query", run_id, f"@{low}@tp03 why so quiet?")
    assert code == 2 and "nothing was spent" in err and "Traceback" not in err
    code, out, _ = await asyncio.to_thread(
        run, "query", run_id, f"@{low}@tp03 why so quiet?", "--yes", "--json"
    )
    answer = json.loads(out)
    assert code == 0 and answer["kind"] == "answer" and answer["elevation"]["done"]
    assert answer["answer"]["level"] == "dialog" and answer["elevation"]["tokens"] > 0
    for bad in ("@", "/elevate @x to godlike", "@nobody_here hello"):
        code, _, err = await asyncio.to_thread(run, "query", run_id, bad)
        assert code == 2 and err.startswith("timeloom: ") and err.count("\n") == 1
    code, _, err = await asyncio.to_thread(run, "query", "no-such-run", "@x hi")
    assert code == 2 and "no run" in err
    code, out, _ = await asyncio.to_thread(run, "show", run_id, "--json")
    shown = json.loads(out)["fidelity"]
    assert [a["kind"] for a in shown["observer"]] == ["elevated"]


async def _events(db, run_id):
    from engine.store import Store

    store = await Store.open(db)
    try:
        return await store.events(run_id)
    finally:
        await store.close()


async def test_a_fork_inherits_what_queries_established_on_its_lineage(store, tmp_path) -> None:
    from engine.simulation import Simulation
    from engine.world.world import World

    summary, events = await _minimal_run(store, tmp_path)
    who = _low(events, "tp02")
    out = await run_query(
        store,
        OfflineProvider(),
        summary.run_id,
        f"@{who}@tp02 why did you keep quiet?",
        consent=YES,
    )
    later = await run_query(
        store, OfflineProvider(), summary.run_id, f"@{who}@tp05 and now?", consent=YES
    )
    assert out.elevated is not None and out.elevated.learned > 0
    learned = {
        r["information"]
        for r in await store.table("exposure_events", summary.run_id)
        if r["exposure_id"].startswith(f"{out.query_id}-")
    }
    sim = await Simulation.fork(
        store,
        summary.run_id,
        at="tp03",
        intervention=None,
        provider=OfflineProvider(),
        branch_id="b1",
    )
    await sim.run()
    log = await store.events(summary.run_id)
    scenario = sim.scenario
    branch = World.replay(scenario, log, "b1")
    assert learned <= set(branch.ledger.items(who)), "the elevation at tp02 is on b1's lineage"
    assert branch.attention.queries.get(who) == 1, "the question at tp05 is not"
    assert later.answer is not None


async def test_secrets_are_kept_or_told_by_character_and_answers_are_first_person(store) -> None:
    from engine.query.answer import build_context
    from engine.query.stored import answer_query

    summary, _ = await run_scenario("vintners_council", store, seed=2)
    run_id = summary.run_id
    early = "tp01"  # early on, before the drama brings secrets out
    guarded = told = None
    for entity_id in (
        "bastien_ferrol",
        "raymond_guerche",
        "odile_marchetti",
        "nadia_benhamou",
        "henri_solane",
        "marguerite_solane",
        "claude_aubusson",
        "yvette_caradec",
    ):
        ctx = await build_context(store, run_id, entity_id, early, "anything?")
        secret = next((k for k in ctx.knowledge if k.private and k.kind == "initial"), None)
        if secret is None:
            continue
        words = " ".join(secret.information.split()[:7])
        answer = await answer_query(
            store, OfflineProvider(2), run_id, entity_id, early, f"What about {words}?"
        )
        if ctx.candour < 0.55 and guarded is None:
            guarded = answer
        elif ctx.candour >= 0.55 and told is None:
            told = (answer, secret)
    assert guarded is not None, "someone in the cast keeps a secret"
    assert guarded.references == () and guarded.emotional_tone == "guarded"
    if told is not None:
        answer, secret = told
        assert secret.information in answer.references


def test_a_persons_own_fact_from_the_roster_is_said_in_the_first_person() -> None:
    from engine.llm.offline.answers import own_words

    assert own_words("He has been drinking from the jug.") == "I have been drinking from the jug."
    assert own_words("She was at the quay.") == "I was at the quay."
    assert own_words("He keeps the ledger.") == "I keep the ledger."
    assert own_words("Her brother owns the press.") == "My brother owns the press."
    assert own_words("The harvest failed.") == "The harvest failed."


async def _elaborated(store, run_id: str, query: str) -> tuple[Any, list]:
    """Run ``query`` (consenting to any elevation); its outcome and the context of each
    elaboration call it made."""
    seen: list = []

    def keep(request, parsed):
        if request.action.value == "entity_elaboration":
            seen.append(request.context)
        return parsed

    done = await run_query(store, ScriptedProvider(0, edit=keep), run_id, query, consent=YES)
    return done, seen


async def test_an_elevation_is_told_each_event_once(store, tmp_path) -> None:
    """What the raised entity witnessed is in what it knows; the account of what happened in
    front of it does not write the same event out a second time."""
    summary, events = await _minimal_run(store, tmp_path)
    who = _low(events, "tp04")
    done, seen = await _elaborated(store, summary.run_id, f"@{who}@tp04 why did you keep quiet?")
    assert done.elevated is not None and len(seen) == 1
    context = seen[0]
    witnessed = {k.information for k in context.known if k.kind == "witnessed"}
    assert witnessed, "it saw the events it was present at"
    assert not witnessed & set(context.attended)
    assert any(" said: " in line for line in context.attended), "what was said is still there"


async def test_a_raise_to_dialog_is_shown_the_newest_of_what_happened(store, tmp_path) -> None:
    """To answer for an intention (DIALOG), an elevation is shown the newest lines of what
    happened in front of the entity; to hold a long conversation (TRAINED), more of them. The
    shorter account is the end of the longer one."""
    from engine.query.elevation import ATTENDED_LINES, ATTENDED_LINES_TRAINED, attended

    summary, events = await _minimal_run(store, tmp_path)
    who = _low(events, "tp04")
    view = await store.load_view(summary.run_id, everything=True)
    tp = view.timepoint("tp04")
    known = frozenset(k.information for k in view.knowledge_at(who, "tp04"))
    everything = attended(view, who, tp, known, limit=1000)
    below = attended(view, who, tp, known)
    trained = attended(view, who, tp, known, limit=ATTENDED_LINES_TRAINED)
    assert len(everything) > ATTENDED_LINES and ATTENDED_LINES_TRAINED > ATTENDED_LINES
    assert below == everything[-ATTENDED_LINES:]
    assert trained == everything[-ATTENDED_LINES_TRAINED:]
    done, seen = await _elaborated(store, summary.run_id, f"@{who}@tp04 why did you keep quiet?")
    assert done.elevated is not None and done.elevated.resolution == L.DIALOG
    assert seen and seen[0].attended == below
