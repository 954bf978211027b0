"""Shared fixtures. The suite never touches the network: only loopback connections are allowed."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from engine.llm.offline import OfflineProvider
from engine.llm.protocol import (
    ActionType,
    LLMRequest,
    LLMResponse,
    ProviderError,
    StreamChunk,
    StreamEnd,
)
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.simulation import Simulation
from engine.store import Store

ROOT = Path(__file__).resolve().parent.parent
# The reference fixtures live beside the repository; TIMELOOM_FIXTURES points elsewhere.
FIXTURES = Path(
    os.environ.get("TIMELOOM_FIXTURES") or ROOT.parent / "shared" / "fixtures" / "timepoint-pro"
)
TEMPLATES = ROOT / "templates"


def reference_templates() -> list[Path]:
    folder = FIXTURES / "templates"
    return sorted(folder.glob("*/*.json")) if folder.is_dir() else []


needs_fixtures = pytest.mark.skipif(
    not (FIXTURES / "templates").is_dir(),
    reason=f"the reference fixtures are not present at {FIXTURES}",
)

_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family == socket.AF_UNIX:
        return _real_connect(self, address)
    host = address[0] if isinstance(address, tuple) else address
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise AssertionError(f"a test tried to reach the network: {address!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def _isolated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's real database, config or scenarios, and no
    provider setting of the developer's environment leaks in."""
    monkeypatch.setenv("TIMELOOM_DB", str(tmp_path / "default.db"))
    empty = tmp_path / "config.toml"
    empty.write_text("")
    monkeypatch.setenv("TIMELOOM_CONFIG", str(empty))
    monkeypatch.setenv("TIMELOOM_SCENARIOS", str(tmp_path / "no-scenarios"))
    for name in (
        "TIMELOOM_PROVIDER",
        "TIMELOOM_BASE_URL",
        "TIMELOOM_MODEL",
        "TIMELOOM_API_KEY",
        "TIMELOOM_BUDGET_TOKENS",
        "TIMELOOM_BUDGET_USD",
        "OPENROUTER_API_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "runs.db")
    try:
        yield s
    finally:
        await s.close()


class ScriptedProvider:
    """Wraps the offline provider to inject failures, delays or edits, and counts calls."""

    name = "scripted"
    model = "scripted-1"

    def __init__(
        self,
        seed: int = 0,
        *,
        fail: Callable[[LLMRequest, int], bool] | None = None,
        edit: Callable[[LLMRequest, Any], Any] | None = None,
        delay: float = 0.0,
        retryable: bool = False,
    ) -> None:
        self.inner = OfflineProvider(seed)
        self.fail = fail
        self.edit = edit
        self.delay = delay
        self.retryable = retryable
        self.calls: dict[ActionType, int] = {}
        self.in_flight = 0
        self.max_in_flight = 0

    async def _answer(self, request: LLMRequest) -> LLMResponse:
        n = self.calls.get(request.action, 0) + 1
        self.calls[request.action] = n
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.fail is not None and self.fail(request, n):
                raise ProviderError(
                    f"scripted failure of {request.action.value} #{n}", retryable=self.retryable
                )
            response = await self.inner.complete(request)
            if self.edit is not None and response.parsed is not None:
                parsed = self.edit(request, response.parsed)
                response = LLMResponse(
                    text=parsed.model_dump_json(), parsed=parsed, model=self.model
                )
            return response
        finally:
            self.in_flight -= 1

    async def complete(self, request: LLMRequest) -> LLMResponse:
        return await self._answer(request)

    async def stream(self, request: LLMRequest) -> AsyncIterator[StreamChunk | StreamEnd]:
        response = await self._answer(request)
        text = getattr(response.parsed, "content", response.text)
        for word in text.split(" "):
            yield StreamChunk(word + " ")
        yield StreamEnd(response)


async def run_scenario(
    name_or_path: str, store: Store, *, seed: int = 0, provider: Any = None
) -> tuple[Any, list[ev.EventBase]]:
    """Run a scenario to its end; return the summary and every event seen (chunks included)."""
    loaded = load_scenario(name_or_path)
    sim = Simulation(loaded, provider=provider or OfflineProvider(seed), store=store, seed=seed)
    seen: list[ev.EventBase] = []
    summary = await sim.run(seen.append)
    return summary, seen


def persisted(events: list[ev.EventBase]) -> list[ev.EventBase]:
    return [e for e in events if e.PERSIST]


# --------------------------------------------------------------------------- snapshots
# Snapshots live in the top-level snapshots/ folder: the plugin looks its extension up at call
# time, so a subclass with another folder, assigned back to the module, redirects them.
import pytest_textual_snapshot  # noqa: E402

_SVGImageExtension = pytest_textual_snapshot.SVGImageExtension


class _TopLevelSnapshots(_SVGImageExtension):  # type: ignore[misc, valid-type]
    @classmethod
    def dirname(cls, *, test_location: Any) -> str:
        return str(ROOT / "snapshots" / test_location.basename)


pytest_textual_snapshot.SVGImageExtension = _TopLevelSnapshots


@pytest.fixture(autouse=True)
def _stable_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's environment must not change what the app draws."""
    for name in ("NO_COLOR", "TEXTUAL_THEME", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
