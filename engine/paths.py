"""Where timeloom keeps its database unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_path, user_data_path

DB_ENV = "TIMELOOM_DB"
SCENARIOS_ENV = "TIMELOOM_SCENARIOS"


def default_db_path() -> Path:
    return user_data_path("timeloom", appauthor=False) / "timeloom.db"


def resolve_db_path(explicit: str | None = None) -> Path:
    """``--db`` first, then ``TIMELOOM_DB``, then the user's data directory."""
    chosen = explicit or os.environ.get(DB_ENV)
    return Path(chosen).expanduser() if chosen else default_db_path()


def user_scenarios_dir() -> Path:
    """Where a user keeps their own scenario files: ``TIMELOOM_SCENARIOS``, else ``scenarios``
    in the user's config directory."""
    chosen = os.environ.get(SCENARIOS_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return user_config_path("timeloom", appauthor=False) / "scenarios"
