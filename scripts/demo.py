"""Run the executor on the example AVS, send it tasks like an aggregator, verify what comes back.

Usage: python scripts/demo.py [--config examples/config/executor.yaml] [--tasks 5]
(`make demo` also prepares Docker and the example performer image first.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiodocker

from executor_adapters.config import load_config
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_adapters.keystores.eip2335 import decrypt_eip2335
from executor_adapters.signing import bn254, keccak256
from executor_core.labels import AVS_ADDRESS_LABEL, MANAGED_BY, MANAGED_BY_LABEL
from hourglass_proto.eigenlayer.hourglass import v1 as pb

REPO = Path(__file__).resolve().parent.parent
AGGREGATOR_KEYSTORE = REPO / "examples/keys/aggregator-bn254.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def say(text: str) -> None:
    print(f"demo | {text}", flush=True)


async def wait_for_performer(
    client: ExecutorClient, proc: asyncio.subprocess.Process
) -> pb.Performer:
    for _ in range(240):
        if proc.returncode is not None:
            raise SystemExit(f"the executor exited early with code {proc.returncode}")
        try:
            performers = (await client.list_performers(timeout=2)).performers
        except Exception:
            performers = []
        in_service = [p for p in performers if p.status == "InService"]
        if in_service:
            return in_service[0]
        await asyncio.sleep(0.5)
    raise SystemExit("no performer came into service within 120 s")


async def leftovers(avs: str, network: str) -> tuple[list[str], list[str]]:
    """Containers of the AVS and the performer network that the executor made and left."""
    docker = aiodocker.Docker()
    try:
        filters = json.dumps(
            {"label": [f"{MANAGED_BY_LABEL}={MANAGED_BY}", f"{AVS_ADDRESS_LABEL}={avs}"]}
        )
        found = await docker.containers.list(all=True, filters=filters)
        managed = {"label": [f"{MANAGED_BY_LABEL}={MANAGED_BY}"]}
        networks = await docker.networks.list(filters=managed)
        return [c.id for c in found], [n["Id"] for n in networks if n["Name"] == network]
    finally:
        await docker.close()


async def run(config_path: Path, tasks: int) -> int:
    config = load_config(config_path)
    avs = config.avs_performers[0].avs_address.value
    keystore = json.loads(config.operator.signing_keys.bls.keystore)
    operator_g2 = bytes.fromhex(keystore["pubkey"])
    aggregator = config.simulation.simulate_peering.aggregator_peers[0].operator_address.value
    say(f"aggregator {aggregator} signs each task with {AGGREGATOR_KEYSTORE.name}")
    aggregator_key = bn254.secret_to_scalar(
        decrypt_eip2335(AGGREGATOR_KEYSTORE.read_text(), "", source=str(AGGREGATOR_KEYSTORE))
    )
    port = free_port()
    say(f"starting the executor on 127.0.0.1:{port} with {config_path}")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "executor_app",
        "run",
        "--config",
        str(config_path),
        "--grpc-port",
        str(port),
        "--listen-host",
        "127.0.0.1",
        cwd=REPO,
    )
    try:
        async with ExecutorClient(f"127.0.0.1:{port}") as client:
            performer = await wait_for_performer(client, proc)
            say(
                f"performer {performer.performer_id} is {performer.status} "
                f"in container {performer.container_id[:12]}"
            )
            failures = 0
            for n in range(2, 2 + tasks):
                task_id = "0x" + keccak256(f"demo-task-{n}".encode()).hex()
                payload = n.to_bytes(32, "big")
                result = await client.submit_task(
                    pb.TaskSubmission(
                        task_id=task_id,
                        avs_address=avs,
                        payload=payload,
                        aggregator_address=aggregator,
                        signature=bn254.sign(aggregator_key, payload),
                    ),
                    timeout=30,
                )
                value = int.from_bytes(result.output, "big")
                signature = result.result_signature
                ok = bn254.verify_solidity(operator_g2, keccak256(result.output), signature)
                failures += 0 if (ok and value == n * n and result.task_id == task_id) else 1
                say(
                    f"task {task_id[:18]}… payload {n} -> output {value}; "
                    f"signature {signature.hex()[:24]}… by {result.operator_address}: "
                    f"{'verified' if ok else 'DOES NOT VERIFY'}"
                )
        say("sending SIGINT to the executor (what Ctrl-C does)")
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 60)
        containers, networks = await leftovers(avs, config.performer_network_name)
        say(
            f"executor exited with code {code}; containers left: {len(containers)}, "
            f"networks left: {len(networks)}"
        )
        return 1 if failures or code != 0 or containers or networks else 0
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(proc.wait(), 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=REPO / "examples/config/executor.yaml")
    parser.add_argument("--tasks", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(asyncio.run(run(args.config, args.tasks)))


if __name__ == "__main__":
    main()
