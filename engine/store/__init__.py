"""The SQLite store: an append-only event log plus tables materialized from it."""

from .errors import (
    AmbiguousRunError,
    DamagedRowError,
    StoreError,
    StoreWriteError,
    UnknownRunError,
)
from .leases import RunHeldError
from .store import Store

__all__ = [
    "AmbiguousRunError",
    "DamagedRowError",
    "RunHeldError",
    "Store",
    "StoreError",
    "StoreWriteError",
    "UnknownRunError",
]
