"""Result signing and key loading: BN254 BLS signatures and EIP-2335 keystores.

`bn254` holds the pure curve functions, `keystore` the keystore decryption, and
`PyEccBn254ResultSigner` is the `ResultSigner` the first-generation (c18d70e) executor uses.
`bls381` / `Bls381ResultSigner` and `ecdsa` / `EcdsaResultSigner` are the other two curves;
`load_keystore` reads every keystore format (EIP-2335, legacy, go-ethereum v3) and
`keystore_writer` writes them.
"""

from executor_adapters.signing.bls381_signer import Bls381ResultSigner
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
from executor_adapters.signing.bn254_signer import (
    Bn254ResultSigner,
    PyEccBn254ResultSigner,
    load_bn254_signer,
)
from executor_adapters.signing.ecdsa import address_of, recover_address, sign_hash
from executor_adapters.signing.ecdsa_signer import EcdsaResultSigner
from executor_adapters.signing.keccak import keccak256
from executor_adapters.signing.keystore import (
    KeystoreError,
    decrypt_eip2335,
    keystore_curve,
    process_password,
)
from executor_adapters.signing.keystore_loader import (
    Curve,
    KeystoreInfo,
    LoadedKey,
    inspect_keystore,
    load_keystore,
    load_keystore_async,
)
from executor_adapters.signing.keystore_v3 import decrypt_legacy, decrypt_web3_v3
from executor_adapters.signing.keystore_writer import (
    DEFAULT_SCRYPT,
    ScryptParams,
    write_eip2335,
    write_v3,
)

__all__ = [
    "DEFAULT_DST",
    "DEFAULT_SCRYPT",
    "Bls381ResultSigner",
    "Bn254ResultSigner",
    "Curve",
    "EcdsaResultSigner",
    "KeystoreError",
    "KeystoreInfo",
    "LoadedKey",
    "PyEccBn254ResultSigner",
    "ScryptParams",
    "address_of",
    "decrypt_eip2335",
    "decrypt_legacy",
    "decrypt_web3_v3",
    "g1_from_bytes",
    "g1_to_bytes",
    "g2_from_bytes",
    "g2_to_bytes",
    "inspect_keystore",
    "keccak256",
    "keystore_curve",
    "load_bn254_signer",
    "load_keystore",
    "load_keystore_async",
    "process_password",
    "public_key_g1",
    "public_key_g2",
    "recover_address",
    "rfc9380_hash_to_g1",
    "sign",
    "sign_hash",
    "sign_solidity",
    "solidity_hash_to_g1",
    "verify",
    "verify_solidity",
    "write_eip2335",
    "write_v3",
]
