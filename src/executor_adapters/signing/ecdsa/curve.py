"""secp256k1 ECDSA as crypto-libs `ecdsa` (go-ethereum `crypto.Sign`) does it (signing.md §3).

A signature is over the given 32-byte hash **as is** (no EIP-191 prefix, no further hashing), with
the RFC 6979 deterministic nonce and low-S normalisation, encoded `r (32) ‖ s (32) ‖ v (1)` with
v = recovery id + 27. coincurve (libsecp256k1) gives the same r and s with v ∈ {0, 1}. Addresses
are the last 20 bytes of keccak256(X ‖ Y), lower-case hex with `0x`.

Secret keys are big-endian bytes of any length whose value is in [1, n - 1]; anything else raises
`ValueError`. A signature takes about 0.02 ms.
"""

from __future__ import annotations

from coincurve import PrivateKey, PublicKey

from executor_adapters.signing.keccak import keccak256

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_ORDER = CURVE_ORDER // 2
_HASH_BYTES = 32
_SIGNATURE_BYTES = 65
_V_OFFSET = 27


def private_key(secret: bytes) -> PrivateKey:
    """The coincurve key of big-endian secret bytes of any length.

    Raises:
        ValueError: the value is 0 or not below the group order.
    """
    value = int.from_bytes(secret, "big")
    if not 0 < value < CURVE_ORDER:
        raise ValueError("a secp256k1 secret key must be in [1, n-1]")
    return PrivateKey(value.to_bytes(32, "big"))


def public_key(secret: bytes | PrivateKey) -> bytes:
    """The 65-byte uncompressed public key `0x04 ‖ X ‖ Y`."""
    key = secret if isinstance(secret, PrivateKey) else private_key(secret)
    return key.public_key.format(compressed=False)


def address_of_public_key(public_key_bytes: bytes) -> str:
    """The address of a 65-byte uncompressed or 33-byte compressed public key.

    Raises:
        ValueError: the bytes are not a point on secp256k1.
    """
    try:
        point = PublicKey(bytes(public_key_bytes)).format(compressed=False)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid secp256k1 public key: {exc}") from None
    return "0x" + keccak256(point[1:])[12:].hex()


def address_of(secret: bytes | PrivateKey) -> str:
    """The lower-case `0x` address of a secret key."""
    return "0x" + keccak256(public_key(secret)[1:])[12:].hex()


def _require_hash(hash32: bytes) -> None:
    if len(hash32) != _HASH_BYTES:
        raise ValueError(f"ECDSA signs a {_HASH_BYTES}-byte hash, got {len(hash32)} bytes")


def sign_hash(secret: bytes | PrivateKey, hash32: bytes) -> bytes:
    """Sign a 32-byte hash as is: 65 bytes `r ‖ s ‖ v`, v ∈ {27, 28}, RFC 6979, low-S.

    Raises:
        ValueError: the hash is not 32 bytes or the secret is out of range.
    """
    _require_hash(hash32)
    key = secret if isinstance(secret, PrivateKey) else private_key(secret)
    raw = key.sign_recoverable(bytes(hash32), hasher=None)
    return raw[:64] + bytes([raw[64] + _V_OFFSET])


def recover_public_key(hash32: bytes, signature: bytes) -> bytes:
    """The 65-byte uncompressed key that made `signature` over `hash32`.

    v may be 27/28 (crypto-libs) or 0/1 (raw libsecp256k1); like go-ethereum's recovery, a
    high-S signature is accepted here (OpenZeppelin's `tryRecover` would refuse it).

    Raises:
        ValueError: wrong lengths, a bad v, r or s out of range, or no key recovers.
    """
    _require_hash(hash32)
    if len(signature) != _SIGNATURE_BYTES:
        raise ValueError(
            f"an ECDSA signature is {_SIGNATURE_BYTES} bytes (r ‖ s ‖ v), got {len(signature)}"
        )
    v = signature[64]
    if v >= _V_OFFSET:
        v -= _V_OFFSET
    if v not in (0, 1):
        raise ValueError(f"invalid recovery id v={signature[64]}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if not (0 < r < CURVE_ORDER and 0 < s < CURVE_ORDER):
        raise ValueError("r or s out of range")
    try:
        recovered = PublicKey.from_signature_and_message(
            bytes(signature[:64]) + bytes([v]), bytes(hash32), hasher=None
        )
    except Exception as exc:  # coincurve raises bare Exception when nothing recovers
        raise ValueError(f"no public key recovers from this signature: {exc}") from None
    return recovered.format(compressed=False)


def recover_address(hash32: bytes, signature: bytes) -> str:
    """The lower-case `0x` address that made `signature` over `hash32` (see
    `recover_public_key`).

    Raises:
        ValueError: the signature is malformed or nothing recovers.
    """
    return "0x" + keccak256(recover_public_key(hash32, signature)[1:])[12:].hex()


def is_low_s(signature: bytes) -> bool:
    """True when s ≤ n/2, as go-ethereum produces and OpenZeppelin requires."""
    return int.from_bytes(signature[32:64], "big") <= _HALF_ORDER
