"""What a headless run shows while it runs, on stderr (stdout keeps the summary or the JSON).

- On a terminal: a progress bar (Rich) naming who speaks, the calls made and the tokens.
- Anywhere else, a pipe or a log file: one line per timepoint as it ends, with its turns,
  its calls, the failed ones and the time taken. A run on a slow local model then shows that it
  is alive, even with ``--json``.
- ``--quiet``: nothing but the summary.

Budget warnings and what a PORTAL run does not support are printed in every mode but quiet.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from engine.model import events as ev


def reporter(sim: Any, console: Any, *, quiet: bool) -> tuple[Any, Callable[[Any], None] | None]:
    """A context to run ``sim`` in and the event callback that reports on it: a Rich bar on a
    terminal, lines otherwise, nothing when ``quiet``."""
    if quiet:
        return _Nothing(), None
    if sys.stderr.isatty():
        bar = _Bar(sim, console)
        return bar, bar.on_event
    lines = _Lines(sim, console)
    return _Nothing(), lines.on_event


def provider_line(opened: Any) -> str | None:
    """The run's first line for a real model: where the calls go and how many at once."""
    provider = opened.provider
    if opened.concurrency is None or not hasattr(provider, "base_url"):
        return None
    at_once = (
        "1 call at a time" if opened.concurrency == 1 else f"{opened.concurrency} calls at once"
    )
    return (
        f"provider: {provider.name} at {provider.base_url}, model {provider.model}; "
        f"{at_once} ({opened.concurrency_source})"
    )


class _Nothing:
    def __enter__(self) -> _Nothing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _Counts:
    def __init__(self) -> None:
        self.calls = self.failed = self.tokens = self.turns = 0
        self.names: dict[str, str] = {}
        self.proposed = 0

    def count(self, event: Any) -> None:
        if isinstance(event, ev.EntityCreated):
            self.names[event.profile.entity_id] = event.profile.name
        elif isinstance(event, ev.LLMCallFinished):
            self.calls += 1
            self.failed += event.status.value == "failed"
            self.tokens += event.prompt_tokens + event.completion_tokens
        elif isinstance(event, ev.DialogTurnFinished):
            self.turns += 1
        elif isinstance(event, ev.PortalCandidateProposed):
            self.proposed += 1


def _note(event: Any) -> list[str]:
    """What every mode but quiet prints as it happens."""
    if isinstance(event, ev.BudgetWarning):
        return [f"budget: {event.message}"]
    if isinstance(event, ev.PortalSearchStarted):
        return [f"portal: {note}" for note in event.not_supported]
    return []


class _Lines:
    """One line per timepoint: ``timepoint 2/3 "The vote" done in 41 s: 6 turns, 19 calls
    (1 failed), 12,400 tokens so far``."""

    def __init__(self, sim: Any, console: Any) -> None:
        self.sim, self.console = sim, console
        self.counts = _Counts()
        self.total = sim.mode.planned_timepoints()
        self.done = 0
        self.started = time.monotonic()
        self.titles: dict[str, str] = {}
        self.turns_at_start = 0
        self.calls_at_start = 0
        self.failed_at_start = 0

    def on_event(self, event: Any) -> None:
        c = self.counts
        c.count(event)
        for line in _note(event):
            self.console.print(line, markup=False, highlight=False)
        if isinstance(event, ev.TimepointCreated):
            self.titles[event.timepoint.timepoint_id] = event.timepoint.title
        elif isinstance(event, ev.TimepointCompleted):
            self.done += 1
            now = time.monotonic()
            title = self.titles.get(event.timepoint_id, event.timepoint_id)
            failed = c.failed - self.failed_at_start
            self.console.print(
                f'timepoint {self.done}/{self.total} "{title}" done in {now - self.started:.0f} s: '
                f"{c.turns - self.turns_at_start} turns, {c.calls - self.calls_at_start} calls"
                + (f" ({failed} failed)" if failed else "")
                + f", {c.tokens:,} tokens so far",
                markup=False,
                highlight=False,
            )
            self.started = now
            self.turns_at_start, self.calls_at_start = c.turns, c.calls
            self.failed_at_start = c.failed


class _Bar:
    """A Rich progress bar on stderr, gone when the run ends."""

    def __init__(self, sim: Any, console: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.counts = _Counts()
        self.progress = Progress(
            TextColumn("[bold]{task.fields[title]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task(
            "run",
            total=sim.mode.planned_timepoints(),
            title=sim.scenario.title,
            status="setting up",
        )

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def on_event(self, event: Any) -> None:
        c, progress, task = self.counts, self.progress, self.task
        c.count(event)
        for line in _note(event):
            progress.console.print(line, markup=False, highlight=False)
        if isinstance(event, ev.TimepointCreated):
            progress.update(task, status=event.timepoint.title)
        elif isinstance(event, ev.DialogTurnStarted):
            progress.update(
                task,
                status=f"{c.names.get(event.speaker, event.speaker)} speaks "
                f"· {c.calls} calls · {c.tokens:,} tokens",
            )
        elif isinstance(event, ev.LLMCallFinished) and c.calls % 5 == 0:
            progress.update(task, status=f"{c.calls} calls · {c.tokens:,} tokens")
        elif isinstance(event, ev.TimepointCompleted):
            progress.advance(task)
        elif isinstance(event, ev.PortalBeamKept):
            progress.update(
                task,
                status=f"searching back: step {event.slot} · {c.proposed} states proposed "
                f"· {c.calls} calls",
            )
