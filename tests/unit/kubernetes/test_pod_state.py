"""A pod's status, read as the executor acts on it: why it will not start, how it died."""

from __future__ import annotations

from typing import Any

import pytest

from executor_adapters.kubernetes._pod_state import (
    PodView,
    death_events,
    found_container,
    repo_digest,
    start_failure,
)
from executor_core.errors import (
    ContainerRuntimeError,
    ContainerStartFailed,
    ImageNotFound,
    RegistryUnavailable,
)
from executor_core.performers import Endpoint
from executor_core.ports import ContainerEvent, ContainerEventKind


def pod(state: dict[str, Any], *, phase: str = "Pending", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "uid": "u", "labels": {"app": "x"}},
        "spec": {
            "containers": [
                {
                    "name": "performer",
                    "image": "repo@sha256:" + "a" * 64,
                    "env": [
                        {"name": "A", "value": "1"},
                        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                    ],
                }
            ]
        },
        "status": {
            "phase": phase,
            "containerStatuses": [{"name": "performer", "state": state, **status}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


@pytest.mark.parametrize(
    ("reason", "message", "error"),
    [
        ("ErrImagePull", 'failed to resolve reference "x": not found', ImageNotFound),
        (
            "ImagePullBackOff",
            "dial tcp 127.0.0.1:1: connect: connection refused",
            RegistryUnavailable,
        ),
        ("ErrImagePull", "something else", ContainerRuntimeError),
        ("InvalidImageName", "bad", ImageNotFound),
        ("CreateContainerConfigError", 'secret "s" not found', ContainerStartFailed),
        ("CrashLoopBackOff", "back-off", ContainerStartFailed),
    ],
)
def test_a_waiting_reason_names_the_start_failure(
    reason: str, message: str, error: type[Exception]
) -> None:
    failure = start_failure(PodView.of(pod({"waiting": {"reason": reason, "message": message}})))

    assert type(failure) is error
    assert message in str(failure)


def test_a_pod_still_creating_its_container_has_not_failed() -> None:
    view = PodView.of(pod({"waiting": {"reason": "ContainerCreating"}}))

    assert start_failure(view) is None
    assert not view.alive


def test_a_terminated_performer_failed_to_start() -> None:
    view = PodView.of(pod({"terminated": {"exitCode": 3, "reason": "Error"}}, phase="Failed"))

    assert isinstance(start_failure(view), ContainerStartFailed)
    assert "code 3" in str(start_failure(view))


def test_a_running_ready_pod_is_alive_until_it_is_deleted() -> None:
    running = pod({"running": {}}, phase="Running")

    assert PodView.of(running).alive
    assert PodView.of(running).ready
    running["metadata"]["deletionTimestamp"] = "2026-12-01T00:00:00Z"
    assert not PodView.of(running).alive


def test_a_kernel_memory_kill_is_oom_then_die_as_docker_reports_it() -> None:
    view = PodView.of(pod({"terminated": {"exitCode": 137, "reason": "OOMKilled"}}))

    assert death_events(view) == [
        ContainerEvent("p", ContainerEventKind.OOM_KILLED, 137),
        ContainerEvent("p", ContainerEventKind.DIED, 137),
    ]


def test_a_living_pod_has_no_death() -> None:
    assert death_events(PodView.of(pod({"running": {}}, phase="Running"))) == []


def test_an_unschedulable_pod_says_why() -> None:
    waiting = pod({})
    waiting["status"]["conditions"] = [
        {"type": "PodScheduled", "reason": "Unschedulable", "message": "0/1 nodes: cpu"}
    ]

    assert PodView.of(waiting).unschedulable == "0/1 nodes: cpu"


def test_a_found_pod_gives_its_plain_env_digest_and_endpoint_only_while_alive() -> None:
    image_id = "127.0.0.1:5000/repo@sha256:" + "b" * 64
    alive = pod({"running": {}}, phase="Running", imageID=image_id)
    endpoint = Endpoint("127.0.0.1", 4000)

    found = found_container(alive, endpoint)

    assert found.env == (("A", "1"),)
    assert found.image_digest == "sha256:" + "b" * 64
    assert found.endpoint == endpoint
    assert found.running
    assert found_container(pod({"terminated": {"exitCode": 0}}), endpoint).endpoint is None


def test_an_image_known_by_config_id_only_has_no_repo_digest() -> None:
    assert repo_digest("sha256:" + "c" * 64) == ""
    assert repo_digest("docker.io/library/x@sha256:" + "c" * 64) == "sha256:" + "c" * 64
