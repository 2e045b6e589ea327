"""go-ethereum "Web3 Secret Storage" v3 key files, and the v3 `crypto` object they share.

Two formats use the v3 `crypto` object (go-ethereum `DecryptDataV3`: scrypt or PBKDF2-HMAC-SHA256,
MAC = keccak256(DK[16:32] ‖ ciphertext), AES-128-CTR with DK[0:16], the password as raw UTF-8
with no normalisation):

- `decrypt_web3_v3`: an ECDSA key file as go-ethereum, `hgctl` and most wallets write it
  (signing.md §4.3); the plaintext is the 32-byte secp256k1 key, checked against the file's
  `address` when it has one.
- `decrypt_legacy`: crypto-libs' legacy BLS keystore (§4.2), `publicKey` + a v3 `crypto` object;
  the plaintext is the secret's big-endian bytes exactly as stored (any length; the upstream test
  file holds ASCII digits, whose bytes *are* the scalar).

As for EIP-2335 files, the KDF parameters are bounded before anything is derived, and every
failure is a one-line `KeystoreError` naming the source, never the password or key material.
Decryption is CPU-heavy (scrypt n = 2^18 takes about a second): use the `*_async` wrappers on an
event loop.
"""

from __future__ import annotations

import hmac
from typing import Any

from Crypto.Cipher import AES

from executor_adapters.keystores.eip2335 import (
    KdfBounds,
    KeystoreError,
    _fail,
    _hex,
    _object,
    _parse,
    _string,
    derive_key,
)
from executor_adapters.signing import ecdsa
from executor_adapters.signing.keccak import keccak256

__all__ = [
    "decrypt_legacy",
    "decrypt_v3_crypto",
    "decrypt_web3_v3",
    "v3_crypto_object",
]

_V3_BOUNDS = KdfBounds(salt_bytes=(0, 1024), scrypt_n=(2, 1 << 20), pbkdf2_c=(1, 10_000_000))
_IV_BYTES = 16
_ECDSA_KEY_BYTES = 32


def v3_crypto_object(document: dict[str, Any], source: str) -> dict[str, Any]:
    """The `crypto` object of a v3-style document (go-ethereum also accepts `Crypto`)."""
    if "crypto" not in document and "Crypto" in document:
        return _object(document, "Crypto", source)
    return _object(document, "crypto", source)


def decrypt_v3_crypto(crypto: dict[str, Any], password: str, *, source: str) -> bytes:
    """go-ethereum `DecryptDataV3`: return the plaintext of a v3 `crypto` object.

    Raises:
        KeystoreError: a field is missing or malformed, a parameter is out of bounds, or the
            password is wrong (MAC mismatch).
    """
    prefix = "crypto."
    cipher = _string(crypto, "cipher", source, prefix)
    if cipher != "aes-128-ctr":
        _fail(source, f"unsupported cipher {cipher!r}")
    cipher_params = _object(crypto, "cipherparams", source, prefix=prefix)
    iv = _hex(cipher_params, "iv", source, f"{prefix}cipherparams.")
    if len(iv) != _IV_BYTES:
        _fail(source, f"{prefix}cipherparams.iv must be {_IV_BYTES} bytes, got {len(iv)}")
    ciphertext = _hex(crypto, "ciphertext", source, prefix)
    if not ciphertext:
        _fail(source, f"{prefix}ciphertext is empty")
    expected_mac = _hex(crypto, "mac", source, prefix)

    try:
        password_bytes = password.encode("utf-8")
    except UnicodeEncodeError:
        _fail(source, "the password is not valid Unicode text")
    derived = _derive_key(crypto, password_bytes, source)
    if not hmac.compare_digest(keccak256(derived[16:32] + ciphertext), expected_mac):
        _fail(source, "wrong password (MAC mismatch)")
    aes = AES.new(derived[:16], AES.MODE_CTR, nonce=b"", initial_value=iv)
    plaintext: bytes = aes.decrypt(ciphertext)
    return plaintext


def _derive_key(crypto: dict[str, Any], password: bytes, source: str) -> bytes:
    function = _string(crypto, "kdf", source, "crypto.")
    params = _object(crypto, "kdfparams", source, prefix="crypto.")
    return derive_key(
        function, params, password, source=source, prefix="crypto.kdfparams.", bounds=_V3_BOUNDS
    )


def decrypt_web3_v3(keystore_json_text: str, password: str, *, source: str) -> bytes:
    """Decrypt a go-ethereum v3 key file; return the 32-byte secp256k1 secret.

    Raises:
        KeystoreError: not a v3 key file, wrong password, a key out of range, or a key whose
            address differs from the file's `address` field.
    """
    document = _parse(keystore_json_text, source)
    version = document.get("version")
    if version != 3 or isinstance(version, bool):
        _fail(source, f"not a version 3 key file (version {version!r})")
    stored_address = document.get("address")
    if stored_address is not None and not isinstance(stored_address, str):
        _fail(source, "address is not a string")
    secret = decrypt_v3_crypto(v3_crypto_object(document, source), password, source=source)
    if len(secret) != _ECDSA_KEY_BYTES:
        _fail(source, f"the key is {len(secret)} bytes, a secp256k1 key is {_ECDSA_KEY_BYTES}")
    try:
        address = ecdsa.address_of(secret)
    except ValueError as exc:
        raise KeystoreError(source, str(exc)) from None
    if stored_address:
        expected = stored_address.lower().removeprefix("0x")
        if address.removeprefix("0x") != expected:
            _fail(source, f"the key's address {address} differs from the file's address field")
    return secret


def decrypt_legacy(keystore_json_text: str, password: str, *, source: str) -> bytes:
    """Decrypt a crypto-libs legacy keystore; return the secret bytes exactly as stored.

    The stored `publicKey` is not checked against the secret (upstream does not either).

    Raises:
        KeystoreError: not a legacy keystore, a malformed field, or the wrong password.
    """
    document = _parse(keystore_json_text, source)
    public_key = document.get("publicKey")
    if not isinstance(public_key, str) or not public_key:
        _fail(source, "missing field publicKey")
    return decrypt_v3_crypto(v3_crypto_object(document, source), password, source=source)
