"""Whether an answer can be used: an answer checked against its response model, a cassette
entry read back (None when the model has changed since it was recorded), a validation error in
a few words, and the repair request that tells the model what was wrong with its reply."""

from __future__ import annotations

import json

from pydantic import BaseModel, ValidationError

from .cassette import CassetteEntry
from .jsonparse import JSONExtractionError, extract_json
from .protocol import LLMRequest, LLMResponse, Message

UNUSABLE = (ValidationError, JSONExtractionError)
"""What checking an answer raises when it cannot be used."""

REPAIR = (
    "Your previous reply could not be used: {problem}. Reply again with only the JSON object "
    "described above, complete and valid, with no text before or after it."
)


def validate(response: LLMResponse, model: type[BaseModel]) -> BaseModel:
    """The answer as ``model``, from what the provider parsed or from the JSON in its text;
    raises one of :data:`UNUSABLE`."""
    if isinstance(response.parsed, model):
        return response.parsed
    if response.parsed is not None:
        return model.model_validate(response.parsed.model_dump())
    return model.model_validate(extract_json(response.text))


def parse_entry(entry: CassetteEntry, model: type[BaseModel]) -> BaseModel | None:
    """A recorded answer as ``model``; None for a stale entry (the response model changed)."""
    try:
        source = json.loads(entry.parsed_json) if entry.parsed_json else None
        if source is not None:
            return model.model_validate(source)
        return model.model_validate(extract_json(entry.response_text))
    except (ValidationError, JSONExtractionError, ValueError, RecursionError):
        return None


def brief(exc: Exception, most: int = 3) -> str:
    """What was wrong with an answer, field by field, so that a repair request can say
    exactly which field to change: ``atmosphere.energy: Input should be greater than or
    equal to 0 (it was "-0.4"); content: Field required``, the first ``most`` problems."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    parts = []
    errors = exc.errors()
    for err in errors[:most]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        given = err.get("input")
        shown = ""
        if err["type"] != "missing" and isinstance(given, str | int | float | bool):
            text = json.dumps(given)
            shown = f" (it was {text[:60]}{'…' if len(text) > 60 else ''})"
        parts.append(f"{loc}: {err['msg']}{shown}")
    more = len(errors) - most
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def repair_request(request: LLMRequest, reply: str, problem: str) -> LLMRequest:
    """``request`` again, followed by the unusable reply and what was wrong with it."""
    return request.model_copy(
        update={
            "messages": (
                *request.messages,
                Message(role="assistant", content=reply[:4000]),
                Message(role="user", content=REPAIR.format(problem=problem)),
            )
        }
    )
