"""Budgets that bind: estimate, warn, stop cleanly at a hard cap, resume without duplicates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TEMPLATES, persisted, run_scenario
from test_llm_fakeserver import FakeServer

from engine.estimate import estimate_run
from engine.llm.budget import Budget, BudgetExceeded, BudgetTracker
from engine.llm.offline import OfflineProvider
from engine.llm.openai import OpenAIProvider
from engine.llm.registry import Router, load_registry
from engine.model import events as ev
from engine.scenario import load_scenario
from engine.simulation import ResumeError, Simulation

WORLD = (
    "timepoints",
    "dialog_turns",
    "exposure_events",
    "entities",
    "relationships",
    "scenes",
    "inner_lives",
)
ORDER = {"timepoints": "idx", "relationships": "seq", "entities": "entity_id", "scenes": "seq"}


def cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.touch()
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TIMELOOM_CONFIG": str(config)},
    )


async def world(store, run_id: str) -> dict[str, list[dict]]:
    out = {}
    for table in WORLD:
        rows = await store.table(table, run_id, order=ORDER.get(table, "seq"))
        out[table] = [{k: v for k, v in r.items() if k not in ("run_id", "seq")} for r in rows]
    return out


def test_the_tracker_reserves_warns_and_refuses() -> None:
    notices = []
    tracker = BudgetTracker(Budget(tokens=1000, warn_fraction=0.5), on_notice=notices.append)
    r = tracker.reserve(400, 0.0)
    with pytest.raises(BudgetExceeded, match=r"^budget: .* 1,000 tokens"):
        tracker.reserve(700, 0.0)  # 400 reserved + 700 could pass the cap
    tracker.settle(r, 550, 0.0)
    assert [n.dimension for n in notices] == ["tokens"] and not notices[0].exceeded
    soft = BudgetTracker(Budget(usd=0.01, hard=False), on_notice=notices.append)
    soft.settle(soft.reserve(10, 5.0), 10, 0.02)  # soft budgets never refuse
    assert notices[-1].exceeded and "past its soft budget" in notices[-1].text()


async def test_a_run_stopped_by_its_budget_resumes_to_the_same_world(store) -> None:
    loaded = load_scenario("vintners_council")
    whole = await Simulation(loaded, provider=OfflineProvider(3), store=store, seed=3).run()
    assert whole.status.value == "completed"
    tokens = whole.tokens

    seen: list[ev.EventBase] = []
    cut = Simulation(
        loaded, provider=OfflineProvider(3), store=store, seed=3, budget=Budget(tokens=tokens // 2)
    )
    stopped = await cut.run(seen.append)
    assert stopped.status.value == "stopped" and stopped.status_reason.startswith("budget")
    assert 0 < stopped.counts.timepoints < whole.counts.timepoints
    assert stopped.tokens <= tokens // 2  # the cap was never passed
    warnings = [e for e in seen if isinstance(e, ev.BudgetWarning)]
    assert warnings and warnings[0].dimension == "tokens" and not warnings[0].exceeded
    assert any(e.type == "budget_warning" for e in await store.events(stopped.run_id))
    # The calls made for the abandoned timepoint are kept: nothing spent goes unrecorded.
    assert await store.count("llm_calls", stopped.run_id) == stopped.counts.llm_calls
    abandoned = [
        c
        for c in await store.table("llm_calls", stopped.run_id)
        if c["timepoint_id"] == f"tp0{stopped.counts.timepoints + 1}"
    ]
    assert abandoned

    resumed_sim = await Simulation.resume(
        store, stopped.run_id, provider=OfflineProvider(3), budget=Budget()
    )
    resumed = await resumed_sim.run()
    assert resumed.run_id == stopped.run_id and resumed.status.value == "completed"
    assert resumed.counts.timepoints == whole.counts.timepoints
    assert await world(store, resumed.run_id) == await world(store, whole.run_id)
    for table in (*WORLD, "llm_calls", "events"):
        assert await store.count(table, resumed.run_id) >= await store.count(table, whole.run_id)
    events = await store.events(resumed.run_id)
    assert len({e.seq for e in events}) == len(events)
    assert [e.type for e in events].count("run_resumed") == 1
    with pytest.raises(ResumeError, match="is complete"):
        await Simulation.resume(store, resumed.run_id, provider=OfflineProvider(3))


async def test_a_soft_budget_warns_and_lets_the_run_finish(store) -> None:
    loaded = load_scenario("harbor_strike")
    sim = Simulation(
        loaded, provider=OfflineProvider(1), store=store, budget=Budget(tokens=5000, hard=False)
    )
    seen: list[ev.EventBase] = []
    summary = await sim.run(seen.append)
    assert summary.status.value == "completed"
    kinds = [(e.dimension, e.exceeded) for e in seen if isinstance(e, ev.BudgetWarning)]
    assert kinds == [("tokens", False), ("tokens", True)]


async def test_a_dollar_cap_binds_with_registry_prices(store, tmp_path) -> None:
    from test_llm_openai import small_scenario

    model = "deepseek/deepseek-r1"
    router = Router(
        provider="openrouter", default_model=model, fixed_model=model, registry=load_registry()
    )
    async with FakeServer() as server:
        prov = OpenAIProvider(name="openrouter", base_url=server.url, model=model)
        sim = Simulation(
            load_scenario(small_scenario(tmp_path)),
            provider=prov,
            store=store,
            router=router,
            budget=Budget(usd=0.01),
            retry={"backoff": 0},
        )
        try:
            summary = await sim.run()
        finally:
            await prov.aclose()
    assert summary.status.value == "stopped" and "$0.0100" in summary.status_reason
    assert 0 < summary.cost_usd <= 0.01


async def test_the_scenario_budget_is_honoured(store, tmp_path) -> None:
    data = json.loads((TEMPLATES / "harbor_strike.json").read_text())
    data["budget"] = {"tokens": 4000}
    path = tmp_path / "capped.json"
    path.write_text(json.dumps(data))
    summary, events = await run_scenario(str(path), store)
    assert summary.status.value == "stopped" and summary.status_reason.startswith("budget")
    started = next(e for e in events if isinstance(e, ev.RunStarted))
    assert started.budget == {"tokens": 4000, "usd": None, "mode": "hard", "warn_fraction": 0.8}


def test_reference_budgets_become_the_scenario_budget(tmp_path: Path) -> None:
    base = {
        "scenario_description": "A board meeting at Northwind Labs about a failing product.",
        "temporal": {"mode": "forward", "token_budget": 50000, "token_budget_mode": "hard"},
        "entities": {"count": 3},
        "max_cost_usd": 2.5,
    }
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(base))
    loaded = load_scenario(str(path))
    budget = loaded.scenario.budget
    assert budget is not None and (budget.tokens, budget.usd, budget.mode) == (50000, 2.5, "hard")
    assert not any("budget" in w and "not enforced" in w for w in loaded.warnings)
    base["temporal"]["token_budget_mode"] = "soft"
    path.write_text(json.dumps(base))
    loaded = load_scenario(str(path))
    assert loaded.scenario.budget.mode == "soft"
    assert any(w.startswith("max_cost_usd: enforced as a soft limit") for w in loaded.warnings)


async def test_the_estimate_counts_what_the_run_will_do(store) -> None:
    loaded = load_scenario("harbor_strike")
    model = "deepseek/deepseek-chat"
    router = Router(
        provider="openrouter", default_model=model, fixed_model=model, registry=load_registry()
    )
    estimate = await estimate_run(loaded, seed=0, router=router)
    summary, events = await run_scenario("harbor_strike", store, seed=0)
    assert estimate.calls == summary.counts.llm_calls
    assert estimate.tokens == summary.tokens
    assert estimate.usd > 0 and set(estimate.by_action) >= {"timepoint_event", "dialog_turn"}
    assert len(persisted(events)) == await store.count("events", summary.run_id)


def test_estimate_prints_and_touches_nothing(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    out = cli("run", "harbor_strike", "--estimate", "--db", str(db), tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("estimate for harbor_strike: about ") and not db.exists()
    out = cli(
        "run",
        "harbor_strike",
        "--estimate",
        "--json",
        "--provider",
        "openrouter",
        "--model",
        "deepseek/deepseek-chat",
        tmp_path=tmp_path,
    )
    # --estimate needs no key and no network: it only prices the calls.
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["estimate"]["usd"] > 0


def test_budget_stop_and_resume_from_the_command_line(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    out = cli("run", "vintners_council", "--budget-tokens", "60000", "--json", "--db", db,
              tmp_path=tmp_path)  # fmt: skip
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert data["status"] == "stopped" and data["reason"].startswith("budget")
    assert data["estimate"]["tokens"] > 60000
    out = cli("resume", data["run_id"][:10], "--json", "--db", db, tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    done = json.loads(out.stdout)
    assert done["status"] == "completed" and done["timepoints"] == done["planned_timepoints"]
    out = cli("resume", data["run_id"], "--db", db, tmp_path=tmp_path)
    assert out.returncode == 2 and "nothing to resume" in out.stderr
