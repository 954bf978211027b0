"""The store's errors: each a sentence a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


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
MAX_ID_CHARS = 200  # far above any id timeloom makes; a longer one is refused before SQL


def check_id(text: str, what: str = "run") -> None:
    """Refuse an id (or a prefix of one) longer than :data:`MAX_ID_CHARS`, in one sentence."""
    if len(text) > MAX_ID_CHARS:
        raise StoreError(
            f"a {what} id is at most {MAX_ID_CHARS} characters; the one given has {len(text):,}"
        )


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


# what reading a damaged row raises: bad JSON (ValueError), a wrong type or a missing key
DAMAGE = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def _reason(exc: BaseException) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # a pydantic ValidationError: its first finding, where and what
        try:
            first = errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ()))
            return f"{where}: {first.get('msg', '')}" if where else str(first.get("msg", ""))
        except (TypeError, IndexError, KeyError, AttributeError):
            pass
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text if len(text) <= 160 else text[:157] + "..."


@contextmanager
def damaged(path: str, run_id: str | None = None, what: str = "row") -> Iterator[None]:
    """Turn what reading a damaged row raises into :class:`DamagedRowError`, naming the run."""
    try:
        yield
    except StoreError:
        raise
    except DAMAGE as exc:
        of = f" of run {run_id}" if run_id else ""
        raise DamagedRowError(
            f"a damaged {what}{of} in {path} cannot be read ({_reason(exc)}); nothing was changed"
        ) from exc
