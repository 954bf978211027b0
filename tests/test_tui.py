"""Pilot tests: each interaction's message flow and the state it leaves behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList, TabbedContent
from tui_support import make_app, seed_runs, settle, wait_until

from tui.app import StartLive, StartReplay
from tui.messages import RunOpened, TurnsLoaded
from tui.screens.home import HomeScreen
from tui.screens.modals import ErrorScreen, HelpScreen
from tui.screens.run import RunScreen
from tui.widgets.dialog import DialogPane, TurnView
from tui.widgets.inspector import EntityInspector
from tui.widgets.timeline import TimelineTree

RUNS = [("run-harbor", "harbor_strike", 1), ("run-vintners", "vintners_council", 2)]


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "tui.db"
    await seed_runs(path, RUNS)
    return path


def names(messages: list) -> list[str]:
    return [type(m).__name__ for m in messages]


async def test_home_lists_runs_and_scenarios_and_filters(db: Path) -> None:
    seen: list = []
    app = make_app(db)
    async with app.run_test(size=(140, 40), message_hook=seen.append) as pilot:
        await settle(pilot)
        assert {"RunsLoaded", "TemplatesLoaded"} <= set(names(seen))
        runs = app.screen.query_one("#runs", DataTable)
        assert isinstance(app.screen, HomeScreen) and runs.row_count == 2
        scenarios = app.screen.query_one("#scenarios", DataTable)
        assert scenarios.row_count >= 6
        runs.focus()
        await pilot.press("v", "i", "n")
        await pilot.pause()
        assert app.screen.query_one("#filter").value == "vin"
        assert runs.row_count == 1
        assert runs.coordinate_to_cell_key((0, 0)).row_key.value == "run-vintners"


async def test_sorting_by_header(db: Path) -> None:
    app = make_app(db)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        runs = app.screen.query_one("#runs", DataTable)
        await pilot.click("#runs", offset=(25, 0))  # the "scenario" header
        await pilot.pause()
        first = runs.coordinate_to_cell_key((0, 0)).row_key.value
        assert first == "run-harbor"
        await pilot.click("#runs", offset=(25, 0))
        await pilot.pause()
        assert runs.coordinate_to_cell_key((0, 0)).row_key.value == "run-vintners"


async def test_opening_a_run_rebuilds_every_pane_from_the_store(db: Path) -> None:
    seen: list = []
    app = make_app(db)
    async with app.run_test(size=(160, 44), message_hook=seen.append) as pilot:
        await settle(pilot)
        app.screen.query_one("#runs", DataTable).focus()
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.mode == "replay"
        assert any(isinstance(m, RunOpened) for m in seen)
        assert any(isinstance(m, TurnsLoaded) for m in seen)
        view = screen.view
        assert screen.selected_tp == view.timepoints[-1].timepoint_id
        tree = screen.query_one(TimelineTree)
        leaves = [n for n in tree.root.children[0].children]
        assert [n.data for n in leaves] == [t.timepoint_id for t in view.timepoints]
        turns = screen.query(TurnView)
        assert len(turns) >= len(view.turns(screen.selected_tp))


async def test_scrubbing_moves_the_whole_screen(db: Path) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.selected_tp is not None
        )
        await settle(pilot)
        screen = app.screen
        last = screen.selected_tp
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.selected_tp != last and screen.selected_tp == "tp03"
        tree = screen.query_one(TimelineTree)
        assert tree.cursor_node.data == "tp03"
        inspector = screen.query_one(EntityInspector)
        assert "tp03" in str(inspector.query_one("#moment").render())
        pane = screen.query_one(DialogPane)
        assert pane.window[-1] == "tp03"
        await pilot.press("left_curly_bracket")
        await settle(pilot)
        assert screen.selected_tp == "tp01"
        await pilot.press("right_curly_bracket")
        await settle(pilot)
        assert screen.selected_tp == "tp04"


async def test_selecting_a_timepoint_in_the_tree(db: Path) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.selected_tp is not None
        )
        screen = app.screen
        tree = screen.query_one(TimelineTree)
        # The tree has moved its cursor to the opened moment before the keys are pressed
        # (on a busy machine that can come after the first frame).
        await wait_until(
            pilot,
            lambda: tree.cursor_node is not None and tree.cursor_node.data == screen.selected_tp,
        )
        tree.focus()
        await settle(pilot)
        await pilot.press("home", "down", "down")
        await wait_until(pilot, lambda: screen.selected_tp == "tp02")


async def test_choosing_an_entity_fills_the_inspector(db: Path) -> None:
    seen: list = []
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44), message_hook=seen.append) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.selected_tp is not None
        )
        await settle(pilot)
        screen = app.screen
        listing = screen.query_one("#entities", OptionList)
        listing.focus()
        first = screen.selected_entity
        await pilot.press("down")
        await settle(pilot)
        assert screen.selected_entity != first
        assert "EntityChosen" in names(seen) and "KnowledgeLoaded" in names(seen)
        profile = str(screen.query_one("#profile").render())
        assert screen.view.entities[screen.selected_entity].name in profile
        knowledge = str(screen.query_one("#knowledge-list").render())
        assert "•" in knowledge and ("initial" in knowledge or "told" in knowledge)
        # i: how the entity remembers its last conversation, at the selected moment
        await pilot.press("i")
        await settle(pilot)
        assert screen.query_one("#tabs", TabbedContent).active == "inner"
        inner = screen.view.inner_at(screen.selected_entity, screen.selected_tp)
        assert inner is not None and inner.timepoint_id == screen.selected_tp
        shown = str(screen.query_one("#inner-life").render())
        assert inner.memory[:40] in shown.replace("\n", " ") and "anxiety" in shown
        # the room of the selected timepoint sits under its header in the dialog
        header = str(screen.query_one(f"#tp-{screen.selected_tp}").render())
        scene = screen.view.scene(screen.selected_tp)
        assert scene is not None and "◇" in header and f"→ {scene.after.tension:.2f}" in header


async def test_live_run_streams_and_follows(tmp_path: Path) -> None:
    seen: list = []
    app = make_app(tmp_path / "live.db", start=StartLive("lighthouse_night", seed=3), pace=1500.0)
    async with app.run_test(size=(160, 44), message_hook=seen.append) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.finished)
        await settle(pilot)
        screen = app.screen
        assert "RunsLoaded" in names(seen) and "LiveRunEnded" in names(seen)
        assert screen.batches_seen >= 1 and screen.chunks_shown > 0
        assert screen.view.run.status == "completed"
        assert screen.selected_tp == screen.view.timepoints[-1].timepoint_id
        pane = screen.query_one(DialogPane)
        finished = [w for w in pane.turn_views.values() if not w.turn.streaming]
        assert finished and all(w.turn.content for w in finished)
        # the scene was read and then moved by the dialog while its header was on screen
        last = screen.selected_tp
        assert screen.view.scene(last) is not None
        header = str(screen.query_one(f"#tp-{last}").render())
        assert "◇" in header and "→" in header
        # the stored run is now on the home screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.query_one("#runs", DataTable).row_count == 1


async def test_pause_step_and_resume(tmp_path: Path) -> None:
    app = make_app(tmp_path / "live.db", start=StartLive("orbital_audit", seed=1), pace=400.0)
    async with app.run_test(size=(160, 44)) as pilot:
        # Pause once the first timepoint is under way: the pause holds it there (no new call
        # starts), and a step finishes that timepoint, then holds again.
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and app.screen.view is not None
                and len(app.screen.view.timepoints) >= 1
            ),
        )
        screen = app.screen
        await pilot.press("p")
        assert screen.session.control.paused
        # A live run lists its pause and step keys in help (a stored run does not).
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        ids = {r[2] for _, rows in app.screen.sections for r in rows}
        assert {"run.step", "run.pause"} <= ids
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        done = screen.view.run.timepoints
        await pilot.pause(0.3)
        assert screen.view.run.timepoints == done, "a paused run does not advance"
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.view.run.timepoints == done + 1, 30)
        assert screen.session.control.paused
        await pilot.press("p")
        await wait_until(pilot, lambda: screen.finished, 60)
        assert screen.view.run.status == "completed"


async def test_unknown_run_is_a_notification_not_a_crash(db: Path) -> None:
    app = make_app(db, start=StartReplay("no-such-run"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        texts = [n.message for n in app._notifications]
        assert any("there is no run 'no-such-run'" in t for t in texts)


async def test_a_corrupt_database_shows_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 200)
    app = make_app(bad)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "is not a timeloom database" in app.screen.text
    assert bad.read_bytes() == b"not a database" * 200


async def test_an_invalid_theme_falls_back_with_a_notification(tmp_path: Path, db: Path) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not-a-colour"\n')
    app = make_app(db, theme="broken", user_theme_dir=themes)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.theme == "timeloom-dark"
        texts = [n.message for n in app._notifications]
        assert any("broken.toml" in t for t in texts)
        assert any("no valid theme called 'broken'" in t for t in texts)


async def test_help_shows_the_keys_of_the_focused_pane(db: Path) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        app.screen.query_one(TimelineTree).focus()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        headings = [h for h, rows in app.screen.sections if rows]
        assert headings[0] == "the timeline"
        ids = [r[2] for h, rows in app.screen.sections for r in rows]
        assert "timeline.select" in ids and "run.back" in ids and "app.help" in ids
        # A stored run cannot be paused, stepped or paced, so help does not list those keys.
        assert not {"run.step", "run.pause", "run.faster", "run.follow"} & set(ids)
        await pilot.press("escape")
        assert isinstance(app.screen, RunScreen)


async def test_bindings_can_be_remapped_by_id(db: Path) -> None:
    app = make_app(db, start=StartReplay("run-vintners"), keymap={"run.back": "b"})
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.selected_tp == "tp04"
        )
        await pilot.press("b")
        await settle(pilot)
        assert app.screen.selected_tp == "tp03"


async def test_the_palette_offers_what_the_screen_can_do(db: Path) -> None:
    from tui.commands import ScreenActions

    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        provider = ScreenActions(app.screen)
        offered = {name for name, _, _ in provider._commands()}
        assert {"Back", "Forward", "Ask"} <= offered
        # A stored run cannot be paused, stepped or paced: those are not offered.
        assert not offered & {"Step", "Pause/resume", "Faster", "Slower", "Follow"}
        assert app.screen.check_action("step", ()) is False
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "CommandPalette"


async def test_asking_an_entity_round_trips_and_is_stored(db: Path) -> None:
    from tui.widgets.dialog import QueryView
    from tui.widgets.querybar import QueryBar

    seen: list = []
    app = make_app(db, start=StartReplay("run-harbor"))
    async with app.run_test(size=(160, 44), message_hook=seen.append) as pilot:
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, RunScreen)
                and app.screen.dialog_shown[-1:] == (app.screen.selected_tp,)
            ),
        )
        screen = app.screen
        await pilot.press("slash")
        bar = screen.query_one(QueryBar)
        assert app.focused is bar and bar.value.startswith("@")
        bar.value = "no at sign here"
        await pilot.press("enter")
        await pilot.pause()
        assert any("start with @" in n.message for n in app._notifications)
        bar.value = ""
        await pilot.press("escape", "slash")  # "/" fills in the selected entity: typing follows it
        prefilled = bar.value
        assert prefilled.startswith("@") and prefilled.endswith(" ")
        await pilot.press(*"hi")
        assert bar.value == prefilled + "hi"
        bar.value = "@ruth what do you know about the arbitration deadline?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "QueryDone" in names(seen))
        await pilot.pause()
        views = screen.query(QueryView)
        assert len(views) == 1
        assert bar.history[-1].startswith("@ruth") and bar.value == ""
        await pilot.press("up")
        assert bar.value.startswith("@ruth what do you know")
    # The query is stored with the run and shown again when the run is reopened.
    again = make_app(db, start=StartReplay("run-harbor"))
    async with again.run_test(size=(160, 44)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                isinstance(again.screen, RunScreen)
                and again.screen.dialog_shown[-1:] == (again.screen.selected_tp,)
            ),
        )
        await settle(pilot)
        assert len(again.screen.query(QueryView)) == 1


async def test_user_scenarios_are_listed_and_the_palette_launches_them(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from conftest import TEMPLATES

    from tui.commands import RunsAndScenarios

    mine = tmp_path / "mine"
    mine.mkdir()
    data = json.loads((TEMPLATES / "lighthouse_night.json").read_text())
    data["name"] = "my_lighthouse"
    (mine / "my_lighthouse.json").write_text(json.dumps(data))
    (mine / "broken.json").write_text("{not json")
    monkeypatch.setenv("TIMELOOM_SCENARIOS", str(mine))
    app = make_app(db)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        scenarios = app.screen.query_one("#scenarios", DataTable)
        keys = [k.value for k in scenarios.rows]
        assert str(mine / "my_lighthouse.json") in keys and "lighthouse_night" in keys
        assert any("broken.json" in n.message for n in app._notifications)
        labels = [hit.text async for hit in RunsAndScenarios(app.screen).search("launch my")]
        assert labels
        runs = [hit.text async for hit in RunsAndScenarios(app.screen).search("open run-vin")]
        assert runs


async def test_a_question_goes_to_the_provider_the_run_was_made_with(tmp_path: Path) -> None:
    """A run made with a real model is asked through that model; where that provider cannot be
    set up here, the offline provider answers and the user is told why."""
    from test_llm_fakeserver import FakeServer
    from test_llm_openai import small_scenario

    from engine.llm.openai import OpenAIProvider
    from engine.scenario import load_scenario
    from engine.simulation import Simulation
    from engine.store import Store
    from tui.bridge import ProviderUnavailable
    from tui.widgets.querybar import QueryBar

    db = tmp_path / "real.db"
    async with FakeServer() as server:

        def open_provider(local: bool = True) -> OpenAIProvider:
            return OpenAIProvider(
                name="llamacpp", base_url=server.url, model="fake-model", local=local
            )

        store = await Store.open(db)
        made = open_provider()
        sim = Simulation(load_scenario(small_scenario(tmp_path)), provider=made, store=store)
        summary = await sim.run()
        await made.aclose()
        await store.close()
        assert summary.status.value == "completed" and summary.provider == "llamacpp"
        sent_by_run = len(server.chat_bodies())

        async def providers(provider: str, model: str, seed: int):  # type: ignore[no-untyped-def]
            assert (provider, model) == ("llamacpp", "fake-model")
            opened = open_provider()
            return opened, None, opened.aclose

        async def unavailable(provider: str, model: str, seed: int):  # type: ignore[no-untyped-def]
            raise ProviderUnavailable("the llamacpp provider needs the server's address")

        for opener, expected in ((providers, "llamacpp"), (unavailable, "offline")):
            seen: list = []
            app = make_app(db, start=StartReplay(summary.run_id), query_providers=opener)
            async with app.run_test(size=(160, 44), message_hook=seen.append) as pilot:
                await wait_until(
                    pilot,
                    lambda app=app: isinstance(app.screen, RunScreen) and app.screen.dialog_shown,
                )
                screen = app.screen
                await pilot.press("slash")
                bar = screen.query_one(QueryBar)
                entity = next(iter(screen.view.entities.values()))
                bar.value = f"@{entity.entity_id} what happened on the quay?"
                await pilot.press("enter")
                await wait_until(pilot, lambda seen=seen: "QueryDone" in names(seen))
                await pilot.pause()
                done = next(m for m in seen if type(m).__name__ == "QueryDone")
                notes = [n.message for n in app._notifications]
            store = await Store.open(db)
            rows = await store.table("queries", summary.run_id, order="asked_at")
            await store.close()
            assert rows[-1]["provider"] == expected
            if expected == "llamacpp":
                assert done.note is None and done.answer.startswith("From the server")
                assert len(server.chat_bodies()) == sent_by_run + 1
            else:
                assert "offline provider" in done.note and "server's address" in done.note
                assert any("server's address" in n for n in notes)
                assert len(server.chat_bodies()) == sent_by_run + 1  # nothing more was sent


async def test_a_large_damaged_store_is_refused_at_its_first_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large store opens before its check (it runs while the store is read); if it is
    damaged, the first write is refused in one sentence and the file is left as it was."""
    import hashlib

    from conftest import run_scenario

    from engine.store import Store, opening

    db = tmp_path / "large.db"
    async with await Store.open(db) as store:
        await run_scenario("harbor_strike", store)
    pages = db.stat().st_size // 4096
    with db.open("r+b") as f:
        f.seek((pages // 2) * 4096)
        f.write(bytes((i * 37 + 11) % 256 for i in range(4096)))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    monkeypatch.setattr(opening, "CHECK_AT_OPEN_BYTES", 0)  # this store counts as large
    app = make_app(db, start=StartLive("lighthouse_night", seed=3), pace=1500.0)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: any("is damaged" in n.message for n in app._notifications))
        said = [n.message for n in app._notifications if "is damaged" in n.message]
        assert len(said) == 1 and "timeloom wrote nothing into it" in said[0]
        assert "Traceback" not in said[0]
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
