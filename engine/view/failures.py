"""Whether a run that made it to its end mostly failed.

A run's steps are its timepoints and its dialog turns, the output a reader gets. A run in which
more of them failed than succeeded (every dialog turn refused by the provider, say) ends
``failed``, with a reason that counts them, even though it reached its last timepoint; a run
with fewer failures ends ``completed`` and its summary counts the failures (``failed_steps``:
these and the failed extractions and mechanisms). A degraded step (an answer used with a
problem noted) is not a failure: its output is there.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import events as ev


def mostly_failed(events: Iterable[ev.EventBase], branch_id: str | None = None) -> str | None:
    """The reason a run (or, with ``branch_id``, one branch of it) counts as failed: more of
    its timepoints and dialog turns failed than were made; None when it did not."""
    made = {"timepoints": 0, "dialog turns": 0}
    failed = {"timepoints": 0, "dialog turns": 0}
    for event in events:
        if branch_id is not None and event.branch_id != branch_id:
            continue
        if isinstance(event, ev.TimepointCompleted):
            made["timepoints"] += 1
        elif isinstance(event, ev.TimepointFailed):
            failed["timepoints"] += 1
        elif isinstance(event, ev.DialogTurnFinished):
            made["dialog turns"] += 1
        elif isinstance(event, ev.DialogTurnFailed):
            failed["dialog turns"] += 1
    if sum(failed.values()) <= sum(made.values()):
        return None
    parts = [
        f"{failed[kind]} of {failed[kind] + made[kind]} {kind}"
        for kind in ("dialog turns", "timepoints")
        if failed[kind]
    ]
    return f"most of its steps failed: {' and '.join(parts)} failed"
