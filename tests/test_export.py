"""``timeloom export --format jsonl``: records, manifest, selection, refusals."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tui.cli import main


def _run(tmp_path: Path, capsys, scenario: str = "lighthouse_night") -> tuple[Path, dict]:
    db = tmp_path / "runs.db"
    assert main(["run", scenario, "--headless", "--json", "--db", str(db), "--seed", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    return db, data


def _export(db: Path, run_id: str, out: Path, *extra: str) -> int:
    return main(["export", run_id, "--db", str(db), "-o", str(out), "--json", *extra])


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _show(db: Path, run_id: str, capsys) -> dict:
    assert main(["show", run_id, "--db", str(db), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def exported(tmp_path: Path, capsys):
    db, run = _run(tmp_path, capsys)
    out = tmp_path / "train.jsonl"
    assert _export(db, run["run_id"], out) == 0
    printed = json.loads(capsys.readouterr().out)
    return db, run, out, printed


def test_one_record_per_spoken_turn_with_the_stored_text(exported, capsys) -> None:
    db, run, out, printed = exported
    records = _records(out)
    shown = _show(db, run["run_id"], capsys)
    turns = [
        (t["timepoint_id"], d["speaker"], d["content"])
        for t in shown["timepoints_detail"]
        for d in t["dialog"]
    ]
    assert turns and len(records) == len(turns) == printed["records"]
    got = [
        (r["metadata"]["timepoint_id"], r["metadata"]["speaker"], r["completion"]) for r in records
    ]
    assert got == turns
    assert printed["format"] == "jsonl" and printed["path"] == str(out)
    meta = records[0]["metadata"]
    assert meta["run_id"] == run["run_id"] and meta["training_safe"] is True
    assert meta["licence"] == "offline" and meta["degraded"] is False


def test_prompt_carries_state_and_knowledge_provenance(exported) -> None:
    _, _, out, _ = exported
    records = _records(out)
    assert all(
        "ENTITY STATE" in r["prompt"] and "KNOWLEDGE PROVENANCE" in r["prompt"] for r in records
    )
    told = [r for r in records if " from " in r["prompt"] and "confidence" in r["prompt"]]
    assert told, "no prompt names where a speaker's knowledge came from"


def test_manifest_hash_verifies(exported) -> None:
    _, run, out, _ = exported
    manifest = json.loads((out.parent / (out.name + ".manifest.json")).read_text())
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["run_id"] == run["run_id"] and manifest["seed"] == 3
    assert manifest["training_safe"] is True and manifest["counts"]["records"] > 0


def test_refuses_to_overwrite_without_force(exported, capsys) -> None:
    db, run, out, _ = exported
    out.write_text("keep\n")
    assert _export(db, run["run_id"], out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--force" in err
    assert out.read_text() == "keep\n"
    assert _export(db, run["run_id"], out, "--force") == 0
    assert out.read_text() != "keep\n" and _records(out)
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_entities_filter(exported, tmp_path: Path, capsys) -> None:
    db, run, out, _ = exported
    speaker = _records(out)[0]["metadata"]["speaker"]
    one = tmp_path / "one.jsonl"
    assert _export(db, run["run_id"], one, "--entities", speaker) == 0
    capsys.readouterr()
    records = _records(one)
    assert records and {r["metadata"]["speaker"] for r in records} == {speaker}
    assert len(records) < len(_records(out))


def test_branch_selects_only_its_lineage(tmp_path: Path, capsys) -> None:
    db, run = _run(tmp_path, capsys, "lighthouse_log")
    shown = _show(db, run["run_id"], capsys)
    branches = {t["branch_id"] for t in shown["timepoints_detail"]} - {"main"}
    assert branches, "lighthouse_log should branch"
    branch = sorted(branches)[0]
    out = tmp_path / "b.jsonl"
    assert _export(db, run["run_id"], out, "--branch", branch) == 0
    capsys.readouterr()
    records = _records(out)
    assert records
    assert {r["metadata"]["branch"] for r in records} <= {"main", branch}
    assert any(r["metadata"]["branch"] == branch for r in records)
    everything = tmp_path / "all.jsonl"
    assert _export(db, run["run_id"], everything) == 0
    capsys.readouterr()
    assert len(records) < len(_records(everything))


def test_loads_with_datasets(exported) -> None:
    datasets = pytest.importorskip("datasets")
    _, _, out, _ = exported
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert len(ds) == len(_records(out)) and ds[0]["completion"] == _records(out)[0]["completion"]


@pytest.mark.parametrize(
    "extra",
    [
        ("--branch", "nowhere"),
        ("--entities", "nobody"),
        ("--format", "pdf"),
        ("--from", "2030-01-02", "--to", "2030-01-01"),
        ("--from", "yesterday-ish"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(exported, tmp_path: Path, capsys, extra) -> None:
    db, run, _, _ = exported
    assert _export(db, run["run_id"], tmp_path / "x.jsonl", *extra) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "Traceback" not in captured.err
    assert not (tmp_path / "x.jsonl").exists()


def test_unknown_run_and_unwritable_path(exported, tmp_path: Path, capsys) -> None:
    db, run, _, _ = exported
    assert _export(db, "zzzz-no-such-run", tmp_path / "y.jsonl") == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert _export(db, run["run_id"], tmp_path / "missing" / "y.jsonl") == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
