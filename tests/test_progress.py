"""Progress always: a headless run prints progress on stderr, one line per timepoint when
stderr is not a terminal, even with --json (stdout keeps the JSON object); --quiet silences
it; a run on a real model says first where its calls go and how many at once."""

from __future__ import annotations

import json
import re

from test_cli import cli
from test_llm_slots import _opened, _server

from tui.cli.progress import provider_line


def test_a_headless_run_shows_progress_on_stderr_even_with_json(tmp_path) -> None:
    db = str(tmp_path / "runs.db")
    done = cli("run", "lighthouse_night", "--json", "--db", db)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # stdout is the JSON object and nothing else
    lines = [line for line in done.stderr.splitlines() if line.startswith("timepoint ")]
    assert len(lines) == data["timepoints"] == 3
    for i, line in enumerate(lines, 1):
        assert re.match(rf'timepoint {i}/3 ".+" done in \d+ s: \d+ turns, \d+ calls', line), line
    turns = sum(int(re.search(r"(\d+) turns", line).group(1)) for line in lines)
    assert turns == data["dialog_turns"]


def test_quiet_prints_no_progress(tmp_path) -> None:
    done = cli("run", "lighthouse_night", "--json", "--quiet", "--db", str(tmp_path / "r.db"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "completed"
    assert "timepoint " not in done.stderr


async def test_a_real_model_run_names_its_server_and_how_many_calls_at_once() -> None:
    opened = await _opened("llamacpp", _server({"total_slots": 2}))
    line = provider_line(opened)
    assert line is not None
    assert "llamacpp at http://127.0.0.1:9/v1" in line and "model model.gguf" in line
    assert "2 calls at once (the server's /props)" in line
    single = provider_line(await _opened("llamacpp", _server()))
    assert single is not None and "1 call at a time" in single
