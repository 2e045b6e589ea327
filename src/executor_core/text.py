"""Rendering values a caller sent inside messages the executor writes back or logs.

A request field can hold anything a message can: NUL and control characters, terminal escape
sequences, right-to-left overrides, megabytes. Echoing it as it is would let a caller write
into an operator's terminal or log, or make one error message as large as the request. Every
value a caller chose goes into a message through one of these two functions.
"""

from __future__ import annotations

__all__ = ["ECHO_LIMIT", "quoted", "shown"]

ECHO_LIMIT = 80
"""How many characters of a caller's value a message repeats; the rest becomes `…`."""


def quoted(value: str | bytes, limit: int = ECHO_LIMIT) -> str:
    """`value` as a Python literal (`'…'`, non-printable characters escaped), cut after `limit`
    characters with `…` after the closing quote: `'0xabc'`, `'a\\x00b'`, `'aaaa'…`."""
    if len(value) <= limit:
        return repr(value)
    return repr(value[:limit]) + "…"


def shown(value: str, limit: int = ECHO_LIMIT) -> str:
    """`value` as it is when it is printable and at most `limit` characters long (so that an
    id reads as upstream writes it: `performer with ID performer-1 not found`), else
    `quoted(value, limit)`."""
    if value and len(value) <= limit and value.isprintable() and value.strip() == value:
        return value
    return quoted(value, limit)
