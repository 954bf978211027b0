"""Provider faults at 30%: a fake server answers about a third of its requests with a 429 (with
and without Retry-After), a 503, a hang past the client's short timeout, a stream cut short,
text that is not JSON or an object that fails validation (seeded: :mod:`faults`). Every run
through ``timeloom run`` completes or fails honestly (a failure has its reason, the exit status
says which), every attempt the server saw is a row of ``llm_calls`` and counted by the run, and
``timeloom run --replay`` ends as the recording did, event for event. ``bench/provider_faults.py``
runs many more."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from conftest import TEMPLATES
from faults import (
    KINDS,
    FaultPlan,
    FaultRun,
    ServerThread,
    fault_run,
    provider_config,
    run_cli,
    small_branching,
    small_scenario,
)

SEEDS = range(4)
SHAPES = {"forward": small_scenario, "branching": small_branching}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], FaultRun]:
    """One run (and its replay) per shape and seed, at 30% faults."""
    made = {}
    for shape, scenario in SHAPES.items():
        for seed in SEEDS:
            folder = tmp_path_factory.mktemp(f"{shape}-{seed}")
            made[(shape, seed)] = fault_run(
                folder, scenario(folder, TEMPLATES), seed=seed, rate=0.3
            )
    return made


def _check(run: FaultRun) -> None:
    assert run.status in ("completed", "failed"), run
    assert run.code == (0 if run.status == "completed" else 1)
    if run.status == "failed":
        assert run.reason, "a failed run says why"
    assert run.made == run.recorded == run.counted, f"attempts made/recorded/counted: {run}"
    assert (run.replay_status, run.replay_reason, run.replay_code) == (
        run.status,
        run.reason,
        run.code,
    )
    assert run.replay_same, "the replay's log differs from its recording"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_run_at_30_percent_faults_is_honest_recorded_and_replayed(
    runs: dict[tuple[str, int], FaultRun], shape: str, seed: int
) -> None:
    run = runs[(shape, seed)]
    _check(run)
    assert sum(run.injected.values()) > 0  # faults did happen


def test_the_runs_met_every_kind_of_fault(runs: dict[tuple[str, int], FaultRun]) -> None:
    injected: Counter[str] = Counter()
    for run in runs.values():
        injected.update(run.injected)
    assert set(injected) == set(KINDS), injected


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_failed_timepoint_keeps_every_attempt_and_its_replay_fails_the_same(
    tmp_path: Path, shape: str
) -> None:
    """Every request fails: the first timepoint fails after its attempts (retries, or a
    repair request), each a row, and the replay fails with the recording's reason (not for
    want of recorded answers)."""
    run = fault_run(tmp_path, SHAPES[shape](tmp_path, TEMPLATES), seed=0, rate=1.0)
    _check(run)
    assert run.status == "failed" and run.reason.startswith("timepoint 1: timepoint_event call")
    assert run.recorded >= 2 and run.made == run.recorded


def test_a_set_up_that_failed_keeps_every_attempt_through_two_resumes(tmp_path: Path) -> None:
    """The cast's population call fails in the run and in its first resumption, then succeeds:
    each attempt of the three processes is its own row (a resumed set-up's call is its next
    attempt, ``setup~2/population``), none shadowed by an earlier one's id."""
    scenario = small_scenario(tmp_path, TEMPLATES, generated=1)
    db = str(tmp_path / "runs.db")
    made = 0
    with ServerThread(FaultPlan(0, 1.0)) as server:
        code, data, err = run_cli(
            ["run", scenario, "--headless", "--db", db], provider_config(tmp_path, server.url)
        )
        made += len(server.chat_bodies())
    assert code == 1 and data["reason"].startswith("setup: entity_population call failed"), err
    run_id = data["run_id"]
    for plan, ends in ((FaultPlan(1, 1.0), "failed"), (None, "completed")):
        with ServerThread(plan) as server:
            config = provider_config(tmp_path, server.url)
            code, data, err = run_cli(["resume", run_id, "--db", db], config)
            made += len(server.chat_bodies())
        assert data is not None and data["status"] == ends, err
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT call_id, cached FROM llm_calls WHERE run_id = ?", (run_id,)
        ).fetchall()
    ids = [r[0] for r in rows]
    # a request the run already made (two moments whose prompts came out alike) is answered
    # from its cassette: a row, but nothing sent to the server
    sent = sum(1 for r in rows if not r[1])
    assert len(ids) == len(set(ids)) == data["llm_calls"] and sent == made
    population = [i for i in ids if "/population" in i]
    assert {i.split("/")[0] for i in population} == {"setup", "setup~2", "setup~3"}
