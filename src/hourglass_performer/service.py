"""The Hourglass PerformerService over grpcio, wired by hand.

betterproto2 only generates grpclib servers, so the three methods are registered as generic
handlers with the betterproto2 messages as (de)serializers.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable
from typing import Any, NoReturn, TypeVar

import grpc

from hourglass_performer.task import HealthProbe, Task, TaskError, TaskHandler, TaskValidator
from hourglass_proto.eigenlayer.hourglass.v1.performer import (
    HealthCheckRequest,
    HealthCheckResponse,
    PerformerStatus,
    StartSyncRequest,
    StartSyncResponse,
    TaskRequest,
    TaskResponse,
)

SERVICE_NAME = "eigenlayer.hourglass.v1.performer.PerformerService"

log = logging.getLogger("hourglass_performer")

_T = TypeVar("_T")


async def _resolve(value: Awaitable[_T] | _T) -> _T:
    """Let handlers be plain or async functions alike."""
    if inspect.isawaitable(value):
        return await value
    return value


def _label(task_id: bytes) -> str:
    """Task ids are usually UTF-8 "0x..." strings; show them as such, else as hex."""
    try:
        text = task_id.decode()
    except UnicodeDecodeError:
        return task_id.hex()
    return text if text.isprintable() else task_id.hex()


async def _abort(
    context: grpc.aio.ServicerContext, code: grpc.StatusCode, details: str
) -> NoReturn:
    """context.abort always raises; this says so to the type checker."""
    await context.abort(code, details)
    raise AssertionError("context.abort returned")


class PerformerService:
    """Runs the AVS handler for ExecuteTask; the rest of the service is fixed behaviour."""

    def __init__(
        self,
        handler: TaskHandler,
        validator: TaskValidator | None = None,
        health: HealthProbe | None = None,
    ) -> None:
        self._handler = handler
        self._validator = validator
        self._health = health

    async def is_healthy(self) -> bool:
        """Ask the health probe; without one a serving performer is always healthy."""
        if self._health is None:
            return True
        try:
            return bool(await _resolve(self._health()))
        except Exception:
            log.exception("the health probe failed; reporting unhealthy")
            return False

    async def health_check(
        self, request: HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> HealthCheckResponse:
        """READY_FOR_TASK while healthy; READY_FOR_SYNC when the health probe says otherwise.

        There is no sync phase in this SDK, so READY_FOR_SYNC just means "not ready for tasks".
        """
        if await self.is_healthy():
            return HealthCheckResponse(status=PerformerStatus.READY_FOR_TASK)
        return HealthCheckResponse(status=PerformerStatus.READY_FOR_SYNC)

    async def start_sync(
        self, request: StartSyncRequest, context: grpc.aio.ServicerContext
    ) -> StartSyncResponse:
        """No executor calls StartSync; it is answered so that the service is complete."""
        return StartSyncResponse()

    async def execute_task(
        self, request: TaskRequest, context: grpc.aio.ServicerContext
    ) -> TaskResponse:
        """Validate, handle, and echo the task id with the result; errors become statuses."""
        task = Task(task_id=request.task_id, payload=request.payload)
        if self._validator is not None:
            try:
                await _resolve(self._validator(task))
            except (TaskError, ValueError) as exc:
                log.info("task %s rejected: %s", _label(task.task_id), exc)
                await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, f"task is invalid: {exc}")
            except Exception as exc:
                log.exception("validating task %s failed", _label(task.task_id))
                await _abort(context, grpc.StatusCode.INTERNAL, f"Failed to validate task: {exc}")
        try:
            result = await _resolve(self._handler(task))
        except (TaskError, ValueError) as exc:
            log.info("task %s rejected: %s", _label(task.task_id), exc)
            await _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except Exception as exc:
            log.exception("handling task %s failed", _label(task.task_id))
            await _abort(context, grpc.StatusCode.INTERNAL, f"Failed to handle task: {exc}")
        if not isinstance(result, bytes | bytearray | memoryview):
            log.error(
                "handler returned %s for task %s", type(result).__name__, _label(task.task_id)
            )
            await _abort(
                context,
                grpc.StatusCode.INTERNAL,
                f"Failed to handle task: handler returned {type(result).__name__}, not bytes",
            )
        return TaskResponse(task_id=request.task_id, result=bytes(result))


def _serialize(message: Any) -> bytes:
    return bytes(message)


def performer_service_handler(service: PerformerService) -> grpc.GenericRpcHandler:
    """Return the generic handler serving `service` under the Hourglass method paths."""
    return grpc.method_handlers_generic_handler(
        SERVICE_NAME,
        {
            "HealthCheck": grpc.unary_unary_rpc_method_handler(
                service.health_check,
                request_deserializer=HealthCheckRequest.FromString,
                response_serializer=_serialize,
            ),
            "StartSync": grpc.unary_unary_rpc_method_handler(
                service.start_sync,
                request_deserializer=StartSyncRequest.FromString,
                response_serializer=_serialize,
            ),
            "ExecuteTask": grpc.unary_unary_rpc_method_handler(
                service.execute_task,
                request_deserializer=TaskRequest.FromString,
                response_serializer=_serialize,
            ),
        },
    )
