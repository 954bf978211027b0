"""The store's errors: each a sentence a person can act on."""

from __future__ import annotations


class StoreError(Exception):
    """A database problem explained in one sentence."""


class UnknownRunError(StoreError):
    pass


class AmbiguousRunError(StoreError):
    pass


class StoreWriteError(StoreError):
    """The database could not be written (a full disk, a failing one): what was committed
    before is kept, what was being written is not."""


class DamagedRowError(StoreError):
    """A row that cannot be read back (damaged by hand or by another program)."""


SQLITE_IOERR, SQLITE_FULL = 10, 13


def explain(exc: BaseException, path: str) -> StoreError:
    text = str(exc).lower()
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == SQLITE_FULL or "disk is full" in text:
        return StoreWriteError(
            f"the disk is full: cannot write to {path} (what was saved before is kept)"
        )
    if code == SQLITE_IOERR or "disk i/o error" in text:
        return StoreWriteError(
            f"cannot write the database {path}: the disk failed ({exc}); what was saved "
            "before is kept"
        )
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
    return StoreError(f"database error in {path}: {exc}")
