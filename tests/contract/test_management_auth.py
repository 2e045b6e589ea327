"""Challenge authentication of the management API over real gRPC connections: upstream's flow
(token, sign, call), every status code of reference §1.5/§1.6, authorised keys and request
binding."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import betterproto2
import grpc
import pytest

from executor_adapters.config import AuthorizedKeyConfig, ManagementConfig, SigningCurve
from executor_adapters.grpc.server import ExecutorServer
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_adapters.signing.ecdsa.signer import EcdsaResultSigner
from executor_adapters.signing.keccak import Keccak256Hasher, keccak256
from executor_core.addresses import Address
from executor_core.management_messages import bound_message, challenge_message
from executor_core.ports import ResultSigner
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from hourglass_proto.eigenlayer.hourglass.v1 import common
from tests.contract.test_management_service import G1, G2, Channel, FromElsewhere, status
from tests.unit.core.conftest import AVS, OPERATOR, Harness

OPERATOR_ECDSA = EcdsaResultSigner(bytes.fromhex("11" * 32))
OPERATOR_BN254 = Bn254ResultSigner(bytes.fromhex("22" * 32))
ADMIN_ECDSA = EcdsaResultSigner(bytes.fromhex("33" * 32))
ADMIN_BN254 = Bn254ResultSigner(bytes.fromhex("44" * 32))
STRANGER = EcdsaResultSigner(bytes.fromhex("55" * 32))
DIGEST = "sha256:" + "ab" * 32
HASHER = Keccak256Hasher()
Signer = EcdsaResultSigner | Bn254ResultSigner


@attrs.define
class Served:
    harness: Harness
    server: ExecutorServer
    channel: Channel

    async def token(self, operator: str = OPERATOR) -> str:
        answer = await self.channel.call(
            G2 + "GetChallengeToken",
            pb.GetChallengeTokenRequest(operator_address=operator),
            pb.GetChallengeTokenResponse,
        )
        token: str = answer.challenge_token
        return token

    async def signed(
        self,
        signer: Signer,
        method: str,
        request: Any,
        *,
        bind: bool = False,
        token: str | None = None,
    ) -> Any:
        """`request` with an `auth` upstream's client would send (or our bound one)."""
        token = token or await self.token()
        if bind:
            message = bound_message(HASHER, token, method, keccak256(bytes(request)))
        else:
            message = challenge_message(HASHER, token)
        request.auth = common.AuthSignature(
            challenge_token=token, signature=await signer.sign_message(message)
        )
        return request

    def call(self, path: str, request: betterproto2.Message) -> Any:
        responses = {
            "DeployArtifact": pb.DeployArtifactResponse,
            "ListPerformers": pb.ListPerformersResponse,
            "RemovePerformer": pb.RemovePerformerResponse,
        }
        return self.channel.call(path, request, responses[path.rpartition("/")[2]])


ServeFactory = Callable[..., Any]


@pytest.fixture
async def serve() -> AsyncIterator[ServeFactory]:
    started: list[Served] = []
    harness = Harness()

    async def start(
        *,
        operator: ResultSigner = OPERATOR_ECDSA,
        curve: SigningCurve = SigningCurve.ECDSA,
        authentication: bool = True,
        **management: Any,
    ) -> Served:
        executor = harness.build(
            harness.settings(),
            authentication=authentication,
            management=ManagementConfig(**management),
            signers={SigningCurve.ECDSA: harness.signer, curve: operator},
        )
        await executor.start()
        server = ExecutorServer(executor, host="127.0.0.1", port=0)
        await server.start()
        assert server.port is not None
        served = Served(harness, server, Channel(server.port))
        started.append(served)
        return served

    yield start
    for served in started:
        await served.channel.channel.close()
        await served.server.stop(0)
    for executor in harness.executors:
        await executor.shutdown(0)


async def test_an_upstream_client_flow_deploys_lists_and_removes_with_the_operator_key(
    serve: ServeFactory,
) -> None:
    served = await serve()
    request = pb.DeployArtifactRequest(avs_address=AVS.value, digest=DIGEST, registry_url="repo")
    deployed = await served.call(
        G2 + "DeployArtifact", await served.signed(OPERATOR_ECDSA, "DeployArtifact", request)
    )
    listed = await served.call(
        G2 + "ListPerformers",
        await served.signed(OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest()),
    )
    [performer] = [p for p in listed.performers if p.artifact_digest == DIGEST]
    removal = pb.RemovePerformerRequest(performer_id=performer.performer_id)
    removed = await served.call(
        G2 + "RemovePerformer", await served.signed(OPERATOR_ECDSA, "RemovePerformer", removal)
    )
    assert deployed.success
    assert removed.success


async def test_unauthenticated_deployments_are_refused_before_any_image_is_pulled(
    serve: ServeFactory,
) -> None:
    served = await serve()
    pulled = served.harness.runtime.pulled_images
    request = pb.DeployArtifactRequest(avs_address=AVS.value, digest=DIGEST, registry_url="repo")
    missing = await status(served.call(G2 + "DeployArtifact", request))
    wrong = await status(
        served.call(G2 + "DeployArtifact", await served.signed(STRANGER, "DeployArtifact", request))
    )
    assert missing[0] is grpc.StatusCode.UNAUTHENTICATED
    assert missing[1].startswith("missing authentication")
    assert wrong == (grpc.StatusCode.UNAUTHENTICATED, "invalid signature")
    assert served.harness.runtime.pulled_images == pulled


async def test_the_first_generation_paths_obey_the_same_rules(serve: ServeFactory) -> None:
    served = await serve()
    refused = await status(served.call(G1 + "ListPerformers", pb.ListPerformersRequest()))
    listed = await served.call(
        G1 + "ListPerformers",
        await served.signed(OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest()),
    )
    assert refused[0] is grpc.StatusCode.UNAUTHENTICATED
    assert len(listed.performers) == 1


async def test_get_challenge_token_issues_64_hex_digits_valid_for_five_minutes(
    serve: ServeFactory,
) -> None:
    served = await serve()
    answer = await served.channel.call(
        G2 + "GetChallengeToken",
        pb.GetChallengeTokenRequest(operator_address=OPERATOR.upper().replace("0X", "0x")),
        pb.GetChallengeTokenResponse,
    )
    now = served.harness.clock.now().timestamp()
    assert len(answer.challenge_token) == 64
    assert int(answer.challenge_token, 16) >= 0
    assert answer.challenge_token == answer.challenge_token.lower()
    assert answer.expires_at == int(now + 300)


@pytest.mark.parametrize(
    ("operator", "code", "detail"),
    [
        ("", grpc.StatusCode.INVALID_ARGUMENT, "operator_address: is required"),
        ("0x12", grpc.StatusCode.INVALID_ARGUMENT, "operator_address: must be 0x"),
        ("0x" + "99" * 20, grpc.StatusCode.PERMISSION_DENIED, "operator_address: 0x9999"),
    ],
)
async def test_get_challenge_token_refuses_what_is_not_this_operator(
    serve: ServeFactory, operator: str, code: grpc.StatusCode, detail: str
) -> None:
    served = await serve()
    got = await status(served.token(operator))
    assert got[0] is code
    assert got[1].startswith(detail)


async def test_a_token_is_accepted_once(serve: ServeFactory) -> None:
    served = await serve()
    token = await served.token()
    first = await served.signed(
        OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest(), token=token
    )
    await served.call(G2 + "ListPerformers", first)
    again = await status(served.call(G2 + "ListPerformers", first))
    assert again[0] is grpc.StatusCode.UNAUTHENTICATED
    assert again[1].startswith("invalid challenge token: ")


async def test_a_token_expires_after_five_minutes(serve: ServeFactory) -> None:
    served = await serve()
    token = await served.token()
    request = await served.signed(
        OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest(), token=token
    )
    served.harness.clock.advance(301)
    expired = await status(served.call(G2 + "ListPerformers", request))
    assert expired[0] is grpc.StatusCode.UNAUTHENTICATED
    assert expired[1].startswith("invalid challenge token: ")


async def test_a_token_this_executor_did_not_issue_is_refused(serve: ServeFactory) -> None:
    served = await serve()
    made_up = await served.signed(
        OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest(), token="cd" * 32
    )
    malformed = pb.ListPerformersRequest(
        auth=common.AuthSignature(challenge_token="xyz", signature=b"\x01")
    )
    unknown = await status(served.call(G2 + "ListPerformers", made_up))
    bad = await status(served.call(G2 + "ListPerformers", malformed))
    assert unknown[0] is bad[0] is grpc.StatusCode.UNAUTHENTICATED
    assert (
        bad[1] == "invalid challenge token: challenge_token must be 64 hex digits, got 3 characters"
    )


async def test_a_failed_signature_still_spends_the_token(serve: ServeFactory) -> None:
    served = await serve()
    token = await served.token()
    wrong = await served.signed(STRANGER, "ListPerformers", pb.ListPerformersRequest(), token=token)
    right = await served.signed(
        OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest(), token=token
    )
    assert (await status(served.call(G2 + "ListPerformers", wrong)))[1] == "invalid signature"
    again = await status(served.call(G2 + "ListPerformers", right))
    assert again[1].startswith("invalid challenge token: ")


async def test_authorised_management_keys_sign_without_the_operator_key(
    serve: ServeFactory,
) -> None:
    served = await serve(
        authorized_keys=(
            AuthorizedKeyConfig(ecdsa_address=Address(ADMIN_ECDSA.address), name="laptop"),
            AuthorizedKeyConfig(bn254_public_key=ADMIN_BN254.public_key_g2),
        )
    )
    for signer in (ADMIN_ECDSA, ADMIN_BN254, OPERATOR_ECDSA):
        listed = await served.call(
            G2 + "ListPerformers",
            await served.signed(signer, "ListPerformers", pb.ListPerformersRequest()),
        )
        assert len(listed.performers) == 1
    stranger = await status(
        served.call(
            G2 + "ListPerformers",
            await served.signed(STRANGER, "ListPerformers", pb.ListPerformersRequest()),
        )
    )
    assert stranger == (grpc.StatusCode.UNAUTHENTICATED, "invalid signature")


async def test_a_bound_signature_for_one_call_is_refused_for_another(
    serve: ServeFactory,
) -> None:
    served = await serve()
    token = await served.token()
    listing = await served.signed(
        OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest(), bind=True, token=token
    )
    [performer] = (
        await served.call(
            G2 + "ListPerformers",
            await served.signed(
                OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest(), bind=True
            ),
        )
    ).performers
    replayed = pb.RemovePerformerRequest(performer_id=performer.performer_id, auth=listing.auth)
    refused = await status(served.call(G2 + "RemovePerformer", replayed))
    assert refused == (grpc.StatusCode.UNAUTHENTICATED, "invalid signature")
    assert (
        len(
            (
                await served.call(
                    G2 + "ListPerformers",
                    await served.signed(
                        OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest(), bind=True
                    ),
                )
            ).performers
        )
        == 1
    )


async def test_a_bound_signature_covers_the_request_body(serve: ServeFactory) -> None:
    served = await serve()
    signed = await served.signed(
        OPERATOR_ECDSA,
        "ListPerformers",
        pb.ListPerformersRequest(avs_address=AVS.value),
        bind=True,
    )
    changed = pb.ListPerformersRequest(avs_address="0x" + "99" * 20, auth=signed.auth)
    refused = await status(served.call(G2 + "ListPerformers", changed))
    assert refused == (grpc.StatusCode.UNAUTHENTICATED, "invalid signature")


async def test_requiring_binding_refuses_upstreams_unbound_signatures(
    serve: ServeFactory,
) -> None:
    served = await serve(require_request_binding=True)
    unbound = await status(
        served.call(
            G2 + "ListPerformers",
            await served.signed(OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest()),
        )
    )
    bound = await served.call(
        G2 + "ListPerformers",
        await served.signed(
            OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest(), bind=True
        ),
    )
    assert unbound[0] is grpc.StatusCode.UNAUTHENTICATED
    assert "management.requireRequestBinding" in unbound[1]
    assert len(bound.performers) == 1


async def test_with_auth_on_a_caller_from_another_host_is_served_when_it_signs(
    serve: ServeFactory,
) -> None:
    served = await serve()
    executor = served.harness.executors[-1]
    remote = ExecutorServer(executor, host="127.0.0.1", port=0, interceptors=(FromElsewhere(),))
    await remote.start()
    assert remote.port is not None
    channel = Channel(remote.port)
    try:
        request = await served.signed(OPERATOR_ECDSA, "ListPerformers", pb.ListPerformersRequest())
        listed = await channel.call(G2 + "ListPerformers", request, pb.ListPerformersResponse)
        unsigned = await status(
            channel.call(
                G2 + "ListPerformers", pb.ListPerformersRequest(), pb.ListPerformersResponse
            )
        )
    finally:
        await channel.channel.close()
        await remote.stop(0)
    assert len(listed.performers) == 1
    assert unsigned[0] is grpc.StatusCode.UNAUTHENTICATED
