"""Input latency while the engine streams 50 dialog turns a second.

A scripted engine feeds the live run screen a stream of turns (each in a dozen chunks) at 50
turns per second through the real bridge (which coalesces them at 15 updates a second). Every
100-300 ms a key press is posted to the app; the time from posting to the moment its action
runs is recorded. Goal: 95th percentile under 100 ms.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import events
from textual.binding import Binding

from engine.model import PersonaParams, Timepoint
from engine.model import events as ev
from engine.model.entity import EntityProfile
from engine.model.events import TensorSnapshot
from engine.model.tensors import CognitiveState, TTMTensor
from tui.app import StartLive, TimeloomApp, UISettings
from tui.screens.run import RunScreen

TURNS_PER_SECOND = 50
SECONDS = 12
PRESSES = 60
WORDS = (
    "the tide turns at six and nobody has signed the log, so we wait for the pilot and "
    "count the candles again before the inspector comes up the ladder"
).split()


def script(run_id: str = "bench-live"):  # type: ignore[no-untyped-def]
    seq = 0

    def nxt() -> int:
        nonlocal seq
        seq += 1
        return seq

    async def source():  # type: ignore[no-untyped-def]
        start = datetime(2030, 1, 7, 9)
        yield ev.RunStarted(
            run_id=run_id,
            seq=nxt(),
            scenario="bench",
            title="Latency bench",
            mode="forward",
            seed=0,
            config_hash="h",
            provider="scripted",
            model="m",
            source="bench",
            scenario_data={},
            planned_timepoints=999,
            started_at=start,
        )
        tensor = TensorSnapshot.of(
            TTMTensor(context=[0.5] * 8, biology=[0.5] * 4, behavior=[0.5] * 8)
        )
        cast = ["ada", "bram", "celine", "dario"]
        for name in cast:
            yield ev.EntityCreated(
                run_id=run_id,
                seq=nxt(),
                profile=EntityProfile(entity_id=name, name=name.title()),
                resolution="dialog",
                tensor=tensor,
                cognitive=CognitiveState(),
            )
        params = PersonaParams(
            temperature=0.7, top_p=0.9, max_tokens=120, frequency_penalty=0, presence_penalty=0
        )
        rng = random.Random(1)
        interval = 1.0 / TURNS_PER_SECOND
        turn_no = 0
        tp_no = 0
        began = time.perf_counter()
        deadline = began + SECONDS
        while time.perf_counter() < deadline:
            tp_no += 1
            tp_id = f"tp{tp_no:04d}"
            yield ev.TimepointCreated(
                run_id=run_id,
                seq=nxt(),
                timepoint=Timepoint(
                    timepoint_id=tp_id,
                    index=tp_no - 1,
                    timestamp=start,
                    causal_parent=f"tp{tp_no - 1:04d}" if tp_no > 1 else None,
                    title=f"Moment {tp_no}",
                    event_description="The pilot is late again.",
                    entities_present=tuple(cast),
                ),
            )
            dialog = f"{tp_id}-d1"
            yield ev.DialogStarted(
                run_id=run_id,
                seq=nxt(),
                dialog_id=dialog,
                timepoint_id=tp_id,
                participants=tuple(cast),
                planned_turns=20,
            )
            for index in range(20):
                speaker = cast[index % 4]
                yield ev.DialogTurnStarted(
                    run_id=run_id,
                    seq=nxt(),
                    dialog_id=dialog,
                    turn_index=index,
                    speaker=speaker,
                    persona=params,
                )
                words = [rng.choice(WORDS) for _ in range(24)]
                for i in range(0, len(words), 2):
                    yield ev.DialogTokens(
                        run_id=run_id,
                        seq=seq,
                        dialog_id=dialog,
                        turn_index=index,
                        text=" ".join(words[i : i + 2]) + " ",
                    )
                from engine.model import DialogTurn

                yield ev.DialogTurnFinished(
                    run_id=run_id,
                    seq=nxt(),
                    turn=DialogTurn(
                        dialog_id=dialog,
                        turn_index=index,
                        speaker=speaker,
                        content=" ".join(words),
                        persona=params,
                        timestamp=start,
                    ),
                )
                turn_no += 1
                # Keep to the schedule (turn n is due at n / rate), catching up when behind.
                await asyncio.sleep(max(0.0, began + turn_no * interval - time.perf_counter()))
            yield ev.TimepointCompleted(run_id=run_id, seq=nxt(), timepoint_id=tp_id, status="ok")
        source.turns = turn_no  # type: ignore[attr-defined]

    return source


class ProbeApp(TimeloomApp):
    BINDINGS = [*TimeloomApp.BINDINGS, Binding("f9", "probe", "probe", id="bench.probe")]

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.sent: list[float] = []
        self.latencies: list[float] = []

    def action_probe(self) -> None:
        self.latencies.append(time.perf_counter() - self.sent[len(self.latencies)])


async def main() -> None:
    source = script()
    with tempfile.TemporaryDirectory() as folder:
        app = ProbeApp(
            UISettings(db_path=Path(folder) / "bench.db", pace=None),
            start=StartLive("bench", source=source),
        )
        async with app.run_test(size=(160, 48)) as pilot:
            while not (isinstance(app.screen, RunScreen) and app.screen.view is not None):
                await asyncio.sleep(0.01)
            rng = random.Random(2)
            for _ in range(PRESSES):
                await asyncio.sleep(rng.uniform(0.1, 0.3))
                app.sent.append(time.perf_counter())
                app.post_message(events.Key("f9", None))
            while len(app.latencies) < PRESSES:
                await asyncio.sleep(0.01)
            screen = app.screen
            turns = screen.view.run.dialog_turns
            mounted = len(screen.query("TurnView"))
            await pilot.press("ctrl+q")
    lat = sorted(x * 1000 for x in app.latencies)
    p95 = lat[int(len(lat) * 0.95) - 1]
    print(
        f"{turns} turns streamed in about {SECONDS} s ({turns / SECONDS:.0f} a second); "
        f"{mounted} turn widgets mounted at the end (bounded)"
    )
    print(
        f"key press latency over {len(lat)} presses: median {statistics.median(lat):.1f} ms, "
        f"p95 {p95:.1f} ms, max {lat[-1]:.1f} ms (goal p95 < 100 ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
