"""The contract calls the executor makes, encoded and decoded with eth-abi.

Each function returns a `ContractCall`: the calldata to send and the decoder of the answer.
Decoding is strict (eth-abi's padding and pointer checks) and every malformed answer, an empty
one included (no code at the address), becomes `ChainDataError` naming the call, so a caller
never sees eth-abi's own exceptions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs
from eth_abi.abi import decode, encode
from eth_abi.exceptions import DecodingError

from executor_core.addresses import Address
from executor_core.errors import ChainDataError
from executor_core.ports import KeyCurve, OperatorSet

T = TypeVar("T")

G2_KEY_SIZE = 128
ZERO_ADDRESS = "0x" + "00" * 20

GET_AVS_REGISTRAR = bytes.fromhex("304c10cd")
GET_MEMBERS = bytes.fromhex("6e875dba")
IS_MEMBER_OF_OPERATOR_SET = bytes.fromhex("670d3ba2")
GET_OPERATOR_SET_CURVE_TYPE = bytes.fromhex("7cffe48c")
GET_BN254_KEY = bytes.fromhex("9a43e3fb")
GET_ECDSA_ADDRESS = bytes.fromhex("3b32a7bd")
GET_AVS_CONFIG = bytes.fromhex("41f548f0")
GET_OPERATOR_SOCKET = bytes.fromhex("8481931d")
DOMAIN_SEPARATOR = bytes.fromhex("f698da25")

_OPERATOR_SET = "(address,uint32)"
_BN254_KEY = "((uint256,uint256),(uint256[2],uint256[2]))"
_AVS_CONFIG = "(uint32,uint32[])"  # a struct return: an offset word, then the tuple

# What a malformed answer can make eth-abi (or the conversions after it) raise.
_DECODE_FAILURES = (DecodingError, ValueError, TypeError, OverflowError, IndexError)


@attrs.frozen
class AvsConfig:
    """TaskAVSRegistrar `getAvsConfig()`: which operator sets aggregate and which execute."""

    aggregator_operator_set_id: int
    executor_operator_set_ids: tuple[int, ...]


@attrs.frozen
class ContractCall(Generic[T]):
    """One read: `data` is the calldata, `decode` turns the returned bytes into a value."""

    name: str
    """`Contract.function`, for error messages and per-call counts."""
    data: bytes = attrs.field(repr=False)
    _decoder: Callable[[bytes], T] = attrs.field(repr=False, eq=False)

    def decode(self, returned: bytes) -> T:
        """The call's answer as a value; `ChainDataError` for anything its ABI does not allow."""
        if not returned:
            raise ChainDataError(f"{self.name} returned no data (no contract at the address?)")
        try:
            return self._decoder(returned)
        except ChainDataError as exc:
            raise ChainDataError(f"{self.name} returned {exc}") from None
        except _DECODE_FAILURES as exc:
            raise ChainDataError(
                f"{self.name} returned bytes its ABI does not allow: {exc}"
            ) from None


def _operator_set(operator_set: OperatorSet) -> tuple[str, int]:
    return (operator_set.avs.value, operator_set.id)


def _call(
    name: str,
    selector: bytes,
    types: Sequence[str],
    args: Sequence[Any],
    decoder: Callable[[bytes], T],
) -> ContractCall[T]:
    return ContractCall(name, selector + encode(list(types), list(args)), decoder)


_memoised = functools.lru_cache(maxsize=4096)
"""Encoding costs about 70 µs a call; a cache hit in the reader should not pay it again."""


def _one(type_: str, returned: bytes) -> Any:
    (value,) = decode([type_], returned)
    return value


def _address(returned: bytes) -> Address:
    return Address(_one("address", returned))


def _optional_address(returned: bytes) -> Address | None:
    address = _address(returned)
    return None if address.value == ZERO_ADDRESS else address


def _members(returned: bytes) -> tuple[Address, ...]:
    return tuple(Address(value) for value in _one("address[]", returned))


def _bool(returned: bytes) -> bool:
    return bool(_one("bool", returned))


def _curve(returned: bytes) -> KeyCurve:
    value = _one("uint8", returned)
    try:
        return KeyCurve(value)
    except ValueError:
        raise ChainDataError(f"an unknown curve type {value}") from None


def _bn254_key(returned: bytes) -> bytes:
    _g1, (x, y) = _one(_BN254_KEY, returned)
    words = (x[0], x[1], y[0], y[1])
    if not any(words):
        return b""
    return b"".join(word.to_bytes(32, "big") for word in words)


def _avs_config(returned: bytes) -> AvsConfig:
    aggregator, executors = _one(_AVS_CONFIG, returned)
    return AvsConfig(aggregator, tuple(executors))


def _string(returned: bytes) -> str:
    return str(_one("string", returned))


def _bytes32(returned: bytes) -> bytes:
    return bytes(_one("bytes32", returned))


@_memoised
def get_avs_registrar(avs: Address) -> ContractCall[Address]:
    """AllocationManager `getAVSRegistrar(address) → address`."""
    return _call(
        "AllocationManager.getAVSRegistrar", GET_AVS_REGISTRAR, ["address"], [avs.value], _address
    )


@_memoised
def get_members(operator_set: OperatorSet) -> ContractCall[tuple[Address, ...]]:
    """AllocationManager `getMembers((address,uint32)) → address[]`."""
    return _call(
        "AllocationManager.getMembers",
        GET_MEMBERS,
        [_OPERATOR_SET],
        [_operator_set(operator_set)],
        _members,
    )


@_memoised
def is_member_of_operator_set(operator: Address, operator_set: OperatorSet) -> ContractCall[bool]:
    """AllocationManager `isMemberOfOperatorSet(address,(address,uint32)) → bool`."""
    return _call(
        "AllocationManager.isMemberOfOperatorSet",
        IS_MEMBER_OF_OPERATOR_SET,
        ["address", _OPERATOR_SET],
        [operator.value, _operator_set(operator_set)],
        _bool,
    )


@_memoised
def get_operator_set_curve_type(operator_set: OperatorSet) -> ContractCall[KeyCurve]:
    """KeyRegistrar `getOperatorSetCurveType((address,uint32)) → uint8`."""
    return _call(
        "KeyRegistrar.getOperatorSetCurveType",
        GET_OPERATOR_SET_CURVE_TYPE,
        [_OPERATOR_SET],
        [_operator_set(operator_set)],
        _curve,
    )


@_memoised
def get_bn254_key(operator_set: OperatorSet, operator: Address) -> ContractCall[bytes]:
    """KeyRegistrar `getBN254Key`: the G2 key as 128 bytes `X[0]‖X[1]‖Y[0]‖Y[1]` (the contract
    already keeps each coordinate as [A1, A0]), or empty for the all-zero "none" point."""
    return _call(
        "KeyRegistrar.getBN254Key",
        GET_BN254_KEY,
        [_OPERATOR_SET, "address"],
        [_operator_set(operator_set), operator.value],
        _bn254_key,
    )


@_memoised
def get_ecdsa_address(operator_set: OperatorSet, operator: Address) -> ContractCall[Address | None]:
    """KeyRegistrar `getECDSAAddress`; None for the zero address (no key registered)."""
    return _call(
        "KeyRegistrar.getECDSAAddress",
        GET_ECDSA_ADDRESS,
        [_OPERATOR_SET, "address"],
        [_operator_set(operator_set), operator.value],
        _optional_address,
    )


@_memoised
def get_avs_config() -> ContractCall[AvsConfig]:
    """TaskAVSRegistrar `getAvsConfig() → (uint32,uint32[])`, returned as one struct."""
    return _call("TaskAVSRegistrar.getAvsConfig", GET_AVS_CONFIG, [], [], _avs_config)


@_memoised
def get_operator_socket(operator: Address) -> ContractCall[str]:
    """TaskAVSRegistrar `getOperatorSocket(address) → string`."""
    return _call(
        "TaskAVSRegistrar.getOperatorSocket",
        GET_OPERATOR_SOCKET,
        ["address"],
        [operator.value],
        _string,
    )


@_memoised
def domain_separator() -> ContractCall[bytes]:
    """ECDSACertificateVerifier `domainSeparator() → bytes32`."""
    return _call("ECDSACertificateVerifier.domainSeparator", DOMAIN_SEPARATOR, [], [], _bytes32)


def g2_key_words(key: bytes) -> tuple[tuple[int, int], tuple[int, int]]:
    """The inverse of the decoder: a 128-byte key as the contract's `(X[2], Y[2])` words."""
    if len(key) != G2_KEY_SIZE:
        raise ValueError(f"a G2 key is {G2_KEY_SIZE} bytes, got {len(key)}")
    words = [int.from_bytes(key[i : i + 32], "big") for i in range(0, G2_KEY_SIZE, 32)]
    return (words[0], words[1]), (words[2], words[3])
