"""How the explorer draws numbers and people: colours per speaker, sparklines on a fixed
range, the status line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.themes import load_themes, speaker_colour
from tui.widgets.spark import spark_text

THEMES = Path(__file__).resolve().parent.parent / "themes"


@pytest.mark.parametrize("name", ["timeloom-dark", "timeloom-light", "timeloom-contrast"])
def test_every_speaker_of_a_large_cast_has_a_colour_of_their_own(name) -> None:
    themes = {t.name: t for t in load_themes([THEMES]).themes}
    theme = themes[name]
    twelve = [speaker_colour(theme, i) for i in range(12)]
    assert len(set(twelve)) == 12, "a cast of twelve shares no colour"
    forty = [speaker_colour(theme, i) for i in range(40)]
    assert len(set(forty)) == 40, "past the palette, variants, still all different"


def test_a_sparkline_keeps_the_tensor_range() -> None:
    bars = "▁▂▃▄▅▆▇█"
    a, b = spark_text([0.52, 0.49], 10)
    assert abs(bars.index(a) - bars.index(b)) <= 1, "a small drop stays small"
    assert spark_text([0.0, 1.0], 2) == "▁█"
    assert spark_text([0.2] * 50, 10) == spark_text([0.2], 1) * 10, "resampled to the width"
    assert spark_text([-3.0, 7.0], 2) == "▁█", "held to the range"
    assert spark_text([], 10) == ""
