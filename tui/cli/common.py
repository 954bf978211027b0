"""What every command shares: exit statuses, user errors, output, the configuration and the
database."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad input from the user: reported in one sentence, exit status 2."""


def make_console(stderr: bool = False) -> Any:
    """A Rich console for plain output that strips control sequences from every text it
    prints (scenario and model text among it): a terminal never receives one but Rich's own."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output is not squeezed into 80 columns.
    width = None if stream.isatty() else 160
    console = Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)
    console.push_render_hook(_stripping_hook())
    return console


def _stripping_hook() -> Any:
    from rich.console import RenderHook
    from rich.segment import Segment

    from engine.safety.terminal import strip_controls

    class Stripped:
        def __init__(self, renderable: Any) -> None:
            self.renderable = renderable

        def __rich_console__(self, console: Any, options: Any) -> Any:
            for segment in console.render(self.renderable, options):
                if segment.control or not segment.text:
                    yield segment  # Rich's own cursor and style controls
                else:
                    yield Segment(strip_controls(segment.text), segment.style)

    class Hook(RenderHook):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            return [Stripped(r) for r in renderables]

    return Hook()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


_CONFIG: Any = None


def user_config() -> Any:
    """The configuration, loaded once (a bad file is bad input: exit 2)."""
    global _CONFIG
    if _CONFIG is None:
        from engine.config import ConfigError, load_config

        try:
            _CONFIG = load_config()
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
    return _CONFIG


def db_path(args: argparse.Namespace) -> Path:
    from engine.paths import DB_ENV, resolve_db_path

    explicit = getattr(args, "db", None)
    if not explicit and not os.environ.get(DB_ENV):
        explicit = user_config().ui.db
    from engine.safety.limits import LimitError, check_path

    path = resolve_db_path(explicit)
    try:  # a config file can spell a NUL (\u0000); a flag, a name too long to open
        check_path(path, "the database path")
    except LimitError as exc:
        raise UsageError(str(exc)) from None
    return path


async def open_store(args: argparse.Namespace, *, readonly: bool = False) -> Any:
    """The database of ``args`` (``readonly``: for a command that only reads: it must exist
    and be a timeloom database, and nothing is created or changed)."""
    from engine.store import Store, StoreError

    try:
        return await Store.open(db_path(args), readonly=readonly)
    except StoreError as exc:
        raise UsageError(str(exc)) from exc


def clean(text: str) -> str:
    """Text from a scenario or a model made safe for one line of a terminal: line breaks and
    tabs become spaces, and control characters (escape sequences among them) and
    direction overrides are dropped (:func:`engine.safety.terminal.one_line`)."""
    from engine.safety.terminal import one_line

    return one_line(text)


def say(message: str) -> str:
    """An error message as the command line prints it: secrets scrubbed, control sequences
    stripped, one line, and cut at a length no reader needs."""
    from engine.safety.limits import MAX_MESSAGE_CHARS
    from engine.safety.secrets import scrub

    text = clean(scrub(message))
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def safe(text: str) -> str:
    """:func:`clean` text, escaped for Rich markup."""
    from rich.markup import escape

    return escape(clean(text))


def portal_counts(summary: Any, portal: Any) -> dict[str, Any] | None:
    """A PORTAL run's paths, their length and its search's candidates and failed calls (None
    for a run of another mode). ``portal`` is the run's ``PortalView`` (None: not read)."""
    if summary.mode.value != "portal":
        return None
    kept = portal.kept if portal is not None else ()
    paths = len(kept) if kept else summary.forks
    if kept:
        states = len(kept[0].candidate_ids)
    elif portal is not None and portal.active:
        states = portal.steps + 1
    else:
        states = summary.planned_timepoints // paths if paths else 0
    counts: dict[str, Any] = {"path_count": paths, "states_per_path": states}
    if portal is not None:
        counts["candidates"] = len(portal.candidates)
        counts["failed_search_calls"] = len(portal.failures)
    return counts


def summary_json(
    summary: Any, warnings: Sequence[str], db: Path, portal: Any = None
) -> dict[str, Any]:
    """A run as JSON; a PORTAL run's also carries :func:`portal_counts`."""
    c = summary.counts
    counts = portal_counts(summary, portal)
    return {
        "run_id": summary.run_id,
        "status": summary.status.value,
        "reason": summary.status_reason,
        "scenario": summary.scenario,
        "mode": summary.mode.value,
        "seed": summary.seed,
        "provider": summary.provider,
        "model": summary.model,
        "entities": c.entities,
        "timepoints": c.timepoints,
        "planned_timepoints": summary.planned_timepoints,
        "dialog_turns": c.dialog_turns,
        "exposure_events": c.exposure_events,
        "llm_calls": c.llm_calls,
        "failed_steps": c.failed_steps,
        "prompt_tokens": summary.tokens_in,
        "completion_tokens": summary.tokens_out,
        "tokens": summary.tokens,
        "cost_usd": round(summary.cost_usd, 6),
        "spent_tokens": summary.spent_tokens,
        "spent_usd": round(summary.spent_usd, 6),
        "cached_calls": summary.cached_calls,
        "queries": c.queries,
        "forks": summary.forks,
        "wall_seconds": summary.wall_seconds,
        "warnings": list(warnings),
        "db": str(db),
        **(counts or {}),
    }


def summary_line(summary: Any, portal: Any = None) -> str:
    """The run in one line. A PORTAL run (``portal``: its ``PortalView``) counts its paths,
    whose branches are what it plays, not forks."""
    c = summary.counts
    done = summary.main_timepoints if summary.forks else c.timepoints
    forks = f" and {summary.forks} fork(s) ({c.timepoints - done} more)" if summary.forks else ""
    made = f"{done}/{summary.planned_timepoints} timepoints{forks}"
    if summary.mode.value == "branching":  # its plan counts every branch's timepoints
        made = (
            f"{c.timepoints}/{summary.planned_timepoints} timepoints ({summary.main_timepoints} "
            f"before the decision, {summary.forks} branches)"
        )
    counts = portal_counts(summary, portal)
    if counts is not None:
        paths, states = counts["path_count"], counts["states_per_path"]
        made = (
            f"{paths} path{'' if paths == 1 else 's'} of {states} states "
            f"({c.timepoints}/{summary.planned_timepoints} timepoints)"
        )
        if "candidates" in counts:
            made += f", {counts['candidates']} candidates"
        if counts.get("failed_search_calls"):
            made += f" ({counts['failed_search_calls']} failed search calls)"
    line = (
        f"run {summary.run_id} {summary.status.value}: {made}"
        f", {c.dialog_turns} dialog turns, {c.exposure_events} exposure events, "
        f"{c.llm_calls} LLM calls, {summary.tokens:,} tokens, ${summary.cost_usd:.4f}, "
        f"{summary.wall_seconds or 0:.2f} s"
    )
    if c.failed_steps:
        line += f", {c.failed_steps} failed step{'' if c.failed_steps == 1 else 's'}"
    if summary.status_reason:
        line += f" ({summary.status_reason})"
    if summary.status.value == "interrupted":
        line += f"; its process died: continue it with timeloom resume {summary.run_id}"
    elif summary.status.value == "running" and summary.owner:
        line += f"; being written by {summary.owner}"
    return line


def store_path(store: Any) -> Path:
    return Path(store.path)
