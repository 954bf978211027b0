"""The per-moment answers of :class:`Reach` agree with scanning every item."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
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


def _scan_latest(items: list[_Item], tree: Tree, at: str | None) -> _Item | None:
    found = [x for x in items if tree.reaches(x.timepoint_id, at)]
    return found[-1] if found else None


def _scan_last(items: list[_Item], tree: Tree, at: str | None, n: int) -> list[_Item]:
    found = [x for x in items if tree.reaches(x.timepoint_id, at)]
    return found[-n:] if n else []


def _scan_keyed(items: list[_Item], tree: Tree, at: str | None) -> dict[str, _Item]:
    out: dict[str, _Item] = {}
    for x in items:
        if tree.reaches(x.timepoint_id, at):
            out[x.text] = x
    return out


@settings(max_examples=150, deadline=None)
@given(_forests(), st.data())
def test_answers_stay_right_when_the_remembered_ones_are_forgotten(forest, data) -> None:
    """An index remembers a bounded number of moments' answers (so a long run's export holds
    flat memory); asked in any order, past that bound, every answer still matches a scan."""
    from unittest.mock import patch

    import engine.view.reach as reach_module

    tree, nodes, items = forest
    order = data.draw(st.permutations([None, *nodes]))
    with patch.object(reach_module, "_KEEP", 4):
        reach = Reach(items, tree)
        for at in order + order[::-1]:
            assert reach.latest(at) == _scan_latest(items, tree, at)
            assert reach.last(at, 3) == _scan_last(items, tree, at, 3)
            assert reach.latest_by(at, lambda x: x.text) == _scan_keyed(items, tree, at)
            for ref in "abc":
                assert reach.find(at, ref, lambda x: (x.text,)) == _scan(items, tree, at, ref)


def test_walking_a_long_line_in_order_remembers_a_bounded_number_of_moments() -> None:
    from unittest.mock import patch

    import engine.view.reach as reach_module

    g = nx.DiGraph()
    nodes = [f"tp{i:03d}" for i in range(300)]
    g.add_edges_from(pairwise(nodes))
    tree = Tree.of(SimpleNamespace(graph=g))
    assert tree is not None
    items = [_Item(n, "ab"[i % 2]) for i, n in enumerate(nodes)]
    with patch.object(reach_module, "_KEEP", 16):
        reach = Reach(items, tree)
        for i, at in enumerate(nodes):
            assert reach.latest(at) == items[i]
            assert reach.last(at, 2) == items[max(0, i - 1) : i + 1]
            assert len(reach._latest) <= 16 + 2 and len(reach._last[2]) <= 16 + 2
        assert reach.latest(nodes[5]) == items[5]  # long forgotten: rebuilt from the root
