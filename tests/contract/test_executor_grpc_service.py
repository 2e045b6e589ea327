"""ExecutorService over a real gRPC connection, with the core on in-memory adapters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from executor_adapters.grpc.executor_client import ExecutorClient
from executor_adapters.grpc.server import ExecutorServer
from executor_adapters.grpc.status_mapping import GENERIC_INTERNAL_MESSAGE, status_for
from executor_core import errors
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.unit.core.conftest import AVS, OPERATOR, Harness


@pytest.fixture
async def served() -> AsyncIterator[tuple[Harness, ExecutorServer, ExecutorClient]]:
    harness = Harness()
    executor = harness.build(harness.settings(worker_count=1, queue_size=0))
    await executor.start()
    server = ExecutorServer(executor, host="127.0.0.1", port=0, max_message_size=64 * 1024)
    port = await server.start()
    client = ExecutorClient(f"127.0.0.1:{port}")
    try:
        yield harness, server, client
    finally:
        await client.aclose()
        await server.stop(0)
        await executor.shutdown(0)


def submission(**fields: object) -> pb.TaskSubmission:
    values: dict[str, object] = {
        "task_id": "0x01",
        "avs_address": AVS.value,
        "payload": (3).to_bytes(32, "big"),
    }
    values.update(fields)
    return pb.TaskSubmission(**values)  # type: ignore[arg-type]


async def code_of(call: asyncio.Future[object] | object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code(), caught.value.details() or ""


async def test_submit_task_answers_with_the_signed_result(served) -> None:  # type: ignore[no-untyped-def]
    harness, _, client = served
    result = await client.submit_task(submission(), timeout=5)
    assert int.from_bytes(result.output, "big") == 9
    assert (result.task_id, result.operator_address, result.avs_address) == (
        "0x01",
        OPERATOR.lower(),
        AVS.value,
    )
    assert result.result_signature == await harness.signer.sign_result(result.output)


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"avs_address": ""}, grpc.StatusCode.INVALID_ARGUMENT, "avs_address: is required"),
        ({"avs_address": "0xabc"}, grpc.StatusCode.INVALID_ARGUMENT, "avs_address: must be 0x"),
        ({"task_id": ""}, grpc.StatusCode.INVALID_ARGUMENT, "task_id: is required"),
        ({"avs_address": "0x" + "ab" * 20}, grpc.StatusCode.NOT_FOUND, "0x" + "ab" * 20),
        ({"payload": b"\0" * 70000}, grpc.StatusCode.RESOURCE_EXHAUSTED, ""),
    ],
)
async def test_bad_submissions_get_the_right_status_naming_the_field(
    served,
    fields: dict[str, object],
    code: grpc.StatusCode,
    words: str,  # type: ignore[no-untyped-def]
) -> None:
    _, _, client = served
    got, details = await code_of(client.submit_task(submission(**fields), timeout=5))
    assert got == code
    assert words in details


async def test_a_performer_that_is_down_gives_unavailable(served) -> None:  # type: ignore[no-untyped-def]
    harness, _, client = served

    def down(task_id: bytes, payload: bytes) -> bytes:
        raise errors.PerformerUnavailable("connection refused")

    harness.handler = down
    assert (await code_of(client.submit_task(submission(), timeout=5)))[
        0
    ] == grpc.StatusCode.UNAVAILABLE


async def test_the_callers_deadline_bounds_the_task(served) -> None:  # type: ignore[no-untyped-def]
    harness, _, client = served

    async def hang(task_id: bytes, payload: bytes) -> bytes:
        await asyncio.sleep(30)
        return b""

    harness.handler = hang
    started = asyncio.get_running_loop().time()
    got, _ = await code_of(client.submit_task(submission(), timeout=0.3))
    assert got == grpc.StatusCode.DEADLINE_EXCEEDED
    assert asyncio.get_running_loop().time() - started < 2


async def test_a_full_queue_gives_resource_exhausted(served) -> None:  # type: ignore[no-untyped-def]
    harness, _, client = served
    release = asyncio.Event()

    async def blocked(task_id: bytes, payload: bytes) -> bytes:
        await release.wait()
        return b"ok"

    harness.handler = blocked
    first = asyncio.ensure_future(client.submit_task(submission(task_id="0x01"), timeout=5))
    await asyncio.sleep(0.1)
    got, _ = await code_of(client.submit_task(submission(task_id="0x02"), timeout=5))
    release.set()
    assert got == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert (await first).output == b"ok"


async def test_list_performers_reports_and_filters(served) -> None:  # type: ignore[no-untyped-def]
    _harness, _, client = served
    everything = (await client.list_performers()).performers
    assert len(everything) == 1
    performer = everything[0]
    assert performer.status == "InService"
    assert performer.avs_address == AVS.value
    assert performer.artifact_registry == "hourglass-example-performer"
    assert performer.artifact_digest == "latest"
    assert performer.last_health_check == "2025-06-20T12:00:00Z"
    upper = "0x" + AVS.value[2:].upper()
    assert len((await client.list_performers(upper)).performers) == 1
    assert (await client.list_performers("0x" + "00" * 20)).performers == []
    got, details = await code_of(client.list_performers("nope"))
    assert got == grpc.StatusCode.INVALID_ARGUMENT
    assert "avs_address" in details


DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"avs_address": ""}, "avs_address"),
        ({"avs_address": "0x12"}, "avs_address"),
        ({"digest": ""}, "digest"),
        ({"digest": "sha256:abc"}, "digest"),
        ({"digest": "ab" * 32}, "digest"),
        ({"registry_url": ""}, "registry_url"),
        ({"registry_url": "Not A Repo"}, "registry_url"),
        ({"registry_url": "127.0.0.1:5000/x@sha256:" + "ab" * 32}, "registry_url"),
    ],
)
async def test_a_bad_deploy_request_names_the_field(  # type: ignore[no-untyped-def]
    served, fields: dict[str, str], field: str
) -> None:
    _, _, client = served
    values = {"avs_address": AVS.value, "digest": DIGEST, "registry_url": "127.0.0.1:5000/avs"}
    values.update(fields)
    got, details = await code_of(client.deploy_artifact(pb.DeployArtifactRequest(**values)))
    assert got == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(f"{field}: ")


async def test_deploy_artifact_answers_with_the_deployment_id(served) -> None:  # type: ignore[no-untyped-def]
    _, _, client = served
    request = pb.DeployArtifactRequest(
        avs_address=AVS.value, digest=DIGEST, registry_url="127.0.0.1:5000/avs"
    )
    reply = await client.deploy_artifact(request, timeout=10)
    assert reply.success
    assert reply.message == "Deployment completed successfully"
    assert reply.deployment_id.startswith(f"deployment-{AVS.value}-")
    (performer,) = (await client.list_performers()).performers
    assert (performer.artifact_registry, performer.artifact_digest) == (
        "127.0.0.1:5000/avs",
        DIGEST,
    )


async def test_remove_performer_checks_its_argument_and_removes(served) -> None:  # type: ignore[no-untyped-def]
    _, _, client = served
    got, details = await code_of(client.remove_performer(""))
    assert got == grpc.StatusCode.INVALID_ARGUMENT
    assert "performer_id" in details
    got, _ = await code_of(client.remove_performer("performer-unknown"))
    assert got == grpc.StatusCode.NOT_FOUND
    (performer,) = (await client.list_performers()).performers
    reply = await client.remove_performer(performer.performer_id)
    assert reply.success
    assert reply.message == f"Performer {performer.performer_id} removed successfully"
    assert (await client.list_performers()).performers == []


async def test_health_and_reflection_are_served(served) -> None:  # type: ignore[no-untyped-def]
    _, server, _ = served
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "eigenlayer.hourglass.v1.ExecutorService"):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)

        async def ask(
            request: reflection_pb2.ServerReflectionRequest,
        ) -> reflection_pb2.ServerReflectionResponse:
            call = stub.ServerReflectionInfo()
            await call.write(request)
            await call.done_writing()
            async for reply in call:
                return reply
            raise AssertionError("no reflection reply")

        listed = await ask(reflection_pb2.ServerReflectionRequest(list_services=""))
        names = {s.name for s in listed.list_services_response.service}
        assert {
            "eigenlayer.hourglass.v1.ExecutorService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1alpha.ServerReflection",
        } <= names
        described = await ask(
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="eigenlayer.hourglass.v1.ExecutorService"
            )
        )
        assert described.file_descriptor_response.file_descriptor_proto


async def test_stopping_reports_not_serving_and_refuses_new_calls(served) -> None:  # type: ignore[no-untyped-def]
    _, server, client = served
    await server.stop(0)
    got, _ = await code_of(client.submit_task(submission(), timeout=2))
    assert got == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.InvalidArgument("task_id", "is required"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.AvsNotFound("x"), grpc.StatusCode.NOT_FOUND),
        (errors.PerformerNotFound("x"), grpc.StatusCode.NOT_FOUND),
        (errors.TooManyTasks("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.TaskAlreadyRunning("x"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.UnknownAggregator("x"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.InvalidTaskSignature("x"), grpc.StatusCode.UNAUTHENTICATED),
        (errors.PerformerUnavailable("x"), grpc.StatusCode.UNAVAILABLE),
        (errors.PerformerTimeout("x"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (errors.TaskRejected("x"), grpc.StatusCode.INTERNAL),
        (errors.SigningError("x"), grpc.StatusCode.INTERNAL),
        (errors.ShuttingDown("x"), grpc.StatusCode.UNAVAILABLE),
        (errors.RuntimeUnavailable("x"), grpc.StatusCode.UNAVAILABLE),
        (errors.RegistryUnavailable("x"), grpc.StatusCode.UNAVAILABLE),
        (errors.DeploymentInProgress("x"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.DeploymentTimeout("x"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (errors.ImageNotFound("x"), grpc.StatusCode.NOT_FOUND),
        (errors.ContainerStartFailed("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.NotForThisOperator("x"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.NotInOperatorSet("x"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.OutputTooLarge("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.ChainUnavailable("x"), grpc.StatusCode.UNAVAILABLE),
        (errors.ChainDataError("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.OperatorSetNotConfigured("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.TaskAlreadyProcessed("x"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.ManagementRefused("x"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.TooManyAvs("x"), grpc.StatusCode.RESOURCE_EXHAUSTED),
        (errors.ExecutorVariableUnset("x"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.Unimplemented("x"), grpc.StatusCode.UNIMPLEMENTED),
    ],
)
def test_every_core_error_has_its_status_code(error: Exception, code: grpc.StatusCode) -> None:
    assert status_for(error) == (code, str(error))


def test_unexpected_errors_become_internal_without_leaking_details() -> None:
    assert status_for(KeyError("secret")) == (grpc.StatusCode.INTERNAL, GENERIC_INTERNAL_MESSAGE)


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("SubmitTask", "TaskSubmission"),
        ("DeployArtifact", "DeployArtifactRequest"),
        ("ListPerformers", "ListPerformersRequest"),
        ("RemovePerformer", "RemovePerformerRequest"),
    ],
)
@pytest.mark.parametrize(
    "body",
    [b"\xff\xff\xff", b"\x0a\x05ab", b"\x22\xff\xff\xff\xff\x0f", b"\x08"],
    ids=["bad-varint", "truncated-string", "huge-length", "truncated-varint"],
)
async def test_an_undecodable_body_is_invalid_argument_naming_the_method(  # type: ignore[no-untyped-def]
    served, method: str, message: str, body: bytes
) -> None:
    _, server, _ = served
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = channel.unary_unary(f"/eigenlayer.hourglass.v1.ExecutorService/{method}")(
            body, timeout=5
        )
        code, details = await code_of(call)

    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert details == f"request: {method}: the body is not a valid {message} message"


@pytest.mark.parametrize(
    ("path", "message", "body", "field"),
    [
        ("ExecutorService/SubmitTask", "TaskSubmission", b"\x08\x05", "task_id"),
        ("ExecutorService/SubmitTask", "TaskSubmission", b"\x32\x01x", "operator_set_id"),
        ("ExecutorService/DeployArtifact", "DeployArtifactRequest", b"\x08\x05", "avs_address"),
        (
            "ExecutorService/DeployArtifact",
            "DeployArtifactRequest",
            b"\x22\x02\x08\x05",
            "env[0].name",
        ),
        ("ExecutorService/ListPerformers", "ListPerformersRequest", b"\x0d\0\0\0\0", "avs_address"),
        ("ExecutorService/RemovePerformer", "RemovePerformerRequest", b"\x10\x01", "auth"),
        (
            "ExecutorManagementService/RemovePerformer",
            "RemovePerformerRequest",
            b"\x12\x02\x08\x01",
            "auth.challenge_token",
        ),
        (
            "ExecutorManagementService/GetChallengeToken",
            "GetChallengeTokenRequest",
            b"\x08\x2a",
            "operator_address",
        ),
    ],
)
async def test_a_field_with_the_wrong_wire_type_is_invalid_argument_naming_it(  # type: ignore[no-untyped-def]
    served, path: str, message: str, body: bytes, field: str
) -> None:
    """A number where a string belongs parses (protobuf keeps it as an unknown field), but it
    is not the message: upstream's Go server refuses it, and so does this one."""
    _, server, _ = served
    method = path.rpartition("/")[2]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = channel.unary_unary(f"/eigenlayer.hourglass.v1.{path}")(body, timeout=5)
        code, details = await code_of(call)

    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert details == (
        f"request: {method}: the body is not a valid {message} message "
        f"({field} has the wrong wire type)"
    )


async def test_unknown_field_numbers_are_still_accepted(served) -> None:  # type: ignore[no-untyped-def]
    _, server, _ = served
    body = bytes(pb.ListPerformersRequest()) + b"\xf8\x01\x07" + b"\x9a\x02\x01x"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        answer = await channel.unary_unary(
            "/eigenlayer.hourglass.v1.ExecutorService/ListPerformers",
            response_deserializer=pb.ListPerformersResponse.FromString,
        )(body, timeout=5)
    assert len(answer.performers) == 1


async def _answers(call: Any) -> None:
    """Wait for a call's end, reading every answer of a streaming one."""
    if hasattr(call, "__aiter__"):
        async for _ in call:
            pass
    else:
        await call


@pytest.mark.parametrize(
    ("path", "streaming", "message"),
    [
        ("/grpc.health.v1.Health/Check", False, "grpc.health.v1.HealthCheckRequest"),
        ("/grpc.health.v1.Health/Watch", False, "grpc.health.v1.HealthCheckRequest"),
        (
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            True,
            "grpc.reflection.v1alpha.ServerReflectionRequest",
        ),
    ],
)
async def test_health_and_reflection_answer_bad_bodies_with_invalid_argument(  # type: ignore[no-untyped-def]
    served, caplog: pytest.LogCaptureFixture, path: str, streaming: bool, message: str
) -> None:
    _, server, _ = served
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        if streaming:

            async def requests() -> AsyncIterator[bytes]:
                yield b"\xff\xff"

            call = channel.stream_stream(path)(requests(), timeout=5)
        elif path.endswith("Watch"):
            call = channel.unary_stream(path)(b"\xff\xff", timeout=5)
        else:
            call = channel.unary_unary(path)(b"\xff\xff", timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _answers(call)
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )

    method = path.lstrip("/")
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == f"{method}: the body is not a valid {message} message"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert health.status == health_pb2.HealthCheckResponse.SERVING


async def test_an_unknown_performer_id_is_repeated_safely(served) -> None:  # type: ignore[no-untyped-def]
    _, server, _ = served
    hostile = "\x1b[2J\x00" + "x" * 5000
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        call = channel.unary_unary(
            "/eigenlayer.hourglass.v1.ExecutorService/RemovePerformer",
            request_serializer=bytes,
        )(pb.RemovePerformerRequest(performer_id=hostile), timeout=5)
        code, details = await code_of(call)
        plain = await code_of(
            channel.unary_unary(
                "/eigenlayer.hourglass.v1.ExecutorService/RemovePerformer",
                request_serializer=bytes,
            )(pb.RemovePerformerRequest(performer_id="performer-x"), timeout=5)
        )

    assert code is grpc.StatusCode.NOT_FOUND
    assert details == "performer with ID '\\x1b[2J\\x00" + "x" * 75 + "'… not found"
    assert plain == (grpc.StatusCode.NOT_FOUND, "performer with ID performer-x not found")
