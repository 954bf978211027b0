"""The store's errors: each a sentence a person can act on."""

from __future__ import annotations


class StoreError(Exception):
    """A database problem explained in one sentence."""


class UnknownRunError(StoreError):
    pass


class AmbiguousRunError(StoreError):
    pass


def explain(exc: BaseException, path: str) -> StoreError:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return StoreError(
            f"{path} is not a timeloom database (the file is not valid SQLite or is damaged)"
        )
    if "locked" in text or "busy" in text:
        return StoreError(f"{path} is locked by another program; close it and try again")
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return StoreError(
            f"cannot open {path} for writing; check that the folder exists and is writable"
        )
    if "disk" in text and ("full" in text or "i/o" in text):
        return StoreError(f"cannot write to {path}: the disk is full or failing")
    return StoreError(f"database error in {path}: {exc}")
