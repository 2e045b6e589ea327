"""A small async client of ExecutorService, for the demo, the tests and operators' scripts."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Self

import betterproto2
import grpc

from hourglass_proto.eigenlayer.hourglass import v1 as pb

_PREFIX = "/eigenlayer.hourglass.v1.ExecutorService/"


class ExecutorClient:
    """Calls an executor over a plaintext grpc.aio channel, the way an aggregator does."""

    def __init__(self, target: str, *, max_message_size: int = 2**31 - 1) -> None:
        self._channel = grpc.aio.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", max_message_size),
                ("grpc.max_receive_message_length", max_message_size),
            ],
        )
        self._submit = self._unary("SubmitTask", pb.TaskResult)
        self._list = self._unary("ListPerformers", pb.ListPerformersResponse)
        self._deploy = self._unary("DeployArtifact", pb.DeployArtifactResponse)
        self._remove = self._unary("RemovePerformer", pb.RemovePerformerResponse)

    def _unary(
        self, method: str, response: type[betterproto2.Message]
    ) -> grpc.aio.UnaryUnaryMultiCallable[Any, Any]:
        return self._channel.unary_unary(
            _PREFIX + method, request_serializer=bytes, response_deserializer=response.FromString
        )

    async def submit_task(
        self, request: pb.TaskSubmission, *, timeout: float | None = None
    ) -> pb.TaskResult:
        result: pb.TaskResult = await self._submit(request, timeout=timeout)
        return result

    async def list_performers(
        self, avs_address: str = "", *, timeout: float | None = 10.0
    ) -> pb.ListPerformersResponse:
        result: pb.ListPerformersResponse = await self._list(
            pb.ListPerformersRequest(avs_address=avs_address), timeout=timeout
        )
        return result

    async def deploy_artifact(
        self, request: pb.DeployArtifactRequest, *, timeout: float | None = None
    ) -> pb.DeployArtifactResponse:
        result: pb.DeployArtifactResponse = await self._deploy(request, timeout=timeout)
        return result

    async def remove_performer(
        self, performer_id: str, *, timeout: float | None = 30.0
    ) -> pb.RemovePerformerResponse:
        result: pb.RemovePerformerResponse = await self._remove(
            pb.RemovePerformerRequest(performer_id=performer_id), timeout=timeout
        )
        return result

    async def wait_ready(self, timeout: float) -> None:
        """Wait until the channel connects, e.g. while the executor starts its performers."""
        async with asyncio.timeout(timeout):
            await self._channel.channel_ready()

    async def aclose(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
