"""Crafted input for the fuzz tests (tests/test_fuzz_inputs.py) and the benchmark that runs
many more of them (bench/fuzz_inputs.py): the command line called in-process with its output
captured, valid inputs of each kind to start from, and mutations of parsed JSON.

An outcome is acceptable when the command ends with 0, 1 or 2, within its time, printing no
traceback and no "internal error", and at most one line on stderr when it fails.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def problem(self) -> str | None:
        """Why this outcome is not acceptable (None: it is)."""
        if self.code not in (0, 1, 2):
            return f"exit status {self.code}"
        if "Traceback" in self.err or "internal error" in self.err + self.out:
            return f"a crash: {(self.err or self.out)[-600:]}"
        if self.code != 0 and len(self.err.strip().splitlines()) > 3:
            return f"more than one sentence on stderr: {self.err[:600]}"
        if self.code != 0 and not self.err.strip():
            return "a failure with nothing on stderr"
        return None


class Hung(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise :class:`Hung` in the main thread after ``seconds`` (SIGALRM)."""

    def fire(signum: int, frame: Any) -> None:
        raise Hung(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def cli(*args: str, timeout: int = 60) -> Outcome:
    """``timeloom ARGS`` in this process, stdout and stderr captured."""
    import tui.cli.common as common
    from tui.cli import main

    common._CONFIG = None  # the config of this test's environment
    out, err = io.StringIO(), io.StringIO()
    # A traceback printed by a thread the command left behind counts as much as its own.
    before = set(threading.enumerate())
    crashed: list[str] = []
    hook = threading.excepthook
    threading.excepthook = lambda a: crashed.append(f"Traceback (in a thread): {a.exc_value!r}")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                with time_limit(timeout):
                    code = main(list(args))
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
            except Hung as exc:
                return Outcome(-1, out.getvalue(), f"hung: {exc}")
            except BaseException:  # escaped main(): the worst outcome
                import traceback

                return Outcome(
                    -2, out.getvalue(), "Traceback (escaped main)\n" + traceback.format_exc()
                )
        for thread in set(threading.enumerate()) - before:
            thread.join(timeout=5)
    finally:
        threading.excepthook = hook
    return Outcome(code, out.getvalue(), err.getvalue() + "".join(crashed))


# --------------------------------------------------------------------------- valid inputs
def small_scenario() -> dict[str, Any]:
    """A bundled scenario made small (2 timepoints, 2 turns): quick to run."""
    data = json.loads((TEMPLATES / "lighthouse_night.json").read_text())
    data["timeline"]["count"] = 2
    data["timeline"]["beats"] = data["timeline"]["beats"][:2]
    data["dialog"] = {"turns": 2, "max_speakers": 2, "parallel": 1}
    return data


def reference_template() -> dict[str, Any]:
    """A small timepoint-pro template using the sections the converter reads."""
    return {
        "scenario_description": "A board meeting in Geneva in 1998 where two partners argue "
        "about a merger while the auditor keeps a secret.",
        "world_id": "geneva_board",
        "patch": {"name": "Geneva Board", "tags": ["business", "drama"], "category": "corporate"},
        "entities": {"count": 3, "types": ["human"], "initial_resolution": "dialog"},
        "timepoints": {"count": 2, "resolution": "hour", "start_time": "1998-03-02T09:00:00"},
        "temporal": {"mode": "forward", "dramatic_tension": 0.6, "token_budget": 50000},
        "metadata": {
            "entity_roster": {
                "partner_a": {"role": "Senior partner", "initial_knowledge": ["The deal is bad"]},
                "auditor": {"role": "Auditor", "initial_knowledge": ["The books were changed"]},
            },
            "narrative_beats": ["t1_the_opening", "t2_the_vote"],
        },
    }


# --------------------------------------------------------------------------- mutations
NASTY_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**64 + 1,
    -(2**70),
    10**400 if False else 10**30,
    1e308,
    float("nan"),
    float("inf"),
    -0.0,
    "",
    " ",
    "x" * 5000,
    "\x1b[2J\x1b]0;title\x07\x1b[5m",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "99999999999w",
    "1w",
    "nan",
    "\u202eevil",
    "\x00",
    [],
    {},
    [None] * 50,
    {"": None},
    ["x"] * 3,
    {"a": {"b": {"c": [1, 2, {"d": "e"}]}}},
]


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in parsed JSON (the root is ``()``)."""
    out = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            out += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += paths(value, (*prefix, i))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


_DEEP = re.compile(r'"__deep_(\d+)__"')


def deep(levels: int) -> str:
    """A placeholder :func:`dump` writes as lists nested ``levels`` deep (never built here)."""
    return f"__deep_{levels}__"


def mutate(data: Any, rng: random.Random, rounds: int = 1) -> Any:
    """``data`` with ``rounds`` random changes: a value replaced (by a nasty one, another
    type, a deep nesting or a long list), a field removed or a list grown."""
    data = copy.deepcopy(data)
    for _ in range(rounds):
        where = rng.choice(paths(data))
        kind = rng.randrange(6)
        if not where:
            if kind == 0:
                return rng.choice(NASTY_VALUES)
            continue
        parent = _get(data, where[:-1])
        key = where[-1]
        if kind == 0 and isinstance(parent, dict):
            del parent[key]
        elif kind == 1:
            parent[key] = deep(rng.choice([70, 500, 5000]))
        elif kind == 2:
            value = parent[key]
            parent[key] = [value] * rng.choice([2, 300, 2000])
        elif (
            kind == 3 and isinstance(parent[key], int | float) and not isinstance(parent[key], bool)
        ):
            parent[key] = rng.choice([10**20, -(10**20), 2**63, 0, -1, 1e300])
        else:
            parent[key] = copy.deepcopy(rng.choice(NASTY_VALUES))
    return data


def dump(data: Any) -> str:
    """JSON as a file might hold it (NaN and Infinity included, as Python writes them)."""
    return _DEEP.sub(
        lambda m: "[" * int(m.group(1)) + "1" + "]" * int(m.group(1)), json.dumps(data)
    )


def record_cassette(folder: Path, *, failures: bool = True) -> tuple[Path, str]:
    """Record a small run against the fake model server (with a few failed attempts, so the
    file carries transcripts) and export it as a cassette file; returns the file and the id."""
    import asyncio

    from test_llm_fakeserver import FakeServer, Reply, Seen

    from engine.llm.cassette import write_file
    from engine.llm.openai import OpenAIProvider
    from engine.llm.registry import Router
    from engine.scenario import load_scenario
    from engine.simulation import Simulation
    from engine.store import Store

    scenario = folder / "recorded.json"
    scenario.write_text(json.dumps(small_scenario()))
    model = "deepseek/deepseek-chat"

    def script(seen: Seen, index: int) -> Reply | None:
        if failures and index in (2, 5):
            return Reply(status=500, body={"error": {"message": "the GPU fell over"}})
        return None

    async def go() -> tuple[Path, str]:
        store = await Store.open(folder / "recorded.db")
        try:
            async with FakeServer(script) as server:
                provider = OpenAIProvider(name="openrouter", base_url=server.url, model=model)
                try:
                    sim = Simulation(
                        load_scenario(str(scenario)),
                        provider=provider,
                        store=store,
                        seed=5,
                        retry={"backoff": 0},
                        router=Router(
                            provider="openrouter", default_model=model, fixed_model=model
                        ),
                    )
                    summary = await sim.run()
                finally:
                    await provider.aclose()
            descriptor = await store.run_descriptor(summary.run_id)
            entries = await store.cassette_for_run(summary.run_id)
            out = folder / "recorded.cassette.json"
            write_file(out, [descriptor], entries)
            return out, summary.run_id
        finally:
            await store.close()

    return asyncio.run(go())


ESCAPES = "\x1b[2J\x1b]0;PWNED\x07\x1b[5mBLINK\x1b[0m\x9b31m\u202e"


def escaped_run(db: Path) -> str:
    """A run stored with control sequences in its scenario's text, as a database written
    before they were stripped (or by another program) holds them: the loader is bypassed.
    Returns the run id."""
    import asyncio

    from engine.llm.offline import OfflineProvider
    from engine.scenario import LoadedScenario, Scenario
    from engine.simulation import Simulation
    from engine.store import Store

    data = small_scenario()
    data["title"] = "Night" + ESCAPES
    data["description"] += ESCAPES
    data["entities"][0]["name"] = "Aldous" + ESCAPES + " Penrith"
    data["entities"][0]["knowledge"][0] += ESCAPES
    data["timeline"]["beats"][0]["title"] = "Handover" + ESCAPES
    loaded = LoadedScenario(scenario=Scenario.model_validate(data), source="escaped.json")

    async def go() -> str:
        store = await Store.open(db)
        try:
            sim = Simulation(loaded, provider=OfflineProvider(3), store=store, seed=3)
            return (await sim.run()).run_id
        finally:
            await store.close()

    return asyncio.run(go())
