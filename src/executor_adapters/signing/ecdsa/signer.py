"""A secp256k1 ECDSA `ResultSigner`: the first-generation result rule with an ECDSA key.

`sign_result(output)` = `sign_hash(sk, keccak256(output))`: 65 bytes `r ‖ s ‖ v`, v ∈ {27, 28},
byte-identical to crypto-libs / go-ethereum (RFC 6979, low-S).

The signature is computed on the event loop: libsecp256k1 takes about 0.02 ms per signature,
while handing it to a worker thread (`asyncio.to_thread`) costs about 0.1 ms, five times the work.
"""

from __future__ import annotations

from executor_adapters.signing.ecdsa import curve as ecdsa
from executor_adapters.signing.keccak import keccak256
from executor_core.errors import SigningError
from executor_core.ports import KeyCurve

__all__ = ["EcdsaResultSigner"]


class EcdsaResultSigner:
    """Signs task outputs with a secp256k1 key: `ecdsa.sign_hash(sk, keccak256(output))`.

    Implements `executor_core.ports.ResultSigner`.

    Example::

        signer = EcdsaResultSigner(secret)
        signature = await signer.sign_result(b"output")  # 65 bytes r ‖ s ‖ v
        assert ecdsa.recover_address(keccak256(b"output"), signature) == signer.address
    """

    __slots__ = ("_address", "_key", "_public_key")

    def __init__(self, secret: bytes) -> None:
        """Take the secret key: big-endian bytes of any length, value in [1, n - 1].

        Raises:
            ValueError: the key is zero or not below the group order.
        """
        if not isinstance(secret, bytes | bytearray):
            raise TypeError("the secp256k1 secret must be bytes")
        self._key = ecdsa.private_key(bytes(secret))
        self._public_key = ecdsa.public_key(self._key)
        self._address = ecdsa.address_of(self._key)

    @property
    def address(self) -> str:
        """The key's address, lower-case hex with `0x`."""
        return self._address

    @property
    def public_key(self) -> bytes:
        """The 65-byte uncompressed public key `0x04 ‖ X ‖ Y`."""
        return self._public_key

    def sign_digest(self, digest32: bytes) -> bytes:
        """Sign a 32-byte digest as is (crypto-libs `Sign`): 65 bytes."""
        return ecdsa.sign_hash(self._key, digest32)

    @property
    def curve(self) -> KeyCurve:
        """Implements `executor_core.ports.OperatorSigner` on KeyRegistrar's ECDSA curve."""
        return KeyCurve.ECDSA

    async def sign_message(self, data: bytes) -> bytes:
        """Upstream's G2 `SignMessage`: `Sign(keccak256(data))`."""
        return self._sign(keccak256(data))

    async def sign_for_solidity(self, data: bytes) -> bytes:
        """Upstream's G2 `SignMessageForSolidity`: 32 bytes as is, anything else hashed first."""
        return self._sign(data if len(data) == 32 else keccak256(data))

    def _sign(self, digest32: bytes) -> bytes:
        try:
            return self.sign_digest(digest32)
        except Exception as exc:
            raise SigningError(f"ECDSA signing failed: {exc}") from exc

    async def sign_result(self, output: bytes) -> bytes:
        """Return `Sign(keccak256(output))`, 65 bytes `r ‖ s ‖ v`.

        Raises:
            SigningError: the signature could not be computed.
        """
        try:
            return self.sign_digest(keccak256(output))
        except Exception as exc:
            raise SigningError(f"ECDSA result signing failed: {exc}") from exc

    def __repr__(self) -> str:
        return f"EcdsaResultSigner(address={self._address})"
