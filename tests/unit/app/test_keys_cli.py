"""`executor keys generate|show`, run as the operator runs it: `python -m executor_app keys …`.

Generated keystores use cheap scrypt parameters through the documented test hook
`EXECUTOR_KEYSTORE_TEST_KDF=fast`; the one full-strength decryption is the upstream ponos
executor keystore, whose G1 key is known.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from executor_adapters.keystores.loader import load_keystore
from executor_adapters.signing import bls381, bn254, ecdsa
from executor_app.keys_cli import TEST_KDF_ENV
from tests.vectors import VECTORS_DIR, load_vector

PASSWORD = "operator password"
PONOS = next(
    e
    for e in load_vector("keystores.json")["keystores"]
    if e["file"].endswith("ponos-executor-bn254.json")
)
PONOS_G2 = next(k for k in load_vector("bn254_keys.json")["keys"] if k["name"] == "ponos-executor")


def keys(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, TEST_KDF_ENV: "fast", "KEY_PASSWORD": PASSWORD, **env}
    return subprocess.run(
        [sys.executable, "-m", "executor_app", "keys", *args],
        capture_output=True,
        text=True,
        input=stdin if stdin is not None else "",
        timeout=120,
        env=environment,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if "warning:" not in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


def show_json(path: Path, *password: str) -> dict[str, Any]:
    result = keys("show", str(path), "--json", *password)
    assert result.returncode == 0, result.stderr
    shown: dict[str, Any] = json.loads(result.stdout)
    return shown


def words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]


# --- generate, then show ----------------------------------------------------------------------


@pytest.mark.parametrize("curve", ["bn254", "bls381", "ecdsa"])
def test_generate_then_show_for_each_curve(tmp_path: Path, curve: str) -> None:
    out = tmp_path / f"{curve}.json"
    generated = keys(
        "generate", "--curve", curve, "--out", str(out), "--password-env", "KEY_PASSWORD"
    )
    assert generated.returncode == 0, generated.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert f"{TEST_KDF_ENV}=fast" in generated.stderr  # the weak-KDF warning

    text = out.read_text()
    loaded_curve, secret = load_keystore(text, PASSWORD, source=str(out))
    assert loaded_curve == curve

    decrypted = show_json(out, "--password-env", "KEY_PASSWORD")
    stored = show_json(out)
    assert decrypted["decrypted"] is True
    assert stored["decrypted"] is False
    assert decrypted["curve"] == stored["curve"] == curve

    if curve == "bn254":
        scalar = int.from_bytes(secret, "big")
        g2 = bn254.public_key_g2(scalar)
        x_a1, x_a0, y_a1, y_a0 = words(g2)
        x, y = words(bn254.public_key_g1(scalar))
        assert decrypted["g1"]["X"] == str(x)
        assert decrypted["g1"]["Y"] == str(y)
        assert int(decrypted["g1"]["X_hex"], 16) == x
        assert stored["g1"] is None  # an EIP-2335 file stores only the G2 key
        for shown in (decrypted, stored):
            assert shown["g2"]["solidity"] == [[str(x_a1), str(x_a0)], [str(y_a1), str(y_a0)]]
            assert shown["g2"]["gnark_hex"] == g2.hex()
            assert [[int(v, 16) for v in pair] for pair in shown["g2"]["solidity_hex"]] == [
                [x_a1, x_a0],
                [y_a1, y_a0],
            ]
        assert g2.hex() in generated.stdout
    elif curve == "bls381":
        g2 = bls381.public_key_g2(secret)
        assert decrypted["g2"]["gnark_hex"] == stored["g2"]["gnark_hex"] == g2.hex()
        assert len(g2) == 192
        assert g2.hex() in generated.stdout
    else:
        address = ecdsa.address_of(secret)
        assert decrypted["address"] == stored["address"] == address
        assert decrypted["public_key_hex"] == ecdsa.public_key(secret).hex()
        assert stored["public_key_hex"] is None
        assert address in generated.stdout


def test_show_prints_readable_lines_by_default(tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    assert (
        keys(
            "generate", "--curve", "bn254", "--out", str(out), "--password-env", "KEY_PASSWORD"
        ).returncode
        == 0
    )
    result = keys("show", str(out), "--password-env", "KEY_PASSWORD")
    assert result.returncode == 0, result.stderr
    assert "G1 (X, Y):" in result.stdout
    assert "G2 [[X.A1, X.A0], [Y.A1, Y.A0]]:" in result.stdout
    assert "G2 gnark bytes (128):" in result.stdout


def test_generate_reads_one_line_from_a_non_terminal_stdin(tmp_path: Path) -> None:
    out = tmp_path / "stdin.json"
    result = keys("generate", "--curve", "ecdsa", "--out", str(out), stdin="from stdin\nignored\n")
    assert result.returncode == 0, result.stderr
    assert load_keystore(out.read_text(), "from stdin", source="s").curve == "ecdsa"


def test_generate_with_a_password_file(tmp_path: Path) -> None:
    password_file = tmp_path / "password.txt"
    password_file.write_text("from a file\n")
    out = tmp_path / "file.json"
    result = keys(
        "generate", "--curve", "bls381", "--out", str(out), "--password-file", str(password_file)
    )
    assert result.returncode == 0, result.stderr
    assert load_keystore(out.read_text(), "from a file", source="f").curve == "bls381"
    assert show_json(out, "--password-file", str(password_file))["decrypted"] is True


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "existing.json"
    out.write_text("precious")
    result = keys(
        "generate", "--curve", "bn254", "--out", str(out), "--password-env", "KEY_PASSWORD"
    )
    assert "already exists" in one_line_error(result)
    assert out.read_text() == "precious"


def test_generate_without_any_password_input_fails(tmp_path: Path) -> None:
    out = tmp_path / "none.json"
    result = keys("generate", "--curve", "bn254", "--out", str(out))
    assert "no password" in one_line_error(result)
    assert not out.exists()


def test_a_missing_password_variable_is_one_line(tmp_path: Path) -> None:
    result = keys(
        "generate",
        "--curve",
        "bn254",
        "--out",
        str(tmp_path / "k.json"),
        "--password-env",
        "NOT_SET_ANYWHERE",
    )
    assert "NOT_SET_ANYWHERE is not set" in one_line_error(result)


def test_an_unknown_test_kdf_mode_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    result = keys(
        "generate",
        "--curve",
        "bn254",
        "--out",
        str(out),
        "--password-env",
        "KEY_PASSWORD",
        **{TEST_KDF_ENV: "turbo"},
    )
    assert TEST_KDF_ENV in one_line_error(result)
    assert not out.exists()


# --- show: errors -----------------------------------------------------------------------------


def test_show_with_a_wrong_password_is_one_line_naming_the_file(tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    assert (
        keys(
            "generate", "--curve", "ecdsa", "--out", str(out), "--password-env", "KEY_PASSWORD"
        ).returncode
        == 0
    )
    line = one_line_error(keys("show", str(out), "--password-env", "WRONG", WRONG="nope"))
    assert str(out) in line
    assert "wrong password" in line
    assert "nope" not in line


def test_show_refuses_a_pubkey_that_does_not_belong_to_the_secret(tmp_path: Path) -> None:
    out = tmp_path / "k.json"
    assert (
        keys(
            "generate", "--curve", "bn254", "--out", str(out), "--password-env", "KEY_PASSWORD"
        ).returncode
        == 0
    )
    document = json.loads(out.read_text())
    document["pubkey"] = bn254.public_key_g2(12345).hex()
    out.write_text(json.dumps(document))
    assert "does not belong" in one_line_error(
        keys("show", str(out), "--password-env", "KEY_PASSWORD")
    )
    assert show_json(out)["g2"]["gnark_hex"] == document["pubkey"]  # without a password: as stored


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read"),
        ("", "empty keystore"),
        ('{"foo": 1}', "not a keystore of a known format"),
    ],
)
def test_show_of_a_missing_or_unknown_file_is_one_line(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "k.json"
    if content is not None:
        path.write_text(content)
    assert problem in one_line_error(keys("show", str(path)))


# --- show: upstream files ---------------------------------------------------------------------


def test_show_the_upstream_ponos_keystore_without_and_with_its_empty_password() -> None:
    path = VECTORS_DIR / PONOS["file"]
    stored = show_json(path)
    assert stored["g2"]["gnark_hex"] == PONOS_G2["pubkey_g2_bytes_hex"]
    decrypted = show_json(path, "--password-env", "EMPTY_PASSWORD")  # a full-strength scrypt
    assert [decrypted["g1"]["X"], decrypted["g1"]["Y"]] == PONOS["g1_pubkey_solidity"]
    assert decrypted["g2"] == stored["g2"]


def test_show_an_upstream_v3_file_without_a_password() -> None:
    entry = next(
        e
        for e in load_vector("keystores.json")["keystores"]
        if e["file"].endswith("hgctl-executor-ecdsa-v3.json")
    )
    shown = show_json(VECTORS_DIR / entry["file"])
    assert shown["address"] == entry["derived_address"]
    assert shown["format"] == "web3-v3"


@pytest.fixture(autouse=True)
def _empty_password_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPTY_PASSWORD", "")
