"""A stored run's causal graph as convergence compares it: the content keys of
:func:`engine.export.graph.edges` over the whole run, each placed at its timepoint's position."""

from __future__ import annotations

from typing import Any

from ..export.graph import edges
from ..export.selection import select
from ..view.runview import RunView
from .compare import RunGraph


def run_graph(view: RunView, summary: Any) -> RunGraph:
    """The graph of every timepoint of a run (``summary``: its ``RunSummary``)."""
    sel = select(view, summary)
    positions = {tp.timepoint_id: i for i, tp in enumerate(sel.timepoints, start=1)}
    titles = {i: tp.title or tp.event_description for i, tp in enumerate(sel.timepoints, start=1)}
    return RunGraph.of(
        summary.run_id,
        summary.seed,
        ((e.content, positions.get(e.timepoint_id, 0)) for e in edges(sel)),
        titles,
    )
