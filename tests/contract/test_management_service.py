"""ExecutorManagementService (second generation) and ExecutorService's management paths (first)
over real gRPC connections: the same handlers behind both, and the listener split."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import betterproto2
import grpc
import pytest

from executor_adapters.grpc.server import ExecutorServer
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from hourglass_proto.eigenlayer.hourglass.v1 import common
from tests.docker_support import free_port
from tests.unit.core.conftest import AVS, Harness

G1 = "/eigenlayer.hourglass.v1.ExecutorService/"
G2 = "/eigenlayer.hourglass.v1.ExecutorManagementService/"


class Channel:
    def __init__(self, port: int) -> None:
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")

    def call(
        self, path: str, request: betterproto2.Message, response: type[betterproto2.Message]
    ) -> Any:
        method: Callable[..., Any] = self.channel.unary_unary(
            path, request_serializer=bytes, response_deserializer=response.FromString
        )
        return method(request, timeout=10)


async def status(call: Any) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value.code(), caught.value.details() or ""


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    for executor in h.executors:
        await executor.shutdown(0)


async def serve(harness: Harness, *, management_port: int | None) -> ExecutorServer:
    executor = harness.build(harness.settings())
    await executor.start()
    server = ExecutorServer(executor, host="127.0.0.1", port=0, management_port=management_port)
    await server.start()
    return server


async def test_both_generations_list_the_same_performers_each_in_its_own_fields(
    harness: Harness,
) -> None:
    server = await serve(harness, management_port=None)
    assert server.port is not None
    channel = Channel(server.port)
    try:
        request = pb.ListPerformersRequest()
        g1 = await channel.call(G1 + "ListPerformers", request, pb.ListPerformersResponse)
        g2 = await channel.call(G2 + "ListPerformers", request, pb.ListPerformersResponse)
    finally:
        await channel.channel.close()
        await server.stop(0)
    [old], [new] = g1.performers, g2.performers
    assert old.performer_id == new.performer_id
    assert (old.artifact_digest, old.artifact_tag) == ("latest", "latest")
    assert (new.artifact_digest, new.artifact_tag) == ("", "latest")


async def test_deploy_and_remove_work_on_the_management_service(harness: Harness) -> None:
    server = await serve(harness, management_port=None)
    assert server.port is not None
    channel = Channel(server.port)
    digest = "sha256:" + "ab" * 32
    try:
        deployed = await channel.call(
            G2 + "DeployArtifact",
            pb.DeployArtifactRequest(avs_address=AVS.value, digest=digest, registry_url="repo"),
            pb.DeployArtifactResponse,
        )
        listed = await channel.call(
            G2 + "ListPerformers", pb.ListPerformersRequest(), pb.ListPerformersResponse
        )
        [performer] = listed.performers
        removed = await channel.call(
            G2 + "RemovePerformer",
            pb.RemovePerformerRequest(performer_id=performer.performer_id),
            pb.RemovePerformerResponse,
        )
    finally:
        await channel.channel.close()
        await server.stop(0)
    assert deployed.success
    assert deployed.deployment_id.startswith("deployment-")
    assert performer.artifact_digest == digest
    assert performer.artifact_tag == ""
    assert removed.success


async def test_auth_and_challenge_tokens_are_unimplemented_while_auth_is_off(
    harness: Harness,
) -> None:
    server = await serve(harness, management_port=None)
    assert server.port is not None
    channel = Channel(server.port)
    auth = common.AuthSignature(challenge_token="ab" * 32, signature=b"\x01")
    try:
        token = await status(
            channel.call(
                G2 + "GetChallengeToken",
                pb.GetChallengeTokenRequest(operator_address="0x" + "11" * 20),
                pb.GetChallengeTokenResponse,
            )
        )
        listed = await status(
            channel.call(
                G2 + "ListPerformers",
                pb.ListPerformersRequest(auth=auth),
                pb.ListPerformersResponse,
            )
        )
    finally:
        await channel.channel.close()
        await server.stop(0)
    assert token[0] is grpc.StatusCode.UNIMPLEMENTED
    assert listed == (
        grpc.StatusCode.UNIMPLEMENTED,
        "auth: authentication is not enabled on this executor",
    )


async def test_a_management_port_of_its_own_splits_the_services(harness: Harness) -> None:
    management = free_port()
    server = await serve(harness, management_port=management)
    assert server.port is not None
    assert server.management_port == management
    tasks, admin = Channel(server.port), Channel(management)
    request = pb.ListPerformersRequest()
    try:
        on_task_port = [
            await status(tasks.call(path, request, pb.ListPerformersResponse))
            for path in (G1 + "ListPerformers", G2 + "ListPerformers")
        ]
        g1 = await admin.call(G1 + "ListPerformers", request, pb.ListPerformersResponse)
        g2 = await admin.call(G2 + "ListPerformers", request, pb.ListPerformersResponse)
        submit = await status(
            admin.call(G1 + "SubmitTask", pb.TaskSubmission(task_id="0x01"), pb.TaskResult)
        )
    finally:
        await tasks.channel.close()
        await admin.channel.close()
        await server.stop(0)
    assert [code for code, _ in on_task_port] == [grpc.StatusCode.UNIMPLEMENTED] * 2
    assert len(g1.performers) == len(g2.performers) == 1
    assert submit[0] is grpc.StatusCode.UNIMPLEMENTED


class _ElsewhereContext:
    """The call's own context, but with a peer on another host."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def peer(self) -> str:
        return "ipv4:10.1.2.3:40000"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class FromElsewhere(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Makes every call look as if it came from another host, at the server's edge."""

    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        async def call(request: Any, context: Any) -> Any:
            return await inner(request, _ElsewhereContext(context))

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


@pytest.mark.parametrize("path", [G1 + "ListPerformers", G2 + "ListPerformers"])
async def test_a_caller_from_another_host_is_refused_while_auth_is_off(
    harness: Harness, path: str
) -> None:
    executor = harness.build(harness.settings())
    await executor.start()
    server = ExecutorServer(executor, host="127.0.0.1", port=0, interceptors=(FromElsewhere(),))
    port = await server.start()
    channel = Channel(port)
    try:
        refused = await status(
            channel.call(path, pb.ListPerformersRequest(), pb.ListPerformersResponse)
        )
        deploy = await status(
            channel.call(
                G2 + "DeployArtifact",
                pb.DeployArtifactRequest(
                    avs_address=AVS.value, digest="sha256:" + "ab" * 32, registry_url="repo"
                ),
                pb.DeployArtifactResponse,
            )
        )
        task = await status(
            channel.call(G1 + "SubmitTask", pb.TaskSubmission(task_id="0x01"), pb.TaskResult)
        )
    finally:
        await channel.channel.close()
        await server.stop(0)
    assert refused[0] is grpc.StatusCode.PERMISSION_DENIED
    assert "management.allowRemoteWithoutAuth" in refused[1]
    assert deploy[0] is grpc.StatusCode.PERMISSION_DENIED
    assert len(harness.runtime.containers) == 1  # nothing was deployed
    assert task[0] is not grpc.StatusCode.PERMISSION_DENIED  # tasks are not management


async def test_an_operator_may_open_management_to_other_hosts_explicitly(
    harness: Harness,
) -> None:
    executor = harness.build(harness.settings())
    await executor.start()
    server = ExecutorServer(
        executor,
        host="127.0.0.1",
        port=0,
        open_management=True,
        interceptors=(FromElsewhere(),),
    )
    port = await server.start()
    channel = Channel(port)
    try:
        listed = await channel.call(
            G2 + "ListPerformers", pb.ListPerformersRequest(), pb.ListPerformersResponse
        )
    finally:
        await channel.channel.close()
        await server.stop(0)
    assert len(listed.performers) == 1


async def test_the_access_line_names_the_service_the_call_came_through(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve(harness, management_port=None)
    assert server.port is not None
    channel = Channel(server.port)
    caplog.set_level("INFO", logger="executor_adapters.grpc")
    try:
        for path in (G1 + "ListPerformers", G2 + "ListPerformers"):
            await channel.call(path, pb.ListPerformersRequest(), pb.ListPerformersResponse)
    finally:
        await channel.channel.close()
        await server.stop(0)
    services = [
        getattr(record, "grpc.service")
        for record in caplog.records
        if getattr(record, "grpc.method", "") == "ListPerformers"
    ]
    assert services == [
        "eigenlayer.hourglass.v1.ExecutorService",
        "eigenlayer.hourglass.v1.ExecutorManagementService",
    ]
