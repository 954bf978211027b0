"""PORTAL runs end to end on the offline provider: every kept path played as a branch, the
knowledge of portal time (nothing from a later state or another path is said), the exploration
strategies, backtracking, failures recorded rather than papered over, determinism, and the
settings a run refuses before it starts."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    FIXTURES,
    TEMPLATES,
    needs_fixtures,
    persisted,
    reference_templates,
    run_scenario,
)

from engine.llm.offline import provider as offline
from engine.llm.protocol import ActionType, ProviderError
from engine.model import events as ev
from engine.model import portal_events as pe
from engine.model.common import MAIN_BRANCH, RunStatus
from engine.model.responses import AntecedentScore, PathCoherence
from engine.scenario import load_scenario
from engine.store import Store
from tui.cli import main

OURS = ("fennick_bakery", "harrowgate_fossil")
REFERENCE = ("mars_mission_portal", "agent1_regulatory_stress", "agent3_litigation_portal")
SCENARIOS = [
    *OURS,
    *(pytest.param(name, marks=needs_fixtures) for name in REFERENCE),
]

Events = list[ev.EventBase]


def ref(name: str) -> str:
    """A bundled scenario by name, a reference template by its path."""
    if name in OURS:
        return name
    return str(next(FIXTURES.glob(f"templates/*/{name}.json")))


def of(events: Events, cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def one(events: Events, cls: type[Any]) -> Any:
    found = of(events, cls)
    assert len(found) == 1, f"{len(found)} {cls.__name__} events"
    return found[0]


def variant(tmp_path: Path, name: str, dialog_turns: int = 2, **portal: Any) -> str:
    """One of our templates with its portal section changed (and short dialogs, to be fast)."""
    data = json.loads((TEMPLATES / f"{name}.json").read_text())
    data["portal"].update(portal)
    data["dialog"]["turns"] = dialog_turns
    path = tmp_path / f"{name}_variant.json"
    path.write_text(json.dumps(data))
    return str(path)


def searched_order(events: Events) -> list[int]:
    """The slots in the order the first search filled them (backtracks come after a judging)."""
    first_judged = next(e.seq for e in events if isinstance(e, pe.PortalPathJudged))
    return [e.slot for e in of(events, pe.PortalBeamKept) if e.seq < first_judged]


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Any, Events]]:
    """Each scenario run once (seed 0) for the tests that only read its events."""
    cache: dict[str, tuple[Any, Events]] = {}

    def get(name: str) -> tuple[Any, Events]:
        if name not in cache:

            async def go() -> tuple[Any, Events]:
                store = await Store.open(tmp_path_factory.mktemp("portal") / "runs.db")
                try:
                    return await run_scenario(ref(name), store)
                finally:
                    await store.close()

            summary, events = asyncio.run(go())
            cache[name] = summary, persisted(events)
        return cache[name]

    return get


# --------------------------------------------------------------------------- complete runs
@needs_fixtures
def test_the_reference_portal_templates_are_the_three_we_run() -> None:
    portal = {
        p.stem
        for p in reference_templates()
        if json.loads(p.read_text()).get("temporal", {}).get("mode") == "portal"
    }
    assert portal == set(REFERENCE)


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_portal_run_plays_every_kept_path(played, name: str) -> None:
    summary, events = played(name)
    spec = load_scenario(ref(name)).scenario.portal
    assert spec is not None
    assert summary.status is RunStatus.COMPLETED, summary.status_reason
    states = spec.backward_steps + 1
    kept = one(events, pe.PortalPathsKept)
    assert [p.branch_id for p in kept.paths] == [f"p{i}" for i in range(1, spec.path_count + 1)]
    proposed = {e.candidate_id: e for e in of(events, pe.PortalCandidateProposed)}
    for path in kept.paths:
        opened = [e for e in of(events, ev.BranchCreated) if e.branch_id == path.branch_id]
        assert len(opened) == 1 and opened[0].fork_timepoint_id is None, "opened before any"
        made = [
            e.timepoint for e in of(events, ev.TimepointCreated) if e.branch_id == path.branch_id
        ]
        assert [t.index for t in made] == list(range(states))
        assert [t.timestamp for t in made] == [proposed[c].when for c in path.candidate_ids]
        assert [proposed[c].slot for c in path.candidate_ids] == list(range(states))[::-1]
        done = [e for e in of(events, ev.TimepointCompleted) if e.branch_id == path.branch_id]
        assert len(done) == states
        (finished,) = [e for e in of(events, ev.BranchFinished) if e.branch_id == path.branch_id]
        assert finished.status is RunStatus.COMPLETED
    assert not [e for e in of(events, ev.TimepointCreated) if e.branch_id == MAIN_BRANCH]
    assert summary.counts.timepoints == spec.path_count * states
    analysed = one(events, pe.PortalAnalysed)
    assert len(analysed.divergence) == states and analysed.divergence[-1] == 0.0, "one endpoint"
    assert all(p.branch_id in {k.branch_id for k in kept.paths} for p in analysed.pivots)
    judged = of(events, pe.PortalPathJudged)
    assert judged and all(j.judge for j in judged if j.coherence is not None), "its sentence"


# --------------------------------------------------------------------------- portal time
def unsupported(events: Events) -> tuple[int, list[str]]:
    """How many knowledge references of dialog turns were checked, and those not backed by an
    exposure of the speaker made before the turn, at setup or on the turn's own path at or
    before its timepoint."""
    tps = {e.timepoint.timepoint_id: e.timepoint for e in of(events, ev.TimepointCreated)}
    at = {e.dialog_id: tps[e.timepoint_id] for e in of(events, ev.DialogStarted)}
    exposures = of(events, ev.ExposureRecorded)
    checked, problems = 0, []
    for t in of(events, ev.DialogTurnFinished):
        here = at[t.turn.dialog_id]
        for information in t.turn.knowledge_references:
            checked += 1
            if not any(
                e.exposure.entity_id == t.turn.speaker
                and e.exposure.information == information
                and e.seq < t.seq
                and (
                    e.exposure.timepoint_id is None
                    or (
                        tps[e.exposure.timepoint_id].branch_id == here.branch_id
                        and tps[e.exposure.timepoint_id].index <= here.index
                    )
                )
                for e in exposures
            ):
                problems.append(f"{here.timepoint_id} {t.turn.speaker}: {information}")
    return checked, problems


@pytest.mark.parametrize("name", SCENARIOS)
def test_nothing_from_a_later_state_or_another_path_is_said(played, name: str) -> None:
    _, events = played(name)
    paths = {p.branch_id for p in one(events, pe.PortalPathsKept).paths}
    tps = {e.timepoint.timepoint_id: e.timepoint for e in of(events, ev.TimepointCreated)}
    exposures = of(events, ev.ExposureRecorded)
    for e in exposures:  # setup on the trunk; the rest on one of its own path's timepoints
        tp_id = e.exposure.timepoint_id
        if e.branch_id == MAIN_BRANCH:
            assert tp_id is None, e
        else:
            assert e.branch_id in paths and tps[tp_id].branch_id == e.branch_id, e
    for t in of(events, ev.DialogTurnFinished):
        assert t.branch_id in paths and t.turn.dialog_id.startswith(f"{t.branch_id}.")
    checked, problems = unsupported(events)
    assert checked > 0 and problems == []
    # The check sees a leak: a turn of one path given what only another path learned.
    learned = {
        (e.branch_id, e.exposure.entity_id, e.exposure.information)
        for e in exposures
        if e.branch_id != MAIN_BRANCH
    }
    turn = next(e for e in of(events, ev.DialogTurnFinished) if e.branch_id == "p1")
    foreign = next(
        info
        for branch, who, info in sorted(learned)
        if who == turn.turn.speaker and branch != "p1" and ("p1", who, info) not in learned
    )
    leaked = turn.model_copy(
        update={"turn": turn.turn.model_copy(update={"knowledge_references": (foreign,)})}
    )
    _, found = unsupported([leaked if e is turn else e for e in events])
    assert len(found) == 1 and found[0].endswith(f"{turn.turn.speaker}: {foreign}")


# --------------------------------------------------------------------------- strategies
def test_reverse_chronological_and_oscillating_orders(played) -> None:
    _, backwards = played("fennick_bakery")
    assert one(backwards, pe.PortalSearchStarted).strategy == "reverse_chronological"
    assert searched_order(backwards) == [1, 2, 3, 4]
    _, oscillating = played("harrowgate_fossil")
    assert one(oscillating, pe.PortalSearchStarted).strategy == "oscillating"
    assert searched_order(oscillating) == [1, 5, 2, 4, 3]


def _scores(values: Callable[[], float]) -> Callable[[Any, Any], AntecedentScore]:
    def score(ctx: Any, rng: Any) -> AntecedentScore:
        v = values()
        return AntecedentScore(
            plausibility=v, historical_precedent=v, causal_necessity=v, entity_capability=v
        )

    return score


@pytest.mark.parametrize(
    ("values", "spread"),
    [(itertools.cycle([0.1, 0.9]).__next__, True), (lambda: 0.7, False)],
    ids=["disagreeing", "agreeing"],
)
async def test_adaptive_pins_the_origin_when_the_scores_disagree(
    tmp_path, store, monkeypatch, values, spread: bool
) -> None:
    monkeypatch.setitem(offline.GENERATORS, ActionType.PORTAL_PATH_SCORING, _scores(values))
    path = variant(tmp_path, "harrowgate_fossil", strategy="adaptive")
    summary, events = await run_scenario(path, store)
    assert summary.status is RunStatus.COMPLETED, summary.status_reason
    order = searched_order(events)
    assert sorted(order) == [1, 2, 3, 4, 5]
    if spread:
        assert order[:2] == [1, 5] and order != [1, 2, 3, 4, 5]
    else:
        assert order == [1, 2, 3, 4, 5]


# --------------------------------------------------------------------------- backtracking
def _coherence(low_link: int, rounds_low: int | None) -> Callable[[Any, Any], PathCoherence]:
    """Every link judged 0.7 but ``low_link`` (origin first), judged 0, in the first
    ``rounds_low`` judge calls (None: always)."""
    calls = itertools.count(1)

    def judge(ctx: Any, rng: Any) -> PathCoherence:
        n = next(calls)
        links = [0.7] * (len(ctx.states) - 1)
        if rounds_low is None or n <= rounds_low:
            links[low_link] = 0.0
        else:
            links = [0.9] * len(links)
        return PathCoherence(links=tuple(links), reason="judged by the test")

    return judge


@pytest.mark.parametrize("always", [False, True], ids=["then-coherent", "never-coherent"])
async def test_a_weak_link_sends_the_search_back(tmp_path, store, monkeypatch, always) -> None:
    # fennick_bakery: 4 steps, 3 paths. Link 2 (origin first) joins slot 2 to slot 1, so a
    # backtrack regenerates slots 2, 3 and 4.
    judge = _coherence(low_link=2, rounds_low=None if always else 3)
    monkeypatch.setitem(offline.GENERATORS, ActionType.TEMPORAL_REASONING, judge)
    path = variant(tmp_path, "fennick_bakery", max_backtrack_depth=2)
    summary, events = await run_scenario(path, store)
    assert summary.status is RunStatus.COMPLETED, summary.status_reason
    judged = of(events, pe.PortalPathJudged)
    by_path: dict[str, list[pe.PortalPathJudged]] = {}
    for j in judged:
        by_path.setdefault(j.path_id, []).append(j)
    assert len(by_path) == 3
    for history in by_path.values():
        actions = [j.action for j in history]
        backs = [j for j in history if j.action == "backtrack"]
        assert backs and len(backs) <= 2 and all(j.at_slot == 2 for j in backs)
        assert actions == (
            ["backtrack"] * 2 + ["keep_with_warning"] if always else ["backtrack", "keep"]
        )
        assert [j.backtracks for j in history] == list(range(len(history)))
    again = [e for e in of(events, pe.PortalCandidateProposed) if e.attempt > 0]
    assert {e.attempt for e in again} == ({1, 2} if always else {1})
    assert {e.slot for e in again if e.attempt == 1} == {2, 3, 4}, "from the weak link back"
    proposed = {e.candidate_id: e for e in of(events, pe.PortalCandidateProposed)}
    kept = one(events, pe.PortalPathsKept)
    for k in kept.paths:
        assert (k.warning is not None) == always
        assert [proposed[c].attempt > 0 for c in k.candidate_ids] == [True] * 3 + [False] * 2


# --------------------------------------------------------------------------- failures
async def test_a_failed_proposal_is_recorded_and_nothing_stands_in(
    tmp_path, store, monkeypatch
) -> None:
    real = offline.GENERATORS[ActionType.PORTAL_BACKWARD_REASONING]
    target: list[str] = []

    def antecedents(ctx: Any, rng: Any) -> Any:
        if ctx.step == 2:
            target[:] = target or [ctx.consequent.description]
            if ctx.consequent.description == target[0]:
                raise ProviderError("the archive is closed for this one")
        return real(ctx, rng)

    monkeypatch.setitem(offline.GENERATORS, ActionType.PORTAL_BACKWARD_REASONING, antecedents)
    summary, events = await run_scenario(variant(tmp_path, "fennick_bakery"), store)
    assert summary.status is RunStatus.COMPLETED, summary.status_reason
    proposed = of(events, pe.PortalCandidateProposed)
    (failed,) = of(events, pe.PortalStepFailed)
    assert failed.stage == "generation" and failed.slot == 2 and "archive is closed" in failed.error
    lost = next(e for e in proposed if e.candidate_id == failed.later_id)
    assert lost.description == target[0] and lost.slot == 1
    assert not [e for e in proposed if e.later_id == lost.candidate_id], "no stand-in"
    (call,) = [e for e in of(events, ev.LLMCallFinished) if e.status.value == "failed"]
    assert call.call_id.startswith(f"portal/s2/{lost.candidate_id}/")
    kept = one(events, pe.PortalPathsKept)
    assert len(kept.paths) == 3 and all(
        lost.candidate_id not in k.candidate_ids for k in kept.paths
    )
    assert summary.counts.timepoints == 15


def test_a_search_with_no_antecedent_at_all_fails_the_run(tmp_path, monkeypatch, capsys) -> None:
    def broken(ctx: Any, rng: Any) -> Any:
        raise ProviderError("the archive is closed")

    monkeypatch.setitem(offline.GENERATORS, ActionType.PORTAL_BACKWARD_REASONING, broken)
    code = main(
        ["run", variant(tmp_path, "fennick_bakery"), "--json", "--db", str(tmp_path / "f.db")]
    )
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["status"] == "failed" and data["timepoints"] == 0
    reason = data["reason"]
    assert "backward search stopped" in reason and "step 1" in reason and "\n" not in reason


async def test_a_failed_score_is_missing_never_a_number(tmp_path, store, monkeypatch) -> None:
    real = offline.GENERATORS[ActionType.PORTAL_PATH_SCORING]
    target: list[str] = []

    def score(ctx: Any, rng: Any) -> Any:
        target[:] = target or [ctx.candidate.description]
        if ctx.candidate.description == target[0]:
            raise ProviderError("the judge is out")
        return real(ctx, rng)

    monkeypatch.setitem(offline.GENERATORS, ActionType.PORTAL_PATH_SCORING, score)
    summary, events = await run_scenario(variant(tmp_path, "fennick_bakery"), store)
    assert summary.status is RunStatus.COMPLETED, summary.status_reason
    weights = set(one(events, pe.PortalSearchStarted).weights)
    failed = of(events, pe.PortalStepFailed)
    assert failed and all(f.stage == "scoring" for f in failed)
    scored = {e.candidate_id: e for e in of(events, pe.PortalCandidateScored)}
    for f in failed:
        s = scored[f.candidate_id]
        assert s.score is None and s.components == {} and set(s.missing) == weights
        assert all("judge is out" in why for why in s.missing.values())
    unscored = {cid for cid, s in scored.items() if s.score is None}
    assert unscored == {f.candidate_id for f in failed}, "only a failure leaves a score out"


# --------------------------------------------------------------------------- settings
async def test_simulation_judging_is_said_to_be_unsupported(tmp_path, store) -> None:
    _, plain = await run_scenario(variant(tmp_path, "fennick_bakery", backward_steps=1), store)
    assert one(plain, pe.PortalSearchStarted).not_supported == ()
    path = variant(tmp_path, "fennick_bakery", backward_steps=1, simulation_judging=True)
    summary, events = await run_scenario(path, store)
    assert summary.status is RunStatus.COMPLETED
    (said,) = one(events, pe.PortalSearchStarted).not_supported
    assert "simulation judging" in said and "not supported" in said


async def test_one_scenario_and_seed_give_the_same_run(tmp_path, store) -> None:
    other = await Store.open(tmp_path / "other.db")
    try:
        a_summary, a = await run_scenario("harrowgate_fossil", store, seed=7)
        b_summary, b = await run_scenario("harrowgate_fossil", other, seed=7)
    finally:
        await other.close()
    assert a_summary.run_id != b_summary.run_id
    dump_a = [e.deterministic_dump() for e in persisted(a)]
    assert dump_a == [e.deterministic_dump() for e in persisted(b)]
    assert any(d["type"] == "portal_paths_kept" for d in dump_a)


# What tests/test_portal_schema.py does not already cover (origin after the endpoint, no
# steps or candidates, path_count above the beam, weights all 0, an unknown strategy).
@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"origin_at": "1989-03-17T19:00:00"}, "portal.origin_at"),  # at the endpoint itself
        ({"path_count": 0}, "portal.path_count"),
        ({"beam": 0}, "portal.beam"),
        ({"backward_steps": 61}, "portal.backward_steps"),
        ({"max_backtrack_depth": -1}, "portal.max_backtrack_depth"),
        ({"coherence_threshold": 1.5}, "portal.coherence_threshold"),
        ({"endpoint_after": "1989-03-18"}, "portal.endpoint_after"),
        ({"candidates_per_step": 1}, "can give at most 1 path"),
    ],
)
def test_impossible_settings_stop_the_run_in_one_sentence(tmp_path, capsys, changes, words) -> None:
    data = json.loads((TEMPLATES / "fennick_bakery.json").read_text())
    data["portal"].update(changes)
    path = tmp_path / "impossible.json"
    path.write_text(json.dumps(data))
    db = tmp_path / "never.db"
    code = main(["run", str(path), "--headless", "--db", str(db)])
    err = capsys.readouterr().err
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err
    assert not db.exists(), "nothing was run"
    assert err.count("portal.") <= 3 and "portal portal" not in err


def test_a_time_with_a_zone_on_one_side_only_is_read_as_utc() -> None:
    from engine.scenario.schema import PortalSpec

    spec = PortalSpec.model_validate(
        {
            "endpoint": "The cooperative is dissolved by its members.",
            "endpoint_at": "1989-03-17T19:00:00",
            "origin_at": "1988-09-05T08:00:00+02:00",
            "backward_steps": 3,
        }
    )
    assert spec.origin_at.tzinfo is None and spec.origin_at.hour == 6


def test_a_headless_run_says_what_it_does_not_support(tmp_path, capsys) -> None:
    data = json.loads((TEMPLATES / "fennick_bakery.json").read_text())
    data["portal"]["simulation_judging"] = True
    data["portal"]["backward_steps"] = 2
    path = tmp_path / "judged.json"
    path.write_text(json.dumps(data))
    code = main(["run", str(path), "--headless", "--db", str(tmp_path / "j.db")])
    out = capsys.readouterr()
    assert code == 0
    assert "portal: simulation judging" in out.err and "not supported" in out.err
    assert "3 paths of 3 states" in out.out + out.err


@pytest.mark.parametrize("fraction", [0.1, 0.6], ids=["in-the-search", "in-the-play"])
async def test_a_run_stopped_by_its_budget_resumes_to_the_run_it_would_have_been(
    store, fraction: float
) -> None:
    from engine.llm.budget import Budget
    from engine.llm.offline import OfflineProvider
    from engine.simulation import Simulation

    path = str(TEMPLATES / "fennick_bakery.json")
    whole, _ = await run_scenario(path, store)
    loaded = load_scenario(path)
    budget = Budget(tokens=int(whole.spent_tokens * fraction))
    sim = Simulation(loaded, provider=OfflineProvider(0), store=store, seed=0, budget=budget)
    stopped = await sim.run()
    assert stopped.status is RunStatus.STOPPED
    before = await store.events(stopped.run_id)
    searched = any(isinstance(e, pe.PortalPathsKept) for e in before)
    assert searched == (fraction > 0.5)  # the budget ran out where the case says
    again = await Simulation.resume(
        store, stopped.run_id, provider=OfflineProvider(0), budget=Budget()
    )
    done = await again.run()
    assert done.status is RunStatus.COMPLETED
    events = await store.events(done.run_id)
    kept = [e for e in events if isinstance(e, pe.PortalPathsKept)]
    assert len(kept) == 1 and len(kept[0].paths) == 3
    length = kept[0].paths[0].candidate_ids
    for path_ in kept[0].paths:
        made = [
            e
            for e in events
            if isinstance(e, ev.TimepointCompleted) and e.branch_id == path_.branch_id
        ]
        assert len(made) == len(length)
    assert sum(isinstance(e, pe.PortalAnalysed) for e in events) == 1
