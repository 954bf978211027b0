"""The command line: output, exit statuses, and one-sentence errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import ROOT

from tui.cli import main


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_run_json_reports_the_run(tmp_path: Path, capsys) -> None:
    db = tmp_path / "a.db"
    assert (
        main(["run", "harbor_strike", "--headless", "--json", "--db", str(db), "--seed", "4"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "completed" and data["seed"] == 4
    for key in (
        "run_id",
        "timepoints",
        "dialog_turns",
        "exposure_events",
        "llm_calls",
        "tokens",
        "cost_usd",
        "wall_seconds",
        "entities",
        "prompt_tokens",
        "completion_tokens",
    ):
        assert key in data
    assert (
        data["timepoints"] == 2
        and data["tokens"] == data["prompt_tokens"] + data["completion_tokens"]
    )
    assert data["db"] == str(db)


def test_run_prints_a_one_line_summary(tmp_path: Path) -> None:
    out = cli("run", "lighthouse_night", "--headless", "--db", str(tmp_path / "b.db"))
    assert out.returncode == 0, out.stderr
    line = out.stdout.strip()
    assert "\n" not in line
    assert (
        line.startswith("run ") and "completed" in line and "LLM calls" in line and "tokens" in line
    )


def test_runs_show_and_templates(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "c.db")
    main(["run", "river_spirit", "--json", "--db", db])
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["runs", "--json", "--db", db]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in runs] == [run_id]
    assert main(["show", run_id[:-1], "--json", "--db", db]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run_id"] == run_id and len(shown["timepoints_detail"]) == 3
    assert any(t["dialog"] for t in shown["timepoints_detail"])
    with_dialog = [t for t in shown["timepoints_detail"] if t["dialog"]]
    assert all(t["scene"]["atmosphere"]["description"] for t in with_dialog)
    assert all(t["scene"]["after"] is not None for t in with_dialog)
    people = [t for t in with_dialog if t["inner_lives"]]
    assert people and all(x["memory"] for t in people for x in t["inner_lives"])
    assert main(["show", run_id, "--db", db]) == 0
    text = capsys.readouterr().out
    assert "Entities" in text and "tp01" in text
    assert "the room:" in text and "remembers:" in text
    assert main(["templates", "--json"]) == 0
    names = {t["name"] for t in json.loads(capsys.readouterr().out)}
    assert "vintners_council" in names


def test_environment_variable_chooses_the_database(tmp_path: Path) -> None:
    db = tmp_path / "env.db"
    out = cli("run", "lighthouse_night", "--json", env={"TIMELOOM_DB": str(db)})
    assert out.returncode == 0 and db.exists()
    assert json.loads(out.stdout)["db"] == str(db)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("run", "no_such_thing"), "no bundled scenario is called"),
        (("show", "nope"), "there is no database at"),
        (("run", "lighthouse_night", "--seed", "x"), "expected a whole number"),
        (("run", "lighthouse_night", "--frobnicate"), "unrecognized arguments"),
        (("launch",), "invalid choice"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(tmp_path: Path, args, needle: str) -> None:
    out = cli(*args, "--db", str(tmp_path / "d.db")) if args[0] in ("run", "show") else cli(*args)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_an_unusable_database_is_exit_2(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"garbage" * 500)
    out = cli("runs", "--db", str(corrupt))
    assert out.returncode == 2 and "is not a timeloom database" in out.stderr
    assert corrupt.read_bytes() == b"garbage" * 500, "the file is left as it was"
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    out = cli("run", "lighthouse_night", "--db", str(blocker / "x.db"))
    assert out.returncode == 2 and "Traceback" not in out.stderr


def test_unsupported_modes_exit_2(tmp_path: Path) -> None:
    data = json.loads((ROOT / "templates" / "harbor_strike.json").read_text())
    data["mode"] = "cyclical"
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    out = cli("run", str(path), "--db", str(tmp_path / "e.db"))
    assert out.returncode == 2 and "cyclical mode" in out.stderr


def test_a_failed_run_exits_1(tmp_path: Path, monkeypatch, capsys) -> None:
    from engine.llm.offline import provider as offline
    from engine.llm.protocol import ProviderError

    def broken(ctx, rng):
        raise ProviderError("the composer has no words today")

    monkeypatch.setitem(offline.GENERATORS, offline.ActionType.TIMEPOINT_EVENT, broken)
    code = main(["run", "lighthouse_night", "--json", "--db", str(tmp_path / "f.db")])
    captured = capsys.readouterr()
    assert code == 1
    data = json.loads(captured.out)
    assert data["status"] == "failed" and "no words today" in data["reason"]
    assert data["timepoints"] == 0


def test_no_arguments_prints_help(capsys) -> None:
    assert main([]) == 0
    assert "run" in capsys.readouterr().out


def test_explorer_commands_reject_bad_input_before_opening(tmp_path: Path) -> None:
    out = cli("open", "nope", "--db", str(tmp_path / "o.db"))
    assert out.returncode == 2 and "there is no run 'nope'" in out.stderr
    out = cli("demo", "no_such_scenario", "--db", str(tmp_path / "o.db"))
    assert out.returncode == 2 and "no bundled scenario is called" in out.stderr
    assert "Traceback" not in out.stderr


def test_without_a_terminal_run_stays_headless(tmp_path: Path) -> None:
    out = cli("run", "lighthouse_night", "--db", str(tmp_path / "h.db"))
    assert out.returncode == 0 and out.stdout.startswith("run ")


def test_the_explorer_without_a_terminal_is_one_sentence(tmp_path: Path, capsys) -> None:
    code = main(["demo", "--db", str(tmp_path / "x.db")])  # the test's stdin is no terminal
    err = capsys.readouterr().err
    assert code == 2 and "needs a terminal" in err and err.count("\n") == 1
    assert "\x1b[" not in err


class _FakeApp:
    """Stands in for the explorer: records how it was opened, ends its watched run as told."""

    opened: ClassVar[list] = []
    ending = "completed"

    def __init__(self, settings, start=None) -> None:
        self.settings, self.start = settings, start
        self.return_code = None
        self.bridge = type("B", (), {"sessions": []})()

    def run(self) -> None:
        _FakeApp.opened.append(self)
        if self.start is not None:
            self.bridge.sessions = [type("S", (), {"status": _FakeApp.ending})()]


@pytest.fixture
def terminal(monkeypatch):
    import tui.app

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(tui.app, "TimeloomApp", _FakeApp)
    _FakeApp.opened = []
    return _FakeApp


def test_db_before_the_command_opens_the_explorer_on_that_database(
    tmp_path: Path, terminal
) -> None:
    path = tmp_path / "chosen.db"
    assert main(["--db", str(path)]) == 0
    assert [a.settings.db_path for a in terminal.opened] == [path]


@pytest.mark.parametrize(("ending", "code"), [("completed", 0), ("stopped", 1), ("failed", 1)])
def test_the_explorer_exits_as_its_watched_run_ended(
    tmp_path: Path, terminal, ending, code
) -> None:
    terminal.ending = ending
    assert main(["demo", "--db", str(tmp_path / "x.db")]) == code
