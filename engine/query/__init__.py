"""The query language: parse what a user types into an action on the run."""

from .parse import Ask, ForkAsk, QueryError, parse_query, resolve_entity

__all__ = ["Ask", "ForkAsk", "QueryError", "parse_query", "resolve_entity"]
