"""Keccak-256: the native library and pycryptodome agree, and both are Ethereum's Keccak."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor_adapters.signing import keccak
from executor_adapters.signing.bn254 import native


def test_the_empty_input_hashes_to_ethereums_empty_hash() -> None:
    assert keccak.keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


@settings(max_examples=200)
@given(st.binary(max_size=600))
def test_native_and_pycryptodome_agree(data: bytes) -> None:
    library = native.load()
    if library is None:
        pytest.skip("the native library is not built")
    assert library.keccak256(data) == keccak._pycryptodome(data)
