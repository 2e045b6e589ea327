"""attrs validators shared by the schema and the written shapes.

Each raises `ValueError` whose text is the problem the loader prints after the field's path, so
a value built in code is refused with the same words as one read from a file.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import attrs

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def choices_problem(choices: tuple[str, ...]) -> str:
    """Return the problem text for a value outside `choices`, shared with the loader."""
    return f"must be {choices[0]}" if len(choices) == 1 else f"must be one of {', '.join(choices)}"


def int_in(low: int, high: int | None = None) -> Validator:
    """An integer (not a bool) of at least `low`, and at most `high` when given."""
    if high is None:
        problem = f"must be an integer of at least {low}"
    else:
        problem = f"must be an integer between {low} and {high}"

    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(problem)
        if value < low or (high is not None and value > high):
            raise ValueError(problem)

    return check


def optional(validator: Validator) -> Validator:
    """`validator`, or None (the key was not given)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            validator(instance, attribute, value)

    return check


def is_bool(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")


def is_str(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise ValueError("must be a string")


def non_empty_str(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError("must be a non-empty string")


def one_of(*choices: str) -> Validator:
    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if value not in choices:
            raise ValueError(choices_problem(choices))

    return check


def member_of(kind: type[enum.StrEnum]) -> Validator:
    problem = choices_problem(tuple(member.value for member in kind))

    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise ValueError(problem)

    return check


def instance_of(kind: type[Any], problem: str) -> Validator:
    def check(_: object, __: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise ValueError(problem)

    return check


def positive_seconds(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a duration")
    if not value > 0 or value == float("inf"):
        raise ValueError("must be greater than 0")


def non_negative_seconds(_: object, __: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a duration")
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be 0 or more")


def env_name(_: object, __: attrs.Attribute[Any], value: object) -> None:
    """A POSIX environment variable name, which Docker passes through unchanged."""
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise ValueError(
            "must be an environment variable name (letters, digits, _; no leading digit)"
        )


def http_url(_: object, __: attrs.Attribute[Any], value: object) -> None:
    """An http or https URL with a host: JSON-RPC is spoken over HTTP only."""
    problem = "must be an http:// or https:// URL (JSON-RPC over HTTP)"
    if not isinstance(value, str):
        raise ValueError(problem)
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(problem) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(problem)
