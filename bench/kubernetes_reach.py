"""What the Kubernetes mode's port-forward costs a task: the same performer image, once as a
Docker container published on 127.0.0.1 and once as a pod reached through the API server's
port-forward, driven by the executor's own performer client in one run.

Run from the repository root as root (needs `make image` and `make k8s`):

    .venv/bin/python bench/kubernetes_reach.py                 # about 1 minute
    .venv/bin/python bench/kubernetes_reach.py --seconds 10 --clients 32

It starts the tests' local cluster (tests/kubernetes_support.py), imports the example performer
into its node, starts one performer on each runtime, then runs `--rounds` alternating rounds
(Docker, pod, Docker, pod, …) of `--clients` concurrent ExecuteTask calls for `--seconds` each,
so that the machine's load drifts over both alike. It prints tasks/s and latency percentiles
per runtime and the ratio pod / Docker of the medians over rounds; the figures go to
docs/performance.md by hand. Everything it starts is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.grpc.performer_client import GrpcioPerformerConnector
from executor_adapters.kubernetes import (
    ClusterSettings,
    KubernetesContainerRuntime,
    PerformerReach,
)
from executor_core.performers import ContainerSpec, PerformerImage, RunningContainer
from executor_core.ports import ContainerRuntime, PerformerClient
from tests.kubernetes_support import running_cluster

IMAGE = PerformerImage("hourglass-example-performer", tag="latest")
LABEL = "com.eigenlayer.hourglass.bench"


async def round_of(
    client: PerformerClient, clients: int, seconds: float
) -> tuple[int, list[float]]:
    """Tasks done and their latencies (ms) with `clients` calls in flight for `seconds`."""
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def one(index: int) -> None:
        n = 0
        while time.monotonic() < stop:
            n += 1
            sent = time.perf_counter()
            await client.execute_task(
                f"{index}-{n}".encode(), (n % 1000).to_bytes(32, "big"), timeout=10
            )
            latencies.append((time.perf_counter() - sent) * 1000)

    await asyncio.gather(*(one(i) for i in range(clients)))
    return len(latencies), latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def start(runtime: ContainerRuntime, name: str, run: str) -> RunningContainer:
    spec = ContainerSpec(image=IMAGE, name=name, labels={LABEL: run})
    return await runtime.start_container(spec)


async def measure(kubeconfig: Path, namespace: str, args: argparse.Namespace) -> None:
    run = uuid.uuid4().hex[:8]
    docker = AiodockerContainerRuntime()
    pods = KubernetesContainerRuntime(
        ClusterSettings(
            namespace=namespace, kubeconfig_path=str(kubeconfig), reach=PerformerReach.PORT_FORWARD
        ),
        start_timeout=120,
    )
    connector = GrpcioPerformerConnector()
    started: list[tuple[ContainerRuntime, RunningContainer]] = []
    try:
        for runtime, label in ((docker, "docker"), (pods, "pod")):
            container = await start(runtime, f"bench-reach-{label}-{run}", run)
            started.append((runtime, container))
        clients = {
            "docker": connector.connect(started[0][1].endpoint),
            "pod": connector.connect(started[1][1].endpoint),
        }
        for client in clients.values():
            await round_of(client, args.clients, 1.0)  # warm-up: connections, caches
        rates: dict[str, list[float]] = {"docker": [], "pod": []}
        latencies: dict[str, list[float]] = {"docker": [], "pod": []}
        for index in range(args.rounds):
            for label, client in clients.items():
                done, lat = await round_of(client, args.clients, args.seconds)
                rates[label].append(done / args.seconds)
                latencies[label].extend(lat)
                print(f"round {index + 1} {label:6} {done / args.seconds:8.1f} tasks/s", flush=True)
        print(f"\n{args.clients} clients, {args.rounds} rounds of {args.seconds:g} s each")
        print("runtime  median tasks/s   p50 ms   p99 ms")
        for label in ("docker", "pod"):
            p50 = percentile(latencies[label], 0.5)
            p99 = percentile(latencies[label], 0.99)
            print(f"{label:7} {statistics.median(rates[label]):15.1f} {p50:8.2f} {p99:8.2f}")
        ratio = statistics.median(rates["pod"]) / statistics.median(rates["docker"])
        print(f"pod / docker (medians of rounds): {ratio:.3f}")
        for client in clients.values():
            await client.aclose()
    finally:
        for runtime, container in started:
            await runtime.remove_container(container.container_id, grace_seconds=1)
        await docker.aclose()
        await pods.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with running_cluster(Path(tempfile.mkdtemp(prefix="bench-k8s-"))) as cluster:
        cluster.import_image(IMAGE.reference)
        namespace = f"bench-{uuid.uuid4().hex[:6]}"
        cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}})
        for _ in range(100):
            try:
                cluster.request("GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/default")
                break
            except OSError:
                time.sleep(0.1)
        try:
            asyncio.run(measure(cluster.kubeconfig, namespace, args))
        finally:
            cluster.request("DELETE", f"/api/v1/namespaces/{namespace}")


if __name__ == "__main__":
    main()
