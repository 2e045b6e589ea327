"""secp256k1 ECDSA as go-ethereum signs (`r ‖ s ‖ v`, low s), on coincurve, and its signer.

The curve functions live in `curve` and are re-exported here.
"""

from executor_adapters.signing.ecdsa.curve import (
    CURVE_ORDER,
    address_of,
    address_of_public_key,
    is_low_s,
    private_key,
    public_key,
    recover_address,
    recover_public_key,
    sign_hash,
)
from executor_adapters.signing.ecdsa.signer import EcdsaResultSigner

__all__ = [
    "CURVE_ORDER",
    "EcdsaResultSigner",
    "address_of",
    "address_of_public_key",
    "is_low_s",
    "private_key",
    "public_key",
    "recover_address",
    "recover_public_key",
    "sign_hash",
]
