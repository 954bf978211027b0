"""The export form: opened from the runs list and from a run (by key and by the palette), its
preview counts what the engine selects, it writes the file and the manifest off the UI thread,
and it refuses in one sentence what it cannot do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, DataTable, Input, Select, Static
from tui_support import make_app, seed_fork, settle, wait_until

from engine.export import select
from engine.export.formats import FORMATS
from engine.llm.registry import load_registry
from engine.store import Store
from tui.app import StartReplay
from tui.messages import ExportFinished, ExportPreviewed, ExportProgress, ExportReady
from tui.screens.export import ExportScreen
from tui.screens.home import HomeScreen
from tui.screens.run import RunScreen

SIZE = (100, 32)


@pytest.fixture
async def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # a default path is written here, never in the repository
    path = tmp_path / "export.db"
    await seed_fork(path, "run-fork")  # vintners, with the fork b1 at tp02
    return path


async def _selection(db: Path, **choices: Any) -> Any:
    store = await Store.open(db)
    try:
        view = await store.load_view("run-fork", everything=True)
        summary = await store.get_run("run-fork")
        calls = await store.read_call_models("run-fork")
    finally:
        await store.close()
    return select(view, summary, calls=calls, registry=load_registry(None), **choices)


async def _home(pilot: Any) -> None:
    await settle(pilot)
    runs = pilot.app.screen.query_one("#runs", DataTable)
    await wait_until(pilot, lambda: runs.row_count > 0)
    runs.focus()
    await pilot.pause()


async def _form(pilot: Any) -> ExportScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExportScreen))
    form = pilot.app.screen
    assert isinstance(form, ExportScreen)
    await wait_until(pilot, lambda: form.previewed)
    await settle(pilot)
    return form


async def _previewed(pilot: Any, form: ExportScreen) -> None:
    await pilot.pause()  # the form's change messages are handled, and a preview asked for
    await wait_until(pilot, lambda: form.previewed)
    await settle(pilot)


async def _palette(pilot: Any, text: str) -> None:
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "CommandPalette")
    for key in text:
        await pilot.press(key)
    palette = pilot.app.screen
    await wait_until(
        pilot,
        lambda: palette.query_one("CommandList").option_count > 0,  # type: ignore[attr-defined]
    )
    await pilot.press("enter")


async def test_the_export_key_and_the_palette_open_the_form_from_the_runs_list(db: Path) -> None:
    seen: list = []
    app = make_app(db)
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await _home(pilot)
        await pilot.press("e")
        form = await _form(pilot)
        assert form.run_id == "run-fork" and form.branch is None
        assert form.query_one("#export-branch", Select).value == ""  # the whole run
        assert any(isinstance(m, ExportReady) for m in seen)
        assert any(isinstance(m, ExportPreviewed) for m in seen)
        # the key opened the form: nothing was typed into the runs filter
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert app.screen.query_one("#filter", Input).value == ""
        await _palette(pilot, "Export")
        form = await _form(pilot)
        assert form.run_id == "run-fork"


async def test_the_run_screen_opens_the_form_on_the_selected_branch(db: Path) -> None:
    app = make_app(db, start=StartReplay("run-fork"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        run = app.screen
        run.select("b1.tp03")
        await settle(pilot)
        await pilot.press("e")
        form = await _form(pilot)
        assert form.branch == "b1"
        assert form.query_one("#export-branch", Select).value == "b1"
        expected = await _selection(db, branch="b1")
        assert form.counts == (len(expected.timepoints), len(expected.turns), 0)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is run)
        await _palette(pilot, "Export")
        form = await _form(pilot)
        assert form.branch == "b1"


async def test_the_preview_counts_what_the_engine_selects(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _home(pilot)
        await pilot.press("e")
        form = await _form(pilot)
        whole = await _selection(db)
        counts = (len(whole.timepoints), len(whole.turns), whole.dropped_unsafe)
        assert form.counts == counts and form.error is None
        text = str(form.query_one("#export-counts", Static).render())
        assert f"{counts[0]} timepoints, {counts[1]} turns" in text
        assert len(form.lines) == 3
        assert all(line.startswith('{"prompt"') for line in form.lines)

        form.query_one("#export-branch", Select).value = "main"
        form.query_one("#export-entities", Input).value = "Marguerite, raymond_guerche"
        form.query_one("#export-safe", Checkbox).value = True
        await _previewed(pilot, form)
        chosen = await _selection(
            db,
            branch="main",
            entities=["marguerite_solane", "raymond_guerche"],
            training_safe=True,
        )
        assert form.counts == (
            len(chosen.timepoints),
            len(chosen.turns),
            chosen.dropped_unsafe,
        )
        assert 0 < len(chosen.turns) < len(whole.turns)
        text = str(form.query_one("#export-counts", Static).render())
        assert f"{chosen.dropped_unsafe} left out as not training-safe" in text

        first = whole.timepoints[1].timestamp.isoformat()
        form.query_one("#export-entities", Input).value = ""
        form.query_one("#export-from", Input).value = first
        await _previewed(pilot, form)
        later = await _selection(db, branch="main", start=whole.timepoints[1].timestamp)
        assert form.counts is not None and form.counts[0] == len(later.timepoints)

        # every format of the table is offered, and each previews its own first lines
        options = form.query_one("#export-format", Select)
        assert [v for _, v in options._options if v != Select.BLANK] == list(FORMATS)
        options.value = "markdown"
        await _previewed(pilot, form)
        assert form.lines and form.lines[0].startswith("#")
        assert form.query_one("#export-path", Input).value == "run-fork.md"


async def test_exporting_writes_the_file_and_its_manifest(db: Path, tmp_path: Path) -> None:
    seen: list = []
    app = make_app(db)
    out = tmp_path / "out" / "fork.jsonl"
    out.parent.mkdir()
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await _home(pilot)
        await pilot.press("e")
        form = await _form(pilot)
        form.query_one("#export-path", Input).value = str(out)
        await _previewed(pilot, form)
        await pilot.click("#export-go")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)
        assert form.written == out
        # (a message is seen again as it bubbles up to the app)
        finished = list({id(m): m for m in seen if isinstance(m, ExportFinished)}.values())
        assert len(finished) == 1 and finished[0].error is None
        assert any(isinstance(m, ExportProgress) for m in seen)
        notes = [n.message for n in app._notifications]
        assert any(str(out) in n and "records" in n for n in notes)

    records = [json.loads(line) for line in out.read_text().splitlines()]
    whole = await _selection(db)
    assert records and {"prompt", "completion", "metadata"} <= set(records[0])
    turns = [r for r in records if r["metadata"]["kind"] == "dialog_turn"]
    assert len(turns) == len(whole.turns)
    manifest = json.loads(out.with_name(out.name + ".manifest.json").read_text())
    assert manifest["run_id"] == "run-fork" and manifest["format"] == "jsonl"
    assert manifest["counts"]["records"] == len(records)
    assert manifest["counts"]["dialog_turns"] == len(whole.turns)
    assert dict(finished[0].counts)["records"] == len(records)


async def test_an_existing_file_is_kept_unless_overwrite_is_ticked(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "kept.md"
    out.write_text("keep me\n")
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _home(pilot)
        await pilot.press("e")
        form = await _form(pilot)
        form.query_one("#export-format", Select).value = "markdown"
        form.query_one("#export-path", Input).value = str(out)
        await _previewed(pilot, form)
        await pilot.click("#export-go")
        await settle(pilot)
        status = str(form.query_one("#export-status", Static).render())
        assert status == f"{out} already exists; tick overwrite to replace it"
        assert app.screen is form and not form.exporting
        assert out.read_text() == "keep me\n"
        assert not out.with_name(out.name + ".manifest.json").exists()

        form.query_one("#export-force", Checkbox).value = True
        await _previewed(pilot, form)
        await pilot.click("#export-go")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert out.read_text().startswith("# ")


async def test_bad_times_and_folders_are_one_sentence(db: Path, tmp_path: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await _home(pilot)
        await pilot.press("e")
        form = await _form(pilot)
        form.query_one("#export-to", Input).value = "yesterday"
        await _previewed(pilot, form)
        status = str(form.query_one("#export-status", Static).render())
        assert "'yesterday' is not a time" in status and "\n" not in status
        assert form.query_one("#export-go").disabled

        form.query_one("#export-to", Input).value = ""
        form.query_one("#export-entities", Input).value = "nobody at all"
        await _previewed(pilot, form)
        assert "no entity called 'nobody at all'" in (form.error or "")

        form.query_one("#export-entities", Input).value = ""
        missing = tmp_path / "no-such-folder" / "x.jsonl"
        form.query_one("#export-path", Input).value = str(missing)
        await _previewed(pilot, form)
        await pilot.click("#export-go")
        await settle(pilot)
        status = str(form.query_one("#export-status", Static).render())
        assert (
            status.startswith(f"cannot write {missing}: the folder") and "does not exist" in status
        )
        assert not missing.parent.exists()


async def test_a_database_export_from_the_form_opens_as_a_store(db: Path, tmp_path: Path) -> None:
    app = make_app(db)
    out = tmp_path / "fork-b1.db"
    async with app.run_test(size=SIZE) as pilot:
        await _home(pilot)
        await pilot.press("e")
        form = await _form(pilot)
        form.query_one("#export-format", Select).value = "sqlite"
        form.query_one("#export-branch", Select).value = "b1"
        await _previewed(pilot, form)
        assert form.query_one("#export-path", Input).value == "run-fork.db"
        shown = str(form.query_one("#export-preview", Static).render())
        assert "timeloom show --db run-fork.db run-fork" in shown
        form.query_one("#export-path", Input).value = str(out)
        await _previewed(pilot, form)
        await pilot.click("#export-go")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert form.written == out

    expected = await _selection(db, branch="b1")
    async with await Store.open(out) as store:
        view = await store.load_view("run-fork", everything=True)
    assert [t.timepoint_id for t in view.timepoints] == [
        t.timepoint_id for t in expected.timepoints
    ]
    turns = [turn for t in view.timepoints for turn in view.turns(t.timepoint_id)]
    assert turns == list(expected.turns)
    # the explorer opens the exported file as its database and lists the run
    explorer = make_app(out)
    async with explorer.run_test(size=SIZE) as pilot:
        await _home(pilot)
        runs = explorer.screen.query_one("#runs", DataTable)
        assert runs.row_count == 1
        assert "run-fork" in " ".join(str(c) for c in runs.get_row_at(0))
