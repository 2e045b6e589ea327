"""An async client of an executor's management API, of either generation, with optional
challenge authentication: what `executor ctl` runs on, and what operators' scripts can import.

Paths: every call goes to the second generation's
`/eigenlayer.hourglass.v1.ExecutorManagementService/<Method>` first. An upstream first-generation
executor has no such service and answers `UNIMPLEMENTED` with gRPC's own "method not found"
text; the client then calls `/eigenlayer.hourglass.v1.ExecutorService/<Method>` instead and keeps
that choice for its life. An `UNIMPLEMENTED` with any other text is the executor's own answer
(for instance `auth: authentication is not enabled on this executor`) and is passed on.

Authentication, given a `ManagementAuth` (a signer with `async sign_message(data) -> bytes`,
which signs `keccak256(data)` as upstream's `SignMessage` does, and the operator address): each
call first asks `GetChallengeToken` for a fresh single-use token, signs it and puts
`auth = AuthSignature(challenge_token, signature)` on the request. The message signed is, by
default, the *bound* one (`executor_core.management_messages.bound_message`: the token, the
method and keccak256 of the request's bytes without `auth`), which this project's executor
accepts and can require; `bind=False` signs upstream's `keccak256(token)`, the only form an
upstream executor accepts. When the executor answers `GetChallengeToken` with `UNIMPLEMENTED`
(authentication is off, or a first-generation executor), calls go without `auth`, since such an
executor refuses a request that carries it; `auth_off` then says so.

Every failed call raises `ManagementCallError` with the status code and the server's message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import attrs
import betterproto2
import grpc
from grpc_health.v1 import health_pb2

from executor_adapters.signing.keccak import Keccak256Hasher
from executor_core.management_messages import bound_message, challenge_message
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from hourglass_proto.eigenlayer.hourglass.v1 import common

__all__ = [
    "FIRST_GENERATION_SERVICE",
    "HEALTH_SERVICES",
    "MANAGEMENT_SERVICE",
    "EnvEntry",
    "HealthReport",
    "ManagementAuth",
    "ManagementCallError",
    "ManagementClient",
    "MessageSigner",
    "is_missing_method",
]

MANAGEMENT_SERVICE = "eigenlayer.hourglass.v1.ExecutorManagementService"
FIRST_GENERATION_SERVICE = "eigenlayer.hourglass.v1.ExecutorService"
HEALTH_SERVICE = "grpc.health.v1.Health"
HEALTH_SERVICES = ("", FIRST_GENERATION_SERVICE, MANAGEMENT_SERVICE)
"""What `health()` asks about by default: the whole server, then each executor service."""

# What servers say for a path they do not serve: grpcio (Python, C++ core) "Method not found!",
# grpc-go "unknown service S" / "unknown method M for service S" (the Go executors), grpc-java
# "Method not found: S/M".
_MISSING_METHOD_PREFIXES = ("Method not found", "unknown service ", "unknown method ")

_NOT_FROM_THE_SERVER = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED}
)

Response = TypeVar("Response", bound=betterproto2.Message)
EnvEntry = tuple[str, str] | pb.PerformerEnv
"""A performer environment variable: `(name, value)`, or a `PerformerEnv` (e.g. with
`value_from_env`, which the executor resolves from its own environment)."""


def is_missing_method(code: grpc.StatusCode, details: str) -> bool:
    """Whether a status says the server has no such method (rather than refusing the call)."""
    return code is grpc.StatusCode.UNIMPLEMENTED and details.startswith(_MISSING_METHOD_PREFIXES)


class ManagementCallError(Exception):
    """A call the executor refused or that could not be made (unreachable: `UNAVAILABLE`)."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{method}: {code.name}: {details}")
        self.method = method
        self.code = code
        self.details = details


class MessageSigner(Protocol):
    """Signs as upstream's `SignMessage`: a signature over `keccak256(data)`.

    `Bn254ResultSigner` and `EcdsaResultSigner` implement it.
    """

    async def sign_message(self, data: bytes) -> bytes: ...


@attrs.frozen
class ManagementAuth:
    """How calls are authenticated: who signs, the operator the tokens are asked for, and
    whether signatures are bound to the call (this project's form) or not (upstream's)."""

    signer: MessageSigner
    operator_address: str
    bind: bool = True


@attrs.frozen
class HealthReport:
    """`grpc.health.v1` answers: the server's overall status (the `""` service) and each
    service's, as the enum names (`SERVING`, `NOT_SERVING`, `SERVICE_UNKNOWN`, …)."""

    overall: str
    services: Mapping[str, str]

    @property
    def serving(self) -> bool:
        return self.overall == "SERVING"


def _env_message(entry: EnvEntry) -> pb.PerformerEnv:
    if isinstance(entry, pb.PerformerEnv):
        return entry
    name, value = entry
    return pb.PerformerEnv(name=name, value=value)


class ManagementClient:
    """Management calls over a plaintext grpc.aio channel; one instance per executor."""

    def __init__(
        self,
        target: str,
        *,
        auth: ManagementAuth | None = None,
        max_message_size: int = 2**31 - 1,
    ) -> None:
        self._target = target
        self._auth = auth
        self._hasher = Keccak256Hasher()
        self._channel = grpc.aio.insecure_channel(
            target,
            options=[
                ("grpc.max_send_message_length", max_message_size),
                ("grpc.max_receive_message_length", max_message_size),
            ],
        )
        self._service: str | None = None
        self._auth_off = False

    @property
    def target(self) -> str:
        return self._target

    @property
    def service(self) -> str | None:
        """The service the management calls go to, once a call has told (None before)."""
        return self._service

    @property
    def auth_off(self) -> bool:
        """True once the executor answered GetChallengeToken with UNIMPLEMENTED, so calls are
        sent without authentication."""
        return self._auth_off

    # --- the calls --------------------------------------------------------------------------

    async def list_performers(
        self, avs: str | None = None, *, timeout: float | None = 10.0
    ) -> list[pb.Performer]:
        """Every performer, or those of `avs`."""
        request = pb.ListPerformersRequest(avs_address=avs or "")
        response = await self._managed(
            "ListPerformers", request, pb.ListPerformersResponse, timeout
        )
        return list(response.performers)

    async def deploy_artifact(
        self,
        avs: str,
        registry_url: str,
        digest: str,
        env: Sequence[EnvEntry] = (),
        *,
        timeout: float | None = 300.0,
    ) -> pb.DeployArtifactResponse:
        """Deploy `registry_url@digest` for `avs` blue-green; returns once it is in service."""
        request = pb.DeployArtifactRequest(
            avs_address=avs,
            registry_url=registry_url,
            digest=digest,
            env=[_env_message(entry) for entry in env],
        )
        return await self._managed("DeployArtifact", request, pb.DeployArtifactResponse, timeout)

    async def remove_performer(
        self, performer_id: str, *, timeout: float | None = 120.0
    ) -> pb.RemovePerformerResponse:
        """Remove a performer (an in-service one is drained first)."""
        request = pb.RemovePerformerRequest(performer_id=performer_id)
        return await self._managed("RemovePerformer", request, pb.RemovePerformerResponse, timeout)

    async def get_challenge_token(
        self, operator_address: str, *, timeout: float | None = 10.0
    ) -> pb.GetChallengeTokenResponse:
        """A single-use token for `operator_address` (second generation only)."""
        return await self._call(
            MANAGEMENT_SERVICE,
            "GetChallengeToken",
            bytes(pb.GetChallengeTokenRequest(operator_address=operator_address)),
            pb.GetChallengeTokenResponse,
            timeout,
        )

    async def health(
        self, services: Sequence[str] = HEALTH_SERVICES, *, timeout: float | None = 5.0
    ) -> HealthReport:
        """`grpc.health.v1.Health/Check` for the server (`""`) and each of `services`; a
        service the server does not know is `SERVICE_UNKNOWN`."""
        check = self._channel.unary_unary(
            f"/{HEALTH_SERVICE}/Check",
            request_serializer=None,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        statuses: dict[str, str] = {}
        for name in dict.fromkeys(("", *services)):
            body = health_pb2.HealthCheckRequest(service=name).SerializeToString()
            try:
                answer = await check(body, timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.NOT_FOUND and name:
                    statuses[name] = "SERVICE_UNKNOWN"
                    continue
                raise _error("Health/Check", exc) from None
            statuses[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
        overall = statuses.pop("")
        return HealthReport(overall=overall, services=statuses)

    # --- paths and authentication -----------------------------------------------------------

    async def _managed(
        self,
        method: str,
        request: Any,
        response: type[Response],
        timeout: float | None,
    ) -> Response:
        body = await self._authorized(method, request, timeout)
        if self._service is not None:
            return await self._call(self._service, method, body, response, timeout)
        try:
            answer = await self._call(MANAGEMENT_SERVICE, method, body, response, timeout)
        except ManagementCallError as exc:
            if not is_missing_method(exc.code, exc.details):
                self._settle(MANAGEMENT_SERVICE, exc)
                raise
            not_found = exc
        else:
            self._service = MANAGEMENT_SERVICE
            return answer
        try:
            answer = await self._call(FIRST_GENERATION_SERVICE, method, body, response, timeout)
        except ManagementCallError as exc:
            if is_missing_method(exc.code, exc.details):
                raise ManagementCallError(
                    method,
                    grpc.StatusCode.UNIMPLEMENTED,
                    f"{self._target} serves {method} on neither {MANAGEMENT_SERVICE} nor "
                    f"{FIRST_GENERATION_SERVICE} ({not_found.details}); is it the task port of an "
                    "executor whose management API has a port of its own?",
                ) from None
            self._settle(FIRST_GENERATION_SERVICE, exc)
            raise
        self._service = FIRST_GENERATION_SERVICE
        return answer

    def _settle(self, service: str, refusal: ManagementCallError) -> None:
        """Keep `service` when its answer came from the executor, not from the way to it."""
        if refusal.code not in _NOT_FROM_THE_SERVER:
            self._service = service

    async def _authorized(self, method: str, request: Any, timeout: float | None) -> bytes:
        """The request's bytes, with `auth` when the executor authenticates calls."""
        body_without_auth = bytes(request)
        auth = self._auth
        if auth is None or self._auth_off:
            return body_without_auth
        try:
            challenge = await self.get_challenge_token(auth.operator_address, timeout=timeout)
        except ManagementCallError as exc:
            if exc.code is not grpc.StatusCode.UNIMPLEMENTED:
                raise
            self._auth_off = True
            return body_without_auth
        token = challenge.challenge_token
        if auth.bind:
            message = bound_message(
                self._hasher, token, method, self._hasher.keccak256(body_without_auth)
            )
        else:
            message = challenge_message(self._hasher, token)
        signature = await auth.signer.sign_message(message)
        # `auth` is each request's highest field, so this is body_without_auth plus one record
        request.auth = common.AuthSignature(challenge_token=token, signature=signature)
        return bytes(request)

    async def _call(
        self,
        service: str,
        method: str,
        body: bytes,
        response: type[Response],
        timeout: float | None,
    ) -> Response:
        callable_ = self._channel.unary_unary(
            f"/{service}/{method}",
            request_serializer=None,
            response_deserializer=response.FromString,
        )
        try:
            answer: Response = await callable_(body, timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            raise _error(method, exc) from None
        return answer

    # --- lifetime ---------------------------------------------------------------------------

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


def _error(method: str, exc: grpc.aio.AioRpcError) -> ManagementCallError:
    return ManagementCallError(method, exc.code(), exc.details() or "")
