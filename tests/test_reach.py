"""The per-moment answers of :class:`Reach` agree with scanning every item."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.view.reach import Reach, Tree


@dataclass(frozen=True)
class _Item:
    timepoint_id: str | None
    text: str


def _scan(items: list[_Item], tree: Tree, at: str | None, ref: str) -> _Item | None:
    for x in reversed(items):
        if x.text == ref and tree.reaches(x.timepoint_id, at):
            return x
    return None


@st.composite
def _forests(draw: st.DrawFn) -> tuple[Tree, list[str], list[_Item]]:
    size = draw(st.integers(1, 40))
    g = nx.DiGraph()
    nodes = [f"tp{i:02d}" for i in range(size)]
    g.add_nodes_from(nodes)
    for i in range(1, size):
        parent = draw(st.integers(-1, i - 1))  # -1: a second root
        if parent >= 0:
            g.add_edge(nodes[parent], nodes[i])
    tree = Tree.of(SimpleNamespace(graph=g))
    assert tree is not None
    where = st.sampled_from([None, *nodes])
    # few texts over many items, so that some keys recur past the point where scanning stops
    items = draw(st.lists(st.builds(_Item, where, st.sampled_from("abc")), max_size=80))
    return tree, nodes, items


@settings(max_examples=150, deadline=None)
@given(_forests(), st.data())
def test_find_agrees_with_a_scan_at_every_moment(forest, data) -> None:
    tree, nodes, items = forest
    reach = Reach(items, tree)
    asked = data.draw(st.lists(st.tuples(st.sampled_from([None, *nodes]), st.sampled_from("abcd"))))
    for at, ref in asked + [(n, r) for n in nodes for r in "abcd"]:
        assert reach.find(at, ref, lambda x: (x.text,)) == _scan(items, tree, at, ref)
