"""Which RepoDigests entry of an inspected image is the digest of a performer's repository."""

from __future__ import annotations

import pytest

from executor_adapters.docker._payloads import ContainerState, repo_digest

A = "sha256:" + "aa" * 32
B = "sha256:" + "bb" * 32


@pytest.mark.parametrize(
    ("repo_digests", "repository", "preferred", "digest"),
    [
        ([f"127.0.0.1:5000/avs@{A}"], "127.0.0.1:5000/avs", "", A),
        ([f"127.0.0.1:5000/other@{A}"], "127.0.0.1:5000/avs", "", ""),
        ([f"ghcr.io/acme/avs@{A}", f"127.0.0.1:5000/avs@{B}"], "127.0.0.1:5000/avs", "", B),
        ([f"127.0.0.1:5000/avs@{A}", f"127.0.0.1:5000/avs@{B}"], "127.0.0.1:5000/avs", B, B),
        ([f"busybox@{A}"], "docker.io/library/busybox", "", A),
        ([], "hourglass-example-performer", "", ""),
        (None, "hourglass-example-performer", "", ""),
    ],
)
def test_the_digest_is_the_one_recorded_for_the_repository(
    repo_digests: list[str] | None, repository: str, preferred: str, digest: str
) -> None:
    assert repo_digest({"RepoDigests": repo_digests}, repository, preferred=preferred) == digest


def test_the_container_state_names_the_image_it_was_created_from() -> None:
    state = ContainerState.from_inspect({"Image": A, "State": {"Running": True}})
    assert state.image_id == A
    assert ContainerState.from_inspect({}).image_id == ""
