"""Session-wide fixtures: a run id for names and labels, and cleanup of what this run made."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from tests.docker_support import (
    CREATED_BY_THIS_RUN,
    containers_with_label,
    docker_answers,
    networks_with_label,
)
from tests.registry_support import LocalRegistry, running_registry

pytest_plugins = ("tests.chain_fixtures", "tests.kubernetes_fixtures")


@pytest.fixture(scope="session")
def registry() -> Iterator[LocalRegistry]:
    """A docker-registry on loopback with the example performer's v1, v2, broken and turns_bad."""
    with running_registry() as started:
        yield started


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session", autouse=True)
def remove_what_this_run_created() -> Iterator[None]:
    """Executors remove their own containers; this catches what a failing test left behind.

    Tests record the labels of what they start (an executor instance, a performer id) in
    CREATED_BY_THIS_RUN; only containers and networks with those labels are removed, by id, so
    a test run never touches another run's objects.
    """
    yield
    if not CREATED_BY_THIS_RUN or not docker_answers():
        return
    for label in CREATED_BY_THIS_RUN:
        for container_id in containers_with_label(label):
            subprocess.run(["docker", "rm", "-f", container_id], capture_output=True, check=False)
    for label in CREATED_BY_THIS_RUN:
        for network_id in networks_with_label(label):
            subprocess.run(
                ["docker", "network", "rm", network_id], capture_output=True, check=False
            )
