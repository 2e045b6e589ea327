"""How the executor repeats a caller's values in its messages: cut, and escaped."""

from __future__ import annotations

import pytest

from executor_core.text import ECHO_LIMIT, quoted, shown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0xabc", "'0xabc'"),
        ("a\x00b", "'a\\x00b'"),
        ("\x1b[31m", "'\\x1b[31m'"),
        ("\u202eevil", "'\\u202eevil'"),
        ("line\n", "'line\\n'"),
        ("", "''"),
        (b"\xff\x00", "b'\\xff\\x00'"),
    ],
)
def test_quoted_escapes_what_is_not_printable(value: str | bytes, expected: str) -> None:
    assert quoted(value) == expected


def test_quoted_cuts_long_values_after_the_limit() -> None:
    assert quoted("a" * 5000) == "'" + "a" * ECHO_LIMIT + "'…"
    assert quoted("abcdef", 3) == "'abc'…"
    assert quoted("a" * ECHO_LIMIT) == "'" + "a" * ECHO_LIMIT + "'"


def test_escaping_keeps_the_rendering_bounded() -> None:
    assert len(quoted("\x00" * 100_000)) <= 4 * ECHO_LIMIT + 3


@pytest.mark.parametrize("value", ["performer-0xabc-1", "registry.local:5000/avs", "0x01"])
def test_shown_leaves_printable_ids_as_upstream_writes_them(value: str) -> None:
    assert shown(value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "''"),
        ("a\x00b", "'a\\x00b'"),
        (" padded ", "' padded '"),
        ("a" * 100, "'" + "a" * ECHO_LIMIT + "'…"),
    ],
)
def test_shown_quotes_anything_else(value: str, expected: str) -> None:
    assert shown(value) == expected
