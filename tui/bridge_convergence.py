"""The bridge's convergence work: list the stored sets and read one, turned into frozen rows
for the convergence screen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .messages import (
    ConvergenceDetail,
    ConvergenceRow,
    ConvergenceSetLoaded,
    ConvergenceSetsLoaded,
    DivergenceRow,
    EdgeRow,
)

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

    from engine.store import Store


def detail_of(data: dict[str, Any]) -> ConvergenceDetail:
    """A stored set's result (``ConvergenceSet.to_json``) as frozen rows."""
    runs = tuple((r["run_id"], int(r["seed"])) for r in data.get("runs", ()))
    row = ConvergenceRow(
        data["set_id"],
        str(data.get("scenario", "?")),
        runs,
        float(data["score"]),
        str(data["grade"]),
        str(data.get("created_at", "")),
    )

    def edge(e: dict[str, Any]) -> EdgeRow:
        return EdgeRow(
            str(e["text"]),
            str(e["kind"]),
            bool(e["scored"]),
            int(e["present_in"]),
            int(e["of"]),
            tuple(e.get("runs", ())),
        )

    points = tuple(
        DivergenceRow(
            int(p["position"]),
            str(p["title"]),
            float(p["agreement"]),
            int(p["shared_edges"]),
            int(p["edges"]),
            tuple(
                (
                    tuple(zip(side["runs"], (int(s) for s in side["seeds"]), strict=True)),
                    tuple(side["did"]),
                )
                for side in p["sides"]
            ),
        )
        for p in data.get("divergence_points", ())
    )
    return ConvergenceDetail(
        row,
        tuple((p["runs"][0], p["runs"][1], float(p["jaccard"])) for p in data.get("pairs", ())),
        tuple((k, int(v)) for k, v in data.get("counts", {}).items()),
        points,
        tuple(edge(e) for e in data.get("contested_edges", ())),
        tuple(edge(e) for e in data.get("consensus_edges", ())),
    )


class ConvergenceWork:
    """Mixed into :class:`~tui.bridge.EngineBridge`."""

    if TYPE_CHECKING:

        async def _store(self) -> Store: ...

        def _work(self, coro: Any, name: str, group: str = ..., exclusive: bool = ...) -> None: ...

    def load_convergence_sets(self, target: MessagePump) -> None:
        async def work() -> None:
            from engine.convergence import stored_sets
            from engine.store import StoreError

            try:
                found = await stored_sets(await self._store())
            except StoreError as exc:
                target.post_message(ConvergenceSetsLoaded((), str(exc)))
                return
            rows = tuple(
                ConvergenceRow(
                    r.set_id,
                    r.scenario,
                    tuple((run_id, int(seed)) for run_id, seed in r.members),
                    float(r.score),
                    r.grade,
                    r.created_at,
                )
                for r in found
            )
            target.post_message(ConvergenceSetsLoaded(rows))

        self._work(work, "convergence-sets", group="convergence")

    def load_convergence_set(self, target: MessagePump, set_id: str) -> None:
        async def work() -> None:
            from engine.convergence import ConvergenceError, stored_set

            try:
                data = await stored_set(await self._store(), set_id)
                detail = detail_of(data)
            except (ConvergenceError, KeyError, TypeError, ValueError) as exc:
                why = str(exc) if isinstance(exc, ConvergenceError) else "its result is damaged"
                target.post_message(ConvergenceSetLoaded(set_id, None, why))
                return
            target.post_message(ConvergenceSetLoaded(set_id, detail))

        # the function, not a coroutine: one replaced before it starts leaves nothing behind
        self._work(work, f"convergence-set-{set_id}", group="convergence-set", exclusive=True)
