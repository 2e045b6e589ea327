"""`executor ctl` end to end: the command as an operator runs it (`python -m executor_app ctl`)
against a running executor with real Docker, deploying from a real local registry."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from executor_adapters.config import AuthorizedKeyConfig, ExecutorConfig, load_config
from executor_app.bootstrap import ExecutorApp
from executor_core.addresses import Address
from tests.docker_support import REPO, require_example_image
from tests.e2e.apps import started_executor

pytestmark = pytest.mark.docker

AVS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@attrs.frozen
class Ran:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


async def ctl(target: str, *argv: str, **env: str) -> Ran:
    """Run `executor ctl --target TARGET ARGV…` without blocking the executor's event loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "executor_app",
        "ctl",
        "--target",
        target,
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
    )
    async with asyncio.timeout(180):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def ctl_config(network: str) -> ExecutorConfig:
    config = load_config(REPO / "examples/config/executor.yaml")
    policy = attrs.evolve(config.deployment, timeout=20.0, probation_period=0.0, drain_timeout=10.0)
    return attrs.evolve(config, performer_network_name=network, deployment=policy)


@pytest.fixture
async def running_app(run_id: str) -> AsyncIterator[ExecutorApp]:
    require_example_image()
    async with started_executor(ctl_config(f"executor-e2e-ctl-{run_id}")) as app:
        yield app


async def test_list_deploy_remove_and_health_through_ctl(
    running_app: ExecutorApp, registry: Any
) -> None:
    target = f"127.0.0.1:{running_app.port}"

    health = await ctl(target, "health")
    assert health.status == 0, health.err
    assert "(server)" in health.out
    assert (await ctl(target, "health", "--json")).json() == {
        "target": target,
        "status": "SERVING",
        "services": {
            "eigenlayer.hourglass.v1.ExecutorService": "SERVING",
            "eigenlayer.hourglass.v1.ExecutorManagementService": "SERVING",
        },
    }

    listed = await ctl(target, "list")
    assert listed.status == 0, listed.err
    [configured] = (await ctl(target, "--json", "list")).json()["performers"]
    assert configured["image"] == "hourglass-example-performer:latest"
    assert configured["performer_id"] in listed.out
    assert configured["container_id"][:12] in listed.out

    image = registry.v1
    deployed = await ctl(
        target, "deploy", "--avs", AVS, "--registry", image.repository, "--digest", image.digest
    )
    assert deployed.status == 0, deployed.err
    deployment_id = deployed.out.strip()
    assert deployment_id.startswith("deployment-")

    after = (await ctl(target, "list", "--avs", AVS, "--json")).json()["performers"]
    [new] = [p for p in after if p["artifact_digest"] == image.digest]
    assert new["status"] == "InService"
    assert new["image"] == image.reference
    assert new["resource_healthy"]
    table = (await ctl(target, "list")).out
    assert new["performer_id"] in table
    assert image.reference in table

    removed = await ctl(target, "remove", new["performer_id"])
    assert removed.status == 0, removed.err
    assert new["performer_id"] in removed.out
    remaining = (await ctl(target, "--json", "list")).json()["performers"]
    assert new["performer_id"] not in [p["performer_id"] for p in remaining]


async def test_ctl_exits_1_for_a_refused_call_and_2_for_a_usage_error(
    running_app: ExecutorApp,
) -> None:
    target = f"127.0.0.1:{running_app.port}"
    refused = await ctl(target, "remove", "performer-unknown")
    assert refused.status == 1
    assert refused.out == ""
    assert refused.err.startswith("error: NOT_FOUND: ")
    assert "performer-unknown" in refused.err
    as_json = await ctl(target, "--json", "remove", "performer-unknown")
    assert as_json.status == 1
    assert as_json.json()["error"]["code"] == "NOT_FOUND"

    usage = await ctl(target, "deploy", "--avs", AVS, "--registry", "127.0.0.1:1/x")
    assert usage.status == 2
    assert "--digest" in usage.err
    token = await ctl(target, "token", "--operator", "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc")
    assert token.status == 1
    assert token.err.startswith("error: UNIMPLEMENTED: ")  # authentication is off


OPERATOR = "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
FAST_KDF = {"EXECUTOR_KEYSTORE_TEST_KDF": "fast", "CTL_TEST_PASSWORD": "admin password"}


async def new_ecdsa_keystore(path: Path) -> str:
    """Write an ECDSA v3 key file as an operator would, and return its address."""
    made = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "executor_app",
        "keys",
        "generate",
        "--curve",
        "ecdsa",
        "--out",
        str(path),
        "--password-env",
        "CTL_TEST_PASSWORD",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **FAST_KDF},
    )
    await made.communicate()
    assert made.returncode == 0
    stored: dict[str, Any] = json.loads(await asyncio.to_thread(path.read_text))
    return "0x" + str(stored["address"]).removeprefix("0x")


@pytest.fixture
async def authenticated_app(run_id: str, tmp_path: Path) -> AsyncIterator[tuple[ExecutorApp, Path]]:
    """The executor with authentication on, the operator's BN254 key and one admin ECDSA key."""
    require_example_image()
    admin = tmp_path / "admin.json"
    address = await new_ecdsa_keystore(admin)
    config = ctl_config(f"executor-e2e-ctl-auth-{run_id}")
    management = attrs.evolve(
        config.management,
        authorized_keys=(AuthorizedKeyConfig(ecdsa_address=Address(address), name="admin"),),
    )
    config = attrs.evolve(config, authentication_enabled=True, management=management)
    async with started_executor(config) as app:
        yield app, admin


async def test_with_auth_on_ctl_deploys_and_removes_with_an_authorised_or_the_operator_key(
    authenticated_app: tuple[ExecutorApp, Path], registry: Any, tmp_path: Path
) -> None:
    app, admin = authenticated_app
    target = f"127.0.0.1:{app.port}"
    as_admin = ("--keystore", str(admin), "--password-env", "CTL_TEST_PASSWORD")
    as_admin += ("--operator", OPERATOR)
    empty = tmp_path / "empty-password"
    empty.write_text("")
    as_operator = ("--keystore", str(REPO / "examples/keys/executor-bn254.json"))
    as_operator += ("--password-file", str(empty), "--operator", OPERATOR, "--no-bind")

    unsigned = await ctl(target, "list")
    assert unsigned.status == 1
    assert unsigned.err.startswith("error: UNAUTHENTICATED: missing authentication")

    image = registry.v1
    deployed = await ctl(
        target,
        *as_admin,
        "deploy",
        "--avs",
        AVS,
        "--registry",
        image.repository,
        "--digest",
        image.digest,
        **FAST_KDF,
    )
    assert deployed.status == 0, deployed.err
    listed = (await ctl(target, *as_operator, "--json", "list", **FAST_KDF)).json()
    [new] = [p for p in listed["performers"] if p["artifact_digest"] == image.digest]
    removed = await ctl(target, *as_operator, "remove", new["performer_id"], **FAST_KDF)
    assert removed.status == 0, removed.err

    stranger = tmp_path / "stranger.json"
    await new_ecdsa_keystore(stranger)
    refused = await ctl(
        target,
        "--keystore",
        str(stranger),
        "--password-env",
        "CTL_TEST_PASSWORD",
        "--operator",
        OPERATOR,
        "list",
        **FAST_KDF,
    )
    assert refused.status == 1
    assert refused.err.startswith("error: UNAUTHENTICATED: invalid signature")
