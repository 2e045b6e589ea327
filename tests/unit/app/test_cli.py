"""The `executor` command: bad configs and keystores give one line per problem and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docker_support import REPO

KEYSTORE = REPO / "examples/keys/executor-bn254.json"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "executor_app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def config_text(**overrides: str) -> str:
    values = {
        "address": "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc",
        "keystore": str(KEYSTORE),
        "password": '""',
        "curve": "bn254",
        "avs": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    }
    values.update(overrides)
    return f"""
grpcPort: 9090
operator:
  address: "{values["address"]}"
  signingKeys:
    bls:
      keystoreFile: {values["keystore"]}
      password: {values["password"]}
avsPerformers:
  - avsAddress: "{values["avs"]}"
    image: {{repository: hourglass-example-performer, tag: latest}}
    workerCount: 1
    signingCurve: {values["curve"]}
    verifyAggregatorSignature: false
"""


def write(tmp_path: Path, text: str, name: str = "executor.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_config_problem_is_reported_at_once_with_its_path(tmp_path: Path) -> None:
    path = write(tmp_path, config_text(address="0x12", curve="ed25519"))
    result = run_cli("run", "--config", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(
        "avsPerformers[0].signingCurve: must be one of bn254, bls381, ecdsa" in line
        for line in lines
    )
    assert any("operator.address" in line for line in lines)


def test_a_missing_config_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("run", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_wrong_keystore_password_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, config_text(password='"not-the-password"'))
    result = run_cli("run", "--config", str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("executor: ")]
    assert len(errors) == 1
    assert "wrong password" in errors[0]
    assert str(KEYSTORE) in errors[0]


@pytest.mark.parametrize("content", ["{not json", json.dumps({"crypto": {}})])
def test_a_corrupt_keystore_is_one_line_and_exit_2(tmp_path: Path, content: str) -> None:
    keystore = write(tmp_path, content, "key.json")
    path = write(tmp_path, config_text(keystore=str(keystore)))
    result = run_cli("run", "--config", str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("executor: ")]
    assert len(errors) == 1
    assert str(keystore) in errors[0] or "signingKeys.bls.keystoreFile" in errors[0]


def test_config_validate_accepts_the_example_config() -> None:
    result = run_cli("config", "validate", "--config", str(REPO / "examples/config/executor.yaml"))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_version_prints_the_package_version() -> None:
    result = run_cli("version")
    assert result.returncode == 0
    assert result.stdout.startswith("executor ")
