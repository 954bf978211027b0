"""The run screen at any size: panes that share the width, one pane at a time when narrow,
panes hidden and maximised, and keys that act wherever focus is."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import TabbedContent, Tabs
from tui_support import make_app, seed_runs, settle, wait_until

from tui.app import StartReplay
from tui.screens.run import RunScreen
from tui.widgets.timeline import TimelineTree


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "layout.db"
    await seed_runs(path, [("run-vintners", "vintners_council", 1)])
    return path


async def _opened(pilot, app) -> RunScreen:
    await wait_until(
        pilot,
        lambda: (
            isinstance(app.screen, RunScreen)
            and app.screen.view is not None
            and app.screen.selected_tp is not None
        ),
    )
    await settle(pilot)
    return app.screen


def _width(screen: RunScreen, selector: str) -> int:
    widget = screen.query_one(selector)
    return widget.region.width if widget.display else 0


@pytest.mark.parametrize(("size", "dialog_at_least"), [((100, 30), 40), ((120, 40), 60)])
async def test_the_dialog_keeps_a_readable_width(db, size, dialog_at_least) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=size) as pilot:
        screen = await _opened(pilot, app)
        assert _width(screen, "#dialog") >= dialog_at_least
        assert _width(screen, "#timeline") > 0 and _width(screen, "#inspector") > 0
        total = sum(_width(screen, s) for s in ("#timeline", "#dialog", "#inspector"))
        assert total == size[0], "the panes share the whole width, none is clipped"


async def test_at_80_columns_one_pane_at_a_time_with_tabs(db) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _opened(pilot, app)
        assert screen.query_one("#pane-tabs", Tabs).display
        assert _width(screen, "#dialog") == 80, "the dialog first, full width"
        assert _width(screen, "#timeline") == 0 and _width(screen, "#inspector") == 0
        await pilot.press("1")
        await pilot.pause()
        assert _width(screen, "#timeline") == 80 and _width(screen, "#dialog") == 0
        assert screen.query_one("#pane-tabs", Tabs).active == "tab-timeline"
        await pilot.press("k")  # an inspector tab key brings the inspector into view
        await pilot.pause()
        assert _width(screen, "#inspector") == 80
        assert screen.query_one("#inspector TabbedContent", TabbedContent).active == "knowledge"
        await pilot.click("#tab-dialog")
        await pilot.pause()
        assert _width(screen, "#dialog") == 80


async def test_side_panes_hide_and_the_dialog_maximises(db) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await _opened(pilot, app)
        before = _width(screen, "#dialog")
        await pilot.press("T")
        await pilot.pause()
        assert _width(screen, "#timeline") == 0 and _width(screen, "#dialog") > before
        await pilot.press("I")
        await pilot.pause()
        assert _width(screen, "#dialog") == 160
        await pilot.press("T", "I")
        await pilot.pause()
        assert _width(screen, "#dialog") == before
        screen.query_one(TimelineTree).focus()
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is screen.query_one(TimelineTree)
        await pilot.press("z")
        await pilot.pause()
        assert screen.maximized is None


@pytest.mark.parametrize(
    ("key", "tab"),
    [("k", "knowledge"), ("t", "state"), ("i", "inner"), ("r", "relations"), ("l", "resolution")],
)
async def test_inspector_keys_act_with_focus_in_the_timeline(db, key, tab) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await _opened(pilot, app)
        assert screen.focused is screen.query_one(TimelineTree)
        tabs = screen.query_one("#inspector TabbedContent", TabbedContent)
        if tabs.active == tab:  # start elsewhere, so that the key has something to do
            tabs.active = "knowledge" if tab != "knowledge" else "state"
        await pilot.press(key)
        await pilot.pause()
        assert tabs.active == tab


async def test_earlier_dialog_answers_with_focus_anywhere(db) -> None:
    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await _opened(pilot, app)
        first = screen.view.timepoints[0].timepoint_id
        screen.select(first)
        await settle(pilot)
        await pilot.press("u")  # nothing before the first moment: it says so
        await pilot.pause()
        assert any("nothing earlier" in n.message for n in app._notifications)
        screen.select(screen.view.timepoints[-1].timepoint_id)
        await settle(pilot)
        shown = len(screen.dialog_shown)
        await pilot.press("u")
        await wait_until(pilot, lambda: len(screen.dialog_shown) > shown)


async def test_typing_fast_into_the_home_filter_loses_no_letter(db) -> None:
    from textual import events
    from textual.widgets import DataTable, Input

    from tui.screens.home import HomeScreen
    from tui.screens.modals import HelpScreen

    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, HomeScreen)
        home.query_one("#runs", DataTable).focus()
        await pilot.pause()
        for ch in "snow":  # all queued before any is handled: n and o are keys of the screen
            app.post_message(events.Key(ch, ch))
        await pilot.pause()
        assert home.query_one("#filter", Input).value == "snow"
        assert app.screen is home, "n launched nothing"
        home.query_one("#filter", Input).value = ""
        home.query_one("#runs", DataTable).focus()
        await pilot.pause()
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert home.query_one("#filter", Input).value == "", "? is help, not a letter"


async def test_help_is_written_for_people_and_explains_the_marks(db) -> None:
    from tui.screens.modals import HelpScreen

    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        await _opened(pilot, app)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        headings = [heading for heading, _ in help_screen.sections]
        assert help_screen.title_text == "Keys: the timeline"
        assert "the timeline" in headings and "anywhere on the run screen" in headings
        assert not any("Tree" in h or "Screen" in h for h in headings), "no class names"
        keys = {row[0] for _, rows in help_screen.sections for row in rows}
        assert "ctrl+p" in keys and "T S G D ★" in keys


async def test_unknown_keymap_ids_are_reported_in_one_sentence(db) -> None:
    app = make_app(db, keymap={"run.back": "b", "run.nonsense": "x", "home.nothing": "y"})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        found = [n.message for n in app._notifications if "keymap" in n.message]
        assert len(found) == 1 and "home.nothing, run.nonsense" in found[0]
        assert "run.back" not in found[0] and "\n" not in found[0]


def test_a_ui_setting_is_written_into_the_config_file_keeping_the_rest(tmp_path) -> None:
    from engine.config import ConfigError, load_config, remember_ui

    path = tmp_path / "config.toml"
    path.write_text('# my settings\n[provider]\nname = "offline"  # no key needed\n')
    remember_ui("theme", "timeloom-light", path)
    remember_ui("hide", ["timeline"], path)
    text = path.read_text()
    assert "# my settings" in text and "# no key needed" in text
    config = load_config(path, env={})
    assert config.ui.theme == "timeloom-light" and config.ui.hide == ["timeline"]
    with pytest.raises(ConfigError):
        remember_ui("nonsense", 1, path)
    blocker = tmp_path / "a-file"  # a folder that is a file: unwritable, even as root
    blocker.write_text("")
    with pytest.raises(ConfigError) as caught:
        remember_ui("theme", "timeloom-dark", blocker / "config.toml")
    assert "cannot write the config file" in str(caught.value)
    assert blocker.read_text() == ""


async def test_a_theme_picked_and_a_pane_hidden_are_remembered(db) -> None:
    saved: list = []
    app = make_app(
        db, start=StartReplay("run-vintners"), remember=lambda k, v: saved.append((k, v))
    )
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await _opened(pilot, app)
        app.theme = "timeloom-light"  # what the palette's theme picker does
        await pilot.pause()
        await pilot.press("I")
        await pilot.pause()
        assert ("theme", "timeloom-light") in saved and ("hide", ["inspector"]) in saved
        assert _width(screen, "#inspector") == 0
    again = make_app(db, start=StartReplay("run-vintners"), hide=("inspector",))
    async with again.run_test(size=(160, 44)) as pilot:
        screen = await _opened(pilot, again)
        assert _width(screen, "#inspector") == 0, "hidden again at the next start"


async def test_a_setting_that_cannot_be_saved_is_one_notification(db) -> None:
    from engine.config import ConfigError

    def refuse(key, value):
        raise ConfigError("cannot write the config file x: Permission denied")

    app = make_app(db, remember=refuse)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.theme = "timeloom-light"
        await pilot.pause()
        assert app.theme == "timeloom-light", "the change holds for this session"
        assert any("Permission denied" in n.message for n in app._notifications)


async def test_the_palette_has_no_duplicates_and_no_widget_internals(db) -> None:
    from textual.widgets import DataTable

    from tui.commands import ScreenActions

    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#runs", DataTable).focus()
        await pilot.pause()
        ours = [name for name, _, _ in ScreenActions(app.screen)._commands()]
        system = [c.title for c in app.get_system_commands(app.screen)]
        everything = ours + system
        assert len(everything) == len(set(everything)), "each command once"
        assert {"Keys", "Quit", "New run", "Filter"} <= set(everything)
        assert not {"Cursor up", "Cursor down", "Page up", "Select cursor"} & set(everything)


async def test_an_empty_database_says_what_to_do_and_n_says_what_it_launches(tmp_path) -> None:
    from textual.widgets import DataTable, Static

    app = make_app(tmp_path / "new.db")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = app.screen
        note = home.query_one("#runs-empty", Static)
        assert note.display and "no runs in this database yet" in str(note.render())
        scenarios = home.query_one("#scenarios", DataTable)
        await wait_until(pilot, lambda: scenarios.row_count > 0)
        scenarios.focus()
        scenarios.move_cursor(row=1)
        await pilot.pause()
        chosen = scenarios.coordinate_to_cell_key(scenarios.cursor_coordinate).row_key.value
        title = next(t.title for t in home.templates if t.name == chosen)
        assert title in str(home.query_one("#next-launch", Static).render())


async def test_a_filter_that_hides_every_run_says_so(db) -> None:
    from textual.widgets import Input, Static

    app = make_app(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = app.screen
        note = home.query_one("#runs-empty", Static)
        assert not note.display
        home.query_one("#filter", Input).value = "zeppelin"
        await pilot.pause()
        assert note.display and "no run matches “zeppelin”" in str(note.render())


async def test_a_live_run_says_it_is_starting_until_its_first_events(tmp_path) -> None:
    import asyncio

    from textual.widgets import Static

    from tui.app import StartLive

    gate = asyncio.Event()

    async def source():  # a run that has not sent anything yet
        await gate.wait()
        if False:
            yield None

    app = make_app(tmp_path / "s.db", start=StartLive("lighthouse_night", source=source))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen))
        await pilot.pause()
        screen = app.screen
        assert "starting lighthouse_night" in str(screen.query_one("#status").render())
        assert "starting" in str(screen.query_one("#starting", Static).render())
        gate.set()


async def test_a_line_an_answer_and_the_run_id_can_be_copied(db) -> None:
    from tui.widgets.dialog import TurnView

    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await _opened(pilot, app)
        await wait_until(pilot, lambda: bool(screen.query(TurnView)))
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == "run-vintners"
        line = screen.query(TurnView).first()
        await pilot.click(line)
        await pilot.pause()
        assert app.clipboard == f"{line.speaker_name}: {line.turn.content}"
        assert any("copied the line" in n.message for n in app._notifications)
    home = make_app(db)
    async with home.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert home.clipboard == "run-vintners"


async def test_find_in_the_dialog_marks_the_lines_and_goes_from_one_to_the_next(db) -> None:
    from textual.widgets import Input

    from tui.screens.modals import FindScreen
    from tui.widgets.dialog import TurnView

    app = make_app(db, start=StartReplay("run-vintners"))
    async with app.run_test(size=(160, 44)) as pilot:
        screen = await _opened(pilot, app)
        await wait_until(pilot, lambda: bool(screen.query(TurnView)))
        lines = list(screen.query(TurnView))
        word = lines[0].turn.content.split()[0].strip(",.?!:;")
        holding = [w for w in lines if word.lower() in w.copy_text.lower()]

        async def find(text: str) -> None:
            await pilot.press("ctrl+f")
            await wait_until(pilot, lambda: isinstance(app.screen, FindScreen))
            field = app.screen.query_one(Input)
            field.value = text
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen is screen)

        await find(word)
        marked = [w for w in lines if w.has_class("-found")]
        assert marked == holding and screen.found_at == 0
        await find(word)
        assert screen.found_at == (1 if len(holding) > 1 else 0), "again: the next one"
        await find("zeppelins over lisbon")
        assert not [w for w in lines if w.has_class("-found")]
        assert any("no line of the dialog shown holds" in n.message for n in app._notifications)
