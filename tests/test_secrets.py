"""One scrubber for secrets (engine.safety.secrets): a key under any key-like config name, a
known key, credentials in a URL; the transport errors of the OpenAI-compatible provider pass
through it on their way into call rows and events; the 401 hint names each variable once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fuzz_support import cli, small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from test_llm_fakeserver import FakeServer, Reply

from engine.config import ConfigError, load_config
from engine.llm.openai import OpenAIProvider
from engine.llm.protocol import ActionType, LLMRequest, Message, ProviderError
from engine.safety import secrets

KEY = "sk-or-v1-WRONGPLACE-9d8c7b6a5f4e3d2c1b0a"
PASSWORD = "hunter2-URLPASS-77aa"


@pytest.fixture(autouse=True)
def _forget() -> None:
    secrets.forget_all()


@pytest.mark.parametrize("name", ["key", "token", "apikey", "api-key", "openrouter_key"])
def test_a_key_under_a_wrong_name_is_named_never_printed(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[provider]\nname = "openrouter"\n{name} = "{KEY}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(config, env={})
    message = str(info.value)
    assert KEY not in message and "WRONGPLACE" not in message
    assert f"provider.{name}" in message and "no setting called" in message
    # ... and the command line says the same in one line, exit 2.
    monkeypatch.setenv("TIMELOOM_CONFIG", str(config))
    out = cli("runs", "--db", str(tmp_path / "x.db"))
    assert out.code == 2 and KEY not in out.err + out.out
    assert len(out.err.strip().splitlines()) == 1


def test_an_unknown_field_is_reported_by_name_only(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[ui]\nflavour = "a secret recipe of mine"\n')
    with pytest.raises(ConfigError) as info:
        load_config(config, env={})
    assert "ui.flavour" in str(info.value) and "recipe" not in str(info.value)


def test_a_key_in_a_known_field_of_the_wrong_type_is_not_shown(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[provider]\ntimeout = "{KEY}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(config, env={})
    assert "provider.timeout" in str(info.value) and KEY not in str(info.value)


def test_credentials_in_urls_are_masked() -> None:
    assert secrets.scrub(f"cannot reach https://user:{PASSWORD}@host/v1") == (
        "cannot reach https://***@host/v1"
    )
    assert secrets.scrub("http://token@h:8/x and ftp://a:b@c") == "http://***@h:8/x and ftp://***@c"
    assert secrets.scrub_url(f"https://u:{PASSWORD}@h/v1?x=1") == "https://***@h/v1?x=1"
    assert secrets.scrub("https://host/v1/chat") == "https://host/v1/chat"  # none to mask
    assert (
        secrets.scrub("Authorization: Bearer abcdefgh12345") == "Authorization: Bearer [redacted]"
    )
    assert (
        secrets.scrub("https://h/v1?api_key=s3cr3tvalue&x=1")
        == "https://h/v1?api_key=[redacted]&x=1"
    )


def test_known_keys_are_masked_wherever_they_appear(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.remember("plain-looking-secret-value")
    assert secrets.scrub("got plain-looking-secret-value back") == "got [redacted] back"
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok_0123456789abcdef")
    assert "tok_0123456789abcdef" not in secrets.scrub("echo tok_0123456789abcdef")
    assert secrets.scrub(f"a key {KEY} shaped like one") == "a key [redacted] shaped like one"
    secrets.remember("ab")  # too short to mask on its own: messages stay readable
    assert secrets.scrub("about a cab") == "about a cab"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_scrubbing_is_idempotent_and_never_grows_a_secret(text: str) -> None:
    secrets.remember("hypothesis-secret-4242")
    once = secrets.scrub(text + " hypothesis-secret-4242 https://u:p@h")
    assert secrets.scrub(once) == once
    assert "hypothesis-secret-4242" not in once and "u:p@" not in once


class _Nothing(BaseModel):
    pass


def _request() -> LLMRequest:
    return LLMRequest(
        action=ActionType.DIALOG_TURN,
        messages=(Message(role="user", content="hi"),),
        context=_Nothing(),
    )


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError,
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
        httpx.UnsupportedProtocol,
        httpx.LocalProtocolError,
        httpx.DecodingError,
    ],
)
async def test_transport_errors_pass_the_scrubber(error: type[Exception]) -> None:
    url = f"https://user:{PASSWORD}@models.invalid/v1"

    def refuse(request: httpx.Request) -> httpx.Response:
        raise error(f"failed talking to {url} with key {KEY}")

    provider = OpenAIProvider(
        name="openai", base_url=url, model="m", transport=httpx.MockTransport(refuse)
    )
    try:
        with pytest.raises(ProviderError) as info:
            await provider.complete(_request())
    finally:
        await provider.aclose()
    assert PASSWORD not in str(info.value) and KEY not in str(info.value)
    assert "https://***@models.invalid/v1" in str(info.value)


async def test_a_key_in_the_base_url_reaches_no_call_row_and_no_event(tmp_path: Path) -> None:
    """The base URL carries credentials and the server drops some connections and answers one
    call with an error quoting the URL: the run completes, and neither its call rows nor its
    events (nor what the CLI prints) hold the password."""
    import json

    from engine.llm.registry import Router
    from engine.scenario import load_scenario
    from engine.simulation import Simulation
    from engine.store import Store

    def script(seen, index: int) -> Reply | None:
        if index in (1, 4):
            return Reply(drop=True)
        if index == 6:
            return Reply(status=500, body={"error": {"message": f"upstream {seen.path} said no"}})
        return None

    path = tmp_path / "s.json"
    path.write_text(json.dumps(small_scenario()))
    db = tmp_path / "runs.db"
    store = await Store.open(db)
    try:
        async with FakeServer(script) as server:
            url = server.url.replace("http://", f"http://user:{PASSWORD}@")
            provider = OpenAIProvider(
                name="openrouter", base_url=url, model="deepseek/deepseek-chat"
            )
            try:
                sim = Simulation(
                    load_scenario(str(path)),
                    provider=provider,
                    store=store,
                    seed=2,
                    retry={"backoff": 0},
                    router=Router(provider="openrouter", default_model="deepseek/deepseek-chat"),
                )
                summary = await sim.run()
            finally:
                await provider.aclose()
        rows = await store.table("llm_calls", summary.run_id)
        events = await store.events(summary.run_id)
    finally:
        await store.close()
    errors = [r["error"] for r in rows if r["error"]]
    assert errors, "the dropped connections were recorded"
    assert any("***@" in e for e in errors)
    assert all(PASSWORD not in e for e in errors)
    assert all(PASSWORD not in e.model_dump_json() for e in events)
    assert PASSWORD.encode() not in db.read_bytes()


@pytest.mark.parametrize(
    ("name", "key_env", "hint"),
    [
        ("openai", "TIMELOOM_API_KEY", "check TIMELOOM_API_KEY:"),
        ("openrouter", "OPENROUTER_API_KEY", "check OPENROUTER_API_KEY (or TIMELOOM_API_KEY)"),
    ],
)
async def test_the_401_hint_names_each_variable_once(name: str, key_env: str, hint: str) -> None:
    async with FakeServer(lambda seen, i: Reply(status=401, body={"error": "bad key"})) as server:
        provider = OpenAIProvider(name=name, base_url=server.url, model="m", key_env=key_env)
        try:
            with pytest.raises(ProviderError) as info:
                await provider.complete(_request())
        finally:
            await provider.aclose()
    message = str(info.value)
    assert hint in message and message.count("TIMELOOM_API_KEY") == 1
