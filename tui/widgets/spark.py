"""A sparkline on a fixed range: a tensor value lives in 0..1, so a small drop looks small.

Textual's Sparkline scales each line to its own minimum and maximum, which makes a change of
0.02 fill the whole height; this one always spans 0 to 1."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Static

from .safe import Content

BARS = "▁▂▃▄▅▆▇█"


def spark_text(data: Sequence[float], width: int, low: float = 0.0, high: float = 1.0) -> str:
    """``data`` as one line of ``width`` bars at most, each the mean of its share of the
    values, on the range ``low``..``high`` (values outside it are held to it)."""
    if not data or width <= 0:
        return ""
    cells = min(width, len(data))
    out = []
    for cell in range(cells):
        start = cell * len(data) // cells
        end = max(start + 1, (cell + 1) * len(data) // cells)
        share = data[start:end]
        value = (sum(share) / len(share) - low) / ((high - low) or 1.0)
        value = min(1.0, max(0.0, value))
        out.append(BARS[min(len(BARS) - 1, round(value * (len(BARS) - 1)))])
    return "".join(out)


class FixedSparkline(Static):
    """A one-line sparkline of values in 0..1, with the latest value after it."""

    DEFAULT_CSS = "FixedSparkline { height: 1; color: $accent; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self._data: tuple[float, ...] = ()

    @property
    def data(self) -> tuple[float, ...]:
        return self._data

    @data.setter
    def data(self, values: Sequence[float]) -> None:
        self._data = tuple(values)
        self._draw()

    def on_resize(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if not self._data:
            self.update(Content.styled("no values yet", "dim"))
            return
        width = max(1, (self.size.width or 20) - 6)
        self.update(
            Content.assemble(
                spark_text(self._data, width), (f" {self._data[-1]:.2f}", "$text-muted")
            )
        )
