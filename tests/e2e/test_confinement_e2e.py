"""End to end with every confinement on: the example performer, read-only as an unprivileged
user with no capabilities and its limits, on an internal network reached through its relay,
serves tasks; and the executor leaves nothing behind."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator

import attrs
import pytest

from executor_adapters.config import ExecutorConfig, load_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_app.bootstrap import ExecutorApp
from executor_core.performers import MIB, PerformerImage
from tests.docker_support import (
    INSTANCE_LABEL,
    REPO,
    containers_with_label,
    require_example_image,
)
from tests.e2e.apps import started_executor
from tests.e2e.test_submit_task_e2e import AVS, submission, verifies

pytestmark = pytest.mark.docker

RELAY_IMAGE = PerformerImage("hourglass-python-base", tag="bookworm")


def confined_config(network: str) -> ExecutorConfig:
    """The example config (whose performer runs read-only, as 65532, with limits) on an
    internal performer network."""
    config = load_config(REPO / "examples/config/executor.yaml")
    return attrs.evolve(
        config,
        performer_network_name=network,
        performer_network_internal=True,
        performer_network_relay_image=RELAY_IMAGE,
    )


def inspect(container_id: str) -> dict[str, object]:
    out = subprocess.run(
        ["docker", "inspect", container_id], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, object] = json.loads(out)[0]
    return found


def network_exists(name: str) -> bool:
    found = subprocess.run(["docker", "network", "inspect", name], capture_output=True, check=False)
    return found.returncode == 0


def network_is_internal(name: str) -> bool:
    out = subprocess.run(
        ["docker", "network", "inspect", "--format", "{{.Internal}}", name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip() == "true"


@pytest.fixture
async def confined_app(run_id: str) -> AsyncIterator[ExecutorApp]:
    require_example_image()
    async with started_executor(confined_config(f"executor-e2e-confined-{run_id}")) as app:
        yield app


async def test_the_confined_example_performer_serves_tasks(confined_app: ExecutorApp) -> None:
    async with ExecutorClient(f"127.0.0.1:{confined_app.port}") as client:
        results = [
            await client.submit_task(submission(n, f"0x{n:064x}"), timeout=30) for n in (3, 99)
        ]
        (performer,) = (await client.list_performers(AVS.lower())).performers

    keystore = confined_app.config.operator.signing_keys.bls
    assert keystore is not None
    pubkey = json.loads(keystore.keystore)["pubkey"]
    for n, result in zip((3, 99), results, strict=True):
        assert int.from_bytes(result.output, "big") == n * n
        assert verifies(pubkey, result.output, result.result_signature)

    info = inspect(performer.container_id)
    host = info["HostConfig"]
    config = info["Config"]
    assert isinstance(host, dict)
    assert isinstance(config, dict)
    assert host["ReadonlyRootfs"] is True
    assert host["Tmpfs"] == {"/tmp": f"rw,nosuid,nodev,size={16 * MIB}"}
    assert config["User"] == "65532:65532"
    assert host["CapDrop"] == ["ALL"]
    assert host["CapAdd"] in (None, [])
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["PidsLimit"] == 256
    assert host["Memory"] == 512 * MIB
    assert host["NanoCpus"] == 1_000_000_000
    assert host["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-size": "10m", "max-file": "3"},
    }
    network = confined_app.config.performer_network_name
    assert network_is_internal(network)
    settings = info["NetworkSettings"]
    assert isinstance(settings, dict)
    assert set(settings["Networks"]) == {network}


async def test_the_performer_and_its_relay_are_gone_after_stop(run_id: str) -> None:
    require_example_image()
    name = f"executor-e2e-confined-stop-{run_id}"
    async with started_executor(confined_config(name)) as app:
        label = f"{INSTANCE_LABEL}={app.instance_id}"
        assert len(containers_with_label(label)) == 2  # the performer and its relay
        assert network_exists(name)
    assert containers_with_label(label) == []
    assert not network_exists(name)
