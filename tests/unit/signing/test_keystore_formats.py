"""Keystore formats beyond plain EIP-2335 reading: legacy BN254, go-ethereum v3, writers, loader.

The upstream files use scrypt n = 2^18 (about a second each), so only three of them are decrypted
at full strength, once per module: `legacy-bn254.json` and the two hgctl v3 files. Everything
else (wrong passwords, corruptions, writer round trips) runs on copies re-encrypted with cheap
scrypt parameters, or fails before any key derivation.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor_adapters.keystores.eip2335 import KeystoreError, decrypt_eip2335, process_password
from executor_adapters.keystores.loader import (
    LoadedKey,
    inspect_keystore,
    load_keystore,
    load_keystore_async,
)
from executor_adapters.keystores.v3 import (
    decrypt_legacy,
    decrypt_web3_v3,
)
from executor_adapters.keystores.writer import (
    DEFAULT_SCRYPT,
    ScryptParams,
    v3_crypto,
    write_eip2335,
    write_v3,
)
from executor_adapters.signing import bls381, bn254, ecdsa
from tests.vectors import VECTORS_DIR, load_vector

INDEX = {entry["file"]: entry for entry in load_vector("keystores.json")["keystores"]}
LEGACY = INDEX["keystores/legacy-bn254.json"]
V3_FILES = [INDEX["keystores/hgctl-executor-ecdsa-v3.json"]]
V3_SYSTEM = INDEX["keystores/hgctl-executor-system-ecdsa-v3.json"]
FAST = ScryptParams(n=1024, r=8, p=1)
PASSWORD = "correct horse"


def _text(entry: dict[str, Any]) -> str:
    return (VECTORS_DIR / str(entry["file"])).read_text(encoding="utf-8")


def _one_line_naming(error: KeystoreError, source: str) -> str:
    message = str(error)
    assert "\n" not in message
    assert source in message
    return message


def _legacy_text(plaintext: bytes, password: str, **overrides: Any) -> str:
    """A legacy BN254 keystore as crypto-libs writes it, with cheap scrypt parameters."""
    document: dict[str, Any] = {
        "publicKey": bn254.public_key_g2(int.from_bytes(plaintext, "big")).hex(),
        "crypto": v3_crypto(plaintext, password, scrypt=FAST),
        "uuid": str(uuid.uuid4()),
        "version": 4,
        "curveType": "bn254",
    }
    document.update(overrides)
    return json.dumps(document)


# --- upstream files at full strength (three scrypt n = 2^18 decryptions) ----------------------


@pytest.fixture(scope="module")
def legacy_loaded() -> LoadedKey:
    return load_keystore(
        _text(LEGACY), LEGACY["password"], source=LEGACY["file"], expected_curve="bn254"
    )


def test_legacy_bn254_decrypts_to_the_stored_bytes(legacy_loaded: LoadedKey) -> None:
    curve, secret = legacy_loaded
    assert curve == "bn254"
    assert secret.hex() == LEGACY["decrypted_plaintext_hex"]
    assert secret.decode("ascii") == LEGACY["decrypted_plaintext_ascii"]
    # the stored publicKey is the G2 key of the plaintext bytes read as one big-endian integer
    public_key = json.loads(_text(LEGACY))["publicKey"]
    assert bn254.public_key_g2(int.from_bytes(secret, "big")).hex() == public_key
    assert bn254.public_key_g2(int(LEGACY["decrypted_plaintext_ascii"])).hex() != public_key


def test_hgctl_v3_files_decrypt_to_the_documented_keys() -> None:
    entry = V3_FILES[0]
    curve, secret = load_keystore(
        _text(entry), entry["password"], source=entry["file"], expected_curve="ecdsa"
    )
    assert (curve, secret.hex()) == ("ecdsa", entry["decrypted_secret_hex"])
    assert secret.hex() == entry["upstream_expected_secret_hex"]
    assert ecdsa.address_of(secret) == entry["upstream_expected_address"].lower()

    system = decrypt_web3_v3(_text(V3_SYSTEM), V3_SYSTEM["password"], source=V3_SYSTEM["file"])
    assert system.hex() == V3_SYSTEM["upstream_expected_secret_hex"]
    assert ecdsa.address_of(system) == V3_SYSTEM["upstream_expected_address"].lower()


# --- format detection (no decryption) ---------------------------------------------------------


@pytest.mark.parametrize("entry", INDEX.values(), ids=list(INDEX))
def test_every_upstream_file_is_recognised_without_a_password(entry: dict[str, Any]) -> None:
    info = inspect_keystore(_text(entry), source=entry["file"])
    expected_format = {"eip2335": "eip2335", "web3-v3": "web3-v3"}.get(entry["format"], "legacy")
    assert info.format == expected_format
    if info.format == "web3-v3":
        assert info.curve == "ecdsa"
        assert info.address == entry["derived_address"]
    elif entry["file"].startswith("keystores/eip2335-"):
        assert info.curve == "bls381"  # no curveType; a 48-byte Ethereum G1 pubkey
    else:
        assert info.curve == "bn254"


def test_unknown_documents_are_refused() -> None:
    for text in ("", "  ", "{}", "[]", "not json", '{"foo": 1}'):
        with pytest.raises(KeystoreError) as caught:
            inspect_keystore(text, source="odd.json")
        _one_line_naming(caught.value, "odd.json")


def test_curve_comes_from_curve_type_or_the_pubkey_size() -> None:
    def eip2335(**fields: Any) -> str:
        return json.dumps({"pubkey": "ab" * 128, "crypto": {}, **fields})

    assert inspect_keystore(eip2335(), source="s").curve == "bn254"
    assert inspect_keystore(eip2335(pubkey="ab" * 192), source="s").curve == "bls381"
    assert inspect_keystore(eip2335(pubkey="ab" * 96), source="s").curve == "bls381"
    assert inspect_keystore(eip2335(curveType="bls381"), source="s").curve == "bls381"
    assert inspect_keystore(eip2335(curveType="BN254"), source="s").curve == "bn254"
    assert inspect_keystore(eip2335(pubkey="ab" * 10), source="s").curve is None
    with pytest.raises(KeystoreError, match="unsupported curveType 'ed25519'"):
        inspect_keystore(eip2335(curveType="ed25519"), source="s")
    with pytest.raises(KeystoreError, match="pubkey is not valid hex"):
        inspect_keystore(eip2335(pubkey="xyz"), source="s")


# --- curve mismatches fail before any key derivation ------------------------------------------


@pytest.fixture
def no_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the KDF must not run for a curve mismatch")

    monkeypatch.setattr(hashlib, "scrypt", refuse)
    monkeypatch.setattr(hashlib, "pbkdf2_hmac", refuse)


@pytest.mark.usefixtures("no_kdf")
@pytest.mark.parametrize(
    ("file", "expected", "actual"),
    [
        ("keystores/eip2335-scrypt.json", "bn254", "bls381"),
        ("keystores/ponos-executor-bn254.json", "bls381", "bn254"),
        ("keystores/ponos-executor-bn254.json", "ecdsa", "bn254"),
        ("keystores/hgctl-executor-ecdsa-v3.json", "bn254", "ecdsa"),
        ("keystores/legacy-bn254.json", "bls381", "bn254"),
    ],
)
def test_a_keystore_for_another_curve_is_refused(file: str, expected: Any, actual: str) -> None:
    with pytest.raises(KeystoreError) as caught:
        load_keystore(_text(INDEX[file]), "", source=file, expected_curve=expected)
    message = _one_line_naming(caught.value, file)
    assert f"for {actual}" in message
    assert f"a {expected} key is needed" in message


@pytest.mark.usefixtures("no_kdf")
def test_a_bls381_keystore_for_a_bn254_avs_is_refused() -> None:
    text = json.dumps({"pubkey": "ab" * 128, "curveType": "bls381", "crypto": {}})
    with pytest.raises(KeystoreError, match=r"keystore /keys/op\.json: .*bls381.*bn254"):
        load_keystore(text, "", source="/keys/op.json", expected_curve="bn254")


def test_a_keystore_whose_curve_cannot_be_told_needs_an_expected_curve() -> None:
    secret = b"\x05" * 32
    document = json.loads(write_eip2335(secret, PASSWORD, curve="bn254", scrypt=FAST))
    del document["curveType"]
    document["pubkey"] = "ab" * 10
    text = json.dumps(document)
    with pytest.raises(KeystoreError, match="does not tell the curve"):
        load_keystore(text, PASSWORD, source="s")
    assert load_keystore(text, PASSWORD, source="s", expected_curve="bn254") == ("bn254", secret)


# --- writers round trip (cheap scrypt) --------------------------------------------------------


@pytest.mark.parametrize(
    ("curve", "path", "pubkey_bytes", "public_key_g2"),
    [
        ("bn254", "m/1/0/0", 128, lambda s: bn254.public_key_g2(int.from_bytes(s, "big"))),
        ("bls381", "m/12381/60/0/0", 192, bls381.public_key_g2),
    ],
)
def test_eip2335_writer_round_trips(
    curve: Any, path: str, pubkey_bytes: int, public_key_g2: Callable[[bytes], bytes]
) -> None:
    secret = bytes.fromhex("0f3b93ed51d9caff9d3750a49de3d6b5dac2eb18b020bec2d7cad05d5c4c3e5e")
    text = write_eip2335(secret, PASSWORD, curve=curve, scrypt=FAST)
    document = json.loads(text)
    assert document["curveType"] == curve
    assert document["path"] == path
    assert document["version"] == 4
    assert uuid.UUID(document["uuid"]).version == 4
    assert bytes.fromhex(document["pubkey"]) == public_key_g2(secret)
    assert len(bytes.fromhex(document["pubkey"])) == pubkey_bytes
    kdf = document["crypto"]["kdf"]
    assert kdf["function"] == "scrypt"
    assert {k: kdf["params"][k] for k in ("n", "r", "p", "dklen")} == {
        "n": 1024,
        "r": 8,
        "p": 1,
        "dklen": 32,
    }
    assert len(bytes.fromhex(kdf["params"]["salt"])) == 32
    assert len(bytes.fromhex(document["crypto"]["cipher"]["params"]["iv"])) == 16
    assert re.fullmatch(r"[0-9a-f]{64}", document["crypto"]["checksum"]["message"])
    assert load_keystore(text, PASSWORD, source="w", expected_curve=curve) == (curve, secret)
    assert decrypt_eip2335(text, PASSWORD, source="w") == secret


def test_eip2335_writer_processes_the_password_like_eip2335() -> None:
    password = INDEX["keystores/eip2335-scrypt.json"]["password"]  # Fraktur letters and 🔑
    assert process_password(password).hex() == "7465737470617373776f7264f09f9491"
    text = write_eip2335(b"\x07", password, curve="bls381", scrypt=FAST)
    assert decrypt_eip2335(text, "testpassword\x7f🔑", source="w") == b"\x07"


def test_eip2335_writer_keeps_short_secrets_as_given() -> None:
    text = write_eip2335(b"\x01\x02", "", curve="bn254", scrypt=FAST)
    assert load_keystore(text, "", source="w") == ("bn254", b"\x01\x02")


def test_writers_refuse_unusable_keys() -> None:
    with pytest.raises(ValueError, match="zero"):
        write_eip2335(bytes(32), PASSWORD, curve="bn254", scrypt=FAST)
    with pytest.raises(ValueError, match="zero"):
        write_eip2335(bls381.CURVE_ORDER.to_bytes(32, "big"), PASSWORD, curve="bls381")
    with pytest.raises(ValueError, match="unknown BLS curve"):
        write_eip2335(b"\x01", PASSWORD, curve="ecdsa", scrypt=FAST)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[1, n-1\]"):
        write_v3(bytes(32), PASSWORD, scrypt=FAST)


def test_default_scrypt_parameters_are_upstreams() -> None:
    assert (DEFAULT_SCRYPT.n, DEFAULT_SCRYPT.r, DEFAULT_SCRYPT.p) == (262144, 8, 1)
    for writer in (write_eip2335, write_v3):
        assert inspect.signature(writer).parameters["scrypt"].default is DEFAULT_SCRYPT
    with pytest.raises(ValueError, match="power of two"):
        ScryptParams(n=1000)


def test_v3_writer_round_trips_in_go_ethereum_layout() -> None:
    secret = bytes.fromhex(V3_SYSTEM["decrypted_secret_hex"])
    text = write_v3(secret, PASSWORD, scrypt=FAST)
    document = json.loads(text)
    assert set(document) == {"address", "crypto", "id", "version"}
    assert document["version"] == 3
    assert "0x" + document["address"] == V3_SYSTEM["derived_address"]
    assert set(document["crypto"]) == {
        "cipher",
        "ciphertext",
        "cipherparams",
        "kdf",
        "kdfparams",
        "mac",
    }
    assert load_keystore(text, PASSWORD, source="v", expected_curve="ecdsa") == ("ecdsa", secret)
    assert decrypt_web3_v3(text, PASSWORD, source="v") == secret


def test_v3_writer_pads_short_keys_to_32_bytes() -> None:
    text = write_v3(b"\x2a", PASSWORD, scrypt=FAST)
    assert decrypt_web3_v3(text, PASSWORD, source="v") == bytes(31) + b"\x2a"


@settings(max_examples=10, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.text(max_size=20))
def test_legacy_round_trips_any_plaintext_and_password(plaintext: bytes, password: str) -> None:
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return
    text = _legacy_text(plaintext, password)
    assert decrypt_legacy(text, password, source="l") == plaintext


def test_legacy_uses_the_raw_password_without_normalisation() -> None:
    angstrom_sign, a_ring = "\u212b", "\u00c5"  # NFKD maps both to "A" + U+030A
    text = _legacy_text(b"123", angstrom_sign)
    assert decrypt_legacy(text, angstrom_sign, source="l") == b"123"
    with pytest.raises(KeystoreError, match="wrong password"):
        decrypt_legacy(text, a_ring, source="l")


# --- wrong passwords and corrupt files --------------------------------------------------------


@pytest.mark.parametrize("kind", ["eip2335", "legacy", "v3"])
def test_a_wrong_password_is_one_line_naming_the_source(kind: str) -> None:
    if kind == "eip2335":
        text = write_eip2335(b"\x09", PASSWORD, curve="bn254", scrypt=FAST)
    elif kind == "legacy":
        text = _legacy_text(b"\x09", PASSWORD)
    else:
        text = write_v3(b"\x09", PASSWORD, scrypt=FAST)
    with pytest.raises(KeystoreError) as caught:
        load_keystore(text, "wrong horse", source="/etc/keys/op.json")
    message = _one_line_naming(caught.value, "/etc/keys/op.json")
    assert "wrong password" in message
    assert "wrong horse" not in message
    assert PASSWORD not in message


def _v3_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(write_v3(b"\x09", PASSWORD, scrypt=FAST))
    return document


def _corrupt(change: Callable[[dict[str, Any]], None]) -> str:
    document = _v3_document()
    change(document)
    return json.dumps(document)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = document
        for name in parents:
            target = target[name]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value

    return change


def _flip_ciphertext(document: dict[str, Any]) -> None:
    ciphertext = bytearray.fromhex(document["crypto"]["ciphertext"])
    ciphertext[0] ^= 1
    document["crypto"]["ciphertext"] = ciphertext.hex()


_FAST_PARAMS = {"dklen": 32, "n": 1024, "r": 8, "p": 1, "salt": "00" * 32}
CORRUPTIONS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("tampered-ciphertext", _flip_ciphertext, "wrong password"),
    ("mac-not-hex", _set("crypto.mac", "zz"), "crypto.mac is not valid hex"),
    ("no-mac", _set("crypto.mac", KeyError), "missing field crypto.mac"),
    ("cipher", _set("crypto.cipher", "aes-256-gcm"), "unsupported cipher"),
    ("kdf", _set("crypto.kdf", "argon2"), "unsupported kdf"),
    ("iv", _set("crypto.cipherparams.iv", "00" * 8), "iv must be 16 bytes"),
    ("empty-ciphertext", _set("crypto.ciphertext", ""), "ciphertext is empty"),
    ("huge-n", _set("crypto.kdfparams.n", 1 << 24), "n out of bounds"),
    ("n-not-power-of-two", _set("crypto.kdfparams.n", 1000), "power of two"),
    ("memory", _set("crypto.kdfparams", {**_FAST_PARAMS, "n": 1 << 20, "r": 16}), "1 GiB"),
    ("dklen", _set("crypto.kdfparams.dklen", 16), "dklen must be 32"),
    ("n-not-integer", _set("crypto.kdfparams.n", "1024"), "not an integer"),
    ("no-crypto", _set("crypto", KeyError), "missing field crypto"),
    ("version", _set("version", 1), "not a version 3 key file"),
    ("address", _set("address", "00" * 20), "differs from the file's address"),
]


@pytest.mark.parametrize(
    ("change", "problem"), [c[1:] for c in CORRUPTIONS], ids=[c[0] for c in CORRUPTIONS]
)
def test_corrupt_v3_files_give_one_line_errors(
    change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    with pytest.raises(KeystoreError) as caught:
        decrypt_web3_v3(_corrupt(change), PASSWORD, source="key.json")
    assert problem in _one_line_naming(caught.value, "key.json")


def test_v3_key_of_the_wrong_size_is_refused() -> None:
    document = {"crypto": v3_crypto(b"\x01" * 31, PASSWORD, scrypt=FAST), "version": 3}
    with pytest.raises(KeystoreError, match="the key is 31 bytes"):
        decrypt_web3_v3(json.dumps(document), PASSWORD, source="k")


def test_v3_capitalised_crypto_and_checksummed_address_are_accepted() -> None:
    document = _v3_document()
    document["Crypto"] = document.pop("crypto")
    document["address"] = "0x" + document["address"].upper()
    assert decrypt_web3_v3(json.dumps(document), PASSWORD, source="k") == bytes(31) + b"\x09"


def test_v3_pbkdf2_is_supported() -> None:
    salt, iv = b"\x01" * 32, b"\x02" * 16
    derived = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt, 1000, 32)
    from Crypto.Cipher import AES

    plaintext = b"\x0b" * 32
    ciphertext = AES.new(derived[:16], AES.MODE_CTR, nonce=b"", initial_value=iv).encrypt(plaintext)
    from executor_adapters.signing.keccak import keccak256

    document = {
        "version": 3,
        "crypto": {
            "cipher": "aes-128-ctr",
            "ciphertext": ciphertext.hex(),
            "cipherparams": {"iv": iv.hex()},
            "kdf": "pbkdf2",
            "kdfparams": {"c": 1000, "dklen": 32, "prf": "hmac-sha256", "salt": salt.hex()},
            "mac": keccak256(derived[16:32] + ciphertext).hex(),
        },
    }
    assert decrypt_web3_v3(json.dumps(document), PASSWORD, source="p") == plaintext


def test_legacy_needs_its_public_key_field() -> None:
    with pytest.raises(KeystoreError, match="missing field publicKey"):
        decrypt_legacy(_legacy_text(b"1", PASSWORD, publicKey=""), PASSWORD, source="l")


def test_loader_refuses_an_ecdsa_key_out_of_range() -> None:
    document = {"crypto": v3_crypto(bytes(32), PASSWORD, scrypt=FAST), "version": 3}
    with pytest.raises(KeystoreError, match=r"keystore z: .*\[1, n-1\]"):
        load_keystore(json.dumps(document), PASSWORD, source="z")


# --- async wrappers ---------------------------------------------------------------------------


async def test_async_wrappers_decrypt_in_a_thread() -> None:
    v3 = write_v3(b"\x0c", PASSWORD, scrypt=FAST)
    legacy = _legacy_text(b"\x0d", PASSWORD)
    assert await load_keystore_async(v3, PASSWORD, source="a", expected_curve="ecdsa") == (
        "ecdsa",
        bytes(31) + b"\x0c",
    )
    assert await load_keystore_async(legacy, PASSWORD, source="a", expected_curve="bn254") == (
        "bn254",
        b"\x0d",
    )
    with pytest.raises(KeystoreError, match="keystore a: wrong password"):
        await load_keystore_async(legacy, "nope", source="a")
