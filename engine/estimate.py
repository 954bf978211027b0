"""What a run will cost, estimated before it starts.

The scenario is run once with the offline provider into a throw-away in-memory store. Its
prompts come from the same renderer a real model gets and its answers fill the same response
models, so the number of calls and the tokens of each are a fair forecast; each call is then
priced for the model the router would send it to. Real models write answers of their own
length and may need retries, so treat the figure as an order of magnitude, not a quote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .fidelity.templates import template
from .llm.protocol import ActionType
from .llm.registry import Router
from .model import events as ev
from .view.fidelity import fidelity_profile, profile_line


@dataclass(frozen=True)
class ActionEstimate:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usd: float = 0.0
    model: str | None = None


@dataclass(frozen=True)
class RunEstimate:
    calls: int
    prompt_tokens: int
    completion_tokens: int
    usd: float
    unpriced_models: tuple[str, ...] = ()
    by_action: dict[str, ActionEstimate] = field(default_factory=dict)
    fidelity: dict[str, Any] = field(default_factory=dict)  # the plan: levels and their cost

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def text(self) -> str:
        line = f"about {self.calls} LLM calls, {self.tokens:,} tokens, ${self.usd:.4f}"
        if self.unpriced_models:
            line += f" (no price known for {', '.join(self.unpriced_models)})"
        if self.fidelity.get("cells"):
            f = self.fidelity
            budget = f" of its {f['budget']:,}-token budget" if f.get("budget") else ""
            line += f"; fidelity {f['template']}{budget}: {profile_line(f)}"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens": self.tokens,
            "usd": round(self.usd, 6),
            "unpriced_models": list(self.unpriced_models),
            "fidelity": self.fidelity,
            "by_action": {
                k: {
                    "calls": v.calls,
                    "prompt_tokens": v.prompt_tokens,
                    "completion_tokens": v.completion_tokens,
                    "usd": round(v.usd, 6),
                    "model": v.model,
                }
                for k, v in self.by_action.items()
            },
        }


async def estimate_run(
    loaded: Any, *, seed: int, router: Router | None = None, local: bool = False
) -> RunEstimate:
    """Forecast the calls, tokens and cost of running ``loaded`` (see the module notes)."""
    from .llm.factory import OfflineProvider
    from .scenario.loader import LoadedScenario
    from .simulation import Simulation
    from .store import Store

    scenario = loaded.scenario.model_copy(update={"budget": None})
    dry = LoadedScenario(scenario=scenario, source=loaded.source, warnings=loaded.warnings)
    store = await Store.open(":memory:")
    try:
        calls: list[ev.LLMCallFinished] = []
        made: list[ev.EventBase] = []

        def keep(event: ev.EventBase) -> None:
            if isinstance(event, ev.LLMCallFinished):
                calls.append(event)
            if event.PERSIST:
                made.append(event)

        await Simulation(dry, provider=OfflineProvider(seed), store=store, seed=seed).run(keep)
    finally:
        await store.close()
    per_action: dict[str, ActionEstimate] = {}
    unpriced: set[str] = set()
    for call in calls:
        model = router.chain(ActionType(call.action))[0] if router else None
        usd = 0.0
        if model is not None and not local:
            profile = router.price(model) if router else None
            if profile is None:
                unpriced.add(model)
            else:
                usd = profile.cost_usd(call.prompt_tokens, call.completion_tokens)
        a = per_action.get(call.action, ActionEstimate(model=model))
        per_action[call.action] = ActionEstimate(
            calls=a.calls + 1,
            prompt_tokens=a.prompt_tokens + call.prompt_tokens,
            completion_tokens=a.completion_tokens + call.completion_tokens,
            usd=a.usd + usd,
            model=model,
        )
    return RunEstimate(
        calls=sum(a.calls for a in per_action.values()),
        prompt_tokens=sum(a.prompt_tokens for a in per_action.values()),
        completion_tokens=sum(a.completion_tokens for a in per_action.values()),
        usd=sum(a.usd for a in per_action.values()),
        unpriced_models=tuple(sorted(unpriced)),
        by_action=per_action,
        fidelity={
            "template": scenario.fidelity.template,
            "budget": template(scenario.fidelity.template).budget_for(scenario.mode),
            **fidelity_profile(made),
        },
    )
