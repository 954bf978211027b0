"""Configuration: one model from a TOML file plus the environment; bad input is one sentence."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from engine.config import Config, ConfigError, load_config, resolve_provider


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TIMELOOM_", "OPENROUTER"))}
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**base, **env},
    )


def test_defaults_and_the_ui_section() -> None:
    config = Config()
    assert config.ui.theme == "timeloom-dark" and config.ui.keymap == {}
    assert config.ui.pace == 40.0 and config.ui.db is None
    assert config.provider.name == "offline"
    assert config.budget.tokens is None and config.models.training_safe is False


def test_file_then_environment(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[provider]\nname = "ollama"\nmodel = "llama3.2"\n[budget]\ntokens = 5000\n'
        '[ui]\ntheme = "paper"\nkeymap = { "run.ask" = "ctrl+k" }\n',
    )
    config = load_config(path, env={})
    assert (config.provider.name, config.provider.model, config.budget.tokens) == (
        "ollama",
        "llama3.2",
        5000,
    )
    assert config.ui.keymap == {"run.ask": "ctrl+k"} and config.source == str(path)
    env = {"TIMELOOM_MODEL": "qwen2.5", "TIMELOOM_BUDGET_USD": "0.5", "TIMELOOM_CONFIG": str(path)}
    config = load_config(env=env)
    assert config.provider.model == "qwen2.5" and config.budget.usd == 0.5
    settings = resolve_provider(config, env=env)
    assert settings is not None and settings.base_url == "http://localhost:11434/v1"
    assert settings.api_key is None and settings.preset.local


def test_a_missing_file_is_fine_unless_it_was_named(tmp_path: Path) -> None:
    assert load_config(env={"XDG_CONFIG_HOME": str(tmp_path)}).provider.name == "offline"
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(env={"TIMELOOM_CONFIG": str(tmp_path / "nope.toml")})


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[provider]\ntimeout = 'soon'\n", "provider.timeout: Input should be a valid number"),
        ("[provider]\nname = 'gpt'\n", "provider.name: Input should be 'offline'"),
        ("[budget]\nusd = -1\n", "budget.usd: Input should be greater than 0"),
        ("[ui]\ncolour = 'red'\n", "ui.colour: the [ui] section has no setting called 'colour'"),
        ("[provider\nname=", "is not valid TOML"),
    ],
)
def test_a_bad_file_names_the_file_and_the_field(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(path) in str(info.value) and needle in str(info.value)
    out = cli("runs", "--db", str(tmp_path / "x.db"), env={"TIMELOOM_CONFIG": str(path)})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and needle in out.stderr


def test_a_bad_environment_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"TIMELOOM_BUDGET_TOKENS: budget\.tokens"):
        load_config(env={"TIMELOOM_BUDGET_TOKENS": "lots", "XDG_CONFIG_HOME": str(tmp_path)})


def test_keys_are_secret(tmp_path: Path) -> None:
    path = write(tmp_path, '[provider]\nname = "openrouter"\napi_key = "sk-file-key-42"\n')
    config = load_config(path, env={})
    assert "sk-file-key-42" not in repr(config) and "sk-file-key-42" not in str(config)
    assert "sk-file-key-42" not in config.model_dump_json()
    settings = resolve_provider(config, env={"OPENROUTER_API_KEY": "sk-env-key-7"})
    assert settings is not None and settings.api_key.get_secret_value() == "sk-env-key-7"
    assert "sk-env-key-7" not in repr(settings)
    settings = resolve_provider(config, env={})
    assert settings.api_key.get_secret_value() == "sk-file-key-42"


def test_a_missing_key_names_the_variable(tmp_path: Path) -> None:
    env = {"TIMELOOM_CONFIG": str(write(tmp_path, ""))}
    out = cli("run", "harbor_strike", "--provider", "openrouter", env=env)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "set OPENROUTER_API_KEY" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_an_unreachable_server_names_the_url_and_what_to_start(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    env = {"TIMELOOM_CONFIG": str(write(tmp_path, ""))}
    out = cli("run", "harbor_strike", "--provider", "ollama", "--base-url", url, env=env)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"cannot reach {url}" in out.stderr and "ollama serve" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_any_endpoint_needs_its_address(tmp_path: Path) -> None:
    env = {"TIMELOOM_CONFIG": str(write(tmp_path, ""))}
    out = cli("run", "harbor_strike", "--provider", "openai", env=env)
    assert out.returncode == 2 and "--base-url" in out.stderr
    out = cli("run", "harbor_strike", "--provider", "openai", "--base-url", "ftp://x", env=env)
    assert out.returncode == 2 and "must start with http" in out.stderr


def test_the_training_safe_filter_refuses_other_licences(tmp_path: Path) -> None:
    env = {"TIMELOOM_CONFIG": str(write(tmp_path, "")), "OPENROUTER_API_KEY": "sk-x"}
    args = ("run", "harbor_strike", "--provider", "openrouter", "--training-safe", "--estimate")
    out = cli(*args, "--model", "meta-llama/llama-3.1-70b-instruct", env=env)
    assert out.returncode == 2 and "licensed Llama-3.1" in out.stderr
    out = cli(*args, "--model", "deepseek/deepseek-r1", env=env)
    assert out.returncode == 0, out.stderr


def test_the_config_names_the_database(tmp_path: Path) -> None:
    db = tmp_path / "from-config.db"
    env = {"TIMELOOM_CONFIG": str(write(tmp_path, f'[ui]\ndb = "{db}"\n'))}
    out = cli("run", "lighthouse_night", "--json", env=env)
    assert out.returncode == 0 and db.exists()
