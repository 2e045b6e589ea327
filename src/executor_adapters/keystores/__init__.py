"""The operator's key files: EIP-2335 (BN254, BLS12-381), crypto-libs legacy BN254 and Web3 v3
(ECDSA), read with one `load_keystore` that detects the format and checks the curve, and
written by `write_eip2335` / `write_v3`."""

from executor_adapters.keystores.eip2335 import KeystoreError
from executor_adapters.keystores.loader import (
    CURVES,
    Curve,
    KeystoreInfo,
    LoadedKey,
    inspect_keystore,
    load_keystore,
    load_keystore_async,
)
from executor_adapters.keystores.writer import (
    DEFAULT_SCRYPT,
    ScryptParams,
    write_eip2335,
    write_v3,
)

__all__ = [
    "CURVES",
    "DEFAULT_SCRYPT",
    "Curve",
    "KeystoreError",
    "KeystoreInfo",
    "LoadedKey",
    "ScryptParams",
    "inspect_keystore",
    "load_keystore",
    "load_keystore_async",
    "write_eip2335",
    "write_v3",
]
