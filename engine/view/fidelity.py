"""The fidelity half of the read model (M1, M5, M6): each entity's level at each moment, why,
and what each (entity, timepoint) cost; the grid the fidelity map draws and the observer ledger
(elevations by queries, entities created on demand) the run screen lists.

:class:`FidelityFold` is a base of :class:`~engine.view.runview.RunView`; a level "at" a
moment is the latest one set on its causal lineage (a sibling branch's never counts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..model import events as ev
from ..model.common import ResolutionLevel
from ..model.records import LevelInfo, TimepointInfo

Changes = frozenset[str]
_CHANGED: Changes = frozenset({"fidelity"})

MARKERS = {"tensor_only": "T", "scene": "S", "graph": "G", "dialog": "D", "trained": "★"}


@dataclass(frozen=True, slots=True)
class Cell:
    """One entity at one timepoint of a chain: its level, why, and the tokens spent on it."""

    entity_id: str
    timepoint_id: str
    level: str
    reason: str
    cause: str
    tokens: int
    present: bool

    @property
    def marker(self) -> str:
        return MARKERS.get(self.level, "?")


@dataclass(frozen=True, slots=True)
class ObserverAction:
    """Something an observer did to the run: an elevation or an entity created on demand."""

    kind: str  # "elevated" | "created"
    entity_id: str
    timepoint_id: str | None
    query_id: str | None
    detail: str
    seq: int


class FidelityFold:
    _levels: dict[str, list[LevelInfo]]
    _cell_tokens: dict[tuple[str, str], int]
    _observer: list[ObserverAction]

    lineage: Callable[[str | None], frozenset[str]]  # RunView's
    chain: Callable[[str | None], list[TimepointInfo]]  # RunView's

    # ------------------------------------------------------------------ loading
    def add_levels(self, levels: Any, cell_tokens: Any) -> None:
        for info in levels:
            self._levels.setdefault(info.entity_id, []).append(info)
            if info.cause in ("query", "created"):
                self._observe(info)
        for entity_id, timepoint_id, tokens in cell_tokens:
            self._cell_tokens[(entity_id, timepoint_id)] = tokens

    def _observe(self, info: LevelInfo) -> None:
        kind = "created" if info.cause == "created" else "elevated"
        detail = info.reason if kind == "created" else f"to {info.level}: {info.reason}"
        self._observer.append(
            ObserverAction(
                kind, info.entity_id, info.timepoint_id or None, info.query_id, detail, info.seq
            )
        )

    # ------------------------------------------------------------------ reading
    def level_at(self, entity_id: str, at: str | None) -> LevelInfo | None:
        """The level an entity had at moment ``at`` (None: none recorded on its lineage)."""
        seen = self.lineage(at) if at else frozenset()
        best = None
        for info in self._levels.get(entity_id, ()):
            if info.timepoint_id == "" or info.timepoint_id in seen:
                best = info  # ordered by seq: the latest on the lineage wins
        return best

    def levels_of(self, entity_id: str) -> list[LevelInfo]:
        """Every level change of an entity, in order (its resolution history)."""
        return list(self._levels.get(entity_id, ()))

    def tokens_at(self, entity_id: str, timepoint_id: str) -> int:
        return self._cell_tokens.get((entity_id, timepoint_id), 0)

    def fidelity_grid(self, at: str | None, entity_ids: list[str]) -> list[list[Cell]]:
        """For each entity, a cell per timepoint of the chain that leads to ``at``."""
        chain = self.chain(at)
        rows = []
        for entity_id in entity_ids:
            row = []
            for tp in chain:
                found = self.level_at(entity_id, tp.timepoint_id)
                row.append(
                    Cell(
                        entity_id,
                        tp.timepoint_id,
                        found.level if found else "",
                        found.reason if found else "",
                        found.cause if found else "",
                        self.tokens_at(entity_id, tp.timepoint_id),
                        entity_id in tp.present,
                    )
                )
            rows.append(row)
        return rows

    def level_costs(self) -> dict[str, float]:
        """What a cell at each level cost on this run, on average (tokens of the calls made
        for that entity at that timepoint): the measured price of raising a cell to it."""
        spent: dict[str, list[int]] = {}
        for entity_id, infos in self._levels.items():
            for info in infos:
                if info.cause != "plan" or not info.timepoint_id:
                    continue
                tokens = self._cell_tokens.get((entity_id, info.timepoint_id), 0)
                spent.setdefault(info.level, []).append(tokens)
        return {level: sum(v) / len(v) for level, v in spent.items() if v}

    def observer_actions(self) -> list[ObserverAction]:
        return sorted(self._observer, key=lambda a: a.seq)

    # ------------------------------------------------------------------ folding events
    def _put_level(self, info: LevelInfo) -> None:
        self._levels.setdefault(info.entity_id, []).append(info)

    def _on_fidelity_planned(self, e: ev.FidelityPlanned) -> Changes:
        for entity_id, level in e.levels.items():
            reason = e.reasons.get(entity_id, "")
            self._put_level(
                LevelInfo(entity_id, e.timepoint_id, level.value, reason, "plan", None, e.seq)
            )
        return _CHANGED

    def _on_entity_elevated(self, e: ev.EntityElevated) -> Changes:
        cause = "query" if e.query_id else "plan"
        info = LevelInfo(
            e.entity_id,
            e.timepoint_id or "",
            e.resolution.value,
            e.reason,
            cause,
            e.query_id,
            e.seq,
        )
        self._put_level(info)
        if e.query_id:
            self._observe(info)
        return _CHANGED

    def _on_entity_compressed(self, e: ev.EntityCompressed) -> Changes:
        self._put_level(
            LevelInfo(
                e.entity_id,
                e.timepoint_id,
                e.resolution.value,
                e.reason,
                "compressed",
                None,
                e.seq,
            )
        )
        return _CHANGED

    def _on_llm_call(self, e: ev.LLMCallFinished) -> Changes:
        if e.entity_id is None:
            return frozenset()
        key = (e.entity_id, e.timepoint_id or "")
        self._cell_tokens[key] = (
            self._cell_tokens.get(key, 0) + e.prompt_tokens + e.completion_tokens
        )
        return _CHANGED

    def _created_on_demand(self, e: ev.EntityCreated) -> None:
        if e.query_id is None:
            return
        info = LevelInfo(
            e.profile.entity_id,
            e.timepoint_id or "",
            e.resolution.value,
            created_reason(e),
            "created",
            e.query_id,
            e.seq,
        )
        self._put_level(info)
        self._observe(info)


def created_reason(e: ev.EntityCreated) -> str:
    p = e.profile
    return f"created on demand: {p.name}, {p.role}" if p.role else f"created on demand: {p.name}"


def rank(level: str) -> int:
    try:
        return ResolutionLevel(level).rank
    except ValueError:
        return -1


def fidelity_profile(events: Any) -> dict[str, Any]:
    """What a run's fidelity came to, from its events: cells (entity × timepoint) at each
    level, the tokens of the calls made for entities at each level, each entity's levels in
    order as markers (``TSSDD``), and how many were compressed or raised by queries. The
    estimate computes it from a dry run (the plan), ``run`` and ``show`` from the record."""
    levels: dict[str, dict[str, str]] = {}
    order: list[str] = []
    tokens: dict[str, int] = {}
    compressed = raised = 0
    calls = []
    for e in events:
        if isinstance(e, ev.FidelityPlanned):
            levels[e.timepoint_id] = {k: v.value for k, v in e.levels.items()}
            order.append(e.timepoint_id)
        elif isinstance(e, ev.EntityCompressed):
            compressed += 1
        elif isinstance(e, ev.EntityElevated) and e.query_id:
            raised += 1
        elif isinstance(e, ev.LLMCallFinished) and e.entity_id:
            calls.append(e)
    cells: dict[str, int] = {}
    rows: dict[str, str] = {}
    for tp in order:
        for entity_id, level in levels[tp].items():
            cells[level] = cells.get(level, 0) + 1
            rows[entity_id] = rows.get(entity_id, "") + MARKERS.get(level, "?")
    for call in calls:
        level = levels.get(call.timepoint_id or "", {}).get(call.entity_id or "", "query")
        tokens[level] = tokens.get(level, 0) + call.prompt_tokens + call.completion_tokens
    ranked = sorted(cells, key=rank, reverse=True)
    return {
        "cells": {k: cells[k] for k in ranked},
        "entity_tokens": tokens,
        "rows": rows,
        "compressed": compressed,
        "raised_by_queries": raised,
    }


def profile_line(profile: dict[str, Any]) -> str:
    """``5 D · 12 S · 3 T cells, 41,200 tokens on entities``."""
    cells = " · ".join(f"{n} {MARKERS.get(k, k)}" for k, n in profile["cells"].items())
    spent = sum(profile["entity_tokens"].values())
    extra = []
    if profile["compressed"]:
        extra.append(f"{profile['compressed']} compressed")
    if profile["raised_by_queries"]:
        extra.append(f"{profile['raised_by_queries']} raised by queries")
    more = f" ({', '.join(extra)})" if extra else ""
    return f"{cells or 'no cells'} cells, {spent:,} tokens on entities{more}"
