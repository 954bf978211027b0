"""How a run with failures ends: mostly failed is ``failed`` (exit 1) with a reason that counts
the failures, a few failures end ``completed`` with their count in the summary (text and JSON,
exit 0), ``--strict`` makes any failure exit 1, and a replay ends exactly as its recording."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conftest import TEMPLATES
from faults import ServerThread, provider_config, run_cli, small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from test_llm_fakeserver import Reply, Seen

from engine.model import events as ev
from engine.view.failures import mostly_failed


def _events(made_turns: int, failed_turns: int, made_tps: int, failed_tps: int) -> list:
    kinds = (
        [ev.DialogTurnFinished] * made_turns
        + [ev.DialogTurnFailed] * failed_turns
        + [ev.TimepointCompleted] * made_tps
        + [ev.TimepointFailed] * failed_tps
    )
    return [k.model_construct(run_id="r", branch_id="main", seq=i) for i, k in enumerate(kinds)]


@settings(max_examples=60, deadline=1000)
@given(st.integers(0, 20), st.integers(0, 20), st.integers(0, 5), st.integers(0, 3), st.booleans())
def test_a_run_counts_as_failed_when_most_of_its_steps_failed(
    made_turns: int, failed_turns: int, made_tps: int, failed_tps: int, other_branch: bool
) -> None:
    events = _events(made_turns, failed_turns, made_tps, failed_tps)
    reason = mostly_failed(events)
    failed, made = failed_turns + failed_tps, made_turns + made_tps
    assert (reason is not None) == (failed > made)
    if reason is not None:
        assert reason.startswith("most of its steps failed: ")
        if failed_turns:
            assert f"{failed_turns} of {failed_turns + made_turns} dialog turns" in reason
        if failed_tps:
            assert f"{failed_tps} of {failed_tps + made_tps} timepoints" in reason
    # a branch is judged on its own events only
    branch = "b1" if other_branch else "main"
    assert (mostly_failed(events, branch) is None) == (branch == "b1" or failed <= made)


def _every_turn_fails(seen: Seen, index: int) -> Reply | None:
    return Reply(status=500) if seen.body.get("stream") else None


class _OneTurnFails:
    """Every attempt of the first dialog turn asked fails; everything else is answered."""

    def __init__(self) -> None:
        self.first: str | None = None

    def __call__(self, seen: Seen, index: int) -> Reply | None:
        if not seen.body.get("stream"):
            return None
        digest = hashlib.sha256(json.dumps(seen.body, sort_keys=True).encode()).hexdigest()
        self.first = self.first or digest
        return Reply(status=503) if digest == self.first else None


def test_a_run_whose_every_dialog_turn_failed_ends_failed_and_its_replay_too(
    tmp_path: Path,
) -> None:
    scenario = small_scenario(tmp_path, TEMPLATES)
    db = str(tmp_path / "runs.db")
    with ServerThread(_every_turn_fails) as server:
        config = provider_config(tmp_path, server.url)
        code, data, err = run_cli(["run", scenario, "--headless", "--db", db], config)
    assert code == 1, err
    turns = data["failed_steps"]
    assert data["status"] == "failed" and data["dialog_turns"] == 0 and turns > 0
    assert data["reason"] == f"most of its steps failed: {turns} of {turns} dialog turns failed"
    assert data["timepoints"] == data["planned_timepoints"]  # it went to its end
    again, replayed, err = run_cli(["run", "--replay", data["run_id"], "--db", db], config)
    assert again == 1, err
    assert (replayed["status"], replayed["reason"]) == (data["status"], data["reason"])
    assert replayed["failed_steps"] == turns and replayed["llm_calls"] == data["llm_calls"]
    # the text line says so too
    code, text, _ = run_cli(["show", data["run_id"], "--db", db], config, as_json=False)
    assert code == 0 and f"{turns} failed steps" in text


def test_a_run_with_one_failure_completes_and_counts_it_and_strict_exits_1(
    tmp_path: Path,
) -> None:
    scenario = small_scenario(tmp_path, TEMPLATES)
    db = str(tmp_path / "runs.db")
    with ServerThread(_OneTurnFails()) as server:
        config = provider_config(tmp_path, server.url)
        code, text, err = run_cli(
            ["run", scenario, "--headless", "--db", db], config, as_json=False
        )
    assert code == 0, err
    assert " completed: " in text and text.count("1 failed step") == 1, text
    run_id = text.split()[1]
    code, data, _ = run_cli(["run", "--replay", run_id, "--db", db], config)
    assert code == 0 and data["status"] == "completed" and data["failed_steps"] == 1
    code, strict, _ = run_cli(["run", "--replay", run_id, "--db", db, "--strict"], config)
    assert code == 1 and strict["status"] == "completed" and strict["failed_steps"] == 1
