"""Events of a PORTAL search (M17): everything the backward search found, judged and decided,
so that nothing computed is lost once the run is over (see :mod:`.events`).

Slots count back from the endpoint: slot 0 is the endpoint, slot ``steps`` the origin side. A
kept path becomes a branch (``p1``, ``p2``, ...) whose timepoints are the path's states read
forwards, origin first; its dialog is made like any other timepoint's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .event_base import ErrorText, EventBase


class PortalSearchStarted(EventBase):
    """The search's settings as they are used: the weights normalised, the time of each slot,
    and what this version does not do for the scenario (said, never silently dropped)."""

    type: Literal["portal_search_started"] = "portal_search_started"

    endpoint: str
    steps: int
    strategy: str
    candidates_per_step: int
    beam: int
    path_count: int
    coherence_threshold: float
    max_backtrack_depth: int
    weights: dict[str, float]
    slot_times: tuple[datetime, ...]  # by slot: the endpoint's first
    not_supported: tuple[str, ...] = ()


class PortalCandidateProposed(EventBase):
    """One state the search proposed (or, at slot 0, the endpoint the scenario gives).
    ``later_id`` is the state it was proposed to explain (nearer the endpoint) and
    ``earlier_id`` the state it had to follow from, when one was already fixed."""

    type: Literal["portal_candidate_proposed"] = "portal_candidate_proposed"

    candidate_id: str
    slot: int = Field(ge=0)
    later_id: str | None
    earlier_id: str | None = None
    when: datetime
    title: str
    description: str
    key_events: tuple[str, ...] = ()
    entity_changes: dict[str, float] = Field(default_factory=dict)
    world_context: str = ""
    causal_link: str = ""
    entities_present: tuple[str, ...] = ()
    source: Literal["scenario", "provider"] = "provider"
    attempt: int = 0  # 0 for the first search, n for the n-th backtrack's regeneration


class PortalCandidateScored(EventBase):
    """A candidate's hybrid score: the parts judged, the parts missing with the reason, the
    weights used (normalised over the judged parts) and their combination (None when nothing
    could be judged; never a guess)."""

    type: Literal["portal_candidate_scored"] = "portal_candidate_scored"

    candidate_id: str
    components: dict[str, float]
    missing: dict[str, str] = Field(default_factory=dict)
    weights: dict[str, float] = Field(default_factory=dict)
    score: float | None
    reason: str = ""


class PortalStepFailed(EventBase):
    """A call of the search failed: what it was for, where, and why. No state stands in for
    what it would have produced."""

    type: Literal["portal_step_failed"] = "portal_step_failed"

    stage: Literal["generation", "scoring", "coherence"]
    slot: int | None
    later_id: str | None = None
    candidate_id: str | None = None
    error: ErrorText


class PortalBeamKept(EventBase):
    """Which candidates of a slot the search goes on from, and which it set aside."""

    type: Literal["portal_beam_kept"] = "portal_beam_kept"

    slot: int
    kept: tuple[str, ...]
    set_aside: tuple[str, ...] = ()


class PortalPathJudged(EventBase):
    """A complete path read forwards: the judged links (origin first), its coherence and what
    was decided (keep, backtrack, prune, keep with a warning), in a sentence."""

    type: Literal["portal_path_judged"] = "portal_path_judged"

    path_id: str
    candidate_ids: tuple[str, ...]  # origin first, the endpoint last
    links: tuple[float | None, ...]
    coherence: float | None
    action: Literal["keep", "backtrack", "prune", "keep_with_warning"]
    at_slot: int | None = None
    reason: str
    backtracks: int = 0
    judge: str = ""  # the judge's own sentence


class KeptPath(BaseModel):
    """A path the run keeps, as the branch that plays it."""

    model_config = ConfigDict(frozen=True)

    path_id: str
    rank: int
    branch_id: str
    candidate_ids: tuple[str, ...]  # origin first
    coherence: float | None
    score: float | None  # the mean of its states' scores (the endpoint has none)
    cluster: int
    warning: str | None = None


class PortalPathsKept(EventBase):
    """The paths the search keeps, best first, and those it judged but did not keep."""

    type: Literal["portal_paths_kept"] = "portal_paths_kept"

    paths: tuple[KeptPath, ...]
    not_kept: tuple[str, ...] = ()  # path ids, with their reason in their PortalPathJudged


class PivotInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    path_id: str
    branch_id: str
    position: int  # 0 is the origin side
    slot: int
    candidate_id: str
    strength: float
    reasons: tuple[str, ...]
    sentence: str


class PortalAnalysed(EventBase):
    """Where the kept paths part (divergence by position, origin first; the key positions)
    and where each turns (its pivots, each with the reason in a sentence)."""

    type: Literal["portal_analysed"] = "portal_analysed"

    divergence: tuple[float, ...]
    key_positions: tuple[int, ...] = ()
    pivots: tuple[PivotInfo, ...] = ()


PORTAL_EVENTS: tuple[type[EventBase], ...] = (
    PortalSearchStarted,
    PortalCandidateProposed,
    PortalCandidateScored,
    PortalStepFailed,
    PortalBeamKept,
    PortalPathJudged,
    PortalPathsKept,
    PortalAnalysed,
)
