"""The SQLite store: an append-only event log plus tables materialized from it."""

from .errors import AmbiguousRunError, StoreError, UnknownRunError
from .leases import RunHeldError
from .store import Store

__all__ = ["AmbiguousRunError", "RunHeldError", "Store", "StoreError", "UnknownRunError"]
