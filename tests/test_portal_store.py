"""A PORTAL run in the store: its search's tables (every candidate with its score and beam
status, every judged path, the kept ones with their branch, the divergence and the pivots), the
stored read model folded from the same events as the live one, and what ``show`` and the run
summary say about it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import TEMPLATES, persisted, run_scenario

from engine.model import events as ev
from engine.model import portal_events as pe
from engine.store import Store
from engine.view import RunView
from engine.view.portal import PortalView
from tui.cli import main

ENDPOINT = "Halden Ring is stood down for thirty days after an undeclared \x1b[31mincident\x1b[0m."


def _scenario(tmp_path: Path, **changes: Any) -> Path:
    data = json.loads((TEMPLATES / "orbital_audit.json").read_text())
    data["name"] = "orbital_portal_test"
    data["mode"] = "portal"
    data["timeline"]["beats"] = []
    data["portal"] = {
        "endpoint": ENDPOINT,
        "endpoint_at": "2087-06-01T09:00:00Z",
        "origin_at": "2087-02-20T09:00:00Z",
        "backward_steps": 3,
        "candidates_per_step": 3,
        "path_count": 2,
        **changes,
    }
    path = tmp_path / "orbital_portal_test.json"
    path.write_text(json.dumps(data))
    return path


def _of(events: list[Any], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


@pytest.fixture
async def portal_run(tmp_path: Path, store: Store) -> tuple[Any, list[ev.EventBase]]:
    summary, seen = await run_scenario(str(_scenario(tmp_path)), store, seed=5)
    assert summary.status.value == "completed", summary.status_reason
    return summary, seen


async def test_the_tables_hold_the_whole_search(store: Store, portal_run: Any) -> None:
    summary, seen = portal_run
    run_id = summary.run_id
    proposed = _of(seen, pe.PortalCandidateProposed)
    scored = {e.candidate_id: e for e in _of(seen, pe.PortalCandidateScored)}
    assert len(proposed) > 2 * 3, "a search of three steps back"

    rows = {r["candidate_id"]: r for r in await store.table("portal_candidates", run_id)}
    assert len(rows) == len(proposed) == len({e.candidate_id for e in proposed})
    for e in proposed:
        row = rows[e.candidate_id]
        assert (row["slot"], row["later_id"], row["title"], row["source"]) == (
            e.slot,
            e.later_id,
            e.title,
            e.source,
        )
        assert json.loads(row["key_events_json"]) == list(e.key_events)
        assert json.loads(row["entity_changes_json"]) == e.entity_changes
    assert scored, "the offline provider scores the candidates"
    for cid, e in scored.items():
        row = rows[cid]
        assert row["scored"] == 1 and row["score"] == e.score
        assert json.loads(row["components_json"]) == e.components
        assert json.loads(row["missing_json"]) == e.missing
        assert json.loads(row["weights_json"]) == e.weights
    beams = _of(seen, pe.PortalBeamKept)
    kept_ids = {c for b in beams for c in b.kept}
    aside = {c for b in beams for c in b.set_aside} - kept_ids
    assert kept_ids and {rows[c]["beam"] for c in kept_ids} == {"kept"}
    assert {rows[c]["beam"] for c in aside} <= {"set aside"}
    endpoint = next(r for r in rows.values() if r["slot"] == 0)
    assert endpoint["source"] == "scenario" and endpoint["description"] == ENDPOINT

    judged = _of(seen, pe.PortalPathJudged)
    paths = await store.table("portal_paths", run_id, order="seq")
    assert [p["path_id"] for p in paths] == [j.path_id for j in judged]
    assert [json.loads(p["candidate_ids_json"]) for p in paths] == [
        list(j.candidate_ids) for j in judged
    ]
    assert [p["coherence"] for p in paths] == [j.coherence for j in judged]
    (kept_event,) = _of(seen, pe.PortalPathsKept)
    kept_rows = sorted((p for p in paths if p["kept"]), key=lambda p: p["rank"])
    assert [
        (p["path_id"], p["branch_id"], p["rank"], p["cluster"], p["score"]) for p in kept_rows
    ] == [(k.path_id, k.branch_id, k.rank, k.cluster, k.score) for k in kept_event.paths]
    assert [p["branch_id"] for p in kept_rows] == ["p1", "p2"]
    branch_ids = {b.branch_id for b in await store.branches(run_id)}
    assert {"p1", "p2"} <= branch_ids

    (analysed,) = _of(seen, pe.PortalAnalysed)
    divergence = await store.table("portal_divergence", run_id, order="position")
    assert [(d["position"], d["slot"], d["value"]) for d in divergence] == [
        (i, 3 - i, v) for i, v in enumerate(analysed.divergence)
    ]
    assert [d["position"] for d in divergence if d["is_key"]] == sorted(analysed.key_positions)
    pivots = await store.table("portal_pivots", run_id, order="ord")
    assert analysed.pivots, "the offline run has pivots to show"
    assert [
        (p["branch_id"], p["position"], p["slot"], p["candidate_id"], p["sentence"]) for p in pivots
    ] == [(p.branch_id, p.position, p.slot, p.candidate_id, p.sentence) for p in analysed.pivots]
    assert [json.loads(p["reasons_json"]) for p in pivots] == [
        list(p.reasons) for p in analysed.pivots
    ]
    assert await store.count("portal_failures", run_id) == len(_of(seen, pe.PortalStepFailed))
    (search,) = await store.table("portal_searches", run_id)
    assert (search["steps"], search["path_count"], search["endpoint"]) == (3, 2, ENDPOINT)


async def test_the_tables_do_not_depend_on_how_the_events_are_batched(
    tmp_path: Path, store: Store, portal_run: Any
) -> None:
    """Updates (scores, beams, kept paths) put before the inserts they change, in one append,
    give the same rows as the run's own appends."""
    summary, seen = portal_run
    started = next(e for e in seen if isinstance(e, ev.RunStarted))
    search = [e for e in persisted(seen) if isinstance(e, pe.PORTAL_EVENTS)]
    inserts = (pe.PortalSearchStarted, pe.PortalCandidateProposed, pe.PortalPathJudged)
    updates_first = [e for e in search if not isinstance(e, inserts)] + [
        e for e in search if isinstance(e, inserts)
    ]
    async with await Store.open(tmp_path / "batched.db") as other:
        await other.append([started, *updates_first])
        for name in ("portal_candidates", "portal_paths", "portal_divergence", "portal_pivots"):
            order = "rowid" if name != "portal_paths" else "seq"
            mine = await store.table(name, summary.run_id, order=order)
            theirs = await other.table(name, summary.run_id, order=order)
            key = sorted(mine[0]) if mine else []
            assert sorted((tuple(r[k] for k in key) for r in theirs), key=repr) == sorted(
                (tuple(r[k] for k in key) for r in mine), key=repr
            ), name


async def test_the_stored_view_is_the_live_fold(store: Store, portal_run: Any) -> None:
    summary, seen = portal_run
    live = PortalView.of(seen)
    assert live.active and len(live.kept) == 2
    assert await store.portal_events(summary.run_id) == [
        e for e in persisted(seen) if isinstance(e, pe.PORTAL_EVENTS)
    ]
    loaded = await store.load_view(summary.run_id)
    _, snapshot = await store.read_snapshot(summary.run_id)  # what the explorer opens
    for view in (loaded, RunView.from_snapshot(summary, snapshot)):
        stored = view.portal
        assert stored.kept == live.kept and stored.pivots == live.pivots
        assert stored.divergence == live.divergence
        assert stored.key_positions == live.key_positions
        assert stored.candidates == live.candidates and stored.judged == live.judged
        tps = {(t.branch_id, t.index): t.timepoint_id for t in view.timepoints}
        assert stored.as_json(tps) == live.as_json(tps)
        assert [t.timepoint_id for t in view.timepoints if t.branch_id == "p1"] == [
            f"p1.tp0{i}" for i in range(1, 5)
        ]


async def test_a_run_of_another_mode_has_no_portal(store: Store) -> None:
    summary, _ = await run_scenario(str(TEMPLATES / "orbital_audit.json"), store, seed=1)
    assert await store.portal_events(summary.run_id) == []
    view = await store.load_view(summary.run_id)
    assert not view.portal.active and view.portal.kept == ()
    assert await store.count("portal_candidates", summary.run_id) == 0


def _run_cli(tmp_path: Path, capsys: Any, db: str) -> dict[str, Any]:
    path = str(_scenario(tmp_path))
    assert main(["run", path, "--headless", "--json", "--db", db, "--seed", "5"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_run_summary_counts_paths(tmp_path: Path, capsys: Any) -> None:
    db = str(tmp_path / "cli.db")
    data = _run_cli(tmp_path, capsys, db)
    assert (data["path_count"], data["states_per_path"], data["timepoints"]) == (2, 4, 8)
    assert data["candidates"] > 6 and data["failed_search_calls"] == 0
    path = str(_scenario(tmp_path))
    assert main(["run", path, "--headless", "--db", db, "--seed", "5"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert re.search(r"completed: 2 paths of 4 states \(8/8 timepoints\), \d+ candidates", line)
    assert "fork" not in line


def test_show_json_has_paths_divergence_and_pivots(tmp_path: Path, capsys: Any) -> None:
    db = str(tmp_path / "cli.db")
    run_id = _run_cli(tmp_path, capsys, db)["run_id"]
    assert main(["show", run_id, "--json", "--db", db]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [p["branch_id"] for p in shown["paths"]] == ["p1", "p2"]
    for path in shown["paths"]:
        assert path["coherence"] is not None and len(path["links"]) == 3
        assert [s["position"] for s in path["steps"]] == [0, 1, 2, 3]
        assert [s["timepoint_id"] for s in path["steps"]] == [
            f"{path['branch_id']}.tp0{i}" for i in range(1, 5)
        ]
        assert all(s["score"] is not None for s in path["steps"][:-1])
        assert path["steps"][-1]["description"] == ENDPOINT  # JSON escapes it
    assert [d["position"] for d in shown["divergence"]] == [0, 1, 2, 3]
    assert [d["slot"] for d in shown["divergence"]] == [3, 2, 1, 0]
    assert any(d["key"] for d in shown["divergence"])
    assert shown["pivots"]
    for pivot in shown["pivots"]:
        assert pivot["sentence"] and pivot["branch_id"] in {"p1", "p2"}
        assert pivot["timepoint_id"] == f"{pivot['branch_id']}.tp0{pivot['position'] + 1}"
    portal = shown["portal"]
    assert portal["search"]["steps"] == 3 and portal["search"]["path_count"] == 2
    assert portal["candidates"] == shown["candidates"] and portal["failures"] == []
    assert {j["path_id"] for j in portal["judged"]} >= {p["path_id"] for p in shown["paths"]}
    assert shown["path_count"] == 2
    scoring = {b["branch_id"]: b["score_missing"] for b in shown["branches"]}
    assert "PORTAL path" in scoring["p1"]


def test_show_text_has_the_portal_section(tmp_path: Path, capsys: Any) -> None:
    db = str(tmp_path / "cli.db")
    run_id = _run_cli(tmp_path, capsys, db)["run_id"]
    assert main(["show", run_id, "--json", "--db", db]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert main(["show", run_id, "--db", db]) == 0
    text = capsys.readouterr().out
    assert "\x1b" not in text, "escape sequences of the scenario never reach the terminal"
    lines = text.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("Portal (")))
    end = lines.index(next(line for line in lines[start:] if line.startswith("p1.tp01 ")))
    section = lines[start:end]
    assert all(len(line) <= 80 for line in section), [x for x in section if len(x) > 80]
    body = " ".join(" ".join(section).split())
    assert "Halden Ring is stood down for thirty days after an undeclared incident." in body
    judged, candidates = len(shown["portal"]["judged"]), shown["candidates"]
    assert f"{candidates} candidates" in body and f"{judged} paths judged, 2 kept" in body
    for path in shown["paths"]:
        assert f"#{path['rank']} {path['branch_id']} coherence {path['coherence']:.2f}" in body
        for step in path["steps"]:
            score = f"{step['score']:.2f}" if step["score"] is not None else "-"
            assert re.search(rf"{step['position']} {step['when'][:10]} +{re.escape(score)} ", body)
    assert "divergence by position" in body
    for d in shown["divergence"]:
        star = r"\*" if d["key"] else ""
        assert re.search(rf"\b{d['position']}:{d['value']:.2f}{star}(\s|$)", body), d
    for pivot in shown["pivots"]:
        assert f"{pivot['branch_id']} position {pivot['position']} (slot {pivot['slot']}" in body
        assert " ".join(pivot["sentence"].split()) in body
    branches_section = [line for line in lines if line == "Branches"]
    assert not branches_section, "the paths are the Portal section's, not forks"
