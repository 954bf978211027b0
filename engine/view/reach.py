"""What reaches a moment, answered without scanning the whole run.

The read model's questions "as it stood at timepoint M" (an entity's state, inner life,
relationships, its latest knowledge) are about M's causal ancestry. Scanning every item of an
entity and testing it against M's ancestry costs the length of the run for every question, which
makes a long run's export or convergence quadratic. When the causal graph is a forest (every
timepoint has at most one causal parent: FORWARD runs, forks, BRANCHING and PORTAL paths), the
answer at M is the answer at M's parent combined with what happened at M itself, so each
answer is computed once from its parent's and remembered.

- :class:`Tree` numbers the forest (entry and exit order of a depth-first walk) so that "is U
  an ancestor of M" is two comparisons, and gives each moment its parent and depth.
- :class:`Reach` indexes one entity's items of one kind by timepoint and remembers, per moment,
  the latest item, the latest item per key (a relationship per other entity) and the last few.

Both are rebuilt when what they index changes (the graph's version; the item list's identity,
length and last item), so a live view stays correct. A graph with a moment of
two parents is not a forest; the read model then falls back to scanning."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..knowledge.causal import CausalGraph

_SCAN = 8  # a key held by at most this many items is answered by testing each
# moments whose answers an index remembers, at most: the newest half is kept when it is
# passed. Walking a run in order needs only the last few (each answer comes from the
# parent's), so a long run's export holds the same memory as a short one's; an answer far
# from every remembered one is rebuilt from the nearest, and remembered again.
_KEEP = 2048

Item = Any  # a record with ``timepoint_id`` (None or "" for what was there from the start)


class Tree:
    """The causal forest of a graph with at most one parent per moment."""

    def __init__(self, graph: CausalGraph) -> None:
        g = graph.graph
        self.parent: dict[str, str | None] = {}
        self.depth: dict[str, int] = {}
        self._enter: dict[str, int] = {}
        self.moments = self._enter  # every moment of the forest (as keys)
        self._exit: dict[str, int] = {}
        children: dict[str, list[str]] = {}
        for node in g.nodes:
            parents = list(g.predecessors(node))
            self.parent[node] = parents[0] if parents else None
            if parents:
                children.setdefault(parents[0], []).append(node)
        clock = 0
        for root in (n for n, p in self.parent.items() if p is None):
            stack: list[tuple[str, int]] = [(root, 0)]
            self.depth[root] = 0
            while stack:
                node, state = stack.pop()
                if state == 0:
                    self._enter[node] = clock
                    clock += 1
                    stack.append((node, 1))
                    for child in reversed(children.get(node, ())):
                        self.depth[child] = self.depth[node] + 1
                        stack.append((child, 0))
                else:
                    self._exit[node] = clock
                    clock += 1

    @staticmethod
    def of(graph: CausalGraph) -> Tree | None:
        g = graph.graph
        if any(d > 1 for _, d in g.in_degree()):
            return None
        return Tree(graph)

    def __contains__(self, timepoint_id: object) -> bool:
        return timepoint_id in self._enter

    def reaches(self, source: str | None, at: str | None) -> bool:
        """Whether what happened at ``source`` reaches ``at`` (itself or an ancestor); what
        was there from the start always does, nothing reaches before the first moment."""
        if not source:
            return True
        if at is None or at not in self._enter or source not in self._enter:
            return False
        return self._enter[source] <= self._enter[at] and self._exit[at] <= self._exit[source]

    def ancestors(self, at: str, limit: int) -> list[str]:
        """Up to ``limit`` nearest ancestors of ``at``, oldest first."""
        out: list[str] = []
        node = self.parent.get(at)
        while node is not None and len(out) < limit:
            out.append(node)
            node = self.parent.get(node)
        out.reverse()
        return out


class Reach:
    """One entity's items of one kind, answered per moment from the moment's parent."""

    def __init__(self, items: Sequence[Item], tree: Tree) -> None:
        self.tree = tree
        self._moments = tree.moments  # a dict: membership without a method call
        self._parent = tree.parent
        self.items = items
        self._size = len(items)
        self._tail = items[-1] if items else None
        self.base: list[tuple[int, Item]] = []
        self.at: dict[str, list[tuple[int, Item]]] = {}
        for i, x in enumerate(items):
            if x.timepoint_id:
                self.at.setdefault(x.timepoint_id, []).append((i, x))
            else:
                self.base.append((i, x))
        self._latest: dict[str | None, tuple[int, Item] | None] = {}
        self._keyed: dict[str | None, dict[Any, tuple[int, Item]]] = {}
        self._last: dict[int, dict[str | None, tuple[tuple[int, Item], ...]]] = {}
        self._by_key: dict[Any, list[tuple[int, Item]]] | None = None
        self._found: dict[Any, dict[str | None, tuple[int, Item] | None]] = {}
        self._own: dict[Any, dict[str | None, tuple[int, Item]]] = {}
        self._base_found: dict[Any, tuple[int, Item] | None] = {}

    def indexes(self, items: Sequence[Item], tree: Tree) -> bool:
        """Whether this index is of ``items`` as they are now, over ``tree``: the same list,
        neither grown nor changed at its end, and the same forest."""
        return (
            self.tree is tree
            and self.items is items
            and self._size == len(items)
            and (not items or self._tail is items[-1])
        )

    def _path(self, at: str | None, memo: dict[Any, Any]) -> tuple[list[str], Any]:
        """The moments from ``at`` up to the nearest remembered one (or the root), and that
        one's key (None: before the first moment)."""
        path: list[str] = []
        node = at if at in self._moments else None
        parent = self._parent
        while node is not None and node not in memo:
            path.append(node)
            node = parent.get(node)
        return path, node

    def latest(self, at: str | None) -> Item | None:
        """The item reaching ``at`` that happened last."""
        memo = self._latest
        _trim(memo)
        if None not in memo:
            memo[None] = self.base[-1] if self.base else None
        path, top = self._path(at, memo)
        value = memo[top]
        for node in reversed(path):
            own = self.at.get(node)
            if own and (value is None or own[-1][0] > value[0]):
                value = own[-1]
            memo[node] = value
        found = memo[at if at in self._moments else None]
        return found[1] if found else None

    def latest_by(self, at: str | None, key: Callable[[Item], Any]) -> dict[Any, Item]:
        """Per key, the item reaching ``at`` that happened last."""
        memo = self._keyed
        _trim(memo)
        if None not in memo:
            memo[None] = _merge_keyed({}, self.base, key)
        path, top = self._path(at, memo)
        value = memo[top]
        for node in reversed(path):
            own = self.at.get(node)
            if own:
                value = _merge_keyed(value, own, key)
            memo[node] = value
        return {k: v[1] for k, v in memo[at if at in self._moments else None].items()}

    def last(self, at: str | None, n: int) -> list[Item]:
        """The last ``n`` items reaching ``at``, in the order they happened."""
        memo = self._last.setdefault(n, {})
        _trim(memo)
        if None not in memo:
            memo[None] = tuple(self.base[-n:]) if n else ()
        path, top = self._path(at, memo)
        value = memo[top]
        for node in reversed(path):
            own = self.at.get(node)
            if own:
                value = tuple(sorted((*value, *own[-n:]), key=lambda p: p[0])[-n:]) if n else ()
            memo[node] = value
        return [x for _, x in memo[at if at in self._moments else None]]

    def find(
        self, at: str | None, ref: Any, keys: Callable[[Item], tuple[Any, ...]]
    ) -> Item | None:
        """The latest item reaching ``at`` one of whose ``keys`` is ``ref``.

        A key held by a few items is answered by testing them, latest first. A key that recurs
        (the same line learned again at moment after moment) would make that scan pass every
        later copy for every question, so its answers are remembered per moment, each from its
        parent's, as :meth:`latest` does."""
        if self._by_key is None:
            self._by_key = {}
            for i, x in enumerate(self.items):
                for k in keys(x):
                    if k:
                        self._by_key.setdefault(k, []).append((i, x))
        found = self._by_key.get(ref, ())
        if len(found) <= _SCAN:
            for _, x in reversed(found):
                if self.tree.reaches(x.timepoint_id, at):
                    return x
            return None
        memo = self._found.get(ref)
        if memo is None:
            own: dict[str | None, tuple[int, Item]] = {}
            for i, x in found:  # in the order they happened: the last one per moment stays
                own[x.timepoint_id or None] = (i, x)
            self._base_found[ref] = own.pop(None, None)
            memo = self._found[ref] = {}
            self._own[ref] = own
        _trim(memo)
        if None not in memo:
            memo[None] = self._base_found[ref]
        own = self._own[ref]
        path, top = self._path(at, memo)
        value = memo[top]
        for node in reversed(path):
            mine = own.get(node)
            if mine is not None and (value is None or mine[0] > value[0]):
                value = mine
            memo[node] = value
        hit = memo[at if at in self._moments else None]
        return hit[1] if hit else None

    def during(self, timepoint_id: str) -> list[Item]:
        """The items of ``timepoint_id`` itself."""
        return [x for _, x in self.at.get(timepoint_id, ())]


def _merge_keyed(
    value: dict[Any, tuple[int, Item]],
    items: Sequence[tuple[int, Item]],
    key: Callable[[Item], Any],
) -> dict[Any, tuple[int, Item]]:
    out = dict(value)
    for i, x in items:
        k = key(x)
        if k not in out or out[k][0] < i:
            out[k] = (i, x)
    return out


def _trim(memo: dict[Any, Any]) -> None:
    """Forget the older half of an index's remembered answers once there are too many."""
    if len(memo) > _KEEP:
        recent = list(memo.items())[len(memo) - _KEEP // 2 :]
        memo.clear()
        memo.update(recent)
