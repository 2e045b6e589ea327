"""ManagementClient over real gRPC connections: against the executor's own server on the
in-memory fakes, against a first-generation server (ExecutorService paths only), and against
scripted servers that play an executor with authentication on and check what was signed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import pytest

from executor_adapters.grpc.executor_service import ExecutorServicer, executor_handler
from executor_adapters.grpc.management_client import (
    FIRST_GENERATION_SERVICE,
    MANAGEMENT_SERVICE,
    ManagementAuth,
    ManagementCallError,
    ManagementClient,
    is_missing_method,
)
from executor_adapters.grpc.server import ExecutorServer
from executor_adapters.grpc.wire_records import without_field
from executor_adapters.signing import Bn254ResultSigner, EcdsaResultSigner
from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.ecdsa import curve as ecdsa
from executor_adapters.signing.keccak import Keccak256Hasher, keccak256
from executor_core.management_messages import bound_message, challenge_message
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import free_port
from tests.unit.core.conftest import AVS, Harness

G1 = f"/{FIRST_GENERATION_SERVICE}/"
G2 = f"/{MANAGEMENT_SERVICE}/"
DIGEST = "sha256:" + "ab" * 32
OPERATOR = "0x6b58f6762689df33fe8fa3fc40fb5a3089d3a8cc"
ECDSA_SECRET = bytes(range(1, 33))
BN254_SECRET = (123456789).to_bytes(32, "big")
HASHER = Keccak256Hasher()
AUTH_FIELD = {"ListPerformers": 2, "RemovePerformer": 2, "DeployArtifact": 6}


class Paths(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Records the path of every call the server receives."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        self.seen.append(details.method)
        return await continuation(details)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    h = Harness()
    yield h
    for executor in h.executors:
        await executor.shutdown(0)


@pytest.fixture
async def servers() -> AsyncIterator[list[Any]]:
    started: list[Any] = []
    yield started
    for server in started:
        await server.stop(0)


async def executor_server(
    harness: Harness, servers: list[Any], paths: Paths | None = None, **options: Any
) -> ExecutorServer:
    executor = harness.build(harness.settings())
    await executor.start()
    server = ExecutorServer(
        executor,
        host="127.0.0.1",
        port=0,
        interceptors=[paths] if paths else [],
        **options,
    )
    await server.start()
    servers.append(server)
    return server


async def first_generation_server(harness: Harness, servers: list[Any], paths: Paths) -> int:
    """An upstream G1 executor as a client sees it: ExecutorService, no management service."""
    executor = harness.build(harness.settings())
    await executor.start()
    server = grpc.aio.server(interceptors=[paths])
    server.add_generic_rpc_handlers((executor_handler(ExecutorServicer(executor)),))
    port: int = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    servers.append(server)
    return port


Script = Callable[[bytes, Any], Awaitable[bytes]]


async def scripted_server(servers: list[Any], handlers: dict[str, Script]) -> int:
    """A server answering `"<Service>/<Method>"` paths with raw bytes from `handlers`."""
    by_service: dict[str, dict[str, grpc.RpcMethodHandler[Any, Any]]] = {}
    for path, handler in handlers.items():
        service, method = path.split("/")
        by_service.setdefault(service, {})[method] = grpc.unary_unary_rpc_method_handler(handler)
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        tuple(grpc.method_handlers_generic_handler(s, m) for s, m in by_service.items())
    )
    port: int = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    servers.append(server)
    return port


class AuthOnExecutor:
    """Plays an executor with authentication on: issues numbered tokens, records bodies."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.asked_for: list[str] = []
        self.bodies: dict[str, list[bytes]] = {}

    def handlers(self) -> dict[str, Script]:
        async def token(body: bytes, context: Any) -> bytes:
            self.asked_for.append(pb.GetChallengeTokenRequest.FromString(body).operator_address)
            self.issued.append(f"{len(self.issued) + 1:064x}")
            return bytes(pb.GetChallengeTokenResponse(self.issued[-1], expires_at=1_900_000_000))

        def record(method: str, answer: bytes) -> Script:
            async def handle(body: bytes, context: Any) -> bytes:
                self.bodies.setdefault(method, []).append(body)
                return answer

            return handle

        return {
            f"{MANAGEMENT_SERVICE}/GetChallengeToken": token,
            f"{MANAGEMENT_SERVICE}/ListPerformers": record(
                "ListPerformers", bytes(pb.ListPerformersResponse())
            ),
            f"{MANAGEMENT_SERVICE}/RemovePerformer": record(
                "RemovePerformer", bytes(pb.RemovePerformerResponse(success=True))
            ),
            f"{MANAGEMENT_SERVICE}/DeployArtifact": record(
                "DeployArtifact", bytes(pb.DeployArtifactResponse(True, "ok", "deployment-1"))
            ),
        }


def signed_message(method: str, body: bytes) -> tuple[str, bytes, bytes, bytes]:
    """From a body as received: the token, the signature, and both messages it might sign."""
    auth = (
        {
            "ListPerformers": pb.ListPerformersRequest,
            "RemovePerformer": pb.RemovePerformerRequest,
            "DeployArtifact": pb.DeployArtifactRequest,
        }[method]
        .FromString(body)
        .auth
    )
    assert auth is not None
    digest = keccak256(without_field(body, AUTH_FIELD[method]))
    bound = bound_message(HASHER, auth.challenge_token, method, digest)
    return (
        auth.challenge_token,
        auth.signature,
        bound,
        challenge_message(HASHER, auth.challenge_token),
    )


# --- paths ------------------------------------------------------------------------------------


async def test_grpcio_says_method_not_found_for_an_unknown_path(servers: list[Any]) -> None:
    port = await scripted_server(servers, {})
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(G2 + "ListPerformers")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(b"", timeout=5)
    code, details = caught.value.code(), caught.value.details()
    assert (code, details) == (grpc.StatusCode.UNIMPLEMENTED, "Method not found!")
    assert is_missing_method(code, details)


def test_grpc_go_texts_are_missing_methods_and_the_executors_own_refusals_are_not() -> None:
    unimplemented = grpc.StatusCode.UNIMPLEMENTED
    assert is_missing_method(unimplemented, f"unknown service {MANAGEMENT_SERVICE}")
    assert is_missing_method(unimplemented, f"unknown method X for service {MANAGEMENT_SERVICE}")
    for own in (
        "auth: authentication is not enabled on this executor",
        "authentication is not enabled on this executor",
        "env: environment variables through DeployArtifact are not supported yet",
    ):
        assert not is_missing_method(unimplemented, own)
    assert not is_missing_method(grpc.StatusCode.NOT_FOUND, "Method not found!")


async def test_calls_go_to_the_management_service_and_deploy_list_remove_work(
    harness: Harness, servers: list[Any]
) -> None:
    paths = Paths()
    server = await executor_server(harness, servers, paths)
    async with ManagementClient(f"127.0.0.1:{server.port}") as client:
        deployed = await client.deploy_artifact(AVS.value, "repo", DIGEST)
        listed = await client.list_performers(AVS.value)
        removed = await client.remove_performer(listed[0].performer_id)
        assert client.service == MANAGEMENT_SERVICE
    assert deployed.success
    assert deployed.deployment_id.startswith("deployment-")
    [performer] = listed
    assert (performer.artifact_digest, performer.artifact_tag) == (DIGEST, "")
    assert removed.success
    assert paths.seen == [G2 + "DeployArtifact", G2 + "ListPerformers", G2 + "RemovePerformer"]


async def test_a_first_generation_executor_is_called_on_executor_service_from_then_on(
    harness: Harness, servers: list[Any]
) -> None:
    paths = Paths()
    port = await first_generation_server(harness, servers, paths)
    async with ManagementClient(f"127.0.0.1:{port}") as client:
        [performer] = await client.list_performers()
        await client.remove_performer(performer.performer_id)
        assert client.service == FIRST_GENERATION_SERVICE
        assert await client.list_performers() == []
    assert performer.artifact_digest == "latest"  # the first generation's tag-in-digest
    assert paths.seen == [
        G2 + "ListPerformers",
        G1 + "ListPerformers",
        G1 + "RemovePerformer",
        G1 + "ListPerformers",
    ]


async def test_the_executors_own_unimplemented_is_passed_on_without_trying_the_other_path(
    servers: list[Any],
) -> None:
    called: list[str] = []

    async def refuse(body: bytes, context: Any) -> bytes:
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "auth: authentication is not enabled on this executor"
        )
        raise AssertionError

    async def first_generation(body: bytes, context: Any) -> bytes:
        called.append("g1")
        return b""

    port = await scripted_server(
        servers,
        {
            f"{MANAGEMENT_SERVICE}/ListPerformers": refuse,
            f"{FIRST_GENERATION_SERVICE}/ListPerformers": first_generation,
        },
    )
    async with ManagementClient(f"127.0.0.1:{port}") as client:
        with pytest.raises(ManagementCallError) as caught:
            await client.list_performers()
        assert client.service == MANAGEMENT_SERVICE
    assert caught.value.code is grpc.StatusCode.UNIMPLEMENTED
    assert caught.value.details == "auth: authentication is not enabled on this executor"
    assert called == []


async def test_a_server_with_neither_service_gets_unimplemented_saying_so(
    servers: list[Any],
) -> None:
    port = await scripted_server(servers, {})
    async with ManagementClient(f"127.0.0.1:{port}") as client:
        with pytest.raises(ManagementCallError) as caught:
            await client.list_performers()
        assert client.service is None
    assert caught.value.code is grpc.StatusCode.UNIMPLEMENTED
    assert MANAGEMENT_SERVICE in caught.value.details
    assert FIRST_GENERATION_SERVICE in caught.value.details


async def test_an_unreachable_executor_is_unavailable() -> None:
    async with ManagementClient(f"127.0.0.1:{free_port()}") as client:
        with pytest.raises(ManagementCallError) as caught:
            await client.list_performers(timeout=5)
        assert client.service is None
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE


async def test_refusals_carry_the_servers_code_and_message(
    harness: Harness, servers: list[Any]
) -> None:
    server = await executor_server(harness, servers)
    async with ManagementClient(f"127.0.0.1:{server.port}") as client:
        with pytest.raises(ManagementCallError) as caught:
            await client.remove_performer("performer-unknown")
    assert caught.value.code is grpc.StatusCode.NOT_FOUND
    assert caught.value.method == "RemovePerformer"
    assert "performer-unknown" in caught.value.details


# --- health -----------------------------------------------------------------------------------


async def test_health_reports_the_server_and_each_service(
    harness: Harness, servers: list[Any]
) -> None:
    server = await executor_server(harness, servers)
    async with ManagementClient(f"127.0.0.1:{server.port}") as client:
        report = await client.health()
    assert report.serving
    assert dict(report.services) == {
        FIRST_GENERATION_SERVICE: "SERVING",
        MANAGEMENT_SERVICE: "SERVING",
    }


async def test_health_of_a_task_port_says_the_management_service_is_unknown_there(
    harness: Harness, servers: list[Any]
) -> None:
    server = await executor_server(harness, servers, management_port=free_port())
    async with ManagementClient(f"127.0.0.1:{server.port}") as client:
        report = await client.health()
    assert report.overall == "SERVING"
    assert report.services[MANAGEMENT_SERVICE] == "SERVICE_UNKNOWN"


# --- authentication ---------------------------------------------------------------------------


async def test_with_auth_off_calls_go_without_auth_and_the_token_is_asked_for_once(
    harness: Harness, servers: list[Any]
) -> None:
    paths = Paths()
    server = await executor_server(harness, servers, paths)
    auth = ManagementAuth(EcdsaResultSigner(ECDSA_SECRET), OPERATOR)
    async with ManagementClient(f"127.0.0.1:{server.port}", auth=auth) as client:
        # the server refuses any request that carries auth while auth is off (UNIMPLEMENTED)
        [performer] = await client.list_performers()
        await client.remove_performer(performer.performer_id)
        assert client.auth_off
    assert paths.seen == [G2 + "GetChallengeToken", G2 + "ListPerformers", G2 + "RemovePerformer"]


async def test_a_token_is_asked_for_the_operator_for_every_call_and_spent_once(
    servers: list[Any],
) -> None:
    executor = AuthOnExecutor()
    port = await scripted_server(servers, executor.handlers())
    auth = ManagementAuth(EcdsaResultSigner(ECDSA_SECRET), OPERATOR)
    async with ManagementClient(f"127.0.0.1:{port}", auth=auth) as client:
        await client.list_performers()
        await client.list_performers()
        assert not client.auth_off
    assert executor.asked_for == [OPERATOR, OPERATOR]
    tokens = [
        signed_message("ListPerformers", body)[0] for body in executor.bodies["ListPerformers"]
    ]
    assert tokens == executor.issued
    assert len(set(tokens)) == 2


@pytest.mark.parametrize("method", ["ListPerformers", "RemovePerformer", "DeployArtifact"])
async def test_a_bound_ecdsa_signature_covers_the_method_and_the_body_without_auth(
    servers: list[Any], method: str
) -> None:
    executor = AuthOnExecutor()
    port = await scripted_server(servers, executor.handlers())
    signer = EcdsaResultSigner(ECDSA_SECRET)
    async with ManagementClient(f"127.0.0.1:{port}", auth=ManagementAuth(signer, OPERATOR)) as c:
        if method == "ListPerformers":
            await c.list_performers(AVS.value)
        elif method == "RemovePerformer":
            await c.remove_performer("performer-1")
        else:
            await c.deploy_artifact(
                AVS.value,
                "repo",
                DIGEST,
                [("A", "1"), pb.PerformerEnv(name="B", value_from_env="HOST_B")],
            )
    [body] = executor.bodies[method]
    _, signature, bound, unbound = signed_message(method, body)
    # SignMessage signs keccak256 of the message; the address recovered is the signer's
    assert ecdsa.recover_address(keccak256(bound), signature) == signer.address
    assert ecdsa.recover_address(keccak256(unbound), signature) != signer.address
    if method == "DeployArtifact":
        request = pb.DeployArtifactRequest.FromString(body)
        assert request.env == [
            pb.PerformerEnv(name="A", value="1"),
            pb.PerformerEnv(name="B", value_from_env="HOST_B"),
        ]


async def test_an_unbound_bn254_signature_is_upstreams_keccak_of_the_token(
    servers: list[Any],
) -> None:
    executor = AuthOnExecutor()
    port = await scripted_server(servers, executor.handlers())
    signer = Bn254ResultSigner(BN254_SECRET)
    auth = ManagementAuth(signer, OPERATOR, bind=False)
    async with ManagementClient(f"127.0.0.1:{port}", auth=auth) as client:
        await client.remove_performer("performer-1")
    [body] = executor.bodies["RemovePerformer"]
    token, signature, bound, unbound = signed_message("RemovePerformer", body)
    assert unbound == keccak256(token.encode("ascii"))
    assert bn254.verify(signer.public_key_g2, keccak256(unbound), signature)
    assert not bn254.verify(signer.public_key_g2, keccak256(bound), signature)


async def test_the_body_without_auth_is_the_body_sent_before_the_auth_record(
    servers: list[Any],
) -> None:
    executor = AuthOnExecutor()
    port = await scripted_server(servers, executor.handlers())
    auth = ManagementAuth(EcdsaResultSigner(ECDSA_SECRET), OPERATOR)
    async with ManagementClient(f"127.0.0.1:{port}", auth=auth) as client:
        await client.deploy_artifact(AVS.value, "repo", DIGEST, [("A", "1")])
    [body] = executor.bodies["DeployArtifact"]
    plain = bytes(
        pb.DeployArtifactRequest(
            avs_address=AVS.value,
            registry_url="repo",
            digest=DIGEST,
            env=[pb.PerformerEnv(name="A", value="1")],
        )
    )
    assert body.startswith(plain)
    assert without_field(body, AUTH_FIELD["DeployArtifact"]) == plain


async def test_a_refused_token_is_the_calls_error(servers: list[Any]) -> None:
    async def refuse(body: bytes, context: Any) -> bytes:
        await context.abort(
            grpc.StatusCode.PERMISSION_DENIED,
            "operator_address: 0x… is not the operator this executor runs for",
        )
        raise AssertionError

    port = await scripted_server(servers, {f"{MANAGEMENT_SERVICE}/GetChallengeToken": refuse})
    auth = ManagementAuth(EcdsaResultSigner(ECDSA_SECRET), OPERATOR)
    async with ManagementClient(f"127.0.0.1:{port}", auth=auth) as client:
        with pytest.raises(ManagementCallError) as caught:
            await client.list_performers()
    assert caught.value.code is grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.method == "GetChallengeToken"
