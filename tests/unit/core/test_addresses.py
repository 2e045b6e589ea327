"""Addresses: any hex case in, one lower-case identity out; anything else is refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_core.addresses import Address, AvsAddress

hex_digits = st.text(alphabet="0123456789abcdefABCDEF", min_size=40, max_size=40)


@given(hex_digits)
def test_any_hex_case_parses_to_the_lower_case_address(digits: str) -> None:
    address = AvsAddress.parse("0x" + digits)
    assert address.value == "0x" + digits.lower()
    assert address == AvsAddress.parse("0x" + digits.upper())


@given(st.text(max_size=60))
def test_anything_but_0x_and_40_hex_digits_is_refused(text: str) -> None:
    is_valid = (
        len(text) == 42
        and text.startswith("0x")
        and all(c in "0123456789abcdefABCDEF" for c in text[2:])
    )
    if is_valid:
        assert Address.parse(text).value == text.lower()
    else:
        with pytest.raises(ValueError, match="0x followed by 40 hex digits"):
            Address.parse(text)


def test_checksummed_and_lower_case_spellings_find_the_same_avs() -> None:
    table = {AvsAddress.parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"): "performer"}
    assert table[AvsAddress.parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")] == "performer"


def test_addresses_are_immutable() -> None:
    address = Address.parse("0x" + "a" * 40)
    with pytest.raises(AttributeError):
        address.value = "0x" + "b" * 40  # type: ignore[misc]
