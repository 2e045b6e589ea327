"""Writing keystores: crypto-libs EIP-2335 files for BLS keys, go-ethereum v3 files for ECDSA.

Both use scrypt, by default with the parameters upstream writes (n = 2^18, r = 8, p = 1: about a
second and 256 MiB), a fresh 32-byte salt, a fresh 16-byte IV and AES-128-CTR. Tests pass
cheaper `ScryptParams`; the readers accept any n from 1024 (EIP-2335) upward.

- `write_eip2335(secret, password, curve=...)`: signing.md §4.1. The password goes through the
  EIP-2335 processing (NFKD, control codes dropped), the checksum is sha256(DK[16:32] ‖ ct), the
  `pubkey` field is the curve's raw G2 key (128 bytes for bn254, 192 for bls381), `path` is
  `m/1/0/0` or `m/12381/60/0/0`, `curveType` names the curve.
- `write_v3(secret, password)`: §4.3, the password as raw UTF-8, MAC keccak256(DK[16:32] ‖ ct),
  `address` without `0x`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from typing import Any, Literal

import attrs
from Crypto.Cipher import AES

from executor_adapters.keystores.eip2335 import process_password
from executor_adapters.signing import bls381, bn254, ecdsa
from executor_adapters.signing.keccak import keccak256

__all__ = [
    "DEFAULT_SCRYPT",
    "BlsCurve",
    "ScryptParams",
    "bls_public_key_g2",
    "v3_crypto",
    "write_eip2335",
    "write_v3",
]

BlsCurve = Literal["bn254", "bls381"]

_PATHS: dict[str, str] = {"bn254": "m/1/0/0", "bls381": "m/12381/60/0/0"}
_ORDERS: dict[str, int] = {"bn254": bn254.CURVE_ORDER, "bls381": bls381.CURVE_ORDER}
_DKLEN = 32


@attrs.frozen
class ScryptParams:
    """scrypt cost parameters; the defaults are what crypto-libs and go-ethereum write."""

    n: int = 262144
    r: int = 8
    p: int = 1

    def __attrs_post_init__(self) -> None:
        if self.n < 2 or self.n & (self.n - 1):
            raise ValueError(f"scrypt n must be a power of two ≥ 2, got {self.n}")
        if self.r < 1 or self.p < 1:
            raise ValueError("scrypt r and p must be positive")


DEFAULT_SCRYPT = ScryptParams()


def _scrypt(password: bytes, salt: bytes, params: ScryptParams) -> bytes:
    maxmem = 128 * params.r * (params.n + params.p + 2) + (1 << 20)
    return hashlib.scrypt(
        password, salt=salt, n=params.n, r=params.r, p=params.p, maxmem=maxmem, dklen=_DKLEN
    )


def _encrypt(key16: bytes, iv: bytes, plaintext: bytes) -> bytes:
    ciphertext: bytes = AES.new(key16, AES.MODE_CTR, nonce=b"", initial_value=iv).encrypt(plaintext)
    return ciphertext


def bls_public_key_g2(secret: bytes, curve: BlsCurve) -> bytes:
    """The raw G2 public key crypto-libs stores as `pubkey` (128 bytes bn254, 192 bls381).

    Raises:
        ValueError: unknown curve, or a key that is zero modulo the group order.
    """
    if curve not in _ORDERS:
        raise ValueError(f"unknown BLS curve {curve!r} (bn254 or bls381)")
    scalar = int.from_bytes(secret, "big") % _ORDERS[curve]
    if scalar == 0:
        raise ValueError(f"the {curve} secret key is zero modulo the group order")
    if curve == "bn254":
        return bn254.public_key_g2(scalar)
    return bls381.public_key_g2(scalar)


def write_eip2335(
    secret: bytes,
    password: str,
    *,
    curve: BlsCurve,
    scrypt: ScryptParams = DEFAULT_SCRYPT,
    description: str = "",
) -> str:
    """Encrypt a BN254 or BLS12-381 secret into crypto-libs EIP-2335 JSON text.

    The secret bytes are stored as given (big-endian, any length). CPU-heavy with the default
    scrypt parameters.

    Raises:
        ValueError: unknown curve, a zero key, or a password that is not valid Unicode.
    """
    pubkey = bls_public_key_g2(secret, curve)
    password_bytes = process_password(password)
    salt = secrets.token_bytes(32)
    iv = secrets.token_bytes(16)
    derived = _scrypt(password_bytes, salt, scrypt)
    ciphertext = _encrypt(derived[:16], iv, bytes(secret))
    document: dict[str, Any] = {
        "crypto": {
            "kdf": {
                "function": "scrypt",
                "params": {
                    "dklen": _DKLEN,
                    "n": scrypt.n,
                    "p": scrypt.p,
                    "r": scrypt.r,
                    "salt": salt.hex(),
                },
                "message": "",
            },
            "checksum": {
                "function": "sha256",
                "params": {},
                "message": hashlib.sha256(derived[16:32] + ciphertext).hexdigest(),
            },
            "cipher": {
                "function": "aes-128-ctr",
                "params": {"iv": iv.hex()},
                "message": ciphertext.hex(),
            },
        },
        "description": description,
        "pubkey": pubkey.hex(),
        "path": _PATHS[curve],
        "uuid": str(uuid.uuid4()),
        "version": 4,
        "curveType": curve,
    }
    return json.dumps(document, indent=2) + "\n"


def v3_crypto(
    plaintext: bytes, password: str, *, scrypt: ScryptParams = DEFAULT_SCRYPT
) -> dict[str, Any]:
    """A go-ethereum v3 `crypto` object (`EncryptDataV3`) holding `plaintext`.

    The password is used as raw UTF-8 (no normalisation), as go-ethereum does.

    Raises:
        ValueError: the password is not valid Unicode text.
    """
    try:
        password_bytes = password.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("the password is not valid Unicode text") from exc
    salt = secrets.token_bytes(32)
    iv = secrets.token_bytes(16)
    derived = _scrypt(password_bytes, salt, scrypt)
    ciphertext = _encrypt(derived[:16], iv, bytes(plaintext))
    return {
        "cipher": "aes-128-ctr",
        "ciphertext": ciphertext.hex(),
        "cipherparams": {"iv": iv.hex()},
        "kdf": "scrypt",
        "kdfparams": {
            "dklen": _DKLEN,
            "n": scrypt.n,
            "p": scrypt.p,
            "r": scrypt.r,
            "salt": salt.hex(),
        },
        "mac": keccak256(derived[16:32] + ciphertext).hex(),
    }


def write_v3(secret: bytes, password: str, *, scrypt: ScryptParams = DEFAULT_SCRYPT) -> str:
    """Encrypt a secp256k1 secret into a go-ethereum v3 key file (JSON text).

    The key is stored as 32 bytes, as go-ethereum does.

    Raises:
        ValueError: the key is not in [1, n - 1], or the password is not valid Unicode.
    """
    key = ecdsa.private_key(bytes(secret))
    document: dict[str, Any] = {
        "address": ecdsa.address_of(key).removeprefix("0x"),
        "crypto": v3_crypto(key.secret, password, scrypt=scrypt),
        "id": str(uuid.uuid4()),
        "version": 3,
    }
    return json.dumps(document, separators=(",", ":")) + "\n"
