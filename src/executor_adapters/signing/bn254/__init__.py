"""BN254: the curve functions (`curve`, re-exported here), the result signer of the first
generation, and the check of aggregator signatures over tasks.

`native` is the gnark-crypto library and `fast` the pure-Python fallback; callers use the
functions below, which pick the backend.
"""

from executor_adapters.signing.bn254.curve import (
    CURVE_ORDER,
    FIELD_MODULUS,
    backend,
    backend_is_native,
    check_public_key_g2,
    public_key_g1,
    public_key_g2,
    secret_to_scalar,
    sign,
    sign_solidity,
    verify,
    verify_batch,
    verify_batch_async,
    verify_solidity,
)
from executor_adapters.signing.bn254.fast.hashing import DEFAULT_DST
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_adapters.signing.bn254.task_verifier import Bn254TaskSignatureVerifier

__all__ = [
    "CURVE_ORDER",
    "DEFAULT_DST",
    "FIELD_MODULUS",
    "Bn254ResultSigner",
    "Bn254TaskSignatureVerifier",
    "backend",
    "backend_is_native",
    "check_public_key_g2",
    "public_key_g1",
    "public_key_g2",
    "secret_to_scalar",
    "sign",
    "sign_solidity",
    "verify",
    "verify_batch",
    "verify_batch_async",
    "verify_solidity",
]
