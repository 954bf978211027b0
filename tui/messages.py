"""Messages the bridge posts to screens. They carry immutable data only (frozen dataclasses,
tuples, ids, frozen engine events); numpy never crosses this line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from engine.model.events import EventBase
from engine.scenario import TemplateInfo
from engine.view import RunView


@dataclass(frozen=True, slots=True)
class RunRow:
    run_id: str
    scenario: str
    title: str
    mode: str
    status: str
    entities: int
    timepoints: int
    planned: int
    dialog_turns: int
    tokens: int
    cost_usd: float
    started_at: datetime
    wall_seconds: float | None


class RunsLoaded(Message):
    def __init__(self, runs: tuple[RunRow, ...]) -> None:
        super().__init__()
        self.runs = runs


class TemplatesLoaded(Message):
    def __init__(self, templates: tuple[TemplateInfo, ...], errors: tuple[str, ...]) -> None:
        super().__init__()
        self.templates = templates
        self.errors = errors


class RunOpened(Message):
    """A stored run's read model, handed over to the screen that asked for it."""

    def __init__(self, view: RunView) -> None:
        super().__init__()
        self.view = view


class EngineEvents(Message):
    """Events of a live run, coalesced (a few dozen a batch, 15 batches a second at most)."""

    def __init__(self, events: tuple[EventBase, ...]) -> None:
        super().__init__()
        self.events = events


class LiveRunEnded(Message):
    def __init__(self, run_id: str | None, status: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.status = status


class TurnsLoaded(Message):
    def __init__(self, timepoint_ids: tuple[str, ...]) -> None:
        super().__init__()
        self.timepoint_ids = timepoint_ids


class KnowledgeLoaded(Message):
    def __init__(self, entity_id: str) -> None:
        super().__init__()
        self.entity_id = entity_id


class QueryDone(Message):
    """An answer to a query: the question as asked and the entity's reply."""

    def __init__(
        self,
        entity_id: str,
        question: str,
        answer: str,
        timepoint_id: str | None,
        references: tuple[str, ...],
        note: str | None = None,
        query_id: str | None = None,
    ) -> None:
        super().__init__()
        self.query_id = query_id
        self.entity_id = entity_id
        self.question = question
        self.answer = answer
        self.timepoint_id = timepoint_id
        self.references = references
        self.note = note  # what the query changed (raised, created), or who answered instead


class QueryConsent(Message):
    """A query would raise an entity's level or create one: what it would take, to confirm."""

    def __init__(self, text: str, timepoint_id: str | None, estimate: str) -> None:
        super().__init__()
        self.text = text
        self.timepoint_id = timepoint_id
        self.estimate = estimate


class QueryNotice(Message):
    """What a lookup found (/who-knows, /why) or an elevation by itself did, in words."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class BridgeError(Message):
    """Something the user can act on went wrong: one sentence, shown as a notification."""

    def __init__(self, text: str, *, fatal: bool = False) -> None:
        super().__init__()
        self.text = text
        self.fatal = fatal


class ForkPreviewed(Message):
    """What a fork would reach and cost (``lines``), or why it cannot be made (``error``)."""

    def __init__(self, lines: tuple[str, ...], error: str | None = None) -> None:
        super().__init__()
        self.lines = lines
        self.error = error


class ForkFinished(Message):
    """A fork made from the explorer has run: its branch, how it ended and its first moment."""

    def __init__(self, branch_id: str, status: str, reason: str | None, first: str | None) -> None:
        super().__init__()
        self.branch_id = branch_id
        self.status = status
        self.reason = reason
        self.first = first


class DiffReady(Message):
    """Two branches compared (an :class:`engine.query.diff.BranchDiff`)."""

    def __init__(self, diff: object) -> None:
        super().__init__()
        self.diff = diff


class PrefillQuery(Message):
    """Put this text in the run screen's query bar and focus it (``/elevate`` for a cell of
    the fidelity map or the inspected entity), for the user to edit or send."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class ViewChanged(Message):
    """The run screen folded a live batch into its read model: what changed (the change sets
    of ``RunView.apply``), for the screens shown over it that draw the same view."""

    bubble = False

    def __init__(self, view: RunView, changes: frozenset[str]) -> None:
        super().__init__()
        self.view = view
        self.changes = changes
