"""The SQLite store: an append-only event log plus tables materialized from it."""

from .errors import AmbiguousRunError, StoreError, UnknownRunError
from .store import Store

__all__ = ["AmbiguousRunError", "Store", "StoreError", "UnknownRunError"]
