"""End to end: a real gRPC client, the real executor, a real performer container in Docker."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import grpc
import pytest
from Crypto.Hash import keccak
from py_ecc import optimized_bn128 as bn

from executor_adapters.config import ExecutorConfig, load_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_adapters.signing import bn254
from executor_app.bootstrap import ExecutorApp, build_executor
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import (
    REPO,
    containers_with_label,
    free_port,
    networks_with_label,
    require_example_image,
    track_instance,
)
from tests.e2e.apps import started_executor
from tests.vectors import load_vector

pytestmark = pytest.mark.docker

AVS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
AGGREGATOR = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
KEYS = {k["name"]: int(k["sk_hex"], 16) for k in load_vector("bn254_keys.json")["keys"]}
AGGREGATOR_SECRET = KEYS["ponos-aggregator"]


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def solidity_hash_to_g1(digest: bytes) -> tuple[bn.FQ, bn.FQ, bn.FQ]:
    """BN254.hashToG1 of the EigenLayer contracts, written out here independently."""
    p = bn.field_modulus
    x = int.from_bytes(digest, "big") % p
    while True:
        beta = (pow(x, 3, p) + 3) % p
        y = pow(beta, (p + 1) // 4, p)
        if y * y % p == beta:
            return (bn.FQ(x), bn.FQ(y), bn.FQ(1))
        x = (x + 1) % p


def g2_from_keystore_pubkey(hex_key: str) -> tuple[bn.FQ2, bn.FQ2, bn.FQ2]:
    raw = bytes.fromhex(hex_key)
    w = [int.from_bytes(raw[i : i + 32], "big") for i in range(0, 128, 32)]
    return (bn.FQ2([w[1], w[0]]), bn.FQ2([w[3], w[2]]), bn.FQ2.one())


def verifies(pubkey_hex: str, output: bytes, signature: bytes) -> bool:
    """e(sig, G2) == e(H(keccak(output)), pk): the check an aggregator makes."""
    sig = (
        bn.FQ(int.from_bytes(signature[:32], "big")),
        bn.FQ(int.from_bytes(signature[32:64], "big")),
        bn.FQ(1),
    )
    if not bn.is_on_curve(sig, bn.b):
        return False
    pk = g2_from_keystore_pubkey(pubkey_hex)
    left = bn.pairing(bn.G2, sig)
    right = bn.pairing(pk, solidity_hash_to_g1(keccak256(output)))
    return bool(left == right)


def e2e_config(network: str) -> ExecutorConfig:
    config = load_config(REPO / "examples/config/executor.yaml")
    return attrs.evolve(config, performer_network_name=network)


@pytest.fixture
async def running_app(run_id: str) -> AsyncIterator[ExecutorApp]:
    require_example_image()
    async with started_executor(e2e_config(f"executor-e2e-{run_id}")) as app:
        yield app


@pytest.fixture
async def client(running_app: ExecutorApp) -> AsyncIterator[ExecutorClient]:
    async with ExecutorClient(f"127.0.0.1:{running_app.port}") as c:
        yield c


def signed(
    payload: bytes, *, task_id: str = "0x" + "11" * 32, avs: str = AVS, key: int | None = None
) -> pb.TaskSubmission:
    """A submission signed as a first-generation aggregator signs it (raw payload, RFC hash)."""
    return pb.TaskSubmission(
        task_id=task_id,
        avs_address=avs,
        payload=payload,
        aggregator_address=AGGREGATOR,
        signature=bn254.sign(AGGREGATOR_SECRET if key is None else key, payload),
    )


def submission(n: int, task_id: str = "0x" + "11" * 32, avs: str = AVS) -> pb.TaskSubmission:
    return signed(n.to_bytes(32, "big"), task_id=task_id, avs=avs)


async def test_a_task_runs_in_a_real_container_and_its_signature_verifies(
    running_app: ExecutorApp, client: ExecutorClient
) -> None:
    result = await client.submit_task(submission(12345), timeout=30)
    assert int.from_bytes(result.output, "big") == 12345**2
    assert result.task_id == "0x" + "11" * 32
    assert result.avs_address == AVS
    assert result.operator_address == running_app.config.operator.address.value
    pubkey = json.loads(running_app.config.operator.signing_keys.bls.keystore)["pubkey"]
    assert verifies(pubkey, result.output, result.result_signature)
    assert not verifies(pubkey, result.output + b"x", result.result_signature)


async def test_list_performers_reports_the_live_container(
    running_app: ExecutorApp, client: ExecutorClient
) -> None:
    performers = (await client.list_performers(AVS.lower())).performers
    assert len(performers) == 1
    performer = performers[0]
    assert performer.status == "InService"
    assert performer.avs_address == AVS.lower()
    assert performer.application_healthy
    assert performer.resource_healthy
    assert performer.artifact_registry == "hourglass-example-performer"
    assert len(performer.container_id) == 64
    assert performer.last_health_check.endswith("Z")
    assert containers_with_label(
        f"com.eigenlayer.hourglass.performer-id={performer.performer_id}"
    ) == [performer.container_id]
    other = "0x" + "00" * 20
    assert (await client.list_performers(other)).performers == []


@pytest.mark.parametrize(
    ("request_", "code", "field"),
    [
        (submission(1, avs="0x" + "12" * 20), grpc.StatusCode.NOT_FOUND, "0x" + "12" * 20),
        (submission(1, avs=""), grpc.StatusCode.INVALID_ARGUMENT, "avs_address"),
        (submission(1, avs="0xnothex"), grpc.StatusCode.INVALID_ARGUMENT, "avs_address"),
        (submission(1, task_id=""), grpc.StatusCode.INVALID_ARGUMENT, "task_id"),
        (
            signed(b"short", task_id="0x01"),
            grpc.StatusCode.INTERNAL,
            "payload",
        ),
    ],
)
async def test_bad_submissions_get_a_clear_status(
    client: ExecutorClient, request_: pb.TaskSubmission, code: grpc.StatusCode, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.submit_task(request_, timeout=30)
    assert caught.value.code() == code
    assert field in (caught.value.details() or "")


async def test_an_oversize_message_is_resource_exhausted(client: ExecutorClient) -> None:
    big = signed(b"\0" * (5 * 1024 * 1024), task_id="0x01")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.submit_task(big, timeout=30)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_the_containers_are_gone_after_stop(run_id: str) -> None:
    require_example_image()
    app = await build_executor(e2e_config(f"executor-e2e-stop-{run_id}"), host="127.0.0.1", port=0)
    track_instance(app.instance_id, app.executor.executor_name)
    await app.start()
    label = f"com.eigenlayer.hourglass.executor-instance={app.instance_id}"
    assert len(containers_with_label(label)) == 1
    await app.stop(grace=5)
    assert containers_with_label(label) == []


def test_the_cli_serves_until_sigint_and_then_removes_its_containers(
    tmp_path: Path, run_id: str
) -> None:
    require_example_image()
    port = free_port()
    config = (REPO / "examples/config/executor.yaml").read_text()
    config = config.replace("../keys/", str(REPO / "examples/keys") + "/")
    config = config.replace("hourglass-demo", f"executor-e2e-cli-{run_id}")
    path = tmp_path / "executor.yaml"
    path.write_text(config)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "executor_app",
            "run",
            "--config",
            str(path),
            "--grpc-port",
            str(port),
            "--listen-host",
            "127.0.0.1",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if '"executorInstance"' in line:
                starting = json.loads(line)
                track_instance(starting["executorInstance"], starting.get("executorName"))
            if '"executor serving"' in line:
                break
        else:
            pytest.fail("executor exited before serving:\n" + "".join(lines))
        records = [json.loads(line) for line in lines]
        ready = [r for r in records if r["msg"] == "performer promoted"]
        assert ready
        assert ready[0]["avsAddress"] == AVS.lower()
        assert ready[0]["performerId"]
        assert ready[0]["deploymentId"].startswith("deployment-")
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert '"executor stopped"' in rest
    performer = ready[0]["performerId"]
    assert containers_with_label(f"com.eigenlayer.hourglass.performer-id={performer}") == []
    instance = next(r["executorInstance"] for r in records if "executorInstance" in r)
    assert networks_with_label(f"com.eigenlayer.hourglass.executor-instance={instance}") == []


async def test_a_performer_that_is_down_gives_unavailable_quickly(run_id: str) -> None:
    require_example_image()
    config = e2e_config(f"executor-e2e-down-{run_id}")
    app = await build_executor(config, host="127.0.0.1", port=0)
    track_instance(app.instance_id, app.executor.executor_name)
    await app.start()
    try:
        container_id = app.executor.list_performers()[0].container_id
        await asyncio.to_thread(
            subprocess.run, ["docker", "kill", container_id], check=True, capture_output=True
        )
        async with ExecutorClient(f"127.0.0.1:{app.port}") as client:
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await client.submit_task(submission(3), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            assert time.monotonic() - started < 5
    finally:
        await app.stop(grace=1)


async def test_a_task_signed_by_the_ponos_aggregator_key_runs(client: ExecutorClient) -> None:
    """The signature comes from the shared vectors, not from our signing code."""
    vector = load_vector("task_messages.json")["c18d70e"]["aggregator_task_signature"]
    case = next(c for c in vector["cases"] if len(c["payload_hex"]) == 64)
    payload = bytes.fromhex(case["payload_hex"])
    request = pb.TaskSubmission(
        task_id="0x" + "33" * 32,
        avs_address=AVS,
        payload=payload,
        aggregator_address=AGGREGATOR,
        signature=bytes.fromhex(case["signature_hex"]),
    )
    result = await client.submit_task(request, timeout=30)
    assert int.from_bytes(result.output, "big") == int.from_bytes(payload, "big") ** 2


async def test_a_task_signed_by_another_key_is_unauthenticated(client: ExecutorClient) -> None:
    request = signed((7).to_bytes(32, "big"), key=KEYS["ponos-executor"])
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.submit_task(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_task_from_an_unknown_aggregator_is_permission_denied(
    client: ExecutorClient,
) -> None:
    request = submission(7)
    request.aggregator_address = "0x" + "44" * 20
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.submit_task(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
