"""Budgets that bind: a token cap and a dollar cap, a warning threshold, and the tracker the
gateway consults before every call.

Before a call starts, the tracker reserves what the call could cost at most (its prompt plus
``max_tokens`` of answer, priced for the model it goes to). With a hard budget, a call that
could take the run past a cap is not started: :class:`BudgetExceeded` is raised and the run
stops cleanly, resumable. A soft budget only warns. Calls answered from the cassette are free
and are not counted. Warnings (the soft threshold, and for soft budgets the cap itself) are
reported once each through ``on_notice``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Dimension = Literal["tokens", "usd"]


@dataclass(frozen=True)
class Budget:
    tokens: int | None = None
    usd: float | None = None
    hard: bool = True
    warn_fraction: float = 0.8

    @property
    def active(self) -> bool:
        return self.tokens is not None or self.usd is not None

    def describe(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "usd": self.usd,
            "mode": "hard" if self.hard else "soft",
            "warn_fraction": self.warn_fraction,
        }

    def text(self) -> str:
        parts = []
        if self.tokens is not None:
            parts.append(f"{self.tokens:,} tokens")
        if self.usd is not None:
            parts.append(f"${self.usd:.4f}")
        if not parts:
            return "no budget"
        return " and ".join(parts) + ("" if self.hard else " (soft: warn only)")


class BudgetExceeded(Exception):
    """The next call could take the run past a hard cap. The message starts with "budget"."""


@dataclass(frozen=True)
class BudgetNotice:
    dimension: Dimension
    spent: float
    limit: float
    exceeded: bool
    hard: bool

    @property
    def fraction(self) -> float:
        return self.spent / self.limit if self.limit else 1.0

    def text(self) -> str:
        unit = (
            (lambda v: f"{int(v):,} tokens")
            if self.dimension == "tokens"
            else (lambda v: f"${v:.4f}")
        )
        if self.exceeded:
            return (
                f"the run has spent {unit(self.spent)}, past its soft budget of {unit(self.limit)}"
            )
        return (
            f"the run has spent {unit(self.spent)} of its budget of {unit(self.limit)} "
            f"({self.fraction:.0%})"
        )


@dataclass
class _Reservation:
    tokens: int
    usd: float
    open: bool = True


@dataclass
class BudgetTracker:
    budget: Budget
    spent_tokens: int = 0
    spent_usd: float = 0.0
    on_notice: Callable[[BudgetNotice], None] | None = None
    _reserved_tokens: int = 0
    _reserved_usd: float = 0.0
    _noticed: set[tuple[str, bool]] = field(default_factory=set)

    def reserve(self, tokens: int, usd: float) -> _Reservation:
        b = self.budget
        if b.hard:
            if b.tokens is not None and (
                self.spent_tokens + self._reserved_tokens + tokens > b.tokens
            ):
                raise BudgetExceeded(
                    f"budget: the run has spent {self.spent_tokens:,} of its {b.tokens:,} tokens "
                    f"and the next call could need up to {tokens:,} more"
                )
            if b.usd is not None and self.spent_usd + self._reserved_usd + usd > b.usd:
                raise BudgetExceeded(
                    f"budget: the run has spent ${self.spent_usd:.4f} of its ${b.usd:.4f} and "
                    f"the next call could cost up to ${usd:.4f} more"
                )
        self._reserved_tokens += tokens
        self._reserved_usd += usd
        return _Reservation(tokens, usd)

    def settle(self, reservation: _Reservation | None, tokens: int, usd: float) -> None:
        """Replace a reservation by what the call really cost."""
        if reservation is not None and reservation.open:
            reservation.open = False
            self._reserved_tokens -= reservation.tokens
            self._reserved_usd -= reservation.usd
        self.spent_tokens += tokens
        self.spent_usd += usd
        self._check()

    def _check(self) -> None:
        b = self.budget
        for dim, spent, limit in (
            ("tokens", float(self.spent_tokens), b.tokens),
            ("usd", self.spent_usd, b.usd),
        ):
            if limit is None:
                continue
            if spent >= limit * b.warn_fraction and (dim, False) not in self._noticed:
                self._noticed.add((dim, False))
                self._notify(BudgetNotice(dim, spent, float(limit), False, b.hard))  # type: ignore[arg-type]
            if spent > limit and not b.hard and (dim, True) not in self._noticed:
                self._noticed.add((dim, True))
                self._notify(BudgetNotice(dim, spent, float(limit), True, b.hard))  # type: ignore[arg-type]

    def _notify(self, notice: BudgetNotice) -> None:
        if self.on_notice is not None:
            self.on_notice(notice)
