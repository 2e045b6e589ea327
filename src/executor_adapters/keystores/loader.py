"""One entry point for every keystore format: detect it, check the curve, decrypt.

| format | recognised by | curve | secret |
| --- | --- | --- | --- |
| `eip2335` (§4.1) | a `pubkey` field | `curveType`, else the pubkey size | bytes as stored |
| `legacy` (§4.2) | a `publicKey` field | `curveType`, else bn254 | bytes as stored |
| `web3-v3` (§4.3) | `version: 3` or an `address` field | ecdsa | 32 bytes |

An EIP-2335 file without `curveType` is taken by the size of its pubkey: 128 bytes is a bn254 G2
key, 192 or 96 bytes a bls381 G2 key, 48 bytes an Ethereum consensus (BLS12-381 G1) key. The curve
is checked against the one the caller expects **before** the expensive key derivation, so a
`curveType: bls381` keystore given to a bn254 AVS fails at once with a `KeystoreError` that names
the keystore. (Upstream's `GetBN254PrivateKey` ignores `curveType` and would sign with the wrong
key on the wrong curve; refusing is the safer reading.)
"""

from __future__ import annotations

import asyncio
from typing import Literal, NamedTuple

from executor_adapters.keystores.eip2335 import KeystoreError, _fail, _parse, decrypt_eip2335
from executor_adapters.keystores.v3 import decrypt_legacy, decrypt_web3_v3
from executor_adapters.signing import ecdsa

__all__ = [
    "CURVES",
    "Curve",
    "KeystoreFormat",
    "KeystoreInfo",
    "LoadedKey",
    "inspect_keystore",
    "load_keystore",
    "load_keystore_async",
]

Curve = Literal["bn254", "bls381", "ecdsa"]
CURVES: tuple[Curve, ...] = ("bn254", "bls381", "ecdsa")
KeystoreFormat = Literal["eip2335", "legacy", "web3-v3"]

_BLS_CURVES: dict[str, Curve] = {"bn254": "bn254", "bls381": "bls381"}
_CURVE_BY_PUBKEY_BYTES: dict[int, Curve] = {128: "bn254", 192: "bls381", 96: "bls381", 48: "bls381"}


class KeystoreInfo(NamedTuple):
    """What a keystore says about itself without a password."""

    format: KeystoreFormat
    curve: Curve | None
    """None when an EIP-2335 file has no `curveType` and a pubkey of no known size."""
    public_key: bytes | None
    """The stored `pubkey` / `publicKey` bytes (BLS formats); None for a v3 file."""
    address: str | None
    """The stored address, lower-case with `0x` (v3 files that have one)."""


class LoadedKey(NamedTuple):
    """A decrypted key: `curve, secret = load_keystore(...)`."""

    curve: Curve
    secret: bytes


def inspect_keystore(keystore_json_text: str, *, source: str) -> KeystoreInfo:
    """Detect the format and read the public fields; no password, no key derivation.

    Raises:
        KeystoreError: not JSON, not a keystore of a known format, or malformed public fields.
    """
    document = _parse(keystore_json_text, source)
    if "pubkey" in document:
        public_key = _public_key_field(document.get("pubkey"), "pubkey", source)
        declared = _declared_curve(document, source)
        curve = declared or _CURVE_BY_PUBKEY_BYTES.get(len(public_key))
        return KeystoreInfo("eip2335", curve, public_key, None)
    if "publicKey" in document:
        public_key = _public_key_field(document.get("publicKey"), "publicKey", source)
        return KeystoreInfo(
            "legacy", _declared_curve(document, source) or "bn254", public_key, None
        )
    if document.get("version") == 3 or "address" in document:
        address = document.get("address")
        if address is not None and not isinstance(address, str):
            _fail(source, "address is not a string")
        shown = "0x" + address.lower().removeprefix("0x") if address else None
        return KeystoreInfo("web3-v3", "ecdsa", None, shown)
    _fail(source, "not a keystore of a known format (no pubkey, publicKey or address field)")


def _public_key_field(value: object, name: str, source: str) -> bytes:
    if not isinstance(value, str) or not value:
        _fail(source, f"missing field {name}")
    digits = value.removeprefix("0x")
    try:
        return bytes.fromhex(digits)
    except ValueError:
        _fail(source, f"{name} is not valid hex")


def _declared_curve(document: dict[str, object], source: str) -> Curve | None:
    declared = document.get("curveType")
    if declared is None or declared == "":
        return None
    if not isinstance(declared, str) or declared.lower() not in _BLS_CURVES:
        _fail(source, f"unsupported curveType {declared!r} (bn254 or bls381)")
    return _BLS_CURVES[declared.lower()]


def load_keystore(
    keystore_json_text: str,
    password: str,
    *,
    source: str,
    expected_curve: Curve | None = None,
) -> LoadedKey:
    """Detect the format, check the curve, decrypt, and return `(curve, secret)`.

    `expected_curve` None accepts whatever the file says. CPU-heavy: on an event loop use
    `load_keystore_async`.

    Raises:
        KeystoreError: unknown format, a curve other than `expected_curve`, a curve that cannot be
            told, the wrong password, or a malformed file; the message names `source`.
    """
    info = inspect_keystore(keystore_json_text, source=source)
    curve = info.curve
    if curve is None:
        if expected_curve is None or expected_curve == "ecdsa":
            _fail(source, "has no curveType and its pubkey size does not tell the curve")
        curve = expected_curve
    if expected_curve is not None and curve != expected_curve:
        needed = f"but a {expected_curve} key is needed"
        _fail(source, f"is a {info.format} keystore for {curve}, {needed}")
    if info.format == "eip2335":
        secret = decrypt_eip2335(keystore_json_text, password, source=source)
    elif info.format == "legacy":
        secret = decrypt_legacy(keystore_json_text, password, source=source)
    else:
        secret = decrypt_web3_v3(keystore_json_text, password, source=source)
    if curve == "ecdsa":
        try:
            ecdsa.private_key(secret)
        except ValueError as exc:
            raise KeystoreError(source, str(exc)) from None
    return LoadedKey(curve, secret)


async def load_keystore_async(
    keystore_json_text: str,
    password: str,
    *,
    source: str,
    expected_curve: Curve | None = None,
) -> LoadedKey:
    """`load_keystore` in a worker thread (scrypt n = 2^18 takes about a second)."""
    return await asyncio.to_thread(
        lambda: load_keystore(
            keystore_json_text, password, source=source, expected_curve=expected_curve
        )
    )
