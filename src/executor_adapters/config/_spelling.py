"""Rewrite every known key of a parsed document to its canonical camelCase spelling.

Upstream's binary maps keys to Go struct field names case-insensitively, while its docs and
tests use the camelCase tags; files in the wild use both. Matching every key of a known block
case-insensitively, plus the few struct names that differ from the tag (`_written.ALIASES`),
accepts both, and structuring then sees one spelling, so its error paths are canonical.
Unknown keys are left as written for the structuring pass to report. The walk also notes each
key accepted without effect, with its path, since only here is the path known, and the path of
every key given, for the rules about keys whose effect depends on others (`_rules`).
"""

from __future__ import annotations

from typing import Any

import attrs

from executor_adapters.config._written import UNUSED, Shape, keys_of, spellings
from executor_adapters.config.schema import ExecutorConfig, IgnoredKey


@attrs.frozen
class Spelled:
    """A document with canonical keys, the keys it gave twice, and the keys it gave unused."""

    document: Any
    problems: tuple[str, ...]
    ignored: tuple[IgnoredKey, ...]
    given: frozenset[str] = frozenset()
    """The canonical path of every known key given a value (not null)."""


def canonical_keys(document: Any) -> Spelled:
    """Return `document` (a parsed config) with every known key spelt canonically."""
    walk = _Walk()
    result = walk.value(document, ExecutorConfig, "", quiet=False)
    return Spelled(result, tuple(walk.problems), tuple(walk.ignored), frozenset(walk.given))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Walk:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.ignored: list[IgnoredKey] = []
        self.given: set[str] = set()

    def value(self, value: Any, shape: Shape, path: str, *, quiet: bool) -> Any:
        """Rewrite `value` written in `shape`; `quiet` inside a key that is itself ignored."""
        if isinstance(shape, tuple):
            if not isinstance(value, list):
                return value
            return [
                self.value(item, shape[1], f"{path}[{index}]", quiet=quiet)
                for index, item in enumerate(value)
            ]
        if shape is None or not isinstance(value, dict):
            return value
        return self.block(value, shape, path, quiet=quiet)

    def block(self, value: dict[Any, Any], block: type, path: str, *, quiet: bool) -> Any:
        names, keys, unused = spellings(block), keys_of(block), UNUSED.get(block, {})
        result: dict[Any, Any] = {}
        written: dict[str, object] = {}
        for key, item in value.items():
            canonical = names.get(key.lower()) if isinstance(key, str) else None
            if canonical is None:
                result[key] = item  # unknown: reported by structuring, as written
                continue
            where = _join(path, canonical)
            if canonical in written:
                self.problems.append(
                    f"{where}: given twice, as {written[canonical]} and {key}; keep one"
                )
                continue
            written[canonical] = key
            if item is not None:
                self.given.add(where)
            ignored = canonical in unused and item is not None
            if ignored and not quiet:
                self.ignored.append(IgnoredKey(path=where, reason=unused[canonical].reason))
            result[canonical] = self.value(item, keys[canonical], where, quiet=quiet or ignored)
        return result
