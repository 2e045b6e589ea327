"""ExecutorService handlers: wire messages in, core calls, wire messages out."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import betterproto2
import grpc

from executor_adapters.grpc.status_mapping import status_for
from executor_core.errors import InvalidArgument
from executor_core.executor import Executor, parse_avs_address, parse_task
from executor_core.performers import DIGEST, REPOSITORY, PerformerId, PerformerImage, PerformerView
from hourglass_proto.eigenlayer.hourglass import v1 as pb

SERVICE_NAME = "eigenlayer.hourglass.v1.ExecutorService"

log = logging.getLogger("executor_adapters.grpc")

Req = TypeVar("Req", bound=betterproto2.Message)
Resp = TypeVar("Resp", bound=betterproto2.Message)
Handler = Callable[[Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]


def rfc3339(moment: datetime | None) -> str:
    """Second precision, as upstream reports `last_health_check`; empty when never checked."""
    if moment is None:
        return ""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_artifact(registry_url: str, digest: str) -> PerformerImage:
    """The image a DeployArtifact names, as `registry_url@digest`; each field checked alone."""
    if not registry_url:
        raise InvalidArgument("registry_url", "is required")
    if not digest:
        raise InvalidArgument("digest", "is required")
    if not DIGEST.fullmatch(digest):
        raise InvalidArgument("digest", "must be sha256: followed by 64 lower-case hex digits")
    if "@" in registry_url or not REPOSITORY.fullmatch(registry_url):
        raise InvalidArgument(
            "registry_url",
            f"must be an image repository such as host:port/name, got {registry_url!r}",
        )
    return PerformerImage(repository=registry_url, digest=digest)


def performer_message(view: PerformerView) -> pb.Performer:
    return pb.Performer(
        performer_id=view.performer_id.value,
        avs_address=view.avs_address.value,
        status=view.status.value,
        artifact_registry=view.image.repository,
        artifact_digest=view.image.digest or view.image.tag,
        resource_healthy=view.resource_healthy,
        application_healthy=view.application_healthy,
        last_health_check=rfc3339(view.last_health_check),
        container_id=view.container_id,
    )


class ExecutorServicer:
    """Adapts the core Executor to the Hourglass ExecutorService."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def submit_task(
        self, request: pb.TaskSubmission, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.TaskResult:
        task = parse_task(
            request.task_id,
            request.avs_address,
            request.payload,
            aggregator_address=request.aggregator_address,
            signature=request.signature,
        )
        result = await self._executor.submit_task(task, timeout=context.time_remaining())
        return pb.TaskResult(
            task_id=result.task_id.value,
            operator_address=result.operator_address,
            output=result.output,
            signature=result.signature,
            avs_address=result.avs_address,
        )

    async def list_performers(
        self, request: pb.ListPerformersRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListPerformersResponse:
        avs = parse_avs_address(request.avs_address) if request.avs_address else None
        views = self._executor.list_performers(avs)
        return pb.ListPerformersResponse(performers=[performer_message(v) for v in views])

    async def deploy_artifact(
        self, request: pb.DeployArtifactRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.DeployArtifactResponse:
        avs = parse_avs_address(request.avs_address)
        image = parse_artifact(request.registry_url, request.digest)
        deployment = await self._executor.deploy_artifact(avs, image)
        return pb.DeployArtifactResponse(
            success=True,
            message="Deployment completed successfully",
            deployment_id=deployment.deployment_id,
        )

    async def remove_performer(
        self, request: pb.RemovePerformerRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.RemovePerformerResponse:
        if not request.performer_id:
            raise InvalidArgument("performer_id", "is required")
        await self._executor.remove_performer(PerformerId(request.performer_id))
        return pb.RemovePerformerResponse(
            success=True, message=f"Performer {request.performer_id} removed successfully"
        )


def _wrap(
    method: str, handler: Handler[Req, Resp]
) -> Callable[[Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]:
    """Map errors to status codes and log each call as one access-log line."""

    async def call(request: Req, context: grpc.aio.ServicerContext[Any, Any]) -> Resp:
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        fields: dict[str, object] = {"grpc.service": SERVICE_NAME, "grpc.method": method}
        for name in ("task_id", "avs_address", "performer_id"):
            value = getattr(request, name, "")
            if value:
                fields[
                    {"task_id": "taskId", "avs_address": "avsAddress"}.get(name, "performerId")
                ] = str(value)[:256]
        try:
            return await handler(request, context)
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except Exception as exc:
            code, message = status_for(exc)
            if code is grpc.StatusCode.INTERNAL:
                log.exception("handler failed", extra=fields)
            await context.abort(code, message)
            raise AssertionError("abort returned") from exc
        finally:
            fields["grpc.code"] = code.name
            fields["grpc.time_ms"] = round((time.perf_counter() - started) * 1000, 2)
            log.info(f"finished unary call with code {code.name}", extra=fields)

    return call


def executor_handler(servicer: ExecutorServicer) -> grpc.GenericRpcHandler:
    """The generic handler that serves ExecutorService with betterproto2 messages."""

    def unary(
        method: str, handler: Handler[Any, Any], request_type: type[betterproto2.Message]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        return grpc.unary_unary_rpc_method_handler(
            _wrap(method, handler),
            request_deserializer=request_type.FromString,
            response_serializer=bytes,
        )

    return grpc.method_handlers_generic_handler(
        SERVICE_NAME,
        {
            "SubmitTask": unary("SubmitTask", servicer.submit_task, pb.TaskSubmission),
            "DeployArtifact": unary(
                "DeployArtifact", servicer.deploy_artifact, pb.DeployArtifactRequest
            ),
            "ListPerformers": unary(
                "ListPerformers", servicer.list_performers, pb.ListPerformersRequest
            ),
            "RemovePerformer": unary(
                "RemovePerformer", servicer.remove_performer, pb.RemovePerformerRequest
            ),
        },
    )
