"""The configuration: one pydantic model, loaded once from a TOML file plus the environment.

The file is ``config.toml`` in the user's config directory (``TIMELOOM_CONFIG`` names another);
it may be absent. Environment variables override the file; command-line flags override both
(the CLI applies them). API keys are held as :class:`~pydantic.SecretStr` and are never
printed, stored or written anywhere: errors name the variable to set, never its value.

Example::

    [provider]
    name = "ollama"
    model = "llama3.2"

    [budget]
    tokens = 200000
    usd = 0.50

    [models]
    prefer = "cost"

    [ui]
    theme = "timeloom-dark"
    pace = 40.0
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_config_path
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from .llm.registry import PROVIDER_NAMES, Preference, ProviderPreset, load_presets
from .safety import secrets

CONFIG_ENV = "TIMELOOM_CONFIG"
ProviderName = Literal["offline", "openai", "openrouter", "ollama", "vllm", "llamacpp", "lmstudio"]
StructuredMode = Literal["auto", "json_schema", "json_object", "text"]


class ConfigError(Exception):
    """A configuration that cannot be used, explained in one sentence."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UIConfig(_Section):
    theme: str = "timeloom-dark"
    keymap: dict[str, str] = {}
    pace: float = Field(40.0, gt=0, description="Offline dialog characters per second (live TUI).")
    db: str | None = None
    hide: list[Literal["timeline", "inspector"]] = Field(
        default_factory=list, description="Side panes of the run screen to keep hidden."
    )
    confirm_elevation: bool = Field(
        True, description="Ask before a query raises an entity's fidelity or creates one."
    )


class ProviderConfig(_Section):
    name: ProviderName = "offline"
    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    timeout: float = Field(120.0, gt=0, description="Seconds to wait for one answer.")
    connect_timeout: float = Field(10.0, gt=0)
    max_attempts: int = Field(4, ge=1, le=20, description="Attempts per call before it fails.")
    backoff: float = Field(1.0, ge=0, description="First retry delay in seconds (it doubles).")
    max_backoff: float = Field(60.0, ge=0)
    concurrency: int | None = Field(None, ge=1, le=256)
    requests_per_minute: int | None = Field(None, ge=0)
    structured_output: StructuredMode = "auto"
    cache: bool = Field(True, description="Answer repeated calls from the cassette.")
    max_tokens: int | None = Field(
        None, ge=16, description="A cap on every answer, in tokens (small local models ramble)."
    )


class BudgetConfig(_Section):
    tokens: int | None = Field(None, ge=1)
    usd: float | None = Field(None, gt=0)
    warn_fraction: float = Field(0.8, gt=0, le=1)


class ModelsConfig(_Section):
    prefer: Preference | None = None
    training_safe: bool = False
    registry: str | None = Field(None, description="A model registry file to use instead.")


class Config(_Section):
    ui: UIConfig = UIConfig()
    provider: ProviderConfig = ProviderConfig()
    budget: BudgetConfig = BudgetConfig()
    models: ModelsConfig = ModelsConfig()
    source: str = Field("", exclude=True)


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    chosen = env.get(CONFIG_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return user_config_path("timeloom", appauthor=False) / "config.toml"


def _set(data: dict[str, Any], section: str, key: str, value: Any) -> None:
    block = data.setdefault(section, {})
    if not isinstance(block, dict):
        return  # the validation below names the bad section
    block[key] = value


_ENV_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("TIMELOOM_PROVIDER", "provider", "name"),
    ("TIMELOOM_BASE_URL", "provider", "base_url"),
    ("TIMELOOM_MODEL", "provider", "model"),
    ("TIMELOOM_BUDGET_TOKENS", "budget", "tokens"),
    ("TIMELOOM_BUDGET_USD", "budget", "usd"),
    ("TIMELOOM_PREFER", "models", "prefer"),
    ("TIMELOOM_TRAINING_SAFE", "models", "training_safe"),
    ("TIMELOOM_THEME", "ui", "theme"),
)


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the config file (if there is one) and apply the environment over it."""
    env = os.environ if env is None else env
    file = Path(path).expanduser() if path else config_path(env)
    data: dict[str, Any] = {}
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read the config file {file}: {exc.strerror}") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"the config file {file} is not valid TOML ({exc})") from exc
    elif path or env.get(CONFIG_ENV):
        raise ConfigError(f"the config file {file} does not exist")
    # A key under any key-like name (api_key, key, token, apikey, api-key, openrouter_key...)
    # is masked in every message from now on, whether or not the name is one timeloom knows.
    secret_fields = set(secrets.remember_fields(data))
    origin: dict[tuple[str, str], str] = {}
    for var, section, key in _ENV_FIELDS:
        value = env.get(var)
        if value:
            _set(data, section, key, value)
            origin[(section, key)] = var
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(secrets.scrub(_invalid(exc, file, origin, secret_fields))) from exc
    return config.model_copy(update={"source": str(file)})


def _invalid(
    exc: ValidationError, file: Path, origin: dict[tuple[str, str], str], secret_fields: set[str]
) -> str:
    """The first problem of a config that does not validate, in one sentence. A field timeloom
    does not know is named, never its value; nor is the value of a key-like field."""
    err = exc.errors()[0]
    loc = tuple(str(p) for p in err["loc"])
    where = origin.get(loc[:2]) if len(loc) >= 2 else None
    field = ".".join(loc) or "(top level)"
    what = f"the environment variable {where}" if where else f"the config file {file}"
    if err["type"] == "extra_forbidden":
        section = f"the [{'.'.join(loc[:-1])}] section" if len(loc) > 1 else "the top level"
        hint = " (the API key is api_key under [provider])" if field in secret_fields else ""
        return f"{what}: {field}: {section} has no setting called {loc[-1]!r}{hint}"
    value = err.get("input")
    secret = field in secret_fields or any(secrets.is_key_name(p) for p in loc)
    shown = ""
    if not secret and not isinstance(value, dict | list):
        text = repr(value)
        shown = f", got {text if len(text) <= 80 else text[:77] + '...'}"
    return f"{what}: {field}: {err['msg']}{shown}"


# --------------------------------------------------------------------------- provider settings
@dataclass(frozen=True)
class ProviderSettings:
    """Everything needed to build a provider, resolved from config, environment and flags."""

    name: str
    base_url: str
    model: str | None
    api_key: SecretStr | None
    preset: ProviderPreset
    timeout: float
    connect_timeout: float
    max_attempts: int
    backoff: float
    max_backoff: float
    concurrency: int
    requests_per_minute: int
    structured_output: StructuredMode
    cache: bool
    max_tokens: int | None = None
    concurrency_given: bool = False  # set by the user: the server is not asked

    def __repr__(self) -> str:  # the key never appears in a repr
        return f"ProviderSettings(name={self.name!r}, base_url={self.base_url!r}, model={self.model!r})"


def resolve_provider(
    config: Config,
    *,
    name: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
    env: Mapping[str, str] | None = None,
    require_key: bool = True,
) -> ProviderSettings | None:
    """The provider to use (None for the offline provider). Raises :class:`ConfigError` for a
    missing key or address, naming what to set (``require_key=False``: an estimate, which
    sends nothing)."""
    env = os.environ if env is None else env
    p = config.provider
    chosen = name or p.name
    if chosen not in PROVIDER_NAMES:
        raise ConfigError(f"unknown provider {chosen!r}; choose one of {', '.join(PROVIDER_NAMES)}")
    if chosen == "offline":
        return None
    preset = load_presets()[chosen]
    # A base URL from the config applies to the provider the config names; flags always apply.
    url = base_url or (p.base_url if (name is None or name == p.name) else None) or preset.base_url
    if not url:
        raise ConfigError(
            f"the {chosen} provider needs the server's address: pass --base-url URL or set "
            "TIMELOOM_BASE_URL (for example http://localhost:8000/v1)"
        )
    if not url.startswith(("http://", "https://")):
        shown = secrets.scrub(url if len(url) <= 80 else url[:77] + "...")
        raise ConfigError(f"the base URL {shown!r} must start with http:// or https://")
    key: SecretStr | None = None
    if env.get("TIMELOOM_API_KEY"):
        key = SecretStr(env["TIMELOOM_API_KEY"])
    elif preset.key_env and env.get(preset.key_env):
        key = SecretStr(env[preset.key_env])
    elif p.api_key is not None and (name is None or name == p.name):
        key = p.api_key
    secrets.remember(key)
    if key is None and preset.key_required and require_key:
        other = preset.key_env not in (None, "", "TIMELOOM_API_KEY")
        where = f"{preset.key_env} (or TIMELOOM_API_KEY, or" if other else "TIMELOOM_API_KEY (or"
        raise ConfigError(
            f"the {chosen} provider needs an API key: set {where} api_key in the [provider] "
            f"section of {config.source or 'the config file'})"
        )
    chosen_model = model or (p.model if (name is None or name == p.name) else None)
    return ProviderSettings(
        name=chosen,
        base_url=url.rstrip("/"),
        model=chosen_model,
        api_key=key,
        preset=preset,
        timeout=p.timeout,
        connect_timeout=p.connect_timeout,
        max_attempts=p.max_attempts,
        backoff=p.backoff,
        max_backoff=p.max_backoff,
        concurrency=p.concurrency or preset.concurrency,
        concurrency_given=p.concurrency is not None,
        requests_per_minute=(
            p.requests_per_minute
            if p.requests_per_minute is not None
            else preset.requests_per_minute
        ),
        structured_output=p.structured_output,
        cache=p.cache,
        max_tokens=p.max_tokens,
    )


def remember_ui(key: str, value: Any, path: str | Path | None = None) -> Path:
    """Write one ``[ui]`` setting into the config file (made if there is none), keeping the
    rest of the file as it was, comments included; written to a temporary file and renamed.
    Raises :class:`ConfigError` in one sentence when the file cannot be read or written."""
    import tempfile

    import tomlkit
    from tomlkit.exceptions import ParseError

    if key not in UIConfig.model_fields:
        raise ConfigError(f"there is no ui setting called {key!r}")
    UIConfig.model_validate({key: value})  # a value the config would refuse is never written
    file = Path(path).expanduser() if path else config_path()
    try:
        text = file.read_text(encoding="utf-8") if file.is_file() else ""
        document = tomlkit.parse(text)
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {file}: {exc.strerror}") from exc
    except (ParseError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the config file {file} is not valid TOML ({exc})") from exc
    ui = document.get("ui")
    if ui is None:
        ui = tomlkit.table()
        document["ui"] = ui
    ui[key] = value
    tmp: str | None = None
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".toml", dir=file.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(tomlkit.dumps(document))
        os.replace(tmp, file)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write the config file {file}: {exc.strerror}") from exc
    return file
