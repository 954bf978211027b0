"""Convergence: the pure comparison on hand-built graphs, and ``timeloom convergence`` on the
bundled offline scenario (runs made concurrently, stored runs compared, sets kept and read)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.convergence import RunGraph, compare, grade, jaccard
from engine.convergence.compare import ConvergenceError, describe
from tui.cli import main

SKELETON = [
    (("temporal", "tp:arrival", "tp:storm"), 2),
    (("temporal", "tp:storm", "tp:rescue"), 3),
]
TITLES = {1: "Arrival", 2: "Storm", 3: "Rescue"}


def graph(run_id: str, edges, seed: int = 1) -> RunGraph:
    return RunGraph.of(run_id, seed, edges, TITLES)


def flow(teller: str, hearer: str, fact: str, at: int):
    return (("knowledge_flow", f"{teller}>{hearer}", fact), at)


def took_in(entity: str, fact: str, at: int):
    return (("causal", f"tp:{TITLES[at].lower()}", f"{entity}:{fact}"), at)


STORY = [
    flow("ann", "bo", "the lamp went dark", 2),
    flow("bo", "ann", "a ship is on the reef", 2),
    took_in("ann", "the flare went up", 2),
    took_in("bo", "the log was changed", 3),
]


# --------------------------------------------------------------------------- pure comparison
def test_identical_graphs_score_exactly_one_and_grade_a() -> None:
    runs = [graph(f"r{i}", SKELETON + STORY) for i in range(3)]
    result = compare(runs)
    assert result.score == 1.0 and result.grade == "A"
    assert len(result.consensus) == len(SKELETON) + len(STORY)
    assert result.contested == () and result.divergence == ()


def test_disjoint_graphs_score_zero() -> None:
    a = graph("a", [flow("ann", "bo", "x", 2), took_in("bo", "y", 3)])
    b = graph("b", [flow("bo", "ann", "z", 2), took_in("ann", "w", 3)])
    result = compare([a, b])
    assert result.score == 0.0 and result.grade == "F"
    assert result.consensus == () and len(result.contested) == 4


def test_a_shared_temporal_skeleton_alone_cannot_give_a_high_score() -> None:
    # every run has the scenario's fixed timeline; what happened is entirely different
    a = graph("a", [*SKELETON, flow("ann", "bo", "x", 2)])
    b = graph("b", [*SKELETON, flow("bo", "ann", "z", 3)])
    result = compare([a, b])
    assert result.score == 0.0 and result.grade == "F"
    assert {e.key for e in result.consensus} == {k for k, _ in SKELETON}  # listed, not scored
    # nothing but the skeleton: nothing to agree on, so no credit either
    only = compare([graph("a", SKELETON), graph("b", SKELETON)])
    assert only.score == 0.0 and only.grade == "F"


def test_contested_edges_count_their_runs_and_divergence_points_are_named() -> None:
    a = graph("a", SKELETON + STORY, seed=1)
    b = graph("b", SKELETON + STORY[:3], seed=2)  # bo never learns the log was changed
    c = graph("c", SKELETON + STORY[:3] + [took_in("bo", "the log is true", 3)], seed=3)
    result = compare([a, b, c])
    assert 0 < result.score < 1
    contested = {e.key: len(e.runs) for e in result.contested}
    assert contested == {STORY[3][0]: 1, ("causal", "tp:rescue", "bo:the log is true"): 1}
    [point] = result.divergence  # the storm agrees; the rescue does not
    assert (point.position, point.title) == (3, "Rescue")
    assert point.shared == 0 and point.total == 2 and point.agreement == 0.0
    sides = {tuple(s.runs): s.edges for s in point.sides}
    assert sides[(0,)] == (STORY[3][0],) and sides[(1,)] == ()
    data = result.to_json()
    said = data["divergence_points"][0]
    assert said["title"] == "Rescue" and said["agreement"] == 0.0
    assert [s["seeds"] for s in said["sides"]] == [[1], [2], [3]]
    assert "bo took in “the log was changed…” at ‘rescue’" in said["sides"][0]["did"]


def test_the_score_is_the_mean_pairwise_jaccard_and_grades_follow_it() -> None:
    a = graph("a", STORY)
    b = graph("b", STORY[:2])  # 2 of 4 shared
    c = graph("c", STORY[:3])
    result = compare([a, b, c])
    expected = (2 / 4 + 3 / 4 + 2 / 3) / 3
    assert result.score == pytest.approx(expected)
    assert jaccard(frozenset(), frozenset()) == 0.0
    assert [grade(s) for s in (0.95, 0.9, 0.85, 0.7, 0.5, 0.49)] == ["A", "A", "B", "C", "D", "F"]


def test_fewer_than_two_runs_cannot_be_compared() -> None:
    with pytest.raises(ConvergenceError):
        compare([graph("a", STORY)])


def test_edges_are_described_in_words() -> None:
    assert describe(("temporal", "tp:a", "tp:b")) == "‘b’ follows ‘a’"
    assert describe(("knowledge_flow", "ann>bo", "x y")) == "ann told bo “x y…”"
    assert describe(("causal", "knows:x", "says:bo@tp:storm")) == "bo drew on “x…” at ‘storm’"


# --------------------------------------------------------------------------- the command
def _cli(capsys, *argv: str) -> dict:
    assert main(["convergence", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "conv.db"


def test_identical_seeds_converge_exactly(db: Path, capsys) -> None:
    data = _cli(capsys, "lighthouse_night", "--runs", "3", "--seeds", "5,5,5", "--db", str(db))
    assert data["score"] == 1.0 and data["grade"] == "A"
    assert {"score", "grade", "consensus_edges", "contested_edges", "divergence_points"} <= set(
        data
    )
    assert data["set_id"] and len(data["runs"]) == 3
    assert {r["seed"] for r in data["runs"]} == {5} and len(
        {r["run_id"] for r in data["runs"]}
    ) == 3
    assert data["contested_edges"] == [] and data["divergence_points"] == []
    assert data["counts"]["scored_edges"] > 0 and data["consensus_edges"]


def test_different_seeds_diverge_at_named_points_and_stored_runs_agree(db: Path, capsys) -> None:
    direct = _cli(capsys, "lighthouse_night", "--runs", "3", "--db", str(db))
    assert [r["seed"] for r in direct["runs"]] == [1, 2, 3]
    assert direct["score"] < 1.0 and direct["contested_edges"]
    titles = {p["title"] for p in direct["divergence_points"]}
    assert titles and titles <= {"The handover", "A flare to the northeast", "What goes in the log"}
    assert all(p["agreement"] < 1.0 and len(p["sides"]) >= 2 for p in direct["divergence_points"])

    ids = [r["run_id"] for r in direct["runs"]]
    again = _cli(capsys, "--runs-of", ",".join(ids), "--db", str(db))
    assert again["set_id"] != direct["set_id"]
    for key in ("score", "grade", "consensus_edges", "contested_edges", "divergence_points"):
        assert again[key] == direct[key], key

    listed = _cli(capsys, "--list", "--db", str(db))
    assert {s["set_id"] for s in listed} == {direct["set_id"], again["set_id"]}
    assert all(s["runs"] == ids and s["scenario"] == "lighthouse_night" for s in listed)
    shown = _cli(capsys, "--show", direct["set_id"][:-2], "--db", str(db))
    assert shown["set_id"] == direct["set_id"]
    assert (
        shown["score"] == direct["score"]
        and shown["divergence_points"] == direct["divergence_points"]
    )
    # the members are rows of their own, in order
    members = sqlite3.connect(db).execute(
        "SELECT run_id, seed FROM convergence_runs WHERE set_id = ? ORDER BY position",
        (direct["set_id"],),
    )
    assert list(members) == [(r["run_id"], r["seed"]) for r in direct["runs"]]

    assert main(["convergence", "--show", direct["set_id"], "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert f"grade {direct['grade']}" in text and "where the runs diverge" in text
    assert "at timepoint" in text and "agreement" in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["no_such_scenario", "--runs", "2"], "no_such_scenario"),
        (["lighthouse_night", "--runs", "0"], "at least two"),
        (["lighthouse_night", "--runs", "1000"], "at most"),
        (["lighthouse_night", "--runs", "two"], "--runs"),
        (["lighthouse_night", "--seeds", "1,x"], "--seeds"),
        (["lighthouse_night", "--seeds", "4"], "at least two"),
        (["lighthouse_night", "--runs", "2", "--seeds", "1,2,3"], "3 seeds"),
        (["--runs-of", "nope1,nope2"], "no run 'nope1'"),
        (["--runs-of", "nope1"], "at least two"),
        (["--show", "cv-nothing"], "there is no database at"),  # read-only: never made
        ([], "name a scenario"),
        (["lighthouse_night", "--list"], "only one"),
        (["--list", "--concurrency", "2"], "go with a SCENARIO"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(db: Path, capsys, argv, says) -> None:
    assert main(["convergence", *argv, "--db", str(db)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in captured.err


def test_runs_of_refuses_a_run_named_twice_and_runs_of_other_scenarios(db: Path, capsys) -> None:
    runs = []
    for scenario in ("lighthouse_night", "lighthouse_night", "fennick_bakery"):
        argv = ["run", scenario, "--headless", "--json", "--db", str(db)]
        assert main(argv) == 0
        runs.append(json.loads(capsys.readouterr().out)["run_id"])
    assert main(["convergence", "--runs-of", f"{runs[0]},{runs[0]}", "--db", str(db)]) == 2
    assert "named twice" in capsys.readouterr().err
    assert main(["convergence", "--runs-of", f"{runs[0]},{runs[2]}", "--db", str(db)]) == 2
    assert "different scenarios" in capsys.readouterr().err
    # two runs of the scenario's own seed happened the same way
    same = _cli(capsys, "--runs-of", f"{runs[0]},{runs[1]}", "--db", str(db))
    assert same["score"] == 1.0 and same["grade"] == "A"


def test_a_concurrency_below_one_is_refused_by_the_parser(db: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["convergence", "lighthouse_night", "--concurrency", "0", "--db", str(db)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--concurrency" in err[0] and "positive" in err[0]
    assert not db.exists()


def test_concurrency_and_provider_choose_how_runs_go_not_what_happens(db: Path, capsys) -> None:
    one_at_a_time = _cli(
        capsys,
        "lighthouse_night",
        "--runs",
        "2",
        "--concurrency",
        "1",
        "--provider",
        "offline",
        "--db",
        str(db),
    )
    together = _cli(capsys, "lighthouse_night", "--runs", "2", "--db", str(db))
    assert one_at_a_time["score"] == together["score"]
    assert [r["seed"] for r in one_at_a_time["runs"]] == [1, 2]
    assert {r["run_id"] for r in one_at_a_time["runs"]}.isdisjoint(
        r["run_id"] for r in together["runs"]
    )
