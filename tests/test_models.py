from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from pydantic import ValidationError

from engine.model import CognitiveState, EntityProfile, ResolutionLevel, TTMTensor
from engine.model import events as ev


def tensor() -> TTMTensor:
    return TTMTensor(context=[0.5] * 8, biology=[0.1, 0.2, 0.3, 0.4], behavior=np.linspace(0, 1, 8))


def test_tensor_vectors_are_numpy_and_read_only() -> None:
    t = tensor()
    assert isinstance(t.context, np.ndarray) and t.context.shape == (8,)
    assert t.biology.shape == (4,) and t.behavior.shape == (8,)
    with pytest.raises(ValueError):
        t.context[0] = 1.0


def test_tensor_rejects_wrong_shapes_and_non_finite_values() -> None:
    with pytest.raises(ValidationError):
        TTMTensor(context=[0.5] * 7, biology=[0] * 4, behavior=[0] * 8)
    with pytest.raises(ValidationError):
        TTMTensor(context=[float("nan")] * 8, biology=[0] * 4, behavior=[0] * 8)


def test_tensor_named_updates_and_json_round_trip() -> None:
    t = tensor().with_context(valence=0.9).with_biology(pain=0.7)
    assert t.ctx("valence") == pytest.approx(0.9)
    assert t.bio("pain") == pytest.approx(0.7)
    again = TTMTensor.model_validate_json(t.model_dump_json())
    assert again.as_tuples() == t.as_tuples()


def test_resolution_levels_are_ordered() -> None:
    assert (
        ResolutionLevel.TENSOR_ONLY.rank < ResolutionLevel.SCENE.rank < ResolutionLevel.TRAINED.rank
    )
    assert ResolutionLevel.SCENE.at_least(ResolutionLevel.DIALOG) is ResolutionLevel.DIALOG


def test_events_round_trip_through_json_and_hide_wall_clock_fields() -> None:
    created = ev.EntityCreated(
        run_id="r1",
        seq=3,
        profile=EntityProfile(entity_id="a", name="A"),
        resolution=ResolutionLevel.DIALOG,
        tensor=ev.TensorSnapshot.of(tensor()),
        cognitive=CognitiveState(),
    )
    assert ev.parse_event(created.model_dump_json()) == created
    call = ev.LLMCallFinished(
        run_id="r1",
        seq=4,
        call_id="c1",
        action="dialog_turn",
        provider="offline",
        model="m",
        status="ok",
        prompt_tokens=10,
        completion_tokens=5,
        cost_usd=0.0,
        latency_ms=12.5,
        request_hash="h",
    )
    dump = call.deterministic_dump()
    assert "latency_ms" not in dump and "run_id" not in dump and dump["prompt_tokens"] == 10


def test_streamed_chunks_are_not_persisted() -> None:
    assert ev.DialogTokens.PERSIST is False
    assert ev.DialogTurnFinished.PERSIST is True
    chunk = ev.DialogTokens(
        run_id="r", seq=1, dialog_id="d", turn_index=0, text="hi ", sim_time=datetime(2030, 1, 1)
    )
    assert chunk.text == "hi "
