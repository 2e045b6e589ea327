"""Result signing on the three curves an AVS may ask for, and the check of aggregator signatures.

One subpackage per curve (`bn254`, `bls381`, `ecdsa`), each with its curve functions and its
`ResultSigner`; keystores are `executor_adapters.keystores`.
"""

from executor_adapters.signing.bls381 import Bls381ResultSigner
from executor_adapters.signing.bn254 import Bn254ResultSigner, Bn254TaskSignatureVerifier
from executor_adapters.signing.ecdsa import EcdsaResultSigner
from executor_adapters.signing.keccak import keccak256

__all__ = [
    "Bls381ResultSigner",
    "Bn254ResultSigner",
    "Bn254TaskSignatureVerifier",
    "EcdsaResultSigner",
    "keccak256",
]
