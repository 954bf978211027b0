"""The SQLite store: an append-only event log plus tables materialized from it."""

from .store import AmbiguousRunError, Store, StoreError, UnknownRunError

__all__ = ["AmbiguousRunError", "Store", "StoreError", "UnknownRunError"]
