"""EIP-2335 keystore decryption (signing.md §4.1) and the key round trip into the BN254 signer.

The upstream keystores use scrypt with n = 2^18 (about 0.5 s each), so only the vector files are
decrypted with it (7 runs); everything else uses keystores written here with the cheapest
parameters the bounds allow. The writer below is independent of the code under test: CTR mode
is built from AES-ECB and control codes are found by Unicode category.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from Crypto.Cipher import AES
from hypothesis import given, settings
from hypothesis import strategies as st

from executor_adapters.config import SigningCurve
from executor_adapters.keystores.eip2335 import (
    KeystoreError,
    decrypt_eip2335,
    keystore_curve,
    process_password,
)
from executor_adapters.signing import bn254
from executor_adapters.signing.bn254.fast.hashing import solidity_hash_to_g1
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_app.signers import signer_from_keystore
from executor_core.errors import ExecutorError
from tests.vectors import VECTORS_DIR

VECTORS = VECTORS_DIR
INDEX = json.loads((VECTORS / "keystores.json").read_text(encoding="utf-8"))["keystores"]
EIP2335 = [entry for entry in INDEX if entry["format"] == "eip2335"]
OTHER_FORMATS = [entry for entry in INDEX if entry["format"] != "eip2335"]


def _text(entry: dict[str, Any]) -> str:
    return (VECTORS / str(entry["file"])).read_text(encoding="utf-8")


def _entry(file_name: str) -> dict[str, Any]:
    return next(e for e in INDEX if e["file"].endswith(file_name))


# --- an independent keystore writer -----------------------------------------------------------


def _reference_password(password: str) -> bytes:
    """EIP-2335 processing, phrased differently: category Cc is exactly C0, DEL and C1."""
    decomposed = unicodedata.normalize("NFKD", password)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Cc").encode()


def _ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-CTR with the whole 16-byte IV as a big-endian counter, built from AES-ECB."""
    ecb = AES.new(key, AES.MODE_ECB)
    counter = int.from_bytes(iv, "big")
    stream = b"".join(
        ecb.encrypt(((counter + i) % 2**128).to_bytes(16, "big"))
        for i in range(-(-len(data) // 16))
    )
    return bytes(a ^ b for a, b in zip(data, stream, strict=False))


def _write_keystore(
    secret: bytes, password: str, *, kdf: str = "pbkdf2", iv: bytes = bytes(range(16))
) -> dict[str, Any]:
    salt = bytes(range(100, 132))
    processed = _reference_password(password)
    if kdf == "pbkdf2":
        params: dict[str, Any] = {"dklen": 32, "c": 1000, "prf": "hmac-sha256", "salt": salt.hex()}
        derived = hashlib.pbkdf2_hmac("sha256", processed, salt, 1000, 32)
    else:
        params = {"dklen": 32, "n": 1024, "r": 8, "p": 1, "salt": salt.hex()}
        derived = hashlib.scrypt(processed, salt=salt, n=1024, r=8, p=1, dklen=32)
    ciphertext = _ctr(derived[:16], iv, secret)
    return {
        "crypto": {
            "kdf": {"function": kdf, "params": params, "message": ""},
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
        "pubkey": "00" * 128,
        "path": "m/1/0/0",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "version": 4,
        "curveType": "bn254",
    }


SECRET = bytes.fromhex("076b5bab93c35adc675b59fe89199ba1c61bfdbcdc6e34622fd8cbb6e664e54e")


def _assert_one_line_naming(error: KeystoreError, source: str, fragment: str) -> None:
    message = str(error)
    assert "\n" not in message
    assert source in message
    assert fragment in message
    assert isinstance(error, ExecutorError)
    assert error.source == source


# --- upstream vectors (the only scrypt n = 2^18 runs) -----------------------------------------


@pytest.mark.parametrize("entry", EIP2335, ids=lambda e: Path(e["file"]).stem)
def test_upstream_keystores_decrypt_to_the_known_secret(entry: dict[str, Any]) -> None:
    secret = decrypt_eip2335(_text(entry), entry["password"], source=entry["file"])
    assert secret.hex() == entry["decrypted_secret_hex"]
    assert len(secret) == entry["decrypted_secret_len"]


async def test_a_signer_from_a_keystore_reproduces_the_keystore_pubkey() -> None:
    entry = _entry("ponos-executor-bn254.json")
    text = _text(entry)
    signer = await signer_from_keystore(text, "", source=entry["file"], curve=SigningCurve.BN254)
    assert isinstance(signer, Bn254ResultSigner)
    assert signer.public_key_g2.hex() == json.loads(text)["pubkey"]
    assert signer.public_key_g1 == bn254.public_key_g1(int(entry["decrypted_secret_hex"], 16))


def test_unicode_password_processing_vector() -> None:
    entry = _entry("eip2335-pbkdf2.json")
    assert len(entry["password"]) == 13  # fraktur letters and a key emoji
    assert process_password(entry["password"]).hex() == entry["password_processed_utf8_hex"]


def test_wrong_password_on_an_upstream_keystore() -> None:
    entry = _entry("eip2335-pbkdf2.json")
    with pytest.raises(KeystoreError) as caught:
        decrypt_eip2335(_text(entry), "testpassword", source="/keys/eip2335-pbkdf2.json")
    _assert_one_line_naming(caught.value, "/keys/eip2335-pbkdf2.json", "wrong password")
    assert "testpassword" not in str(caught.value)


@pytest.mark.parametrize("entry", EIP2335, ids=lambda e: Path(e["file"]).stem)
def test_keystore_curve(entry: dict[str, Any]) -> None:
    assert keystore_curve(_text(entry)) == entry.get("curveType")


@pytest.mark.parametrize("entry", OTHER_FORMATS, ids=lambda e: Path(e["file"]).stem)
def test_other_keystore_formats_are_refused_before_any_kdf(entry: dict[str, Any]) -> None:
    with pytest.raises(KeystoreError) as caught:
        decrypt_eip2335(_text(entry), entry["password"], source=entry["file"])
    _assert_one_line_naming(caught.value, entry["file"], "missing field")


# --- cheap keystores: behaviour and errors ----------------------------------------------------


@pytest.mark.parametrize("kdf", ["pbkdf2", "scrypt"])
def test_cheap_keystores_round_trip(kdf: str) -> None:
    text = json.dumps(_write_keystore(SECRET, "pw", kdf=kdf))
    assert decrypt_eip2335(text, "pw", source="inline keystore") == SECRET


def test_counter_runs_over_the_whole_iv() -> None:
    """A 48-byte secret with IV ff…ff needs the counter to wrap from 2^128 - 1 to 0."""
    secret = bytes(range(48))
    text = json.dumps(_write_keystore(secret, "pw", iv=b"\xff" * 16))
    assert decrypt_eip2335(text, "pw", source="inline keystore") == secret


@pytest.mark.parametrize("kdf", ["pbkdf2", "scrypt"])
def test_wrong_password_is_reported_as_such(kdf: str) -> None:
    text = json.dumps(_write_keystore(SECRET, "right", kdf=kdf))
    with pytest.raises(KeystoreError) as caught:
        decrypt_eip2335(text, "wrong", source="inline keystore")
    _assert_one_line_naming(caught.value, "inline keystore", "wrong password")


def test_upper_case_checksum_fails_as_upstream_does() -> None:
    document = _write_keystore(SECRET, "")
    document["crypto"]["checksum"]["message"] = document["crypto"]["checksum"]["message"].upper()
    with pytest.raises(KeystoreError, match="wrong password"):
        decrypt_eip2335(json.dumps(document), "", source="k.json")


def test_truncated_ciphertext_fails_the_checksum() -> None:
    document = _write_keystore(SECRET, "")
    document["crypto"]["cipher"]["message"] = document["crypto"]["cipher"]["message"][:-2]
    with pytest.raises(KeystoreError, match="wrong password"):
        decrypt_eip2335(json.dumps(document), "", source="k.json")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty keystore"),
        ("  \n\t", "empty keystore"),
        ("{}", "empty JSON object"),
        ("[]", "not a JSON object"),
        ('{"crypto": ', "not valid JSON"),
        ("{not json}", "not valid JSON"),
        ('{"pubkey": "ab", "crypto": {"kdf": 1}}', "crypto.kdf is not an object"),
        ('{"pubkey": "", "crypto": {}}', "missing field pubkey"),
    ],
    ids=["empty", "blank", "empty-object", "array", "truncated", "garbage", "kdf-type", "pubkey"],
)
def test_corrupt_text(text: str, fragment: str) -> None:
    with pytest.raises(KeystoreError) as caught:
        decrypt_eip2335(text, "", source="/etc/keys/bn254.json")
    _assert_one_line_naming(caught.value, "/etc/keys/bn254.json", fragment)


def test_truncated_upstream_file_is_corrupt_json() -> None:
    text = _text(_entry("ponos-executor-bn254.json"))
    with pytest.raises(KeystoreError) as caught:
        decrypt_eip2335(text[: len(text) // 2], "", source="half.json")
    _assert_one_line_naming(caught.value, "half.json", "not valid JSON")


Mutation = Callable[[dict[str, Any]], None]


def _delete(*path: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _set(value: Any, *path: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _huge_scrypt(document: dict[str, Any]) -> None:
    """Each bound holds on its own, but 128·n·r is 2 GiB."""
    document["crypto"]["kdf"]["params"].update(n=1 << 20, r=16)


KDF = ("crypto", "kdf")
PARAMS = (*KDF, "params")
CIPHER = ("crypto", "cipher")

BROKEN: list[tuple[str, str, Mutation, str]] = [
    ("no-crypto", "pbkdf2", _delete("crypto"), "missing field crypto"),
    ("no-kdf", "pbkdf2", _delete(*KDF), "missing field crypto.kdf"),
    ("no-kdf-function", "pbkdf2", _set("", *KDF, "function"), "missing field crypto.kdf.function"),
    ("no-checksum", "pbkdf2", _delete("crypto", "checksum"), "crypto.checksum"),
    ("no-cipher", "pbkdf2", _delete(*CIPHER), "missing field crypto.cipher"),
    ("no-iv", "pbkdf2", _delete(*CIPHER, "params", "iv"), "crypto.cipher.params.iv"),
    ("no-salt", "pbkdf2", _delete(*PARAMS, "salt"), "crypto.kdf.params.salt"),
    ("no-c", "pbkdf2", _delete(*PARAMS, "c"), "crypto.kdf.params.c"),
    ("no-n", "scrypt", _delete(*PARAMS, "n"), "crypto.kdf.params.n"),
    ("short-iv", "pbkdf2", _set("00" * 15, *CIPHER, "params", "iv"), "16 bytes"),
    ("odd-hex-iv", "pbkdf2", _set("0" * 31, *CIPHER, "params", "iv"), "not valid hex"),
    ("spaced-hex", "pbkdf2", _set("00 " * 16, *CIPHER, "params", "iv"), "not valid hex"),
    ("empty-ciphertext", "pbkdf2", _set("", *CIPHER, "message"), "empty"),
    ("kdf-argon2", "pbkdf2", _set("argon2id", *KDF, "function"), "unsupported kdf 'argon2id'"),
    ("cipher-gcm", "pbkdf2", _set("aes-256-gcm", *CIPHER, "function"), "unsupported cipher"),
    ("checksum-sha512", "pbkdf2", _set("sha512", "crypto", "checksum", "function"), "checksum"),
    ("prf-sha512", "pbkdf2", _set("hmac-sha512", *PARAMS, "prf"), "unsupported pbkdf2 prf"),
    ("dklen-16", "pbkdf2", _set(16, *PARAMS, "dklen"), "dklen must be 32"),
    ("c-string", "pbkdf2", _set("1000", *PARAMS, "c"), "not an integer"),
    ("c-bool", "pbkdf2", _set(True, *PARAMS, "c"), "not an integer"),
    ("c-low", "pbkdf2", _set(999, *PARAMS, "c"), "out of bounds"),
    ("c-high", "pbkdf2", _set(10_000_001, *PARAMS, "c"), "out of bounds"),
    ("salt-short", "pbkdf2", _set("00" * 15, *PARAMS, "salt"), "salt length out of bounds"),
    ("salt-long", "scrypt", _set("00" * 65, *PARAMS, "salt"), "salt length out of bounds"),
    ("n-low", "scrypt", _set(512, *PARAMS, "n"), "out of bounds"),
    ("n-high", "scrypt", _set(1 << 21, *PARAMS, "n"), "out of bounds"),
    ("n-not-power", "scrypt", _set(3000, *PARAMS, "n"), "power of two"),
    ("r-zero", "scrypt", _set(0, *PARAMS, "r"), "out of bounds"),
    ("r-high", "scrypt", _set(33, *PARAMS, "r"), "out of bounds"),
    ("p-high", "scrypt", _set(17, *PARAMS, "p"), "out of bounds"),
    ("memory", "scrypt", _huge_scrypt, "1 GiB"),
]


@pytest.mark.parametrize(
    ("kdf", "mutate", "fragment"),
    [(kdf, mutate, fragment) for _, kdf, mutate, fragment in BROKEN],
    ids=[name for name, *_ in BROKEN],
)
def test_broken_fields_are_named(kdf: str, mutate: Mutation, fragment: str) -> None:
    document = _write_keystore(SECRET, "pw", kdf=kdf)
    mutate(document)
    with pytest.raises(KeystoreError) as caught:
        decrypt_eip2335(json.dumps(document), "pw", source="operator.json")
    _assert_one_line_naming(caught.value, "operator.json", fragment)


def test_integral_float_parameters_are_accepted() -> None:
    document = _write_keystore(SECRET, "pw")
    document["crypto"]["kdf"]["params"]["c"] = 1000.0
    assert decrypt_eip2335(json.dumps(document), "pw", source="k") == SECRET


async def test_zero_secret_is_refused_by_the_signer_as_a_keystore_error() -> None:
    text = json.dumps(_write_keystore(b"\x00", "pw"))
    with pytest.raises(KeystoreError) as caught:
        await signer_from_keystore(text, "pw", source="zero.json", curve=SigningCurve.BN254)
    _assert_one_line_naming(caught.value, "zero.json", "zero")


def test_unencodable_password_is_a_keystore_error() -> None:
    text = json.dumps(_write_keystore(SECRET, "pw"))
    with pytest.raises(KeystoreError, match="not valid Unicode"):
        decrypt_eip2335(text, "\ud800", source="k")


def test_keystore_curve_errors_name_the_source() -> None:
    with pytest.raises(KeystoreError) as caught:
        keystore_curve("{", source="curve.json")
    _assert_one_line_naming(caught.value, "curve.json", "not valid JSON")
    assert keystore_curve('{"pubkey": "00"}') is None


# --- properties -------------------------------------------------------------------------------

CONTROL = st.characters(codec="utf-8", categories=["Cc"])  # C0, DEL and C1

PASSWORDS = st.text(st.characters(codec="utf-8"), max_size=24)


@given(PASSWORDS)
def test_processed_password_is_utf8_without_control_codes(password: str) -> None:
    processed = process_password(password).decode("utf-8")
    assert not any(ord(c) <= 0x1F or 0x7F <= ord(c) <= 0x9F for c in processed)


@given(PASSWORDS, st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
def test_equivalent_spellings_give_the_same_password(password: str, form: Any) -> None:
    assert process_password(unicodedata.normalize(form, password)) == process_password(password)


@given(st.text(CONTROL, max_size=4), PASSWORDS, st.text(CONTROL, max_size=4))
def test_surrounding_control_codes_are_ignored(prefix: str, password: str, suffix: str) -> None:
    assert process_password(prefix + password + suffix) == process_password(password)


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_ascii_passwords_are_used_as_is(password: str) -> None:
    assert process_password(password) == password.encode("ascii")


@given(PASSWORDS)
def test_processing_matches_the_category_based_definition(password: str) -> None:
    assert process_password(password) == _reference_password(password)


@settings(max_examples=40)
@given(st.binary(min_size=1, max_size=64), PASSWORDS)
def test_any_secret_and_password_round_trip(secret: bytes, password: str) -> None:
    text = json.dumps(_write_keystore(secret, password))
    assert decrypt_eip2335(text, password, source="inline keystore") == secret


@settings(max_examples=5, deadline=None)
@given(
    st.integers(min_value=1, max_value=bn254.CURVE_ORDER - 1),
    st.binary(min_size=32, max_size=32),
    st.integers(min_value=0, max_value=64 * 8 - 1),
    st.integers(min_value=0, max_value=32 * 8 - 1),
)
def test_key_from_keystore_signs_and_verifies(
    secret: int, digest: bytes, signature_bit: int, digest_bit: int
) -> None:
    """Secret → keystore → signer → signature the pairing check accepts; a flipped bit breaks it
    unless the digest hashes to the same point.

    The secret is stored in minimal big-endian form, as crypto-libs writes it.
    """
    stored = secret.to_bytes((secret.bit_length() + 7) // 8, "big")
    text = json.dumps(_write_keystore(stored, "pw"))
    signer = Bn254ResultSigner(decrypt_eip2335(text, "pw", source="inline keystore"))
    signature = signer.sign_digest(digest)
    assert len(signature) == 64
    assert bn254.verify_solidity(signer.public_key_g2, digest, signature)

    flipped_signature = bytearray(signature)
    flipped_signature[signature_bit // 8] ^= 1 << (signature_bit % 8)
    assert not bn254.verify_solidity(signer.public_key_g2, digest, bytes(flipped_signature))
    flipped_digest = bytearray(digest)
    flipped_digest[digest_bit // 8] ^= 1 << (digest_bit % 8)
    # Try-and-increment hashing (BN254.hashToG1) maps a digest whose x is no curve point to
    # the next one that is, so flipping the lowest bit can land on the same point: then, and
    # only then, the signature verifies for both.
    same_point = solidity_hash_to_g1(bytes(flipped_digest)) == solidity_hash_to_g1(digest)
    assert (
        bn254.verify_solidity(signer.public_key_g2, bytes(flipped_digest), signature) is same_point
    )
