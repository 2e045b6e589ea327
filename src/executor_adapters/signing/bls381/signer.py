"""A BLS12-381 `ResultSigner`: the first-generation result rule on crypto-libs' bls381 curve.

No Hourglass version signs results with BLS12-381 (signing.md §2: the c18d70e executor accepts
`signingCurve: bls381` but still signs with BN254; HEAD has only BN254 and ECDSA). This signer
applies the c18d70e rule, a signature over `keccak256(output)`, with crypto-libs' bls381 scheme
(`bls381.Sign`: RFC 9380 hash to G1, 96-byte raw G1 signature), for AVSs that choose that curve.
"""

from __future__ import annotations

from executor_adapters.signing._off_loop import sign_output
from executor_adapters.signing.bls381 import curve as bls381

__all__ = ["Bls381ResultSigner"]


class Bls381ResultSigner:
    """Signs task outputs with a BLS12-381 secret key: `bls381.sign(sk, keccak256(output))`.

    Implements `executor_core.ports.ResultSigner`. The secret is big-endian bytes of any length.
    A signature takes about 0.25 ms of native code; it runs in a worker thread so the event loop
    never waits on it.

    Example::

        signer = Bls381ResultSigner(secret)
        signature = await signer.sign_result(b"output")  # 96 bytes, G1 X ‖ Y
        assert bls381.verify(signer.public_key_g2, keccak256(b"output"), signature)
    """

    __slots__ = ("_public_key_g2", "_scalar")

    def __init__(self, secret: bytes) -> None:
        """Take the secret key bytes; a key that is zero modulo the group order is refused.

        Raises:
            ValueError: the key is zero (it would sign everything as the point at infinity).
        """
        if not isinstance(secret, bytes | bytearray):
            raise TypeError("the BLS12-381 secret must be bytes")
        scalar = bls381.scalar_of(bytes(secret))
        if scalar.is_zero():
            raise ValueError("the BLS12-381 secret key is zero modulo the group order")
        self._scalar = scalar
        self._public_key_g2 = bls381.public_key_g2(bytes(secret))

    @property
    def public_key_g2(self) -> bytes:
        """The 192-byte raw G2 public key (`X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`)."""
        return self._public_key_g2

    def sign_digest(self, digest: bytes) -> bytes:
        """Blocking `bls381.Sign(digest)` (for code already in a thread): 96 raw G1 bytes."""
        return bls381.sign_with_scalar(self._scalar, digest)

    async def sign_result(self, output: bytes) -> bytes:
        """Return `bls381.Sign(keccak256(output))`, 96 bytes.

        Raises:
            SigningError: the signature could not be computed.
        """
        return await sign_output(self.sign_digest, output, scheme="BLS12-381")

    def __repr__(self) -> str:
        # Never show the secret; the key's prefix is enough to tell signers apart in logs.
        return f"Bls381ResultSigner(public_key_g2={self._public_key_g2[:8].hex()}…)"
