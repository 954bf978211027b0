"""The explorer shows a fork under the timepoint it branched from, labelled with what it
changed, and moving to one of its moments shows that branch's dialog and people."""

from __future__ import annotations

from pathlib import Path

from tui_support import make_app, seed_fork, seed_runs, settle, wait_until

from tui.app import StartReplay
from tui.screens.run import RunScreen
from tui.widgets.timeline import TimelineTree


async def test_a_fork_hangs_under_its_fork_point_and_its_moments_open(tmp_path: Path) -> None:
    db = tmp_path / "fork.db"
    await seed_fork(db, "run-fork")
    app = make_app(db, start=StartReplay("run-fork"))
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        screen = app.screen
        tree = screen.query_one(TimelineTree)
        (main,) = tree.root.children
        fork_point = main.children[1]
        assert fork_point.data == "tp02"
        (branch,) = fork_point.children
        assert str(branch.label) == "⑂ b1 no chair: remove Marguerite Solane"
        assert [n.data for n in branch.children] == ["b1.tp03", "b1.tp04"]
        assert [n.data for n in main.children[2:]] == ["tp03", "tp04"]
        tree.focus()
        await settle(pilot)
        tree.select_node(branch.children[0])
        await wait_until(pilot, lambda: screen.selected_tp == "b1.tp03")
        view = screen.view
        await wait_until(pilot, lambda: view.turns_loaded("b1.tp03"))
        # the dialog pane draws the branch's moment (its id holds a dot)
        await wait_until(pilot, lambda: screen.dialog_shown[-1:] == ("b1.tp03",))
        speakers = {t.speaker for t in view.turns("b1.tp03")}
        assert speakers and "marguerite_solane" not in speakers
        assert "marguerite_solane" not in view.timepoint("b1.tp03").present


async def test_the_fork_form_previews_then_runs_the_branch(tmp_path: Path) -> None:
    from textual.widgets import Button, Input, Select, Static

    from tui.screens.fork import ForkScreen

    db = tmp_path / "form.db"
    await seed_runs(db, [("run-form", "vintners_council", 2)])
    app = make_app(db, start=StartReplay("run-form"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        screen = app.screen
        screen.select("tp02")
        await settle(pilot)
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, ForkScreen))
        form = app.screen
        assert form.at == "tp02"
        form.query_one("#fork-kind", Select).value = "remove"
        await settle(pilot)
        go = form.query_one("#fork-go", Button)
        form.query_one("#fork-entity", Input).value = "nobody"
        await wait_until(
            pilot,
            lambda: (
                "no entity called 'nobody'" in str(form.query_one("#fork-preview", Static).render())
            ),
        )
        assert go.disabled
        form.query_one("#fork-entity", Input).value = "Marguerite"
        await wait_until(
            pilot,
            lambda: (
                "changes Marguerite Solane directly"
                in str(form.query_one("#fork-preview", Static).render())
            ),
        )
        preview = str(form.query_one("#fork-preview", Static).render())
        assert "as b1: 2 timepoint(s)" in preview and "reaches" in preview
        assert not go.disabled
        form.query_one("#fork-label", Input).value = "no chair"
        await settle(pilot)
        assert screen.batches_seen == 0  # a stored run: nothing arrives live until the fork
        await pilot.click("#fork-go")
        await wait_until(pilot, lambda: app.screen is screen)
        await wait_until(pilot, lambda: screen.selected_tp == "b1.tp03", 30)
        assert screen.view.branches["b1"].label == "no chair"
        # the branch played on the screen as it ran: its events arrived in live batches
        assert screen.batches_seen >= 1 and "run-form" in screen.runs_seen
        assert "marguerite_solane" not in screen.view.timepoint("b1.tp03").present
        tree = screen.query_one(TimelineTree)
        (main,) = tree.root.children
        assert [n.data for n in main.children[1].children[0].children] == ["b1.tp03", "b1.tp04"]


async def test_the_fork_command_in_the_query_bar_fills_the_form(tmp_path: Path) -> None:
    from textual.widgets import Input, Select, Static

    from tui.screens.fork import ForkScreen

    db = tmp_path / "bar.db"
    await seed_runs(db, [("run-bar", "vintners_council", 2)])
    app = make_app(db, start=StartReplay("run-bar"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        app.screen.select("tp02")
        await settle(pilot)
        from tui.widgets.querybar import QueryBar

        await pilot.press("slash")
        bar = app.screen.query_one(QueryBar)
        bar.value = "/fork remove marg"  # a prefilled @entity would come first if typed
        await settle(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ForkScreen))
        form = app.screen
        assert form.query_one("#fork-kind", Select).value == "remove"
        assert form.query_one("#fork-entity", Input).value == "marguerite_solane"
        preview = form.query_one("#fork-preview", Static)
        await wait_until(pilot, lambda: "changes Marguerite Solane" in str(preview.render()))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunScreen))
        assert app.screen.view.branches.get("b1") is None  # cancelled: nothing was made


async def test_the_branch_diff_puts_two_branches_side_by_side(tmp_path: Path) -> None:
    from textual.widgets import Static

    from tui.screens.diff import DiffScreen

    db = tmp_path / "diff.db"
    await seed_fork(db, "run-diff")
    await seed_runs(db, [("run-plain", "lighthouse_night", 1)])
    app = make_app(db, start=StartReplay("run-diff"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        screen = app.screen
        screen.select("b1.tp03")
        await settle(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen))
        diff = app.screen
        head = str(diff.query_one("#diff-head", Static).render())
        assert "main and b1 part after tp02" in head and "remove Marguerite Solane" in head
        left = str(diff.query_one("#diff-a Static", Static).render())
        right = str(diff.query_one("#diff-b Static", Static).render())
        assert "tp03 Burned buds" in left and "b1.tp03 Burned buds" in right
        assert "without Marguerite Solane" in right and "without Marguerite" not in left
        assert "known only here" in left  # what Marguerite went on to learn on main
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
    plain = make_app(db, start=StartReplay("run-plain"))
    async with plain.run_test(size=(120, 40)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(plain.screen, RunScreen) and plain.screen.view is not None
        )
        await pilot.press("d")
        await wait_until(
            pilot, lambda: any("no fork to compare" in n.message for n in plain._notifications)
        )
        assert isinstance(plain.screen, RunScreen)


async def test_a_branching_run_shows_its_scored_branches_under_the_decision(
    tmp_path: Path,
) -> None:
    from tui_support import seed_runs

    db = tmp_path / "branching.db"
    await seed_runs(db, [("run-br", "lighthouse_log", 1)])
    app = make_app(db, start=StartReplay("run-br"))
    async with app.run_test(size=(160, 44)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.view is not None
        )
        screen = app.screen
        tree = screen.query_one(TimelineTree)
        (main,) = tree.root.children
        decision = main.children[2]
        assert decision.data == "tp03"
        labels = [str(n.label) for n in decision.children]
        assert len(labels) == 3
        forks = [b for b in screen.view.branches.values() if b.parent_branch_id]
        for node, info in zip(decision.children, forks, strict=True):
            assert info.score is not None
            assert f"{info.branch_id} {info.label} {info.score:.2f}" in str(node.label)
        # m marks one alternative, d on another compares the two (siblings, not parent/child)
        from textual.widgets import Static

        from tui.screens.diff import DiffScreen

        screen.select("b1.tp04")
        await settle(pilot)
        await pilot.press("m")
        screen.select("b2.tp04")
        await settle(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen))
        head = str(app.screen.query_one("#diff-head", Static).render())
        assert "b1 and b2 part after tp03" in head, head
        assert screen.marked_branch is None
