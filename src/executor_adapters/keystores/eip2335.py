"""EIP-2335 keystores as crypto-libs writes and reads them (signing.md §4.1).

Decryption is deliberately strict about the KDF parameters: they are attacker-controlled input,
and an unbounded scrypt `n` or PBKDF2 count would let a crafted file exhaust memory or CPU at
start-up. Every failure becomes a `KeystoreError` whose one-line message names the keystore's
source and never contains the password or key material.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, NoReturn

from Crypto.Cipher import AES

from executor_core.errors import ExecutorError

__all__ = ["KeystoreError", "decrypt_eip2335", "keystore_curve", "process_password"]

_SALT_BYTES = (16, 64)
_SCRYPT_N = (1024, 1 << 20)
_SCRYPT_R = (1, 32)
_SCRYPT_P = (1, 16)
_SCRYPT_MAX_BLOCK_MEMORY = 1 << 30  # 128·n·r bytes
_PBKDF2_C = (1000, 10_000_000)
_DKLEN = 32
_IV_BYTES = 16
_HEX = re.compile(r"[0-9a-fA-F]*")


class KeystoreError(ExecutorError):
    """A keystore could not be read or decrypted; `source` says which one (path or "inline")."""

    def __init__(self, source: str, problem: str) -> None:
        one_line = " ".join(f"keystore {source}: {problem}".split())
        super().__init__(one_line)
        self.source = source
        self.problem = problem


def process_password(password: str) -> bytes:
    """EIP-2335 password processing: NFKD, drop C0/C1 control codes and DEL, UTF-8.

    Raises `ValueError` for text that cannot be UTF-8 encoded (lone surrogates).
    """
    normalised = unicodedata.normalize("NFKD", password)
    kept = "".join(ch for ch in normalised if not _is_control(ord(ch)))
    try:
        return kept.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("the password is not valid Unicode text") from exc


def _is_control(code_point: int) -> bool:
    return code_point <= 0x1F or 0x7F <= code_point <= 0x9F


def keystore_curve(keystore_json_text: str, *, source: str = "inline keystore") -> str | None:
    """Return the optional crypto-libs `curveType` field ("bn254", "bls381"), or None.

    The executor ignores it when it loads its BN254 key (as upstream does); callers can use it to
    warn about a keystore made for another curve.
    """
    document = _parse(keystore_json_text, source)
    curve = document.get("curveType")
    if curve is None:
        return None
    if not isinstance(curve, str):
        _fail(source, "curveType is not a string")
    return curve


def decrypt_eip2335(keystore_json_text: str, password: str, *, source: str) -> bytes:
    """Decrypt an EIP-2335 keystore and return the secret bytes exactly as stored.

    Supports the scrypt and PBKDF2 (HMAC-SHA256) KDFs with AES-128-CTR. The secret may be any
    length (crypto-libs stores minimal big-endian keys). CPU-heavy (scrypt with the usual
    n = 2^18 takes about a second): call it off the event loop.

    Raises:
        KeystoreError: the text is not a keystore, uses something unsupported, has parameters
            out of bounds, or the password is wrong.
    """
    document = _parse(keystore_json_text, source)
    pubkey = document.get("pubkey")
    if not isinstance(pubkey, str) or not pubkey:
        _fail(source, "missing field pubkey")
    crypto = _object(document, "crypto", source)
    kdf = _object(crypto, "kdf", source, prefix="crypto.")
    checksum = _object(crypto, "checksum", source, prefix="crypto.")
    cipher = _object(crypto, "cipher", source, prefix="crypto.")

    checksum_function = _string(checksum, "function", source, "crypto.checksum.")
    if checksum_function != "sha256":
        _fail(source, f"unsupported checksum function {checksum_function!r}")
    expected_checksum = _string(checksum, "message", source, "crypto.checksum.")

    cipher_function = _string(cipher, "function", source, "crypto.cipher.")
    if cipher_function != "aes-128-ctr":
        _fail(source, f"unsupported cipher {cipher_function!r}")
    cipher_params = _object(cipher, "params", source, prefix="crypto.cipher.")
    iv = _hex(cipher_params, "iv", source, "crypto.cipher.params.")
    if len(iv) != _IV_BYTES:
        _fail(source, f"crypto.cipher.params.iv must be {_IV_BYTES} bytes, got {len(iv)}")
    ciphertext = _hex(cipher, "message", source, "crypto.cipher.")
    if not ciphertext:
        _fail(source, "crypto.cipher.message is empty")

    try:
        password_bytes = process_password(password)
    except ValueError as exc:
        _fail(source, str(exc))
    derived = _derive_key(kdf, password_bytes, source)

    actual_checksum = hashlib.sha256(derived[16:32] + ciphertext).hexdigest()
    # Upstream compares the lower-case hex strings, so an upper-case stored checksum fails there
    # too; compare the same way.
    if not hmac.compare_digest(actual_checksum, expected_checksum):
        _fail(source, "wrong password (checksum mismatch)")

    aes = AES.new(derived[:16], AES.MODE_CTR, nonce=b"", initial_value=iv)
    secret: bytes = aes.decrypt(ciphertext)
    return secret


def _derive_key(kdf: dict[str, Any], password: bytes, source: str) -> bytes:
    function = _string(kdf, "function", source, "crypto.kdf.")
    params = _object(kdf, "params", source, prefix="crypto.kdf.")
    return derive_key(function, params, password, source=source, prefix="crypto.kdf.params.")


@dataclass(frozen=True)
class KdfBounds:
    """Parameter ranges a keystore format accepts (go-ethereum's v3 files are laxer)."""

    salt_bytes: tuple[int, int] = _SALT_BYTES
    scrypt_n: tuple[int, int] = _SCRYPT_N
    pbkdf2_c: tuple[int, int] = _PBKDF2_C


EIP2335_BOUNDS = KdfBounds()


def derive_key(
    function: str,
    params: dict[str, Any],
    password: bytes,
    *,
    source: str,
    prefix: str,
    bounds: KdfBounds = EIP2335_BOUNDS,
) -> bytes:
    """Run the keystore's KDF (scrypt or pbkdf2-hmac-sha256) within the format's bounds.

    Shared by EIP-2335 and Web3 v3 files, which place the same parameters differently;
    `prefix` is where they sit, for messages.
    """
    dklen = _integer(params, "dklen", source, prefix)
    if dklen != _DKLEN:
        _fail(source, f"{prefix}dklen must be {_DKLEN}, got {dklen}")
    salt = _hex(params, "salt", source, prefix)
    _bounded(source, f"{prefix}salt length", len(salt), bounds.salt_bytes)

    if function == "scrypt":
        n = _integer(params, "n", source, prefix)
        r = _integer(params, "r", source, prefix)
        p = _integer(params, "p", source, prefix)
        _bounded(source, f"{prefix}n", n, bounds.scrypt_n)
        if n & (n - 1):
            _fail(source, f"{prefix}n must be a power of two, got {n}")
        _bounded(source, f"{prefix}r", r, _SCRYPT_R)
        _bounded(source, f"{prefix}p", p, _SCRYPT_P)
        if 128 * n * r > _SCRYPT_MAX_BLOCK_MEMORY:
            _fail(source, f"scrypt parameters need more than 1 GiB (n={n}, r={r})")
        # OpenSSL counts 128·r·(n + p + 2) bytes against maxmem; leave a little headroom.
        maxmem = 128 * r * (n + p + 2) + (1 << 20)
        try:
            return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)
        except (ValueError, MemoryError) as exc:
            _fail(source, f"scrypt failed: {exc}")
    if function == "pbkdf2":
        prf = _string(params, "prf", source, prefix)
        if prf != "hmac-sha256":
            _fail(source, f"unsupported pbkdf2 prf {prf!r}")
        c = _integer(params, "c", source, prefix)
        _bounded(source, f"{prefix}c", c, bounds.pbkdf2_c)
        return hashlib.pbkdf2_hmac("sha256", password, salt, c, dklen)
    if not function:
        _fail(source, "missing field crypto.kdf.function")
    _fail(source, f"unsupported kdf {function!r}")


# --- strict field access ----------------------------------------------------------------------


def _fail(source: str, problem: str) -> NoReturn:
    raise KeystoreError(source, problem)


def _parse(text: str, source: str) -> dict[str, Any]:
    if not text.strip():
        _fail(source, "empty keystore")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(source, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
    except (ValueError, RecursionError) as exc:  # e.g. an integer literal with too many digits
        _fail(source, f"not valid JSON ({type(exc).__name__})")
    if not isinstance(document, dict):
        _fail(source, "not a JSON object")
    if not document:
        _fail(source, "empty JSON object")
    return document


def _object(parent: dict[str, Any], name: str, source: str, *, prefix: str = "") -> dict[str, Any]:
    value = parent.get(name)
    if value is None:
        _fail(source, f"missing field {prefix}{name}")
    if not isinstance(value, dict):
        _fail(source, f"{prefix}{name} is not an object")
    return value


def _string(parent: dict[str, Any], name: str, source: str, prefix: str) -> str:
    value = parent.get(name)
    if value is None:
        _fail(source, f"missing field {prefix}{name}")
    if not isinstance(value, str):
        _fail(source, f"{prefix}{name} is not a string")
    return value


def _hex(parent: dict[str, Any], name: str, source: str, prefix: str) -> bytes:
    text = _string(parent, name, source, prefix)
    digits = text.removeprefix("0x")
    if len(digits) % 2 or not _HEX.fullmatch(digits):
        _fail(source, f"{prefix}{name} is not valid hex")
    return bytes.fromhex(digits)


def _integer(parent: dict[str, Any], name: str, source: str, prefix: str) -> int:
    value = parent.get(name)
    if value is None:
        _fail(source, f"missing field {prefix}{name}")
    # JSON numbers may arrive as 262144.0; bool is an int subclass and is no number here.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(source, f"{prefix}{name} is not an integer")
    return value


def _bounded(source: str, what: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        _fail(source, f"{what} out of bounds: {value} not in [{low}, {high}]")
