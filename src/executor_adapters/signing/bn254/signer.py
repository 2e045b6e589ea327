"""The BN254 `ResultSigner` of the first-generation (c18d70e) executor.

The aggregator at that version expects `TaskResult.signature = SignSolidityCompatible(
keccak256(output))` (signing.md §5.1): the Solidity try-and-increment hash of the output's
digest, times the operator's BN254 key, as 64 bytes. On the native backend that takes about
0.1 ms and runs on the loop; on the pure-Python one (0.3-0.6 ms, holding the GIL) it runs on a
crypto thread.
"""

from __future__ import annotations

from collections.abc import Callable

from executor_adapters.signing._off_loop import sign_output
from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.crypto_pool import run_in_crypto_pool
from executor_adapters.signing.keccak import keccak256
from executor_core.errors import SigningError
from executor_core.ports import KeyCurve

__all__ = ["Bn254ResultSigner"]


class Bn254ResultSigner:
    """Signs task outputs with a BN254 secret key, as the c18d70e Go executor does.

    Implements `executor_core.ports.ResultSigner`. The secret is big-endian bytes of any length
    (crypto-libs keystores may hold minimal encodings shorter than 32 bytes).

    Example::

        key = await load_keystore_async(text, "", source="k.json", expected_curve="bn254")
        signature = await Bn254ResultSigner(key.secret).sign_result(b"output")  # 64 bytes
    """

    __slots__ = ("_public_key_g1", "_public_key_g2", "_scalar")

    def __init__(self, secret: bytes) -> None:
        """Take the secret key bytes; a key that is zero modulo the group order is refused.

        Raises:
            ValueError: the key is zero (it would sign everything as the point at infinity).
        """
        if not isinstance(secret, bytes | bytearray):
            raise TypeError("the BN254 secret must be bytes")
        scalar = bn254.secret_to_scalar(bytes(secret)) % bn254.CURVE_ORDER
        if scalar == 0:
            raise ValueError("the BN254 secret key is zero modulo the group order")
        self._scalar = scalar
        self._public_key_g1 = bn254.public_key_g1(scalar)
        self._public_key_g2 = bn254.public_key_g2(scalar)

    @property
    def public_key_g2(self) -> bytes:
        """The 128-byte G2 public key (`X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`) aggregators verify against."""
        return self._public_key_g2

    @property
    def public_key_g1(self) -> bytes:
        """The 64-byte G1 public key (`X ‖ Y`) the KeyRegistrar stores next to the G2 key."""
        return self._public_key_g1

    def sign_digest(self, digest32: bytes) -> bytes:
        """Blocking `SignSolidityCompatible` of a 32-byte digest (for code already in a thread)."""
        return bn254.sign_solidity(self._scalar, digest32)

    @property
    def curve(self) -> KeyCurve:
        """Implements `executor_core.ports.OperatorSigner` on KeyRegistrar's BN254 curve."""
        return KeyCurve.BN254

    async def sign_message(self, data: bytes) -> bytes:
        """Upstream's G2 `SignMessage`: `Sign(keccak256(data))` with the RFC 9380 hash."""
        return await self._sign(bn254.sign, keccak256(data))

    async def sign_for_solidity(self, data: bytes) -> bytes:
        """Upstream's G2 `SignMessageForSolidity`: 32 bytes as is, anything else hashed first;
        then the try-and-increment hash the contracts use."""
        return await self._sign(bn254.sign_solidity, data if len(data) == 32 else keccak256(data))

    async def _sign(self, rule: Callable[[int, bytes], bytes], digest: bytes) -> bytes:
        try:
            if bn254.backend_is_native():
                return rule(self._scalar, digest)
            return await run_in_crypto_pool(rule, self._scalar, digest)
        except Exception as exc:
            raise SigningError(f"BN254 signing failed: {exc}") from exc

    async def sign_result(self, output: bytes) -> bytes:
        """Return `SignSolidityCompatible(keccak256(output))`, 64 bytes.

        Raises:
            SigningError: the signature could not be computed.
        """
        # native: 0.1 ms, cheaper on the loop than the two thread switches of a hand-off
        # (0.19 against 0.39 ms per task at concurrency 1, docs/performance.md)
        native = bn254.backend_is_native()
        return await sign_output(self.sign_digest, output, scheme="BN254", off_loop=not native)

    def __repr__(self) -> str:
        # Never show the secret; the key's prefix is enough to tell signers apart in logs.
        return f"Bn254ResultSigner(public_key_g2={self._public_key_g2[:8].hex()}…)"
