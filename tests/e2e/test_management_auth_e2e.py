"""Management authentication end to end: the executor with `authentication.enabled`, real
Docker, a real registry, and a client that signs as upstream's do (token, sign, call)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs
import betterproto2
import grpc
import pytest

from executor_adapters.config import load_config
from executor_adapters.signing.keccak import Keccak256Hasher
from executor_app.bootstrap import ExecutorApp
from executor_app.signers import load_signers
from executor_core.management_messages import challenge_message
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from hourglass_proto.eigenlayer.hourglass.v1 import common
from tests.docker_support import (
    PERFORMER_LABEL,
    REPO,
    containers_with_label,
    require_example_image,
)
from tests.e2e.apps import started_executor
from tests.registry_support import LocalRegistry

pytestmark = pytest.mark.docker

SERVICE = "/eigenlayer.hourglass.v1.ExecutorManagementService/"
AVS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


@attrs.define
class Client:
    """What an upstream management client does: one fresh token per call."""

    channel: grpc.aio.Channel
    operator: str
    signer: Any

    def _call(self, method: str, request: Any, response: type[betterproto2.Message]) -> Any:
        rpc = self.channel.unary_unary(
            SERVICE + method, request_serializer=bytes, response_deserializer=response.FromString
        )
        return rpc(request, timeout=60)

    async def signed(self, method: str, request: Any, response: Any) -> Any:
        challenge = await self._call(
            "GetChallengeToken",
            pb.GetChallengeTokenRequest(operator_address=self.operator),
            pb.GetChallengeTokenResponse,
        )
        token = challenge.challenge_token
        signature = await self.signer.sign_message(challenge_message(Keccak256Hasher(), token))
        request.auth = common.AuthSignature(challenge_token=token, signature=signature)
        return await self._call(method, request, response)

    async def unsigned(self, method: str, request: Any, response: Any) -> grpc.StatusCode:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await self._call(method, request, response)
        return caught.value.code()


@pytest.fixture
async def authenticated(run_id: str) -> AsyncIterator[tuple[ExecutorApp, Client]]:
    require_example_image()
    config = load_config(REPO / "examples/config/executor.yaml")
    config = attrs.evolve(
        config,
        authentication_enabled=True,
        performer_network_name=f"executor-e2e-auth-{run_id}",
    )
    signers = await load_signers(config)
    async with started_executor(config) as app:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
        operator_key = next(iter(signers.values()))
        try:
            yield app, Client(channel, config.operator.address.value, operator_key)
        finally:
            await channel.close()


async def test_signed_calls_deploy_list_and_remove_and_unsigned_ones_pull_nothing(
    authenticated: tuple[ExecutorApp, Client], registry: LocalRegistry
) -> None:
    _, client = authenticated
    image = registry.v1
    deploy = pb.DeployArtifactRequest(
        avs_address=AVS, registry_url=image.repository, digest=registry.v2.digest
    )
    asked_before = len(registry.requests())
    refused = await client.unsigned("DeployArtifact", deploy, pb.DeployArtifactResponse)
    assert refused is grpc.StatusCode.UNAUTHENTICATED
    assert len(registry.requests()) == asked_before, "an unsigned deployment reached the registry"

    deployed = await client.signed(
        "DeployArtifact",
        pb.DeployArtifactRequest(
            avs_address=AVS, registry_url=image.repository, digest=image.digest
        ),
        pb.DeployArtifactResponse,
    )
    listed = await client.signed(
        "ListPerformers", pb.ListPerformersRequest(), pb.ListPerformersResponse
    )
    [performer] = [p for p in listed.performers if p.artifact_digest == image.digest]
    assert performer.status == "InService"
    assert containers_with_label(f"{PERFORMER_LABEL}={performer.performer_id}")
    removed = await client.signed(
        "RemovePerformer",
        pb.RemovePerformerRequest(performer_id=performer.performer_id),
        pb.RemovePerformerResponse,
    )
    assert deployed.success
    assert removed.success
    assert not containers_with_label(f"{PERFORMER_LABEL}={performer.performer_id}")
    listing = await client.unsigned(
        "ListPerformers", pb.ListPerformersRequest(), pb.ListPerformersResponse
    )
    assert listing is grpc.StatusCode.UNAUTHENTICATED
