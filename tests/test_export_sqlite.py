"""``timeloom export --format sqlite``: a standalone database in the store's schema holding
exactly the selection, which ``timeloom show --db`` and the read model open like any other."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from engine.export import sqlite as sqlite_export
from engine.store import Store
from tui.cli import main


def _run(tmp_path: Path, capsys, scenario: str = "lighthouse_log") -> tuple[Path, str]:
    db = tmp_path / "runs.db"
    assert main(["run", scenario, "--headless", "--json", "--db", str(db), "--seed", "3"]) == 0
    return db, json.loads(capsys.readouterr().out)["run_id"]


def _export(db: Path, run_id: str, out: Path, capsys, *extra: str) -> tuple[int, dict | str]:
    code = main(
        ["export", run_id, "--db", str(db), "-o", str(out), "--format", "sqlite", "--json", *extra]
    )
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else captured.err.strip())


def _show(db: Path, run_id: str, capsys) -> dict:
    assert main(["show", run_id, "--db", str(db), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _moments(shown: dict) -> list[tuple[str, str, list[tuple[str, str]]]]:
    return [
        (t["timepoint_id"], t["branch_id"], [(d["speaker"], d["content"]) for d in t["dialog"]])
        for t in shown["timepoints_detail"]
    ]


@pytest.fixture
def stored(tmp_path: Path, capsys) -> tuple[Path, str, dict]:
    db, run_id = _run(tmp_path, capsys)
    return db, run_id, _show(db, run_id, capsys)


def test_the_whole_run_reads_back_the_same(stored, tmp_path: Path, capsys) -> None:
    db, run_id, shown = stored
    out = tmp_path / "copy.db"
    code, printed = _export(db, run_id, out, capsys)
    assert code == 0 and isinstance(printed, dict)
    assert printed["format"] == "sqlite" and printed["records"] > 0
    copied = _show(out, run_id, capsys)
    assert {k: v for k, v in copied.items() if k != "db"} == {
        k: v for k, v in shown.items() if k != "db"
    }
    # a database file alone: no journal or WAL left beside it, nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) == [
        "copy.db",
        "copy.db.manifest.json",
    ]
    manifest = json.loads((tmp_path / "copy.db.manifest.json").read_text())
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["format"] == "sqlite" and manifest["run_id"] == run_id
    assert manifest["counts"]["dialog_turns"] == shown["dialog_turns"]


def test_the_read_model_of_the_copy_equals_the_original(stored, tmp_path: Path, capsys) -> None:
    db, run_id, _ = stored
    out = tmp_path / "copy.db"
    assert _export(db, run_id, out, capsys)[0] == 0

    async def load(path: Path):
        async with await Store.open(path) as store:
            return await store.load_view(run_id, everything=True)

    original, copy = asyncio.run(load(db)), asyncio.run(load(out))
    assert [t.timepoint_id for t in copy.timepoints] == [
        t.timepoint_id for t in original.timepoints
    ]
    for t in original.timepoints:
        assert copy.turns(t.timepoint_id) == original.turns(t.timepoint_id)
    assert copy.entities == original.entities


def test_a_branch_holds_only_its_lineage(stored, tmp_path: Path, capsys) -> None:
    db, run_id, shown = stored
    branches = sorted({t["branch_id"] for t in shown["timepoints_detail"]} - {"main"})
    assert len(branches) >= 2, "lighthouse_log should branch"
    out = tmp_path / "b.db"
    code, printed = _export(db, run_id, out, capsys, "--branch", branches[0])
    assert code == 0 and isinstance(printed, dict)
    copied = _show(out, run_id, capsys)
    expected = [m for m in _moments(shown) if m[1] in ("main", branches[0])]
    assert _moments(copied) == expected
    assert printed["timepoints"] == len(expected)
    assert copied["dialog_turns"] == sum(len(m[2]) for m in expected) < shown["dialog_turns"]
    assert {b["branch_id"] for b in copied["branches"]} <= {"main", branches[0]}


def test_entities_and_a_time_window(stored, tmp_path: Path, capsys) -> None:
    db, run_id, shown = stored
    moments = _moments(shown)
    speaker = moments[0][2][0][0]
    name_to_id = {e["name"]: e["entity_id"] for e in shown["entities_detail"]}
    out = tmp_path / "one.db"
    code, _ = _export(db, run_id, out, capsys, "--entities", name_to_id.get(speaker, speaker))
    assert code == 0
    copied = _show(out, run_id, capsys)
    spoken = [d for m in _moments(copied) for d in m[2]]
    assert spoken and {s for s, _ in spoken} == {speaker}
    assert len(spoken) == sum(1 for m in moments for d in m[2] if d[0] == speaker)

    times = [t["timestamp"] for t in shown["timepoints_detail"]]
    window = tmp_path / "window.db"
    code, printed = _export(db, run_id, window, capsys, "--from", times[1], "--to", times[2])
    assert code == 0 and isinstance(printed, dict)
    kept = [t["timepoint_id"] for t in _show(window, run_id, capsys)["timepoints_detail"]]
    assert kept == [
        t["timepoint_id"]
        for t in shown["timepoints_detail"]
        if times[1] <= t["timestamp"] <= times[2]
    ]
    assert 0 < len(kept) < len(times)


def test_an_existing_file_is_refused_and_kept(stored, tmp_path: Path, capsys) -> None:
    db, run_id, _ = stored
    out = tmp_path / "taken.db"
    out.write_bytes(b"mine")
    code, err = _export(db, run_id, out, capsys)
    assert code == 2 and isinstance(err, str)
    assert len(err.splitlines()) == 1 and "--force" in err
    assert out.read_bytes() == b"mine"
    code, _ = _export(db, run_id, out, capsys, "--force")
    assert code == 0
    with closing(sqlite3.connect(out)) as conn:
        assert conn.execute("SELECT run_id FROM runs").fetchall() == [(run_id,)]


def test_a_failed_build_leaves_nothing(stored, tmp_path: Path, capsys, monkeypatch) -> None:
    db, run_id, _ = stored

    async def fail(*args, **kwargs):
        raise sqlite_export.ExportError("the disk is full")

    monkeypatch.setattr(sqlite_export, "_copy", fail)
    out = tmp_path / "never.db"
    code, err = _export(db, run_id, out, capsys)
    assert code == 2 and err == "timeloom: the disk is full"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".never", "never"))]
