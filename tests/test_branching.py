"""BRANCHING runs: a trunk to the decision point, one branch per alternative run side by side,
each scored from what happened on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import needs_fixtures, reference_templates, run_scenario

from engine.model import events as ev
from engine.scenario import ScenarioError, load_scenario
from engine.world import World
from tui.cli import main

BRANCHING = [
    p for p in reference_templates() if json.loads(p.read_text())["temporal"]["mode"] == "branching"
]


def _of(events, kind):
    return [e for e in events if isinstance(e, kind)]


@needs_fixtures
@pytest.mark.parametrize("path", BRANCHING, ids=lambda p: p.stem)
async def test_every_branching_reference_template_runs_with_scored_branches(
    path: Path, store
) -> None:
    summary, events = await run_scenario(str(path), store, seed=2)
    assert summary.status.value == "completed", summary.status_reason
    branches = [b for b in await store.branches(summary.run_id) if b.parent_branch_id]
    assert len(branches) >= 2
    assert {b.status for b in branches} == {"completed"}
    for b in branches:
        assert b.score is not None and 0.0 <= b.score <= 1.0
        parts = b.scoring["components"]
        assert {"mood", "trust", "calm"} <= set(parts)
        # the score is the weighted mean of its stored components, nothing else
        w = b.scoring["weights"]
        mean = sum(parts[k] * w[k] for k in parts) / sum(w[k] for k in parts)
        assert b.score == pytest.approx(mean, abs=1e-3)
    # all branches leave the same fork point, and the alternatives differ
    assert len({b.fork_timepoint_id for b in branches}) == 1
    assert len({b.label for b in branches}) == len(branches)
    assert len(_of(events, ev.BranchScored)) == len(branches)


@needs_fixtures
def test_the_converter_honours_the_branching_points() -> None:
    path = next(p for p in BRANCHING if p.stem == "vc_pitch_branching")
    spec = load_scenario(str(path)).scenario.branching
    assert spec is not None and spec.decision_at == 4 and len(spec.alternatives) == 4


async def test_our_branching_scenario_scores_its_success_criteria(store) -> None:
    summary, _ = await run_scenario("lighthouse_log", store)
    assert summary.status.value == "completed", summary.status_reason
    branches = [b for b in await store.branches(summary.run_id) if b.parent_branch_id]
    assert [b.label for b in branches] == [
        "Correct the log",
        "Let the entry stand",
        "Tomas reports it",
    ]
    for b in branches:
        details = b.scoring["details"]
        met, missed = details["criteria_met"], details["criteria_missed"]
        assert len(met) + len(missed) == 3
        assert b.scoring["components"]["criteria"] == pytest.approx(len(met) / 3, abs=1e-3)
    # the scores are read from the branches, so branches that went differently score differently
    assert len({b.score for b in branches}) > 1
    # each branch's own world starts from the trunk and carries its own intervention only
    scenario = load_scenario("lighthouse_log").scenario
    for b in branches:
        world = World.replay(scenario, await store.events(summary.run_id), b.branch_id)
        own = {i.get("event") for i in [b.intervention]}
        others = {o.intervention.get("event") for o in branches if o is not b}
        text = " ".join(d for t in world.timepoints for d in [t.event_description])
        assert own and not any(o and o in text for o in others - own)


async def test_a_branching_run_is_deterministic(store, tmp_path: Path) -> None:
    from engine.store import Store

    first, a = await run_scenario("lighthouse_log", store, seed=5)
    other = await Store.open(tmp_path / "again.db")
    try:
        second, b = await run_scenario("lighthouse_log", other, seed=5)
        scores_b = [x.score for x in await other.branches(second.run_id)]
    finally:
        await other.close()
    scores_a = [x.score for x in await store.branches(first.run_id)]
    assert scores_a == scores_b

    def shape(events):
        return [(e.seq, type(e).__name__) for e in events if e.PERSIST and e.seq]

    assert shape(a) == shape(b)


def test_a_decision_after_the_last_timepoint_is_one_sentence_and_exit_2(
    tmp_path: Path, capsys
) -> None:
    data = json.loads(Path("templates/lighthouse_log.json").read_text())
    data["branching"]["decision_at"] = 5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(ScenarioError, match="decision_at is 5"):
        load_scenario(str(bad))
    code = main(["run", str(bad), "--json", "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert code == 2 and "decision_at" in err and "Traceback" not in err


def test_the_command_line_reports_a_branching_run_whole(tmp_path: Path, capsys) -> None:
    db = tmp_path / "b.db"
    assert main(["run", "lighthouse_log", "--headless", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "9/9 timepoints (3 before the decision, 3 branches)" in out, out
    assert main(["runs", "--db", str(db)]) == 0
    assert "9/9 ⑂3" in capsys.readouterr().out
    run_id = next(w for w in out.split() if w.startswith("2") and "-" in w)
    assert main(["show", run_id, "--db", str(db)]) == 0
    shown = capsys.readouterr().out
    assert "Branches" in shown and "b2 Let the entry stand (from main at tp03" in shown
