"""The answer's shape as a prompt shows it: the bounded schema in a compact notation.

A model asked for structured output is sent the bounded JSON schema itself
(:func:`~engine.llm.schema.bounded_schema`); the prompt only has to tell it what to write.
Printed as JSON Schema, that description cost some 120 to 450 tokens on every call, more than
the dialog turn it asked for, and it is repeated on every call of a run. The notation here keeps
every constraint (each key, which keys may be left out, every enum value, every length, count
and numeric range) in about half the characters, in a form models read as a type:

    {"content": str(1..400), "stance"?: "supports"|"challenges", "act"?: "ask"|null,
     "knowledge_references"?: [str(<=400)](<=1), "confidence"?: num(0..1)}

A key marked ``?`` may be left out; ``(<=N)`` bounds a text's characters or a list's items;
``(A..B)`` is a range. Definitions (``$ref``) are written where they are used.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from .schema import bounded_schema

LEGEND = "key? optional; (<=N) max characters or items"


def _bounds(node: dict[str, Any], low: str, high: str) -> str:
    lo, hi = node.get(low), node.get(high)
    if lo is None and hi is None:
        return ""
    if lo is None:
        return f"(<={_num(hi)})"
    if hi is None:
        return f"(>={_num(lo)})"
    return f"({_num(lo)}..{_num(hi)})"


def _num(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _type(node: Any, defs: dict[str, Any]) -> str:
    if not isinstance(node, dict):
        return "any"
    if "$ref" in node:
        return _type(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    for key in ("anyOf", "oneOf"):
        if key in node:
            return "|".join(_type(x, defs) for x in node[key])
    if "allOf" in node and len(node["allOf"]) == 1:
        return _type(node["allOf"][0], defs)
    if "enum" in node:
        return "|".join(json.dumps(v) for v in node["enum"])
    if "const" in node:
        return json.dumps(node["const"])
    kind = node.get("type")
    if isinstance(kind, list):
        return "|".join(_type({**node, "type": k}, defs) for k in kind)
    if kind == "string":
        return "str" + _bounds(node, "minLength", "maxLength")
    if kind in ("number", "integer"):
        return ("num" if kind == "number" else "int") + _bounds(node, "minimum", "maximum")
    if kind == "boolean":
        return "bool"
    if kind == "null":
        return "null"
    if kind == "array":
        if "prefixItems" in node:
            inner = ", ".join(_type(x, defs) for x in node["prefixItems"])
        else:
            inner = _type(node.get("items", {}), defs)
        return f"[{inner}]" + _bounds(node, "minItems", "maxItems")
    if kind == "object" and "properties" in node:
        required = set(node.get("required", ()))
        fields = ", ".join(
            f"{json.dumps(name)}{'' if name in required else '?'}: {_type(sub, defs)}"
            for name, sub in node["properties"].items()
        )
        return "{" + fields + "}"
    if kind == "object":
        value = node.get("additionalProperties", {})
        return "{str: " + _type(value, defs) + "}" + _bounds(node, "minProperties", "maxProperties")
    return "any"


def shape_of(schema: dict[str, Any]) -> str:
    """``schema`` (a JSON schema) in the compact notation."""
    return _type(schema, schema.get("$defs", {}))


@lru_cache(maxsize=64)
def prompt_shape(model: type[BaseModel]) -> str:
    """The shape of ``model``'s bounded schema, as every prompt asking for it shows it."""
    return shape_of(bounded_schema(model))
