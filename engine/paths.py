"""Where timeloom keeps its database unless told otherwise."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_path

DB_ENV = "TIMELOOM_DB"


def default_db_path() -> Path:
    return user_data_path("timeloom", appauthor=False) / "timeloom.db"


def resolve_db_path(explicit: str | None = None) -> Path:
    """``--db`` first, then ``TIMELOOM_DB``, then the user's data directory."""
    chosen = explicit or os.environ.get(DB_ENV)
    return Path(chosen).expanduser() if chosen else default_db_path()
