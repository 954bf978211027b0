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


# ---------------------------------------------------------------------- exports
@dataclass(frozen=True, slots=True)
class ExportChoices:
    """What the export form says, as typed (parsed off the UI thread); ``seq`` orders them."""

    fmt: str
    branch: str | None = None  # None: the whole run
    entities: str = ""  # names or ids, separated by commas
    start: str = ""
    end: str = ""
    training_safe: bool = False
    path: str = ""
    force: bool = False
    seq: int = 0


class ExportReady(Message):
    """A run read whole for an export (``basis``, an opaque handle the form passes back), its
    branches ``(id, label)`` and entity names; or why it cannot be (``error``)."""

    def __init__(
        self,
        basis: object,
        branches: tuple[tuple[str, str], ...] = (),
        error: str | None = None,
    ) -> None:
        super().__init__()
        self.basis = basis
        self.branches = branches
        self.error = error


class ExportPreviewed(Message):
    """What a choice selects: ``counts`` (timepoints, turns, left out as not training-safe),
    the first lines of the format (none for a database), or ``error`` in one sentence."""

    def __init__(
        self,
        seq: int,
        counts: tuple[int, int, int] | None,
        lines: tuple[str, ...] = (),
        error: str | None = None,
        database: bool = False,
    ) -> None:
        super().__init__()
        self.seq = seq
        self.counts = counts
        self.lines = lines
        self.error = error
        self.database = database


class ExportProgress(Message):
    def __init__(self, records: int, turns: int, total: int) -> None:
        super().__init__()
        self.records = records
        self.turns = turns
        self.total = total


class ExportFinished(Message):
    """An export written (its path and the manifest's counts), or why not (``error``)."""

    def __init__(
        self,
        path: str | None,
        counts: tuple[tuple[str, int], ...] = (),
        error: str | None = None,
    ) -> None:
        super().__init__()
        self.path = path
        self.counts = counts
        self.error = error


# ---------------------------------------------------------------------- convergence
@dataclass(frozen=True, slots=True)
class ConvergenceRow:
    set_id: str
    scenario: str
    runs: tuple[tuple[str, int], ...]  # (run id, seed)
    score: float
    grade: str
    created_at: str


@dataclass(frozen=True, slots=True)
class EdgeRow:
    text: str
    kind: str
    scored: bool
    present_in: int
    of: int
    runs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DivergenceRow:
    position: int
    title: str
    agreement: float
    shared: int
    edges: int
    sides: tuple[tuple[tuple[tuple[str, int], ...], tuple[str, ...]], ...]  # (runs, did)


@dataclass(frozen=True, slots=True)
class ConvergenceDetail:
    row: ConvergenceRow
    pairs: tuple[tuple[str, str, float], ...]
    counts: tuple[tuple[str, int], ...]
    points: tuple[DivergenceRow, ...]
    contested: tuple[EdgeRow, ...]
    consensus: tuple[EdgeRow, ...]


class ConvergenceSetsLoaded(Message):
    def __init__(self, rows: tuple[ConvergenceRow, ...], error: str | None = None) -> None:
        super().__init__()
        self.rows = rows
        self.error = error


class ConvergenceSetLoaded(Message):
    def __init__(
        self, set_id: str, detail: ConvergenceDetail | None, error: str | None = None
    ) -> None:
        super().__init__()
        self.set_id = set_id
        self.detail = detail
        self.error = error
