"""BN254 (alt_bn128) BLS signatures, byte-compatible with crypto-libs, gnark-crypto and BN254.sol.

Two hash-to-G1 functions are in use upstream and are not interchangeable (signing.md §1.5,
§1.6): the RFC 9380 one (gnark's `HashToG1`, SVDW map although the crypto-libs DST says
"SSWU"), with which crypto-libs `Sign`/`Verify` and the c18d70e aggregator sign a task payload;
and the try-and-increment of `BN254.hashToG1(bytes32)`, with which the executor's result
signature (`SignSolidityCompatible`) is made so that the on-chain verifier accepts it.

Points are gnark's uncompressed bytes: G1 `X ‖ Y` (64 bytes), G2 `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`
(128 bytes), the point at infinity all zeros. Secret keys are non-negative integers of any
size; they are reduced mod r, which gives the same points as gnark's unreduced multiplication.
Malformed inputs raise `ValueError`; `verify*` return False for malformed keys or signatures.

Signing and verification run on the native library (`native`, gnark-crypto; the GIL is
released while it computes) when it is built, else on `fast` (pure Python on gmpy2); keys are
derived with `fast`. The py-ecc oracle the tests compare both with is in tests/oracles.
"""

from __future__ import annotations

from collections.abc import Sequence

from executor_adapters.signing.bn254 import fast as _fast
from executor_adapters.signing.bn254 import native as _native_library
from executor_adapters.signing.bn254.fast.field import P, R
from executor_adapters.signing.bn254.fast.hashing import DEFAULT_DST
from executor_adapters.signing.crypto_pool import run_in_crypto_pool

FIELD_MODULUS: int = int(P)
CURVE_ORDER: int = int(R)
_WORD = 32
_native = _native_library.load()


def secret_to_scalar(secret: bytes) -> int:
    """Read a secret key the way crypto-libs does: big-endian, any length, unreduced."""
    return int.from_bytes(secret, "big")


def _scalar(sk: int) -> int:
    if sk < 0:
        raise ValueError("a secret key must not be negative")
    return sk % CURVE_ORDER


def _secret_bytes(sk: int) -> bytes:
    return _scalar(sk).to_bytes(_WORD, "big")


def _require_digest(digest32: bytes) -> None:
    if len(digest32) != _WORD:
        raise ValueError(f"the Solidity hash takes a 32-byte digest, got {len(digest32)} bytes")


def public_key_g1(sk: int) -> bytes:
    """The 64-byte G1 public key sk·G1 (the KeyRegistrar's and the verifier's APK)."""
    return _fast.public_key_g1(sk)


def public_key_g2(sk: int) -> bytes:
    """The 128-byte G2 public key sk·G2 (crypto-libs `PublicKey.Bytes()`)."""
    return _fast.public_key_g2(sk)


def check_public_key_g2(data: bytes) -> None:
    """Raise ValueError unless `data` is a 128-byte G2 point of the prime-order subgroup."""
    if _fast.g2_decode(data) is None:
        raise ValueError("the G2 point is the point at infinity")


def sign_solidity(sk: int, digest32: bytes) -> bytes:
    """crypto-libs `SignSolidityCompatible`: sk·hashToG1(digest), 64 bytes.

    The executor's c18d70e result signature is this over keccak256(output).
    """
    if _native is None:
        return _fast.sign_solidity(sk, digest32)
    _require_digest(digest32)
    return _native.sign_solidity(_secret_bytes(sk), digest32)


def sign(sk: int, msg: bytes, dst: bytes = DEFAULT_DST) -> bytes:
    """crypto-libs `Sign`: sk·HashToG1(msg, dst) with the RFC 9380 hash, 64 bytes."""
    if _native is None:
        return _fast.sign(sk, msg, dst)
    return _native.sign(_secret_bytes(sk), msg, dst)


def verify(pk_g2: bytes, msg: bytes, signature: bytes, dst: bytes = DEFAULT_DST) -> bool:
    """crypto-libs `Verify`: does `signature` sign `msg` (RFC 9380 hash) under the G2 key?

    The key's subgroup check and Miller-loop lines are cached per key bytes.
    """
    if _native is None:
        return _fast.verify(pk_g2, msg, signature, dst)
    return _native.verify(bytes(pk_g2), msg, signature, dst)


def verify_batch(
    pk_g2: bytes, messages: Sequence[bytes], signatures: Sequence[bytes], dst: bytes = DEFAULT_DST
) -> list[bool]:
    """`verify` for each (message, signature) under one key, with every verdict of the single
    check; the native backend checks them together in one multi-pairing under random weights."""
    if len(messages) != len(signatures):
        raise ValueError("one signature per message")
    if _native is None:
        return [_fast.verify(pk_g2, m, s, dst) for m, s in zip(messages, signatures, strict=True)]
    return _native.verify_batch(bytes(pk_g2), messages, signatures, dst)


async def verify_batch_async(
    pk_g2: bytes, messages: Sequence[bytes], signatures: Sequence[bytes], dst: bytes = DEFAULT_DST
) -> list[bool]:
    """`verify_batch` without blocking the event loop: the native library computes on its own
    threads and wakes the loop through a pipe; the pure-Python backend runs on a crypto thread."""
    if _native is None:
        return await run_in_crypto_pool(verify_batch, pk_g2, messages, signatures, dst)
    return await _native.verify_batch_async(bytes(pk_g2), messages, signatures, dst)


def verify_solidity(pk_g2: bytes, digest32: bytes, signature: bytes) -> bool:
    """crypto-libs `VerifySolidityCompatible`: the check for `sign_solidity` signatures."""
    if _native is None:
        return _fast.verify_solidity(pk_g2, digest32, signature)
    return _native.verify_solidity(bytes(pk_g2), digest32, signature)


def backend_is_native() -> bool:
    """Whether signing and verification run in the native library (the GIL released)."""
    return _native is not None


def backend() -> str:
    """Which arithmetic signs and verifies: the native library or the pure-Python fallback."""
    if _native is None:
        return "python (fast_bn254 on gmpy2; scripts/build-native.sh builds the native one)"
    return f"native (gnark-crypto, {_native.path.name})"
