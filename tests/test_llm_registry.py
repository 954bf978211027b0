"""Model selection (M18): the registry is data, selection follows the seed's algorithm, the
fallback chain and the training-safe filter hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.llm.protocol import ActionType
from engine.llm.registry import (
    TRAINING_SAFE_LICENSES,
    Capability,
    RegistryError,
    Router,
    check_training_safe,
    load_presets,
    load_registry,
)

M18_ACTIONS = {
    "entity_population",
    "dialog_synthesis",
    "temporal_reasoning",
    "counterfactual_prediction",
    "knowledge_validation",
    "scene_generation",
    "relationship_analysis",
    "prospection",
    "animistic_behavior",
    "portal_backward_reasoning",
    "portal_path_scoring",
    "config_generation",
    "tensor_compression",
    "validation",
    "summarization",
    "general",
}


def test_the_vocabulary_of_m18() -> None:
    assert len(Capability) == 15
    assert {a.value for a in ActionType} >= M18_ACTIONS
    # The engine's own five keep their names.
    for name in ("timepoint_event", "entity_presence", "dialog_turn", "knowledge_extraction"):
        assert ActionType(name)


def test_the_bundled_registry_loads_and_covers_every_action() -> None:
    registry = load_registry()
    assert len(registry.models) >= 12
    assert set(registry.actions) == set(ActionType)
    knowledge = registry.actions[ActionType.KNOWLEDGE_EXTRACTION]
    assert knowledge.required == {Capability.STRUCTURED_JSON, Capability.LOGICAL_REASONING}
    assert knowledge.min_context == 16384
    for m in registry.models:
        assert m.training_safe == (m.license in TRAINING_SAFE_LICENSES)


def test_selection_follows_requirements_and_preferences() -> None:
    registry = load_registry()
    for action in ActionType:
        req = registry.actions[action]
        chosen = registry.select(action, "openrouter")
        if chosen is None:
            continue
        profile = registry.get("openrouter", chosen)
        assert profile is not None
        assert req.required <= profile.capabilities and profile.context >= req.min_context
    cheap = registry.get("openrouter", registry.select(ActionType.DIALOG_TURN, "openrouter",
                                                        prefer="cost"))  # fmt: skip
    best = registry.get("openrouter", registry.select(ActionType.DIALOG_TURN, "openrouter",
                                                       prefer="quality"))  # fmt: skip
    assert cheap is not None and best is not None and cheap.cost <= best.cost
    assert best.quality >= cheap.quality
    assert registry.select(ActionType.DIALOG_TURN, "ollama") is None  # it serves none of them


def test_the_fallback_chain_is_distinct_and_starts_with_the_primary() -> None:
    registry = load_registry()
    chain = registry.chain(ActionType.DIALOG_TURN, "openrouter")
    assert chain[0] == registry.select(ActionType.DIALOG_TURN, "openrouter")
    assert len(chain) == len(set(chain)) and 2 <= len(chain) <= 3


def test_the_training_safe_filter_keeps_only_mit_and_apache() -> None:
    registry = load_registry()
    for action in ActionType:
        for model in registry.chain(action, "openrouter", training_safe=True):
            profile = registry.get("openrouter", model)
            assert profile is not None and profile.license in {"MIT", "Apache-2.0"}
    router = Router(
        provider="openrouter", default_model="routed", registry=registry, training_safe=True
    )
    assert router.chain(ActionType.DIALOG_TURN)
    assert "Llama" in (check_training_safe(registry, "openrouter", "meta-llama/llama-3.1-8b-instruct") or "")  # fmt: skip
    assert check_training_safe(registry, "openrouter", "mistralai/mistral-7b-instruct") is None
    assert "not in the model registry" in (check_training_safe(registry, "ollama", "x") or "")
    assert check_training_safe(registry, "offline", "offline-composer-1") is None


def test_presets_name_their_servers() -> None:
    presets = load_presets()
    assert (
        presets["openrouter"].key_env == "OPENROUTER_API_KEY" and presets["openrouter"].key_required
    )
    assert presets["ollama"].base_url == "http://localhost:11434/v1" and presets["ollama"].local
    assert presets["vllm"].base_url == "http://localhost:8000/v1"
    assert presets["llamacpp"].base_url == "http://localhost:8080/v1"
    assert presets["lmstudio"].base_url == "http://localhost:1234/v1"
    assert presets["openai"].base_url == ""


def test_a_users_registry_file_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(
        '[[models]]\nid = "a"\nprovider = "ollama"\ncontext = 8192\nmax_output = 100\n'
        'capabilities = ["telepathy"]\nlicense = "MIT"\ntraining_safe = true\n'
        "price_in = 0\nprice_out = 0\nquality = 0.5\nspeed = 0.5\ncost = 0\n"
    )
    with pytest.raises(RegistryError, match=r"models\.0\.capabilities"):
        load_registry(path)
    path.write_text(path.read_text().replace('"telepathy"', '"dialog_generation"'))
    registry = load_registry(path)
    assert registry.select(ActionType.DIALOG_TURN, "ollama") == "a"
    path.write_text(path.read_text().replace('license = "MIT"', 'license = "Llama-3.1"'))
    with pytest.raises(RegistryError, match="training_safe is true but the licence"):
        load_registry(path)
