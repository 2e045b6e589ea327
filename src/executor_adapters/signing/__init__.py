"""Result signing and key loading: BN254 BLS signatures and EIP-2335 keystores.

`bn254` holds the pure curve functions, `keystore` the keystore decryption, and
`PyEccBn254ResultSigner` is the `ResultSigner` the first-generation (c18d70e) executor uses.
"""

from executor_adapters.signing.bn254 import (
    DEFAULT_DST,
    g1_from_bytes,
    g1_to_bytes,
    g2_from_bytes,
    g2_to_bytes,
    public_key_g1,
    public_key_g2,
    rfc9380_hash_to_g1,
    sign,
    sign_solidity,
    solidity_hash_to_g1,
    verify,
    verify_solidity,
)
from executor_adapters.signing.bn254_signer import PyEccBn254ResultSigner, load_bn254_signer
from executor_adapters.signing.keccak import keccak256
from executor_adapters.signing.keystore import (
    KeystoreError,
    decrypt_eip2335,
    keystore_curve,
    process_password,
)

__all__ = [
    "DEFAULT_DST",
    "KeystoreError",
    "PyEccBn254ResultSigner",
    "decrypt_eip2335",
    "g1_from_bytes",
    "g1_to_bytes",
    "g2_from_bytes",
    "g2_to_bytes",
    "keccak256",
    "keystore_curve",
    "load_bn254_signer",
    "process_password",
    "public_key_g1",
    "public_key_g2",
    "rfc9380_hash_to_g1",
    "sign",
    "sign_solidity",
    "solidity_hash_to_g1",
    "verify",
    "verify_solidity",
]
