"""Ethereum addresses as the executor keys AVSs and operators by them."""

from __future__ import annotations

import re
from typing import Self

import attrs

from executor_core.text import quoted

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _normalise(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"an address must be a string, not {type(value).__name__}")
    if not _ADDRESS.fullmatch(value):
        raise ValueError(f"must be 0x followed by 40 hex digits, got {quoted(value)}")
    return value.lower()


@attrs.frozen(order=True)
class Address:
    """An Ethereum address, stored lower-case so that lookups ignore EIP-55 checksum casing."""

    value: str = attrs.field(converter=_normalise)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse `0x` + 40 hex digits in any case; raise ValueError otherwise."""
        return cls(text)

    def __str__(self) -> str:
        return self.value


class AvsAddress(Address):
    """The address of an AVS (its ServiceManager / registrar identity)."""
