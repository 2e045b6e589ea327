"""Session-wide fixtures: a run id for names and labels, and cleanup of what this run made."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.docker_support import containers_with_label, docker_answers, networks_with_label

MANAGED = "com.eigenlayer.hourglass.managed-by=hourglass-executor-py"


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session", autouse=True)
def remove_what_this_run_created() -> Iterator[None]:
    """Executors remove their own containers; this catches what a failing test left behind.

    Only objects that carry the executor's label and did not exist when the run began are
    removed, by id.
    """
    if not docker_answers():
        yield
        return
    containers_before = set(containers_with_label(MANAGED))
    networks_before = set(networks_with_label(MANAGED))
    yield
    for container_id in set(containers_with_label(MANAGED)) - containers_before:
        subprocess.run(["docker", "rm", "-f", container_id], capture_output=True, check=False)
    for network_id in set(networks_with_label(MANAGED)) - networks_before:
        subprocess.run(["docker", "network", "rm", network_id], capture_output=True, check=False)
