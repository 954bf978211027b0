"""The one scrubber every error message passes through before it is printed, stored in a call
row or put in an event.

It masks three things:

- the values of configuration fields with key-like names (``api_key``, ``key``, ``token``,
  ``apikey``, ``api-key``, ``openrouter_key``, ``secret``, ``password``...), which the config
  loader hands to :func:`remember` before it validates anything;
- every other secret known to the process: keys given to :func:`remember` (the provider's key
  when it is built) and the values of environment variables with key-like names
  (``TIMELOOM_API_KEY``, ``OPENROUTER_API_KEY``, ``HF_TOKEN``...);
- credentials in URLs (``https://user:pass@host/v1`` becomes ``https://***@host/v1``), bearer
  tokens, key parameters of query strings and anything shaped like an API key (``sk-...``).

:func:`scrub` is idempotent, so text may pass through it more than once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "[redacted]"
# A value shorter than this is not masked on its own (masking "ab" everywhere would make every
# message unreadable); the shapes below still catch real keys. An environment variable's value
# must be longer (``NO_AUTH=true`` is not a key).
MIN_SECRET = 6
MIN_ENV_SECRET = 12

# A name is key-like when it ends in one of these words (any case, any separator before it):
# api_key, apikey, api-key, key, openrouter_key, token, hf_token, secret, password, passwd,
# credentials, auth, authorization, bearer.
_KEY_NAME = re.compile(
    r".*(?:key|token|secret|password|passwd|pwd|credentials?|auth|authorization|bearer)$",
    re.IGNORECASE,
)
# Names that end like a key but are not one.
_NOT_KEYS = frozenset({"keymap", "hotkey", "monkey", "turnkey"})

_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/\s?#@\"'<>]+@")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+(?!\[redacted\])[A-Za-z0-9._~+/=\-]{4,}")
_QUERY_KEY = re.compile(
    r"(?i)([?&;](?:api[_-]?key|key|token|access[_-]?token|auth|password|secret)=)[^&\s#\"']+"
)
# Key shapes of the common providers: sk-..., sk-or-v1-..., sk-ant-..., hf_..., ghp_...
_KEY_SHAPE = re.compile(
    r"\b(?:sk|rk|pk)-[A-Za-z0-9_\-]{12,}|\b(?:hf|ghp|gho|xox[bp])_[A-Za-z0-9]{12,}"
)

_remembered: set[str] = set()


def is_key_name(name: str) -> bool:
    """Whether a config field or an environment variable of this name holds a secret."""
    lowered = name.lower()
    return lowered not in _NOT_KEYS and bool(_KEY_NAME.match(lowered))


def remember(value: Any) -> None:
    """Mask this value wherever it appears from now on (a key, whatever field held it).
    Accepts a str, a pydantic ``SecretStr`` or None."""
    if value is None:
        return
    getter = getattr(value, "get_secret_value", None)
    text = getter() if callable(getter) else value
    if isinstance(text, str) and len(text.strip()) >= MIN_SECRET:
        _remembered.add(text.strip())


def remember_fields(data: Any) -> list[str]:
    """Remember every string under a key-like name in a parsed config (nested tables and
    lists too); returns the dotted names that held one."""
    found: list[str] = []

    def walk(node: Any, path: tuple[str, ...], depth: int) -> None:
        if depth > 32:
            return
        if isinstance(node, Mapping):
            for key, value in node.items():
                here = (*path, str(key))
                if is_key_name(str(key)) and isinstance(value, str):
                    remember(value)
                    found.append(".".join(here))
                else:
                    walk(value, here, depth + 1)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value, path, depth + 1)

    walk(data, (), 0)
    return found


def _known(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    values = set(_remembered)
    for name, value in env.items():
        if value and len(value) >= MIN_ENV_SECRET and is_key_name(name):
            values.add(value)
    # The longest first, so that a key containing another is masked whole.
    return sorted(values, key=len, reverse=True)


def scrub_url(url: str) -> str:
    """A URL with its credentials masked: ``https://user:pass@host`` -> ``https://***@host``."""
    return _URL_USERINFO.sub(r"\g<scheme>***@", url)


def scrub(text: Any, env: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret masked (see the module notes). Not a str: its ``str()``."""
    if not isinstance(text, str):
        text = str(text)
    if not text:
        return text
    for secret in _known(env):
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(r"\g<scheme>***@", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _QUERY_KEY.sub(rf"\g<1>{MASK}", text)
    return _KEY_SHAPE.sub(MASK, text)


def scrub_optional(text: str | None) -> str | None:
    """:func:`scrub` for an optional field (None stays None)."""
    return None if text is None else scrub(text)


def scrub_all(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(scrub(t) for t in texts)


def forget_all() -> None:
    """Forget the remembered secrets (tests)."""
    _remembered.clear()
