"""BLS12-381 in the crypto-libs layout (G1 signatures, G2 keys) on py-arkworks, and its signer.

The curve functions live in `curve` and are re-exported here.
"""

from py_arkworks_bls12381 import G1Point, G2Point

from executor_adapters.signing.bls381.curve import (
    CURVE_ORDER,
    DST,
    FIELD_MODULUS,
    G1_COMPRESSED_BYTES,
    G1_RAW_BYTES,
    G2_COMPRESSED_BYTES,
    G2_RAW_BYTES,
    g1_from_bytes,
    g1_to_bytes,
    g1_to_compressed,
    g2_from_bytes,
    g2_to_bytes,
    g2_to_compressed,
    hash_to_g1,
    public_key_g1,
    public_key_g2,
    scalar_of,
    sign,
    sign_with_scalar,
    verify,
)
from executor_adapters.signing.bls381.signer import Bls381ResultSigner

__all__ = [
    "CURVE_ORDER",
    "DST",
    "FIELD_MODULUS",
    "G1_COMPRESSED_BYTES",
    "G1_RAW_BYTES",
    "G2_COMPRESSED_BYTES",
    "G2_RAW_BYTES",
    "Bls381ResultSigner",
    "G1Point",
    "G2Point",
    "g1_from_bytes",
    "g1_to_bytes",
    "g1_to_compressed",
    "g2_from_bytes",
    "g2_to_bytes",
    "g2_to_compressed",
    "hash_to_g1",
    "public_key_g1",
    "public_key_g2",
    "scalar_of",
    "sign",
    "sign_with_scalar",
    "verify",
]
