"""The pure core of PORTAL: the search graph, hybrid scoring, the beam, exploration orders,
forward coherence, path divergence and pivot detection."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from engine.portal import (
    COMPONENTS,
    DEFAULT_WEIGHTS,
    STRATEGIES,
    Candidate,
    SearchGraph,
    adaptive,
    coherence,
    detect,
    divergence,
    hybrid,
    key_steps,
    neighbour_spread,
    oscillating,
    plan,
    reverse_chronological,
    select,
    verdict,
    weakest_link,
)


def cand(cid: str, step: int, parent: str | None, text: str = "", **kw: object) -> Candidate:
    return Candidate(candidate_id=cid, step=step, parent_id=parent, description=text, **kw)


def is_sentence(text: str) -> bool:
    return text[:1].isupper() and text.endswith(".") and len(text.split()) >= 4


# The tree used below, three steps back from the endpoint E:
#   E <- a1 <- b1 <- c1, c2      E <- a1 <- b2 (abandoned)      E <- a2 <- b3 <- c3
def tree() -> SearchGraph:
    g = SearchGraph(3)
    g.add(cand("E", 0, None, "the mill burns down"))
    for cid, step, parent in [
        ("a1", 1, "E"),
        ("a2", 1, "E"),
        ("b1", 2, "a1"),
        ("b2", 2, "a1"),
        ("b3", 2, "a2"),
        ("c1", 3, "b1"),
        ("c2", 3, "b1"),
        ("c3", 3, "b3"),
    ]:
        g.add(cand(cid, step, parent, f"state {cid}"))
    return g


def ids(candidates: Sequence[Candidate]) -> list[str]:
    return [c.candidate_id for c in candidates]


# --- graph -------------------------------------------------------------------------------------


def test_paths_are_read_back_origin_first() -> None:
    g = tree()
    assert ids(g.path("c2")) == ["c2", "b1", "a1", "E"]
    assert ids(g.path("b2")) == ["b2", "a1", "E"]
    assert ids(g.path("E")) == ["E"]
    assert g.endpoint().candidate_id == "E"
    assert ids(g.children_of("a1")) == ["b1", "b2"]
    assert ids(g.children_of("c1")) == []
    assert ids(g.at_step(2)) == ["b1", "b2", "b3"]
    assert len(g) == 9 and "b3" in g and "zz" not in g


def test_every_complete_path_and_every_leaf() -> None:
    g = tree()
    assert [ids(p) for p in g.paths()] == [
        ["c1", "b1", "a1", "E"],
        ["c2", "b1", "a1", "E"],
        ["c3", "b3", "a2", "E"],
    ]
    # Deepest first; the abandoned branch b2 is a leaf too, never a complete path.
    assert ids(g.leaves()) == ["c1", "c2", "c3", "b2"]
    assert SearchGraph(2).paths() == []


def test_the_graph_refuses_what_would_break_the_tree() -> None:
    g = tree()
    with pytest.raises(ValueError, match="already holds"):
        g.add(cand("b1", 2, "a1"))
    with pytest.raises(ValueError, match="not in the graph"):
        g.add(cand("d1", 3, "nowhere"))
    with pytest.raises(ValueError, match="second endpoint"):
        g.add(cand("E2", 0, None))
    with pytest.raises(ValueError, match="exactly one step"):
        g.add(cand("x", 3, "a1"))
    with pytest.raises(ValueError, match="beyond the origin side"):
        g.add(cand("y", 4, "c1"))
    with pytest.raises(KeyError):
        g.path("nowhere")
    with pytest.raises(LookupError):
        SearchGraph(2).endpoint()
    with pytest.raises(ValueError):
        SearchGraph(0)
    assert len(g) == 9  # nothing was added by the failed calls


def test_a_candidate_checks_itself() -> None:
    with pytest.raises(ValueError, match="only the endpoint"):
        cand("x", 0, "E")
    with pytest.raises(ValueError, match="only the endpoint"):
        cand("x", 2, None)
    with pytest.raises(ValueError, match="magnitude"):
        cand("x", 1, "E", entity_changes={"chen": -0.1})
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        cand("x", 1, "E", components={"plausibility": 1.5})
    changes = {"chen": 0.5}
    c = cand("x", 1, "E", "a fire", key_events=["the alarm", "the run"], entity_changes=changes)
    changes["chen"] = 9.0
    assert c.entity_changes == {"chen": 0.5} and c.key_events == ("the alarm", "the run")
    assert c.text == "a fire the alarm the run"


# --- scoring -----------------------------------------------------------------------------------


def test_hybrid_is_the_weighted_mean_of_what_is_there() -> None:
    assert tuple(DEFAULT_WEIGHTS) == COMPONENTS
    full = hybrid(
        {
            "plausibility": 0.8,
            "historical_precedent": 0.6,
            "causal_necessity": 0.4,
            "entity_capability": 1.0,
        },
        DEFAULT_WEIGHTS,
    )
    assert full.score == pytest.approx(0.68)
    assert full.missing == ()
    assert sum(full.used.values()) == pytest.approx(1.0)


def test_missing_components_renormalise_the_weights() -> None:
    scored = hybrid({"plausibility": 0.8, "causal_necessity": 0.4, "historical_precedent": None})
    assert scored.score == pytest.approx(0.6)
    assert scored.used == pytest.approx({"plausibility": 0.5, "causal_necessity": 0.5})
    assert scored.missing == ("historical_precedent", "entity_capability")
    # A component nobody weighs takes no part.
    assert hybrid({"a": 1.0, "b": 0.0}, {"a": 3.0}).score == 1.0
    # A weight of 0 keeps a present component out of the mean.
    assert hybrid({"a": 1.0, "b": 0.0}, {"a": 1.0, "b": 0.0}).used == {"a": 1.0}


def test_no_score_is_better_than_a_guessed_one() -> None:
    empty = hybrid({"plausibility": None})
    assert empty.score is None and empty.used == {}
    assert set(empty.missing) == set(COMPONENTS)
    assert hybrid({"a": 0.5}, {"a": 0.0}).score is None
    assert hybrid({}, {}).score is None


@pytest.mark.parametrize(
    ("components", "weights"),
    [({"a": 0.5}, {"a": -1.0}), ({"a": 1.2}, {"a": 1.0}), ({"a": -0.1}, {"a": 1.0})],
)
def test_hybrid_refuses_bad_numbers(components: dict, weights: dict) -> None:
    with pytest.raises(ValueError) as error:
        hybrid(components, weights)
    assert is_sentence(str(error.value))


# --- beam --------------------------------------------------------------------------------------


def test_the_beam_keeps_the_best_and_breaks_ties_by_id() -> None:
    pool = [
        cand("m", 1, "E", score=0.5),
        cand("z", 1, "E", score=0.9),
        cand("n", 1, "E", score=None),
        cand("b", 1, "E", score=0.9),
        cand("a", 1, "E", score=0.1),
    ]
    assert ids(select(pool, 3)) == ["b", "z", "m"]
    assert ids(select(pool, 10)) == ["b", "z", "m", "a", "n"]
    assert ids(select(reversed(pool), 1)) == ["b"]
    for width in (0, -2):
        with pytest.raises(ValueError, match="at least 1"):
            select(pool, width)


# --- exploration orders ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "backwards", "oscillating_order"),
    [
        (1, [1], [1]),
        (2, [1, 2], [1, 2]),
        (4, [1, 2, 3, 4], [1, 4, 2, 3]),
        (5, [1, 2, 3, 4, 5], [1, 5, 2, 4, 3]),
        (6, [1, 2, 3, 4, 5, 6], [1, 6, 2, 5, 3, 4]),
    ],
)
def test_fixed_orders(steps: int, backwards: list[int], oscillating_order: list[int]) -> None:
    assert reverse_chronological(steps) == backwards
    assert oscillating(steps) == oscillating_order
    assert plan("reverse_chronological", steps) == backwards
    assert plan("oscillating", steps) == oscillating_order


def test_adaptive_goes_to_the_most_uncertain_step_first() -> None:
    # Steps 2 and 4 are unknown and get the mean (0.5); ties go nearest the endpoint first.
    assert adaptive(5, {3: 0.9, 5: 0.1, 1: 0.5}) == [3, 1, 2, 4, 5]
    assert adaptive(4, {4: 0.3, 2: 0.3, 1: 0.1, 3: 0.2}) == [2, 4, 3, 1]
    assert adaptive(3, {}) == [1, 2, 3]
    # Steps 2 and 3 get the mean, 0.5: between step 4 and step 1.
    assert plan("adaptive", 4, {4: 1.0, 1: 0.0}) == [4, 2, 3, 1]
    assert plan("adaptive", 4, {4: 1.0}) == [1, 2, 3, 4]  # everything at the mean: a tie
    assert plan("adaptive", 3) == [1, 2, 3]


def test_the_three_strategies_are_different_orders() -> None:
    uncertainty = {1: 0.0, 2: 0.0, 3: 1.0, 4: 0.0, 5: 0.0}
    orders = {name: tuple(plan(name, 5, uncertainty)) for name in STRATEGIES}
    assert len(set(orders.values())) == 3
    assert orders["adaptive"] == (3, 1, 2, 4, 5)


def test_neighbour_spread_measures_what_is_known_beside_a_step() -> None:
    scores = {0: [0.9], 1: [0.2, 0.6, None], 3: [0.5]}
    # Step 1 sees the endpoint and nothing at step 2: one score, unknown. Step 2 sees steps
    # 1 and 3: 0.2 .. 0.6. Step 3 sees steps 2 and 4: nothing. Step 4 sees step 3: one score.
    assert neighbour_spread(scores, 4) == {2: 0.4}
    assert neighbour_spread({0: [1.0], 2: [0.5, 0.5]}, 2) == {1: 0.5}
    assert adaptive(4, neighbour_spread(scores, 4)) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "call",
    [
        lambda: plan("sideways", 3),
        lambda: plan("oscillating", 0),
        lambda: reverse_chronological(-1),
        lambda: oscillating(0),
        lambda: adaptive(0, {}),
        lambda: adaptive(3, {4: 0.5}),
        lambda: adaptive(3, {1: -0.5}),
        lambda: adaptive(3, {1: float("nan")}),
    ],
)
def test_bad_orders_are_refused_with_a_sentence(call) -> None:
    with pytest.raises(ValueError) as error:
        call()
    assert is_sentence(str(error.value))


def test_an_unknown_strategy_names_the_known_ones() -> None:
    with pytest.raises(ValueError) as error:
        plan("sideways", 3)
    assert all(name in str(error.value) for name in STRATEGIES)


# --- coherence ---------------------------------------------------------------------------------


def test_coherence_is_the_mean_of_the_judged_links() -> None:
    assert coherence([0.8, None, 0.6]) == pytest.approx(0.7)
    assert coherence([None, None]) is None
    assert coherence([]) is None
    with pytest.raises(ValueError):
        coherence([1.5])


def test_the_weakest_link_nearest_the_endpoint_is_where_to_go_back() -> None:
    # States at steps 3, 2, 1, 0; links 1 (2 -> 1) and 2 (1 -> 0) are equally weak.
    assert weakest_link([0.9, 0.4, 0.4], [3, 2, 1, 0]) == 1
    assert weakest_link([0.3, None, 0.4], [3, 2, 1, 0]) == 3
    assert weakest_link([None, None], [2, 1, 0]) is None
    with pytest.raises(ValueError):
        weakest_link([0.5], [2, 1, 0])


def test_verdicts() -> None:
    rules = {"threshold": 0.7, "max_backtrack_depth": 3}
    keep = verdict(0.82, backtracks_used=0, weakest_link=2, **rules)
    assert (keep.action, keep.at_step) == ("keep", None)
    assert verdict(0.7, backtracks_used=3, weakest_link=2, **rules).action == "keep"
    back = verdict(0.5, backtracks_used=1, weakest_link=2, **rules)
    assert (back.action, back.at_step) == ("backtrack", 2)
    assert "step 2" in back.reason and "backtrack 2 of 3" in back.reason
    spent = verdict(0.5, backtracks_used=3, weakest_link=2, **rules)
    assert (spent.action, spent.at_step) == ("keep_with_warning", None)
    assert "no backtracks are left" in spent.reason
    nowhere = verdict(0.5, backtracks_used=0, weakest_link=None, **rules)
    assert nowhere.action == "keep_with_warning"
    unknown = verdict(None, backtracks_used=0, weakest_link=None, **rules)
    assert (unknown.action, unknown.at_step) == ("prune", None)
    assert verdict(None, backtracks_used=3, weakest_link=None, **rules).action == "prune"
    for v in (keep, back, spent, nowhere, unknown):
        assert is_sentence(v.reason)
    assert "0.50" in back.reason and "0.70" in back.reason
    with pytest.raises(ValueError):
        verdict(0.5, threshold=1.5, backtracks_used=0, max_backtrack_depth=3, weakest_link=1)


# --- divergence --------------------------------------------------------------------------------


def chain(
    name: str,
    texts: Sequence[str],
    *,
    scores: Sequence[float | None] | None = None,
    changes: Sequence[dict[str, float]] | None = None,
    shared: dict[int, Candidate] | None = None,
) -> list[Candidate]:
    """A path origin first; the last text is the endpoint. ``shared`` reuses states by position."""
    n = len(texts)
    path: list[Candidate] = []
    for position, text in enumerate(texts):
        if shared and position in shared:
            path.append(shared[position])
            continue
        step = n - 1 - position
        cid = "E" if step == 0 else f"{name}{position}"
        parent = None if step == 0 else ("E" if step == 1 else f"{name}{position + 1}")
        if shared and position + 1 in shared:
            parent = shared[position + 1].candidate_id
        path.append(
            cand(
                cid,
                step,
                parent,
                text,
                score=None if scores is None else scores[position],
                entity_changes={} if changes is None else changes[position],
            )
        )
    return path


STORY = ["the harbour freezes", "the ferry stops running", "the island runs short of grain"]
OTHER = ["a comet is seen over the capital", "the orchestra tours abroad"]


def test_identical_paths_do_not_diverge() -> None:
    one = chain("p", [*STORY, "the island starves"])
    two = chain("q", [*STORY, "the island starves"])  # other ids, same words
    assert divergence([one, two]) == {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0}
    assert divergence([one, one, one]) == {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0}


def test_unrelated_stories_diverge_and_a_shared_endpoint_does_not() -> None:
    end = "the island starves"
    one = chain("p", [STORY[0], STORY[1], end])
    two = chain("q", [OTHER[0], OTHER[1], end])
    div = divergence([one, two])
    assert div[0] > 0.9 and div[1] > 0.9
    assert div[2] == 0.0
    # A partial overlap sits in between.
    three = chain("r", ["the harbour freezes over a comet night", STORY[1], end])
    partial = divergence([one, three])[0]
    assert 0.0 < partial < div[0]


def test_divergence_needs_two_paths_of_one_length() -> None:
    one = chain("p", [*STORY, "end"])
    assert divergence([one]) == {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0}
    assert divergence([]) == {}
    with pytest.raises(ValueError, match="one length"):
        divergence([one, one[1:]])


def test_key_steps_are_the_most_divergent_above_the_floor() -> None:
    div = {0: 0.9, 1: 0.5, 2: 0.7, 3: 0.1, 4: 0.0}
    assert key_steps(div) == [0, 2]
    assert key_steps(div, top=1) == [0]
    assert key_steps(div, top=5) == [0, 1, 2]
    assert key_steps(div, floor=0.8) == [0]
    assert key_steps({0: 0.2, 1: 0.0}) == []
    assert key_steps({0: 0.5, 1: 0.5, 2: 0.5}) == [0, 1]
    with pytest.raises(ValueError):
        key_steps(div, top=-1)


# --- pivots ------------------------------------------------------------------------------------

FLAT = [0.7, 0.7, 0.7, 0.7]
CALM = [{"chen": 0.1}, {"chen": 0.1}, {"chen": 0.1}, {}]


def test_a_quiet_history_has_no_pivot() -> None:
    texts = [*STORY, "the island starves"]
    paths = [
        chain("p", texts, scores=FLAT, changes=CALM),
        chain("q", texts, scores=FLAT, changes=CALM),
    ]
    turns = {(i, p): 4 for i in range(2) for p in range(4)}
    assert detect(paths, divergence(paths), turns_at=turns) == []


def test_a_pivot_where_the_paths_part() -> None:
    end = "the island starves"
    shared_state = cand("s", 1, "E", "the ferry stops running")
    endpoint = cand("E", 0, None, end)
    shared = {2: shared_state, 3: endpoint}
    one = chain("p", ["the harbour freezes", "the grain ships sink", "", ""], shared=shared)
    two = chain("q", ["a comet appears", "the orchestra tours abroad", "", ""], shared=shared)
    div = divergence([one, two])
    assert div[0] > 0.9 and div[1] > 0.9 and div[2] == 0.0 and div[3] == 0.0
    # Divergence grows towards the origin; the paths part at position 1, not at 0.
    pivots = detect([one, two], div)
    assert [(p.path_index, p.position) for p in pivots] == [(0, 1), (1, 1)]
    assert pivots[0].reasons == ("divergence",)
    assert "the paths part most here" in pivots[0].sentence.lower()
    assert "divergence 1.00" in pivots[0].sentence
    assert is_sentence(pivots[0].sentence)


def test_a_pivot_where_the_score_jumps() -> None:
    path = chain("p", [*STORY, "end"], scores=[0.8, 0.2, 0.8, 0.8])
    pivots = detect([path], divergence([path]))
    assert [(p.position, p.reasons) for p in pivots] == [(1, ("score_jump",))]
    assert "score (0.20)" in pivots[0].sentence
    assert pivots[0].strength == 1.0
    # An outlier at the origin end is seen too, and its neighbour is not.
    early = chain("p", [*STORY, "end"], scores=[0.2, 0.8, 0.8, 0.8])
    assert [p.position for p in detect([early], {})] == [0]


def test_a_pivot_where_the_entities_change_most() -> None:
    changes = [{"chen": 0.1}, {"chen": 0.05, "ana": 0.05}, {"ana": 0.2, "chen": 1.5}, {}]
    path = chain("p", [*STORY, "end"], scores=FLAT, changes=changes)
    pivots = detect([path], divergence([path]), names={"chen": "Chen"})
    assert [(p.position, p.reasons) for p in pivots] == [(2, ("entity_change",))]
    assert "Chen changes more here than anywhere else on this path" in pivots[0].sentence
    assert "chen" in detect([path], {})[0].sentence  # the id when no name is given


def test_a_pivot_where_the_dialog_is_most_intense() -> None:
    path = chain("p", [*STORY, "end"], scores=FLAT, changes=CALM)
    turns = {(0, 0): 2, (0, 1): 12, (0, 2): 2, (0, 3): 40}
    pivots = detect([path], divergence([path]), turns_at=turns)
    assert [(p.position, p.reasons) for p in pivots] == [(1, ("dialog",))]
    assert "dialog" in pivots[0].sentence and "12 turns" in pivots[0].sentence


def test_the_endpoint_never_pivots() -> None:
    changes = [{"chen": 0.1}, {"chen": 0.1}, {"chen": 0.1}, {"chen": 5.0}]
    path = chain("p", [*STORY, "end"], scores=[0.8, 0.8, 0.8, 0.0], changes=changes)
    assert detect([path], {0: 0.0, 1: 0.0, 2: 0.0, 3: 1.0}, turns_at={(0, 3): 50}) == []


def test_moderate_signals_add_up_and_alone_do_not() -> None:
    scores = [0.7, 0.55, 0.7, 0.7]  # a jump of 0.15: signal 0.3
    changes = [{"chen": 0.1}, {"chen": 0.4}, {"chen": 0.1}, {}]  # 0.3 above usual: signal 0.3
    texts = [*STORY, "end"]
    assert detect([chain("p", texts, scores=scores)], {}) == []
    assert detect([chain("p", texts, scores=FLAT, changes=changes)], {}) == []
    both = detect([chain("p", texts, scores=scores, changes=changes)], {})
    assert [(p.position, p.reasons) for p in both] == [(1, ("score_jump", "entity_change"))]
    assert both[0].strength == pytest.approx(0.51)
    assert ", and the state of chen" in both[0].sentence


def test_pivots_are_ordered_and_inputs_checked() -> None:
    path = chain("p", [*STORY, "end"], scores=[0.8, 0.2, 0.8, 0.8])
    paths = [path, path]
    first = detect(paths, {})
    assert [(p.path_index, p.position) for p in first] == [(0, 1), (1, 1)]
    assert detect(paths, {}) == first
    with pytest.raises(ValueError, match="not on any path"):
        detect(paths, {}, turns_at={(2, 0): 3})
    with pytest.raises(ValueError, match="at least 0"):
        detect(paths, {}, turns_at={(0, 0): -3})
    with pytest.raises(ValueError):
        detect(paths, {0: 1.5})
