"""Themes are data: ``themes/*.toml`` (bundled) and the user's own, validated, then turned into
Textual themes. A file that does not validate is reported in one sentence and skipped."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

from engine.resources import bundled_dir

DEFAULT_THEME = "timeloom-dark"
VARIABLES = ("tensor-positive", "tensor-negative", "tensor-neutral", "query")


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ValueError(f"{value!r} is not a colour") from exc
    return value


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    dark: bool = True
    primary: str
    secondary: str
    accent: str
    warning: str
    error: str
    success: str
    foreground: str
    background: str
    surface: str
    panel: str
    speakers: list[str] = Field(min_length=4)
    variables: dict[str, str] = Field(default_factory=dict)

    @field_validator(
        "primary",
        "secondary",
        "accent",
        "warning",
        "error",
        "success",
        "foreground",
        "background",
        "surface",
        "panel",
    )
    @classmethod
    def _is_colour(cls, value: str) -> str:
        return _colour(value)

    @field_validator("speakers")
    @classmethod
    def _speakers(cls, value: list[str]) -> list[str]:
        return [_colour(v) for v in value]

    @field_validator("variables")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [v for v in VARIABLES if v not in value]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return {k: _colour(v) for k, v in value.items()}

    def to_theme(self) -> Theme:
        variables = dict(self.variables)
        for i, colour in enumerate(self.speakers):
            variables[f"speaker-{i}"] = colour
        variables["speaker-count"] = str(len(self.speakers))
        return Theme(
            name=self.name,
            dark=self.dark,
            primary=self.primary,
            secondary=self.secondary,
            accent=self.accent,
            warning=self.warning,
            error=self.error,
            success=self.success,
            foreground=self.foreground,
            background=self.background,
            surface=self.surface,
            panel=self.panel,
            variables=variables,
        )


@dataclass(frozen=True)
class LoadedThemes:
    themes: tuple[Theme, ...]
    errors: tuple[str, ...]


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot be read ({exc.__class__.__name__})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return ThemeFile.model_validate(data).to_theme()
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ValueError(f"{path}: {field}: {message}") from exc


def theme_folders(user_folder: Path | None = None) -> list[Path]:
    folders = [bundled_dir("themes")]
    if user_folder is not None:
        folders.append(user_folder)
    return folders


def load_themes(folders: list[Path]) -> LoadedThemes:
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    return LoadedThemes(tuple(themes.values()), tuple(errors))


def speaker_colour(theme: Theme, index: int) -> str:
    """The colour of the ``index``-th person of a run's roster (in the order they were
    created): the theme's speaker colours in turn, so that no two people of a cast the size of
    the palette share one; past it, the palette again, lighter, then darker, and so on."""
    from textual.color import Color

    count = int(theme.variables.get("speaker-count", "0") or 0)
    if not count:
        return theme.primary
    base = theme.variables[f"speaker-{index % count}"]
    rounds = index // count
    if not rounds:
        return base
    amount = min(0.8, 0.25 * ((rounds + 1) // 2))
    towards = Color(255, 255, 255) if rounds % 2 else Color(0, 0, 0)
    return Color.parse(base).blend(towards, amount).hex
