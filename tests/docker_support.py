"""Helpers for tests that need the Docker engine and the example performer image."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_IMAGE = "hourglass-example-performer:latest"
TEST_LABEL = "com.eigenlayer.hourglass.test"
INSTANCE_LABEL = "com.eigenlayer.hourglass.executor-instance"
PERFORMER_LABEL = "com.eigenlayer.hourglass.performer-id"

CREATED_BY_THIS_RUN: list[str] = []
"""`key=value` labels of every Docker object this test run made; the session cleanup uses them."""


NAME_LABEL = "com.eigenlayer.hourglass.executor-name"


def track_instance(instance_id: str, executor_name: str | None = None) -> None:
    """Let the session cleanup remove what this executor instance leaves behind: containers
    carry its instance label, networks only its (stable) name."""
    CREATED_BY_THIS_RUN.append(f"{INSTANCE_LABEL}={instance_id}")
    if executor_name:
        CREATED_BY_THIS_RUN.append(f"{NAME_LABEL}={executor_name}")


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def require_example_image() -> None:
    if not docker_answers():
        pytest.skip("no Docker engine answers (run scripts/setup-env.sh)")
    found = subprocess.run(
        ["docker", "image", "inspect", EXAMPLE_IMAGE], capture_output=True, check=False
    )
    if found.returncode != 0:
        pytest.skip(f"{EXAMPLE_IMAGE} is missing (run examples/performer/build-image.sh)")


def containers_with_label(label: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-a", "--no-trunc", "--filter", f"label={label}", "--format", "{{.ID}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def networks_with_label(label: str) -> list[str]:
    out = subprocess.run(
        [
            "docker",
            "network",
            "ls",
            "--no-trunc",
            "--filter",
            f"label={label}",
            "--format",
            "{{json .ID}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
