"""The signals that stop a run, headless or watched in the explorer, each with the reason the
run records: SIGTERM (a supervisor or ``kill``), SIGHUP (the terminal went away) and SIGINT
(Ctrl+C). The run stops the way the explorer's stop does: the timepoint under way is discarded,
what was committed stays, and the run is recorded as ``stopped`` with that reason, ready for
``timeloom resume``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

REASONS: dict[str, str] = {
    "SIGTERM": "stopped by SIGTERM",
    "SIGHUP": "the terminal hung up",
    "SIGINT": "interrupted (Ctrl+C)",
}


@contextlib.contextmanager
def stopping_on_signals(stop: Callable[[str], None]) -> Iterator[None]:
    """Call ``stop(reason)`` on SIGTERM, SIGHUP or SIGINT while the block runs (on the running
    loop). Where the loop takes no signal handlers (Windows), a signal acts as the platform
    makes it, and a run it ends shows as interrupted."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for name, reason in REASONS.items():
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            loop.add_signal_handler(sig, stop, reason)
        except (NotImplementedError, RuntimeError, ValueError):
            # not on this platform, or not the main thread (a test's loop): that signal
            # keeps Python's own handling, and the others still stop the run cleanly
            continue
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
