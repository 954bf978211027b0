"""Forks (M12): a branch of a stored run opened at a completed timepoint with an intervention.
The prefix is replayed, never re-run; each kind of intervention has its exact effect; branches
never leak into each other; bad arguments are one sentence and exit 2."""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ScriptedProvider, run_scenario

from engine.knowledge import validators
from engine.knowledge.words import mentions
from engine.llm.protocol import ActionType
from engine.model import events as ev
from engine.model.common import ExposureType
from engine.model.intervention import Intervention
from engine.model.knowledge import ExposureEvent
from engine.simulation import Simulation
from engine.store import Store
from engine.world import World
from tui.cli import main

SCENARIO = "vintners_council"  # 10 people, 4 timepoints, scripted beats
SECRET = "unsigned insurance renewal letter"


async def _run(db: Path) -> str:
    store = await Store.open(db)
    try:
        summary, _ = await run_scenario(SCENARIO, store, seed=2)
        return summary.run_id
    finally:
        await store.close()


async def _fork(
    db: Path, run_id: str, at: str, change: Intervention | None, branch: str = "b1", **kw
) -> tuple[Simulation, ScriptedProvider, list[ev.EventBase]]:
    store = await Store.open(db)
    provider = ScriptedProvider(2)
    try:
        sim = await Simulation.fork(
            store, run_id, at=at, intervention=change, provider=provider, branch_id=branch, **kw
        )
        await sim.run()
        return sim, provider, await store.events(run_id)
    finally:
        await store.close()


@pytest.fixture
async def stored(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "runs.db"
    return db, await _run(db)


def _scenario(events: list[ev.EventBase]):
    from engine.scenario.schema import Scenario

    start = events[0]
    assert isinstance(start, ev.RunStarted)
    return Scenario.model_validate(start.scenario_data)


def _of(events: list[ev.EventBase], branch: str, cls: type) -> list:
    return [e for e in events if e.branch_id == branch and isinstance(e, cls)]


async def test_the_prefix_is_shared_and_only_the_suffix_is_paid_for(stored) -> None:
    db, run_id = stored
    before = await _events(db, run_id)
    change = Intervention(kind="remove", entity="marguerite_solane")
    sim, provider, events = await _fork(db, run_id, "tp02", change)
    calls = _of(events, "b1", ev.LLMCallFinished)
    assert calls and sum(provider.calls.values()) == len(calls)
    # every call of the fork belongs to the branch's own timepoints: nothing before tp02 again
    assert {c.timepoint_id.split(".")[0] for c in calls} == {"b1"}
    assert events[: len(before)] == before, "the parent's log is untouched"
    made = [e.timepoint for e in _of(events, "b1", ev.TimepointCreated)]
    assert [t.timepoint_id for t in made] == ["b1.tp03", "b1.tp04"]
    assert made[0].causal_parent == "tp02"
    finished = _of(events, "b1", ev.BranchFinished)
    assert len(finished) == 1 and finished[0].status.value == "completed"
    assert finished[0].counts.llm_calls == len(calls) == sim.fork_tally.llm_calls
    main_calls = [e for e in before if isinstance(e, ev.LLMCallFinished)]
    assert len(calls) < len(main_calls)


async def _events(db: Path, run_id: str) -> list[ev.EventBase]:
    store = await Store.open(db)
    try:
        return await store.events(run_id)
    finally:
        await store.close()


async def test_the_same_fork_makes_the_same_branch(stored, tmp_path: Path) -> None:
    db, run_id = stored
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    change = Intervention(kind="tell", entity="odile_marchetti", information="The bank is closed.")
    _, _, one = await _fork(db, run_id, "tp01", change, steps=2)
    _, _, two = await _fork(copy, run_id, "tp01", change, steps=2)
    dump = [e.deterministic_dump() for e in one]
    assert dump == [e.deterministic_dump() for e in two]
    assert len(_of(one, "b1", ev.TimepointCompleted)) == 2  # --steps 2


async def test_a_removed_entity_is_never_present_and_never_speaks(stored) -> None:
    db, run_id = stored
    change = Intervention(kind="remove", entity="marguerite_solane")
    _, _, events = await _fork(db, run_id, "tp02", change)
    for created in _of(events, "b1", ev.TimepointCreated):
        assert "marguerite_solane" not in created.timepoint.entities_present
    assert not [
        t for t in _of(events, "b1", ev.DialogTurnFinished) if t.turn.speaker == "marguerite_solane"
    ]
    # on the main branch she was there at tp03 and tp04
    main_tps = [e.timepoint for e in _of(events, "main", ev.TimepointCreated)]
    assert "marguerite_solane" in main_tps[2].entities_present


async def test_a_withheld_item_is_taken_out_and_never_learned_again(stored) -> None:
    db, run_id = stored
    change = Intervention(kind="withhold", entity="bastien_ferrol", information=SECRET)
    _, _, events = await _fork(db, run_id, "tp01", change)
    scenario = _scenario(events)
    main = World.replay(scenario, events)
    branch = World.replay(scenario, events, "b1")
    assert any(mentions(i, SECRET) for i in main.ledger.items("bastien_ferrol"))
    assert not any(mentions(i, SECRET) for i in branch.ledger.items("bastien_ferrol"))
    for x in _of(events, "b1", ev.ExposureRecorded):
        assert not (
            x.exposure.entity_id == "bastien_ferrol" and mentions(x.exposure.information, SECRET)
        )
    # Bastien cannot cite it in the branch; whoever does held it there (told before the fork)
    for t in _of(events, "b1", ev.DialogTurnFinished):
        cites = any(mentions(r, SECRET) for r in t.turn.knowledge_references)
        if t.turn.speaker == "bastien_ferrol":
            assert not cites
        elif cites:
            assert any(mentions(i, SECRET) for i in branch.ledger.items(t.turn.speaker))


async def test_a_told_item_arrives_at_the_fork_point(stored) -> None:
    db, run_id = stored
    news = "The Mutuelle assessor will come at dawn on Thursday."
    change = Intervention(kind="tell", entity="odile_marchetti", information=news)
    _, _, events = await _fork(db, run_id, "tp02", change)
    told = next(x.exposure for x in _of(events, "b1", ev.ExposureRecorded))
    assert (told.entity_id, told.information, told.kind) == (
        "odile_marchetti",
        news,
        ExposureType.LEARNED,
    )
    assert told.timepoint_id == "tp02"
    assert World.replay(_scenario(events), events, "b1").ledger.knows("odile_marchetti", news)
    assert not World.replay(_scenario(events), events).ledger.knows("odile_marchetti", news)


async def test_an_injected_event_is_what_happens_next(stored) -> None:
    db, run_id = stored
    text = "A telegram arrives: the bank has called in the bottling-line loan."
    _, _, events = await _fork(db, run_id, "tp02", Intervention(kind="inject", event=text))
    first, second = [e.timepoint for e in _of(events, "b1", ev.TimepointCreated)]
    assert first.event_description == text and second.event_description != text
    witnessed = {
        x.exposure.entity_id
        for x in _of(events, "b1", ev.ExposureRecorded)
        if x.exposure.information == text and x.exposure.kind == ExposureType.WITNESSED
    }
    assert witnessed == set(first.entities_present)


async def test_a_fork_of_a_fork_inherits_its_parent(stored) -> None:
    db, run_id = stored
    await _fork(db, run_id, "tp02", Intervention(kind="remove", entity="marguerite_solane"))
    _, _, events = await _fork(
        db, run_id, "b1.tp03", Intervention(kind="remove", entity="henri_solane"), branch="b2"
    )
    created = [e for e in events if isinstance(e, ev.BranchCreated)]
    assert [(c.branch_id, c.parent_branch_id, c.fork_timepoint_id) for c in created] == [
        ("b1", "main", "tp02"),
        ("b2", "b1", "b1.tp03"),
    ]
    world = World.replay(_scenario(events), events, "b2")
    assert world.absent == {"marguerite_solane", "henri_solane"}
    assert [t.timepoint_id for t in world.timepoints] == ["tp01", "tp02", "b1.tp03", "b2.tp04"]
    (last,) = [e.timepoint for e in _of(events, "b2", ev.TimepointCreated)]
    assert not {"marguerite_solane", "henri_solane"} & set(last.entities_present)


async def test_sibling_branches_never_share_what_they_learned(stored) -> None:
    """Branch A is told a secret at the fork; branch B, forked at the same moment, is not. B
    never holds it, never sees it in a turn's context, and the validator would catch a leak."""
    db, run_id = stored
    secret = "The cellar keys are hidden under the third cask in row nine."
    await _fork(
        db, run_id, "tp02", Intervention(kind="tell", entity="yvette_caradec", information=secret)
    )
    store = await Store.open(db)
    seen_contexts: list[str] = []
    provider = ScriptedProvider(2)

    def spy(request, answer):
        if request.action == ActionType.DIALOG_TURN:
            seen_contexts.append(request.context.model_dump_json())
        return answer

    provider.edit = spy
    try:
        sim = await Simulation.fork(
            store, run_id, at="tp02", intervention=None, provider=provider, branch_id="b2"
        )
        await sim.run()
        events = await store.events(run_id)
    finally:
        await store.close()
    scenario = _scenario(events)
    a, b = World.replay(scenario, events, "b1"), World.replay(scenario, events, "b2")
    holders_a = {e for e in a.entities if any(mentions(i, secret) for i in a.ledger.items(e))}
    assert "yvette_caradec" in holders_a
    assert not any(any(mentions(i, secret) for i in b.ledger.items(e)) for e in b.entities)
    assert seen_contexts and not any("cellar keys" in c for c in seen_contexts)
    assert not [
        e for e in _of(events, "b2", ev.ValidationReported) if e.validator == "branch_isolation"
    ]
    # the validator: an exposure from the sibling's timepoint is a violation at b2's moment
    leak = ExposureEvent(
        exposure_id="b1.x999999",
        entity_id="yvette_caradec",
        kind=ExposureType.TOLD,
        information=secret,
        timestamp=datetime(1994, 4, 12, tzinfo=UTC),
        timepoint_id="b1.tp03",
    )
    lineage = b.graph.lineage("b2.tp04")
    assert "b1.tp03" not in lineage and "tp02" in lineage
    result = validators.branch_isolation([leak, *b.ledger.exposures("yvette_caradec")], lineage)
    assert not result.valid and result.violations == (secret,)


def test_fork_json_reports_the_branch_and_show_lists_it(stored, capsys) -> None:
    db, run_id = stored
    code = main(
        [
            "fork",
            run_id,
            "--at",
            "tp02",
            "--remove",
            "Marguerite",
            "--name",
            "no chair",
            "--json",
            "--db",
            str(db),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["branch_id"] == "b1" and data["status"] == "completed"
    assert data["timepoints"] == 2 and data["llm_calls"] > 0
    assert data["tokens"] == data["prompt_tokens"] + data["completion_tokens"]
    for key in ("run_id", "dialog_turns", "cost_usd", "wall_seconds", "blast_radius", "estimate"):
        assert key in data
    assert data["intervention"]["entity"] == "marguerite_solane"
    reached = {r["entity_id"] for r in data["blast_radius"]}
    assert "marguerite_solane" in reached and len(reached) > 1
    assert main(["show", run_id, "--json", "--db", str(db)]) == 0
    branches = json.loads(capsys.readouterr().out)["branches"]
    assert [(b["branch_id"], b["parent_branch_id"], b["fork_timepoint_id"]) for b in branches] == [
        ("main", None, None),
        ("b1", "main", "tp02"),
    ]
    assert branches[1]["label"] == "no chair" and branches[1]["intervention"]["kind"] == "remove"
    # the run's own progress stays 4 of 4; the fork is counted beside it
    assert main(["runs", "--db", str(db)]) == 0
    assert "4/4 ⑂1" in capsys.readouterr().out
    assert main(["runs", "--json", "--db", str(db)]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["forks"] == 1 and row["timepoints"] == 6  # counts cover every branch


def test_the_preview_shows_who_a_withheld_item_reaches(stored, capsys) -> None:
    db, run_id = stored
    code = main(
        [
            "fork",
            run_id,
            "--at",
            "tp01",
            "--withhold",
            "raymond_guerche=frost insurance lapsed",
            "--preview",
            "--json",
            "--db",
            str(db),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["estimate"]["timepoints"] == 3 and data["estimate"]["llm_calls"] > 0
    hops = {r["entity_id"]: r for r in data["blast_radius"]}
    assert hops["raymond_guerche"]["hop"] == 0
    assert all(
        mentions(r["information"], "frost insurance lapsed") for r in data["blast_radius"][1:]
    )
    assert _count_branches(db, run_id) == 1, "a preview makes nothing"


def _count_branches(db: Path, run_id: str) -> int:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT COUNT(*) FROM branches WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["no-such-run", "--at", "tp01"], "no run"),
        (["RUN", "--at", "tp09"], "no timepoint 'tp09'"),
        (["RUN", "--at", "tp04"], "last timepoint"),
        (["RUN", "--at", "tp01", "--remove", "nobody"], "no entity called 'nobody'"),
        (["RUN", "--at", "tp01", "--withhold", "bastien_ferrol"], "expects ENTITY=TEXT"),
        (["RUN", "--at", "tp01", "--withhold", "bastien_ferrol=zebra migration"], "never holds"),
        (["RUN", "--at", "b7.tp02"], "no timepoint"),
    ],
)
def test_bad_fork_arguments_are_one_sentence_and_exit_2(stored, capsys, args, says) -> None:
    db, run_id = stored
    args = [run_id if a == "RUN" else a for a in args]
    assert main(["fork", *args, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and err.count("\n") == 1
    assert _count_branches(db, run_id) == 1


def test_diff_shows_where_two_branches_part_and_what_only_one_knows(stored, capsys) -> None:
    db, run_id = stored
    news = "The Mutuelle assessor will come at dawn on Thursday."
    assert (
        main(["fork", run_id, "--at", "tp02", "--tell", f"odile_marchetti={news}", "--db", str(db)])
        == 0
    )
    assert (
        main(["fork", run_id, "--at", "tp02", "--remove", "marguerite_solane", "--db", str(db)])
        == 0
    )
    capsys.readouterr()
    assert main(["diff", run_id, "b1", "b2", "--json", "--db", str(db)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["common_timepoint_id"] == "tp02" and d["first_divergence_index"] == 2
    assert [(t["a"]["timepoint_id"], t["b"]["timepoint_id"]) for t in d["timepoints"]] == [
        ("b1.tp03", "b2.tp03"),
        ("b1.tp04", "b2.tp04"),
    ]
    assert news in d["knowledge_only_in_a"]["odile_marchetti"]
    assert news not in d["knowledge_only_in_b"].get("odile_marchetti", [])
    assert "marguerite_solane" not in d["timepoints"][0]["b"]["entities_present"]
    assert d["interventions"]["b2"] == [
        {"kind": "remove", "entity": "marguerite_solane", "source": "user"}
    ]
    # the text form says the same in a few lines
    assert main(["diff", run_id, "main", "b2", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "part after tp02" in text and "without Marguerite Solane" in text
    assert main(["diff", run_id, "main", "b9", "--db", str(db)]) == 2
    assert "no branch 'b9'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("what_if", "kind", "entity"),
    [
        (
            "What if Bastien had never seen the unsigned insurance renewal letter?",
            "withhold",
            "bastien_ferrol",
        ),
        ("What if Marguerite had stayed home?", "remove", "marguerite_solane"),
        ("What if Odile knew that the assessor comes on Thursday?", "tell", "odile_marchetti"),
        ("What if a storm knocks out the telephone lines?", "inject", None),
    ],
)
def test_a_what_if_in_words_is_read_as_one_structured_change(
    stored, capsys, what_if, kind, entity
) -> None:
    db, run_id = stored
    args = ["fork", run_id, "--at", "tp01", "--intervention", what_if, "--steps", "1"]
    assert main([*args, "--json", "--db", str(db)]) == 0
    data = json.loads(capsys.readouterr().out)
    change = data["intervention"]
    assert change["kind"] == kind and change.get("entity") == entity
    assert change["source"] == "provider" and change["text"] == what_if
    if kind == "tell":
        assert change["information"] == "The assessor comes on Thursday."
    if kind == "inject":
        assert change["event"] == "A storm knocks out the telephone lines."
    events = asyncio.run(_events(db, run_id))
    (created,) = [e for e in events if isinstance(e, ev.BranchCreated)]
    assert created.intervention == change  # the structured reading is what the branch records
    (reading,) = [
        e
        for e in events
        if isinstance(e, ev.LLMCallFinished) and e.action == "counterfactual_prediction"
    ]
    assert reading.branch_id == created.branch_id and data["llm_calls"] > 1
