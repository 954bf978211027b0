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


def _records(path: Path, kind: str | None = "dialog_turn") -> list[dict]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [r for r in records if kind is None or r["metadata"]["kind"] == kind]


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
    assert turns and len(records) == len(turns) == printed["dialog_turn"]
    assert printed["records"] == len(_records(out, None))
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


def test_loads_with_datasets(exported, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")  # the suite never touches the network
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    _, _, out, _ = exported
    ds = datasets.load_dataset(
        "json", data_files=str(out), split="train", cache_dir=str(tmp_path / "hf")
    )
    everything = _records(out, None)
    assert len(ds) == len(everything) and ds[0]["completion"] == everything[0]["completion"]


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


def test_state_change_records_hold_what_the_moment_changed(exported, capsys) -> None:
    db, run, out, printed = exported
    changes = _records(out, "state_change")
    shown = _show(db, run["run_id"], capsys)
    present = sum(len(t["entities_present"]) for t in shown["timepoints_detail"])
    assert len(changes) == present == printed["state_change"]
    assert all("CAUSAL HISTORY" in r["prompt"] for r in changes)
    later = [r for r in changes if r["metadata"]["timepoint_id"] != "tp01"]
    assert any("earlier moment" in r["prompt"] for r in later)
    turns = _records(out)
    for record in changes:
        change = json.loads(record["completion"])
        meta = record["metadata"]
        said = [
            r["completion"]
            for r in turns
            if r["metadata"]["timepoint_id"] == meta["timepoint_id"]
            and r["metadata"]["speaker"] == meta["speaker"]
        ]
        assert change["said"] == said
        if "emotion" in change:
            assert change["emotion"]["valence_after"] == meta["emotional_valence"]
            assert change["energy"]["after"] == meta["energy"]
    gained = [k for r in changes for k in json.loads(r["completion"])["new_knowledge"]]
    assert any(k["from"] for k in gained), "nobody was told anything by anyone"


def test_time_window_keeps_only_the_moments_inside_it(exported, tmp_path: Path, capsys) -> None:
    db, run, _, _ = exported
    shown = _show(db, run["run_id"], capsys)
    stamps = sorted({t["timestamp"] for t in shown["timepoints_detail"]})
    assert len(stamps) >= 3
    window = tmp_path / "window.jsonl"
    assert _export(db, run["run_id"], window, "--from", stamps[1], "--to", stamps[1]) == 0
    capsys.readouterr()
    records = _records(window, None)
    inside = {t["timepoint_id"] for t in shown["timepoints_detail"] if t["timestamp"] == stamps[1]}
    assert records and {r["metadata"]["timepoint_id"] for r in records} == inside
    manifest = json.loads((tmp_path / "window.jsonl.manifest.json").read_text())
    assert manifest["selection"]["from"].startswith(stamps[1][:16])


def test_training_safe_leaves_out_what_an_unsafe_model_wrote(tmp_path: Path, capsys) -> None:
    import asyncio
    from dataclasses import replace

    from engine.export import select
    from engine.llm.registry import load_registry
    from engine.store import Store

    db, run = _run(tmp_path, capsys)
    unsafe = "meta-llama/llama-3.1-8b-instruct"  # Llama licence: may not train other models

    async def read():
        store = await Store.open(db)
        try:
            view = await store.load_view(run["run_id"], everything=True)
            return (
                view,
                await store.get_run(run["run_id"]),
                await store.read_call_models(run["run_id"]),
            )
        finally:
            await store.close()

    view, summary, calls = asyncio.run(read())
    victim = next(c.entity_id for c in calls if c.action == "dialog_turn")
    mixed = [
        replace(c, provider="openrouter", model=unsafe)
        if c.action == "dialog_turn" and c.entity_id == victim
        else c
        for c in calls
    ]
    registry = load_registry()
    everything = select(view, summary, calls=mixed, registry=registry)
    safe = select(view, summary, calls=mixed, registry=registry, training_safe=True)
    assert not everything.training_safe and safe.training_safe
    assert {t.speaker for t in everything.turns} - {t.speaker for t in safe.turns} == {victim}
    assert safe.dropped_unsafe == sum(1 for t in everything.turns if t.speaker == victim) > 0
    licences = {m.model: m.licence for m in everything.models}
    assert licences[unsafe] == "Llama-3.1" and licences["offline-composer-1"] == "offline"


def test_a_failed_export_leaves_no_partial_file(exported, tmp_path: Path) -> None:
    from engine.export import write_export
    from engine.export.tally import Tally

    db, run, out, _ = exported
    before = out.read_bytes()

    def chunks():
        yield "one line\n"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_export(
            _selection(db, run["run_id"]), "jsonl", out, True, chunks=chunks(), tally=Tally()
        )
    assert out.read_bytes() == before
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_write_that_fails_on_the_writing_thread_fails_the_export(
    exported, tmp_path: Path, monkeypatch
) -> None:
    """Rendering and writing run on two threads: a disk error on the writing side stops the
    export with that error, leaves no temporary file and the old file untouched."""
    from engine.export import write_export, writer
    from engine.export.tally import Tally

    db, run, out, _ = exported
    before = out.read_bytes()
    monkeypatch.setattr(writer, "BLOCK", 64)  # many blocks, so the failure comes mid-export
    written: list[int] = []

    def full_disk(out_file, digest, blocks):
        while (block := blocks.get()) is not None:
            if written:
                raise OSError(28, "No space left on device")
            written.append(len(block))

    monkeypatch.setattr(writer, "_write_blocks", full_disk)
    lines = (f"line {i} " * 8 + "\n" for i in range(10_000))
    with pytest.raises(OSError, match="No space left"):
        write_export(_selection(db, run["run_id"]), "jsonl", out, True, chunks=lines, tally=Tally())
    assert written and out.read_bytes() == before
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_blocks_are_written_in_order_and_hashed_as_written(
    exported, tmp_path: Path, monkeypatch
) -> None:
    from engine.export import write_export, writer
    from engine.export.tally import Tally

    db, run, _, _ = exported
    monkeypatch.setattr(writer, "BLOCK", 100)
    lines = [f"{i}: " + "é" * (i % 37) + "\n" for i in range(5_000)]
    dest = tmp_path / "blocks.jsonl"
    manifest = write_export(
        _selection(db, run["run_id"]), "jsonl", dest, False, chunks=iter(lines), tally=Tally()
    )
    data = dest.read_bytes()
    assert data == "".join(lines).encode("utf-8")
    assert manifest["sha256"] == hashlib.sha256(data).hexdigest()


def _selection(db: Path, run_id: str):
    import asyncio

    from engine.export import select
    from engine.store import Store

    async def read():
        store = await Store.open(db)
        try:
            view = await store.load_view(run_id, everything=True)
            return select(view, await store.get_run(run_id))
        finally:
            await store.close()

    return asyncio.run(read())


def test_a_killed_export_leaves_no_file_at_the_destination(exported, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    db, run, _, _ = exported
    dest = tmp_path / "killed.jsonl"
    child = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
from pathlib import Path
from tests.test_export import _selection
from engine.export import write_export
from engine.export.tally import Tally
def chunks():
    yield "first\\n"
    print("writing", flush=True)
    sys.stdin.readline()  # hold the export open until killed
    yield "never\\n"
write_export(_selection(Path({str(db)!r}), {run["run_id"]!r}), "jsonl", Path({str(dest)!r}),
             False, chunks=chunks(), tally=Tally())
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", child], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "writing"  # waits for the event, no sleep
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not dest.exists() and not (tmp_path / "killed.jsonl.manifest.json").exists()


def test_an_export_puts_the_garbage_collector_back_as_it_found_it(exported, tmp_path) -> None:
    """The collector is paused while an export runs (a loaded run is too big to rescan), and
    it is running again afterwards, after a refused export too; off stays off."""
    import gc

    from engine.export.formats import FORMATS
    from engine.export.job import export_selection
    from engine.export.selection import ExportError

    db, run, _, _ = exported
    sel = _selection(db, run["run_id"])
    seen: list[bool] = []
    assert gc.isenabled()
    export_selection(
        sel,
        FORMATS["jsonl"],
        tmp_path / "a.jsonl",
        False,
        progress=lambda _: seen.append(gc.isenabled()),
    )
    assert seen and not any(seen) and gc.isenabled()
    with pytest.raises(ExportError):
        export_selection(sel, FORMATS["jsonl"], tmp_path / "a.jsonl", False)
    assert gc.isenabled()
    gc.disable()
    try:
        export_selection(sel, FORMATS["jsonl"], tmp_path / "b.jsonl", False)
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert gc.get_freeze_count() == 0
    # the selection is made the same way, and one settled heap inside another is the outer's
    from engine.export.heap import settled_heap

    with settled_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0 and not gc.isenabled()
        sel = _selection(db, run["run_id"])
        assert gc.get_freeze_count() > frozen // 2 and not gc.isenabled()  # not unfrozen
    assert gc.isenabled() and gc.get_freeze_count() == 0
