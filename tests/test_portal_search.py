"""The backward search on a hand-built host: slot orders, the beam, failures and backtracking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from engine.portal import Candidate
from engine.portal.search import Beam, Judged, Request, Search, SearchFailed, next_slot


class Host:
    """Proposes ``n`` states per request, scored by a table; judges links by a function."""

    def __init__(
        self,
        n: int = 3,
        scores: dict[str, float] | None = None,
        links: Any = None,
        fail: set[str] | None = None,
    ) -> None:
        self.n = n
        self.score_of = scores or {}
        self.link_of = links or (lambda path: [0.9] * (len(path) - 1))
        self.fail = fail or set()
        self.counts: dict[int, int] = {}
        self.requests: list[Request] = []
        self.kept_log: list[tuple[int, tuple[str, ...], tuple[str, ...]]] = []
        self.decisions: list[Judged] = []
        self.commits = 0

    async def gate(self) -> None:
        return None

    async def propose(self, r: Request) -> Any:
        return None if r.later.candidate_id in self.fail else r

    def proposed(self, r: Request, got: Any) -> list[Candidate]:
        self.requests.append(r)
        if got is None:
            return []
        out = []
        for _ in range(self.n):
            k = self.counts[r.slot] = self.counts.get(r.slot, 0) + 1
            cid = f"s{r.slot}.{k}"
            out.append(Candidate(cid, r.slot, r.later.candidate_id, f"state {cid}"))
        return out

    async def score(self, c: Candidate, later: Candidate) -> Any:
        return self.score_of.get(c.candidate_id, 0.5)

    def scored(self, c: Candidate, got: Any) -> Candidate:
        return Candidate(c.candidate_id, c.step, c.parent_id, c.description, score=got)

    def kept(self, slot: int, kept: Sequence[Candidate], aside: Sequence[Candidate]) -> None:
        self.kept_log.append(
            (slot, tuple(c.candidate_id for c in kept), tuple(c.candidate_id for c in aside))
        )

    async def judge(self, path: Sequence[Candidate]) -> Any:
        return self.link_of(path)

    def judged(self, path: Sequence[Candidate], got: Any) -> list[float | None] | None:
        return got

    def decided(self, judged: Judged) -> None:
        self.decisions.append(judged)

    async def commit(self) -> None:
        self.commits += 1


def search(
    host: Host,
    steps: int = 3,
    width: int = 2,
    strategy: str = "reverse_chronological",
    max_backtracks: int = 2,
) -> Search:
    return Search(
        host,
        Candidate("e", 0, None, "the endpoint"),
        steps=steps,
        width=width,
        strategy=strategy,
        threshold=0.6,
        max_backtracks=max_backtracks,
    )


async def test_reverse_chronological_fills_back_from_the_endpoint_and_keeps_a_beam() -> None:
    scores = {"s1.1": 0.2, "s1.2": 0.9, "s1.3": 0.7}
    host = Host(scores=scores)
    judged = await search(host).run()
    assert [slot for slot, *_ in host.kept_log] == [1, 2, 3]
    assert host.kept_log[0][1] == ("s1.2", "s1.3") and host.kept_log[0][2] == ("s1.1",)
    # every chain of the beam asks for its own antecedents: 1 request, then 2 and 2
    assert [sum(1 for r in host.requests if r.slot == s) for s in (1, 2, 3)] == [1, 2, 2]
    assert len(judged) == 2 and all(j.verdict.action == "keep" for j in judged)
    for j in judged:
        assert [c.step for c in j.path] == [3, 2, 1, 0]  # origin first
        assert j.path[-1].candidate_id == "e"
        assert j.path[-2].candidate_id in {"s1.2", "s1.3"}


async def test_the_oscillating_order_pins_the_origin_side_second_and_tells_it_the_far_state() -> (
    None
):
    host = Host()
    await search(host, steps=5, width=1, strategy="oscillating").run()
    assert [slot for slot, *_ in host.kept_log] == [1, 5, 2, 4, 3]
    middle = next(r for r in host.requests if r.slot == 4)
    assert middle.earlier is not None and middle.earlier.step == 5
    assert middle.later.step == 2  # the nearest fixed state on the endpoint side


def test_adaptive_goes_back_while_the_scores_agree_and_pins_the_origin_when_they_part() -> None:
    beam = Beam([{}], 1, [2, 3, 4], turn=1, last=1)
    agreeing = {1: [0.6, 0.62, 0.61]}
    parted = {1: [0.1, 0.9, 0.5]}
    assert next_slot("adaptive", beam, 4, agreeing) == 2
    assert next_slot("adaptive", beam, 4, parted) == 4
    assert next_slot("reverse_chronological", beam, 4, parted) == 2


async def test_a_weak_link_sends_the_path_back_and_the_rejected_states_are_avoided() -> None:
    def links(path: Sequence[Candidate]) -> list[float | None]:
        # the first version of each path breaks between its origin side and the next state
        first = path[0].candidate_id in {f"s3.{n}" for n in range(1, 7)}
        return [0.05 if first else 0.9, 0.7, 0.7]

    host = Host(links=links)
    judged = await search(host, width=2, max_backtracks=2).run()
    actions = [d.verdict.action for d in host.decisions]
    assert actions.count("backtrack") == 2 and actions.count("keep") == 2
    back = next(d for d in host.decisions if d.verdict.action == "backtrack")
    assert back.verdict.at_step == 3  # the earlier state of the weakest link
    again = [r for r in host.requests if r.attempt == 1]
    assert again and all(r.slot == 3 for r in again)
    assert all(r.avoid for r in again)  # told what was rejected
    assert all(j.backtracks == 1 and j.verdict.action == "keep" for j in judged)


async def test_backtracks_stop_at_the_depth_and_the_path_is_kept_with_a_warning() -> None:
    host = Host(links=lambda path: [0.2] * (len(path) - 1))
    judged = await search(host, width=1, max_backtracks=2).run()
    assert [d.verdict.action for d in host.decisions] == [
        "backtrack",
        "backtrack",
        "keep_with_warning",
    ]
    assert judged[0].backtracks == 2


async def test_a_path_no_link_of_which_could_be_judged_is_pruned() -> None:
    host = Host(links=lambda path: None)
    judged = await search(host, width=1).run()
    assert judged[0].verdict.action == "prune" and judged[0].coherence is None


async def test_a_failed_proposal_drops_its_chain_and_nothing_stands_in_for_it() -> None:
    scores = {"s1.1": 0.9, "s1.2": 0.8, "s1.3": 0.1}
    host = Host(scores=scores, fail={"s1.1"})
    judged = await search(host, width=2).run()
    assert len(judged) == 2
    assert all(j.path[-2].candidate_id == "s1.2" for j in judged)  # s1.1's chain is gone
    assert not any(r.later.candidate_id == "s1.1" for r in host.requests if r.slot == 3)


async def test_when_nothing_can_be_proposed_the_search_fails() -> None:
    with pytest.raises(SearchFailed, match="step 1"):
        await search(Host(fail={"e"})).run()


def test_with_each_paths_own_divergence_only_the_path_that_leaves_the_common_story_pivots() -> None:
    from engine.portal import detect, divergence, per_path

    end = Candidate("E", 0, None, "the island starves")

    def path(name: str, origin: str, middle: str) -> list[Candidate]:
        return [
            Candidate(f"{name}2", 2, f"{name}1", origin),
            Candidate(f"{name}1", 1, "E", middle),
            end,
        ]

    common = "the harbour freezes and the grain ships cannot land"
    paths = [
        path("a", "a storm wrecks the fleet", common),
        path("b", "the council sells the granary", common),
        path("c", "a blight takes the wheat", common),
        path("d", "a comet frightens the fishermen", "the orchestra tours abroad instead"),
    ]
    div = divergence(paths)
    everyone = detect(paths, div)
    assert sorted({p.path_index for p in everyone if p.position == 1}) == [0, 1, 2, 3]
    own = per_path(paths)
    assert own[3][1] == 1.0 and own[0][1] < 0.5
    leaving = detect(paths, div, own=own)
    assert [p.path_index for p in leaving if p.position == 1] == [3]
    assert "this path parts from the others" in leaving[-1].sentence.lower()
