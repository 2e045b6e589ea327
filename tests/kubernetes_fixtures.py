"""The `kubernetes_cluster` fixture: one real local cluster for the session (see
tests/kubernetes_support.py).

A test that uses it is marked `kubernetes` (so `-m "not kubernetes"` leaves those out). It skips
only where the cluster cannot run at all (not root, or no Go to build Kubernetes with); a failing
scripts/setup-k8s.sh or cluster start is an error, not a skip, so that it cannot go unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.kubernetes_support import (
    LocalCluster,
    running_cluster,
    setup_machine,
    unavailable_reason,
)

_KUBERNETES_FIXTURES = frozenset({"kubernetes_cluster"})


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _KUBERNETES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kubernetes)


@pytest.fixture(scope="session")
def kubernetes_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """etcd, the control plane, containerd and a kubelet on loopback, for the whole session."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    setup_machine()
    with running_cluster(tmp_path_factory.mktemp("kubernetes")) as cluster:
        yield cluster
