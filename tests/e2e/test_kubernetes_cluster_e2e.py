"""The local Kubernetes cluster is real: its node is Ready, a performer pod (from an imported
image, and pulled by digest from the loopback registry) passes a gRPC readiness probe, and a
port-forward through the API server carries a real gRPC health check to it.

Everything the tests make carries the label ``com.eigenlayer.hourglass.test-run: <run id>`` in a
namespace of their own, deleted at the end. Traffic goes only to loopback: the API server's port
and a local listener; the kubelet alone talks to pod IPs (its probes).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.docker_support import EXAMPLE_IMAGE, require_example_image
from tests.kubernetes_support import LocalCluster
from tests.registry_support import LocalRegistry

RUN_LABEL = "com.eigenlayer.hourglass.test-run"
_POD_READY_TIMEOUT = 120.0
_PERFORMER_PORT = 8080


class Api:
    """The few API calls the tests need, as admin, with plain aiohttp."""

    def __init__(self, cluster: LocalCluster, session: aiohttp.ClientSession) -> None:
        self.cluster = cluster
        self.session = session
        self.ssl = ssl.create_default_context(cafile=str(cluster.ca_file))
        self.headers = {"Authorization": f"Bearer {cluster.token}"}

    async def call(self, method: str, path: str, body: object = None) -> dict[str, object]:
        async with self.session.request(
            method,
            self.cluster.api_url + path,
            json=body,
            ssl=self.ssl,
            headers=self.headers,
        ) as response:
            found: dict[str, object] = await response.json()
            if response.status >= 400:
                raise AssertionError(f"{method} {path}: {response.status} {found}")
            return found

    async def status(self, method: str, path: str) -> int:
        async with self.session.request(
            method, self.cluster.api_url + path, ssl=self.ssl, headers=self.headers
        ) as response:
            return response.status


@pytest.fixture
async def api(kubernetes_cluster: LocalCluster) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(kubernetes_cluster, session)


@pytest.fixture
async def namespace(api: Api, run_id: str) -> AsyncIterator[str]:
    """A labelled namespace of the test's own, once its default service account exists."""
    name = f"hg-test-{run_id}-{uuid.uuid4().hex[:6]}"
    await api.call(
        "POST",
        "/api/v1/namespaces",
        {"metadata": {"name": name, "labels": {RUN_LABEL: run_id}}},
    )
    try:
        deadline = time.monotonic() + 30
        while await api.status("GET", f"/api/v1/namespaces/{name}/serviceaccounts/default") != 200:
            assert time.monotonic() < deadline, "the default service account never appeared"
            await asyncio.sleep(0.2)
        yield name
    finally:
        await _delete_labelled(api, name, run_id)


async def _delete_labelled(api: Api, namespace: str, run_id: str) -> None:
    """Delete our pods, then our namespace; wait (bounded) until the namespace is gone."""
    selector = f"labelSelector={RUN_LABEL}%3D{run_id}"
    await api.call(
        "DELETE",
        f"/api/v1/namespaces/{namespace}/pods?{selector}",
        {"gracePeriodSeconds": 1},
    )
    await api.call("DELETE", f"/api/v1/namespaces/{namespace}")
    deadline = time.monotonic() + 60
    while await api.status("GET", f"/api/v1/namespaces/{namespace}") != 404:
        if time.monotonic() > deadline:
            return  # the session's teardown drains what is left
        await asyncio.sleep(0.5)


def performer_pod(name: str, image: str, run_id: str) -> dict[str, object]:
    """The example performer, ready when its gRPC health service says SERVING."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {RUN_LABEL: run_id}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "enableServiceLinks": False,
            "containers": [
                {
                    "name": "performer",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"containerPort": _PERFORMER_PORT}],
                    "readinessProbe": {
                        "grpc": {"port": _PERFORMER_PORT},
                        "periodSeconds": 1,
                        "failureThreshold": 30,
                    },
                }
            ],
        },
    }


async def start_pod(api: Api, namespace: str, pod: dict[str, object]) -> float:
    """Create the pod and wait for it to be Ready; return how long that took."""
    started = time.monotonic()
    await api.call("POST", f"/api/v1/namespaces/{namespace}/pods", pod)
    name = pod["metadata"]["name"]  # type: ignore[index]
    path = f"/api/v1/namespaces/{namespace}/pods/{name}"
    while True:
        found = await api.call("GET", path)
        conditions = found.get("status", {}).get("conditions", [])  # type: ignore[attr-defined]
        if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            return time.monotonic() - started
        if time.monotonic() - started > _POD_READY_TIMEOUT:
            events = await api.call("GET", f"/api/v1/namespaces/{namespace}/events")
            messages = [e.get("message") for e in events.get("items", [])]  # type: ignore[attr-defined]
            raise AssertionError(f"pod {name} not Ready: {found.get('status')}\n{messages}")
        await asyncio.sleep(0.3)


@contextlib.asynccontextmanager
async def port_forward(api: Api, namespace: str, pod: str, port: int) -> AsyncIterator[int]:
    """A loopback listener; each connection is piped through its own port-forward websocket."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        url = (
            f"{api.cluster.api_url}/api/v1/namespaces/{namespace}/pods/{pod}/portforward"
            f"?ports={port}"
        )
        try:
            async with api.session.ws_connect(
                url, protocols=("v4.channel.k8s.io",), ssl=api.ssl, headers=api.headers
            ) as ws:
                await _expect_port_frames(ws, port)
                await _pipe(reader, writer, ws)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def _expect_port_frames(ws: aiohttp.ClientWebSocketResponse, port: int) -> None:
    """The server opens with one frame per channel (data 0, error 1): channel, port LE."""
    for channel in (0, 1):
        frame = await ws.receive_bytes(timeout=10)
        assert frame == bytes([channel]) + port.to_bytes(2, "little"), frame


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    ws: aiohttp.ClientWebSocketResponse,
) -> None:
    async def upstream() -> None:
        while data := await reader.read(65536):
            await ws.send_bytes(b"\x00" + data)

    async def downstream() -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY or not message.data:
                break
            channel, payload = message.data[0], message.data[1:]
            if channel == 1 and payload:
                raise AssertionError(f"port-forward error: {payload.decode(errors='replace')}")
            if channel == 0:
                writer.write(payload)
                await writer.drain()

    tasks = [asyncio.ensure_future(upstream()), asyncio.ensure_future(downstream())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def health_through_port_forward(api: Api, namespace: str, pod: str) -> int:
    """Call grpc.health.v1 Check on the pod, reached only through the API server."""
    async with (
        port_forward(api, namespace, pod, _PERFORMER_PORT) as local_port,
        grpc.aio.insecure_channel(
            f"127.0.0.1:{local_port}", options=[("grpc.enable_http_proxy", 0)]
        ) as channel,
    ):
        answer = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=20
        )
        return int(answer.status)


async def test_the_node_is_ready(api: Api) -> None:
    node = await api.call("GET", f"/api/v1/nodes/{api.cluster.node_name}")
    status = node["status"]
    assert isinstance(status, dict)
    assert {"type": "InternalIP", "address": "127.0.0.1"} in status["addresses"]
    ready = [c for c in status["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True", ready
    assert api.cluster.real_nodes


async def test_an_imported_image_runs_ready_and_answers_through_port_forward(
    api: Api, namespace: str, run_id: str
) -> None:
    require_example_image()
    api.cluster.import_image(EXAMPLE_IMAGE)
    await start_pod(api, namespace, performer_pod("performer-imported", EXAMPLE_IMAGE, run_id))
    serving = await health_through_port_forward(api, namespace, "performer-imported")
    assert serving == health_pb2.HealthCheckResponse.SERVING


async def test_an_image_pulled_by_digest_from_the_registry_runs_ready(
    api: Api, namespace: str, run_id: str, registry: LocalRegistry
) -> None:
    api.cluster.trust_registry(registry.url)
    reference = registry.v1.reference
    await start_pod(api, namespace, performer_pod("performer-pulled", reference, run_id))
    pulled = [r for r in registry.requests() if r.path.endswith(f"/manifests/{registry.v1.digest}")]
    assert any(r.method == "GET" and r.status == 200 for r in pulled), registry.requests()
    serving = await health_through_port_forward(api, namespace, "performer-pulled")
    assert serving == health_pb2.HealthCheckResponse.SERVING
