"""The JSON schema a model is asked to answer in, bounded so that constrained decoding ends.

A grammar-constrained decoder (llama.cpp's, vLLM's, Ollama's) follows the schema token by
token. An unbounded string or list lets a small model run on until its token limit and
return an object cut in half. Every free-text field therefore gets a ``maxLength`` sized to
what it holds, every list a ``maxItems`` and every map a ``maxProperties``. The sizes are data
(``engine/data/llm/bounds.toml``). Bounds a response model states itself are kept, and closed
sets are already ``enum``s. Numbers are bounded in the models, where their meaning is:
:func:`unbounded` lists any that are not, and a test keeps that list empty.
"""

from __future__ import annotations

import copy
import json
import tomllib
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from ..resources import data_path


@lru_cache(maxsize=1)
def _bounds() -> dict[str, dict[str, int]]:
    with open(data_path("llm", "bounds.toml"), "rb") as handle:
        return tomllib.load(handle)


def _size(table: str, owner: str, field: str) -> int:
    """The bound of ``field`` of model ``owner``: ``Owner.field``, else ``field``, else the
    table's default."""
    sizes = _bounds()[table]
    return sizes.get(f"{owner}.{field}", sizes.get(field, sizes["default"]))


def _tighter(table: str, owner: str, field: str) -> bool:
    """A bound named for this model's field (``Owner.field``), which may tighten the model's
    own for what a model is asked (the model itself still accepts its own range)."""
    return f"{owner}.{field}" in _bounds()[table]


def _bound(node: Any, owner: str, field: str) -> None:
    if isinstance(node, list):
        for item in node:
            _bound(item, owner, field)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "string" and not {"enum", "const", "maxLength"} & node.keys():
        node["maxLength"] = _size("text", owner, field)
    elif kind == "string" and "maxLength" in node and _tighter("text", owner, field):
        node["maxLength"] = min(node["maxLength"], _size("text", owner, field))
    elif kind == "array" and "maxItems" not in node:
        node["maxItems"] = _size("lists", owner, field)
    elif kind == "array" and _tighter("lists", owner, field):
        node["maxItems"] = min(node["maxItems"], _size("lists", owner, field))
    elif kind == "object" and "additionalProperties" in node and "maxProperties" not in node:
        node["maxProperties"] = _size("maps", owner, field)
    for key, value in node.items():
        if key == "properties":
            for name, sub in value.items():
                _bound(sub, node.get("title", owner), name)
        elif key == "$defs":
            for name, sub in value.items():
                _bound(sub, name, field)
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "prefixItems"):
            _bound(value, owner, field)


@lru_cache(maxsize=64)
def bounded_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with every string, list and map bounded. Built once per
    model and shared: callers serialize it, never change it."""
    schema = copy.deepcopy(model.model_json_schema())
    _bound(schema, model.__name__, "")
    return schema


_NOT_SHOWN = ("title", "description", "default")


def _plain(node: Any, names: bool = False) -> Any:
    """``node`` without the annotations a reader does not need: ``title`` and ``description``
    repeat the names, and a ``default`` is what the engine fills in for a field left out,
    which ``required`` already tells the model it may do. Under ``properties`` and ``$defs``
    the keys are names and are kept."""
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _plain(value, names=not names and key in ("properties", "$defs"))
        for key, value in node.items()
        if names or key not in _NOT_SHOWN or (key != "default" and not isinstance(value, str))
    }


def _folded(node: Any) -> Any:
    """``node`` written shorter with the same meaning: a closed set of values without the
    type its values already have, and "this or null" as one type list (or one set of values
    with null in it) instead of a choice of two schemas."""
    if isinstance(node, list):
        return [_folded(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _folded(value) for key, value in node.items()}
    if "enum" in node and node.get("type") == "string":
        del node["type"]
    choice = node.get("anyOf")
    if isinstance(choice, list) and len(choice) == 2 and {"type": "null"} in choice:
        other = next(c for c in choice if c != {"type": "null"})
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if "enum" in other and "type" not in other:
            return {**rest, **other, "enum": [*other["enum"], None]}
        if isinstance(other.get("type"), str) and "$ref" not in other:
            return {**rest, **other, "type": [other["type"], "null"]}
    return node


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each definition used once written where it is used (its name and the
    reference to it cost tokens and say nothing); one used more often, or by itself, stays."""
    defs = schema.get("$defs")
    if not defs:
        return schema
    text = json.dumps(schema)
    once = {
        name: body
        for name, body in defs.items()
        if text.count(f'"#/$defs/{name}"') == 1 and f'"#/$defs/{name}"' not in json.dumps(body)
    }

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref", "")
        name = ref.rsplit("/", 1)[-1] if ref.startswith("#/$defs/") else None
        if name in once:  # written in place, with anything said beside the reference
            beside = {key: walk(value) for key, value in node.items() if key != "$ref"}
            return {**walk(once[name]), **beside}
        return {key: walk(value) for key, value in node.items() if key != "$defs"}

    kept = {name: walk(body) for name, body in defs.items() if name not in once}
    out = walk(schema)
    return {"$defs": kept, **out} if kept else out


@lru_cache(maxsize=64)
def prompt_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The bounded schema as a prompt shows it: the same constraints without the titles,
    docstrings and defaults pydantic adds, which cost tokens on every call and constrain
    nothing.
    Structured-output requests send :func:`bounded_schema` itself."""
    return _inlined(_folded(_plain(bounded_schema(model))))


def longest_answer(schema: dict[str, Any]) -> int:
    """The most characters an answer within ``schema`` can take: what a decoder may have to
    write before it can stop (keys, quotes and commas counted roughly)."""
    defs = schema.get("$defs", {})

    def size(node: dict[str, Any]) -> int:
        if "$ref" in node:
            return size(defs[node["$ref"].split("/")[-1]])
        if "anyOf" in node:
            return max(size(x) for x in node["anyOf"])
        if "enum" in node:
            return max(len(str(v)) + 2 for v in node["enum"])
        kind = node.get("type")
        if kind == "string":
            return int(node.get("maxLength", 10**6)) + 2
        if kind == "array":
            return int(node.get("maxItems", 10**3)) * (size(node.get("items", {})) + 1) + 2
        if kind == "object" and "properties" in node:
            return sum(len(k) + 4 + size(v) for k, v in node["properties"].items()) + 2
        if kind == "object":
            per = 40 + size(node.get("additionalProperties", {}))
            return int(node.get("maxProperties", 10**3)) * per
        return 8  # a number, a boolean, null

    return size(schema)


def unbounded(schema: dict[str, Any]) -> list[str]:
    """Where ``schema`` lets a decoder run on: strings without a length or a set of values,
    lists without a count, maps without a size, numbers without both ends."""
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "string" and not {"enum", "const", "maxLength"} & node.keys():
            found.append(f"{path}: text without maxLength")
        if kind == "array" and "maxItems" not in node and "prefixItems" not in node:
            found.append(f"{path}: list without maxItems")
        if kind == "object" and "additionalProperties" in node and "maxProperties" not in node:
            found.append(f"{path}: map without maxProperties")
        if kind in ("number", "integer"):
            low = "minimum" in node or "exclusiveMinimum" in node
            high = "maximum" in node or "exclusiveMaximum" in node
            if not (low and high):
                found.append(f"{path}: number without minimum and maximum")
        for key, value in node.items():
            if key == "properties":
                for name, sub in value.items():
                    walk(sub, f"{path}.{name}")
            elif key == "$defs":
                for name, sub in value.items():
                    walk(sub, name)
            elif key in ("items", "additionalProperties", "prefixItems"):
                walk(value, f"{path}[]")
            elif key in ("anyOf", "oneOf", "allOf"):
                walk(value, path)

    walk(schema, "")
    return found
