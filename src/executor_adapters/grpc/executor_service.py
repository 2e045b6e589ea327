"""ExecutorService handlers: wire messages in, core calls, wire messages out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs
import betterproto2
import grpc

from executor_adapters.grpc import task_messages
from executor_adapters.grpc._requests import (
    parse_artifact,
    parse_avs_address,
    parse_env,
    parse_performer_id,
    parse_task,
    refuse_kubernetes,
)
from executor_adapters.grpc.decoding import MalformedBody, not_a_message, wrong_wire_type
from executor_adapters.grpc.peers import is_local_peer
from executor_adapters.grpc.status_mapping import status_for
from executor_adapters.grpc.wire_records import without_field
from executor_adapters.log_limits import LimitedLog
from executor_adapters.signing.keccak import keccak256
from executor_core.addresses import AvsAddress
from executor_core.errors import InvalidArgument, ManagementRefused, TaskRejected, Unimplemented
from executor_core.executor import Executor
from executor_core.management_auth import AuthProof, ManagementAuthenticator, ManagementCall
from executor_core.performers import PerformerView
from hourglass_proto.eigenlayer.hourglass import v1 as pb

SERVICE_NAME = "eigenlayer.hourglass.v1.ExecutorService"
MANAGEMENT_SERVICE_NAME = "eigenlayer.hourglass.v1.ExecutorManagementService"

log = logging.getLogger("executor_adapters.grpc")

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Handler = Callable[[Req, grpc.aio.ServicerContext[Any, Any]], Awaitable[Resp]]


@attrs.frozen
class Codec:
    """How one RPC's messages are read from and written to bytes, and what the request is called."""

    message_name: str
    parse: Callable[[bytes], Any]
    serialize: Callable[[Any], bytes]


M = TypeVar("M", bound=betterproto2.Message)


@attrs.frozen
class Received(Generic[M]):
    """A management request and what a bound signature covers: keccak256 of its body without
    the `auth` field, as the bytes arrived (`executor_core.management_messages`)."""

    message: M
    body_digest: bytes


def _checked(message: Any) -> Any:
    problem = wrong_wire_type(message)
    if problem:
        raise MalformedBody(problem)
    return message


def _betterproto(request_type: type[M]) -> Codec:
    """A betterproto2 message whose body upb checks first: betterproto2 accepts garbage, and a
    number where a string belongs. It reads upb's re-encoding of the known fields, so both see
    the same values; a bound signature covers the body as it arrived."""
    strict = task_messages.message_class(f"eigenlayer.hourglass.v1.{request_type.__name__}")
    auth = strict.DESCRIPTOR.fields_by_name.get("auth")

    def parse(body: bytes) -> Received[M]:
        checked = _checked(strict.FromString(body))
        checked.DiscardUnknownFields()
        unsigned = body if auth is None else without_field(body, auth.number)
        return Received(request_type.FromString(checked.SerializeToString()), keccak256(unsigned))

    return Codec(request_type.__name__, parse, bytes)


SUBMIT_TASK_CODEC = Codec(
    "TaskSubmission",
    lambda body: _checked(task_messages.TaskSubmission.FromString(body)),
    lambda m: m.SerializeToString(),
)


def rfc3339(moment: datetime | None) -> str:
    """Second precision, as upstream reports `last_health_check`; empty when never checked."""
    if moment is None:
        return ""
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def performer_message(view: PerformerView, *, second_generation: bool = False) -> pb.Performer:
    """A performer as each generation reports it.

    `artifact_digest` is the repository digest of the image the performer runs, as its
    registry knows it (the engine's RepoDigests for the repository, or the digest it was
    deployed by), also for an image deployed by tag. When none is known (an image built
    locally and never pushed), the first generation puts the tag there, as upstream's did, and
    the second leaves it empty. `artifact_tag` is the tag, where there is one.
    """
    digest = view.digest
    return pb.Performer(
        performer_id=view.performer_id.value,
        avs_address=view.avs_address.value,
        status=view.status.value,
        artifact_registry=view.image.repository,
        artifact_digest=digest if second_generation else digest or view.image.tag,
        resource_healthy=view.resource_healthy,
        application_healthy=view.application_healthy,
        last_health_check=rfc3339(view.last_health_check),
        container_id=view.container_id,
        artifact_tag=view.image.tag,
    )


@attrs.frozen
class KubernetesDeploys:
    """What DeployArtifact may say about Kubernetes on an executor whose performers run there;
    on Docker there is no such value, and `kubernetes` and `env[].kubernetes_env` are refused."""

    service_accounts: Mapping[str, str] = attrs.field(factory=dict)
    """The configured `avsPerformers[].kubernetes.serviceAccountName` by lower-case AVS
    address; an AVS not listed has none."""

    def service_account(self, avs: AvsAddress) -> str:
        return self.service_accounts.get(avs.value.lower(), "")


REMOTE_REFUSED = (
    "management calls are served to callers on this host only while management authentication "
    "is off; call from the executor's host (for example through an SSH tunnel), or set "
    "management.allowRemoteWithoutAuth to serve anyone who reaches the port"
)


class ExecutorServicer:
    """Adapts the core Executor to the Hourglass ExecutorService.

    Management calls (DeployArtifact can run any image on this host) need a signature when an
    `authenticator` is given, checked before anything else about the request. Without one they
    are answered only for loopback and Unix-socket callers, unless `open_management` says
    otherwise, and a request that carries `auth` is refused rather than letting the caller
    believe its signature was checked (as upstream does).

    `kubernetes` is given when the performers run on Kubernetes: DeployArtifact then reads
    `env[].kubernetes_env`, and takes `kubernetes` when it asks for the configured service
    account; on Docker both are refused.
    """

    def __init__(
        self,
        executor: Executor,
        *,
        open_management: bool = False,
        authenticator: ManagementAuthenticator | None = None,
        kubernetes: KubernetesDeploys | None = None,
    ) -> None:
        self._executor = executor
        self._open_management = open_management
        self._authenticator = authenticator
        self._kubernetes = kubernetes
        self.access_log = LimitedLog(log)
        """Where calls that fail write their lines: rate limited per method and code."""

    async def _admit(
        self,
        method: str,
        received: Received[Any],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> None:
        auth = received.message.auth
        if self._authenticator is None:
            self._admit_unauthenticated(context)
            if auth is not None:
                raise Unimplemented("auth: authentication is not enabled on this executor")
            return
        proof = None if auth is None else AuthProof(auth.challenge_token, auth.signature)
        await self._authenticator.authenticate(proof, ManagementCall(method, received.body_digest))

    def _admit_unauthenticated(self, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        if not self._open_management and not is_local_peer(context.peer() or ""):
            raise ManagementRefused(REMOTE_REFUSED)

    async def submit_task(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        """SubmitTask on `task_messages` (upb) messages: the one RPC that runs per task."""
        task = parse_task(
            request.task_id,
            request.avs_address,
            request.payload,
            aggregator_address=request.aggregator_address,
            signature=request.signature,
            origin=context.peer() or "",
            version=request.version,
            operator_set_id=request.operator_set_id,
            reference_timestamp=request.reference_timestamp,
            executor_address=request.executor_address,
            task_block_number=request.task_block_number,
        )
        result = await self._executor.submit_task(task, timeout=context.time_remaining())
        return task_messages.TaskResult(
            task_id=result.task_id.value,
            operator_address=result.operator_address,
            output=result.output,
            result_signature=result.signature,
            avs_address=result.avs_address,
            operator_set_id=result.operator_set_id,
            auth_signature=result.auth_signature,
            version=result.version,
        )

    async def list_performers(
        self,
        received: Received[pb.ListPerformersRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.ListPerformersResponse:
        await self._admit("ListPerformers", received, context)
        return self._list(received.message, second_generation=False)

    async def list_performers_g2(
        self,
        received: Received[pb.ListPerformersRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.ListPerformersResponse:
        await self._admit("ListPerformers", received, context)
        return self._list(received.message, second_generation=True)

    def _list(
        self, request: pb.ListPerformersRequest, *, second_generation: bool
    ) -> pb.ListPerformersResponse:
        avs = parse_avs_address(request.avs_address) if request.avs_address else None
        views = self._executor.list_performers(avs)
        return pb.ListPerformersResponse(
            performers=[performer_message(v, second_generation=second_generation) for v in views]
        )

    async def get_challenge_token(
        self,
        received: Received[pb.GetChallengeTokenRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.GetChallengeTokenResponse:
        if self._authenticator is None:
            self._admit_unauthenticated(context)
            raise Unimplemented("authentication is not enabled on this executor")
        challenge = self._authenticator.challenge(received.message.operator_address)
        return pb.GetChallengeTokenResponse(
            challenge_token=challenge.token, expires_at=challenge.expires_at
        )

    async def deploy_artifact(
        self,
        received: Received[pb.DeployArtifactRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.DeployArtifactResponse:
        await self._admit("DeployArtifact", received, context)
        request = received.message
        avs = parse_avs_address(request.avs_address)
        image = parse_artifact(request.registry_url, request.digest)
        env = parse_env(request.env, kubernetes=self._kubernetes is not None)
        account = None if self._kubernetes is None else self._kubernetes.service_account(avs)
        refuse_kubernetes(request.kubernetes, service_account=account)
        deployment = await self._executor.deploy_artifact(avs, image, env=env)
        return pb.DeployArtifactResponse(
            success=True,
            message="Deployment completed successfully",
            deployment_id=deployment.deployment_id,
        )

    async def remove_performer(
        self,
        received: Received[pb.RemovePerformerRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> pb.RemovePerformerResponse:
        await self._admit("RemovePerformer", received, context)
        request = received.message
        await self._executor.remove_performer(parse_performer_id(request.performer_id))
        return pb.RemovePerformerResponse(
            success=True, message=f"Performer {request.performer_id} removed successfully"
        )


_LOG_NAMES = {"task_id": "taskId", "avs_address": "avsAddress", "performer_id": "performerId"}


def _request_fields(service: str, method: str, request: Any) -> dict[str, object]:
    fields: dict[str, object] = {"grpc.service": service, "grpc.method": method}
    if isinstance(request, Received):
        request = request.message
    for name, key in _LOG_NAMES.items():
        value = getattr(request, name, "")
        if value:
            fields[key] = str(value)[:256]
    return fields


def _parsed(method: str, codec: Codec, body: bytes) -> Any:
    try:
        return codec.parse(body)
    except MalformedBody as exc:
        problem = str(exc)
    except Exception:
        problem = ""
    raise InvalidArgument("request", not_a_message(method, codec.message_name, problem))


def _wrap(
    service: str,
    method: str,
    handler: Handler[Any, Any],
    codec: Codec,
    *,
    access_level: int = logging.INFO,
    access_log: LimitedLog | None = None,
) -> Callable[[bytes, grpc.aio.ServicerContext[Any, Any]], Awaitable[Any]]:
    """Parse the body, map errors to status codes, log the call as one line at `access_level`.

    The body is parsed here rather than by grpc, so that one that is not a valid message gets
    INVALID_ARGUMENT naming the method instead of a status carrying a Python exception. The
    SubmitTask line is at debug: the core logs every task once at info, and a second line per
    task would double the cost of logging on the hottest path. The line of a call that did not
    succeed goes through `access_log`, rate limited per method and code, and so does the error
    line (with its traceback) of a handler that failed unexpectedly: callers choose how many
    of those there are.
    """
    limited = access_log or LimitedLog(log)
    kind = {"grpc.service": service, "grpc.method": method}

    async def call(body: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        request: Any = None
        try:
            request = _parsed(method, codec, body)
            return await handler(request, context)
        except grpc.aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED
            raise
        except Exception as exc:
            code, message = status_for(exc)
            # A performer's own error is the task's (TaskFailed logs it); anything else
            # that ends as INTERNAL is the executor's and gets its traceback logged.
            if code is grpc.StatusCode.INTERNAL and not isinstance(exc, TaskRejected):
                limited.log(
                    logging.ERROR,
                    "handler failed",
                    kind={**kind, "errorType": type(exc).__name__},
                    extra=_request_fields(service, method, request),
                    exc_info=exc,
                )
            await context.abort(code, message)
            raise AssertionError("abort returned") from exc
        finally:
            if log.isEnabledFor(access_level):
                fields = _request_fields(service, method, request)
                fields["grpc.code"] = code.name
                fields["grpc.time_ms"] = round((time.perf_counter() - started) * 1000, 2)
                line = f"finished unary call with code {code.name}"
                if code is grpc.StatusCode.OK:
                    log.log(access_level, line, extra=fields)
                else:
                    limited.log(
                        access_level, line, kind={**kind, "grpc.code": code.name}, extra=fields
                    )

    return call


def _unary(
    service: str,
    method: str,
    handler: Handler[Any, Any],
    codec: Codec,
    access_level: int = logging.INFO,
    access_log: LimitedLog | None = None,
) -> grpc.RpcMethodHandler[Any, Any]:
    return grpc.unary_unary_rpc_method_handler(
        _wrap(service, method, handler, codec, access_level=access_level, access_log=access_log),
        request_deserializer=None,
        response_serializer=codec.serialize,
    )


def _management_methods(
    servicer: ExecutorServicer, *, second_generation: bool
) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    listing = servicer.list_performers_g2 if second_generation else servicer.list_performers
    service = MANAGEMENT_SERVICE_NAME if second_generation else SERVICE_NAME
    return {
        "DeployArtifact": _unary(
            service,
            "DeployArtifact",
            servicer.deploy_artifact,
            _betterproto(pb.DeployArtifactRequest),
            access_log=servicer.access_log,
        ),
        "ListPerformers": _unary(
            service,
            "ListPerformers",
            listing,
            _betterproto(pb.ListPerformersRequest),
            access_log=servicer.access_log,
        ),
        "RemovePerformer": _unary(
            service,
            "RemovePerformer",
            servicer.remove_performer,
            _betterproto(pb.RemovePerformerRequest),
            access_log=servicer.access_log,
        ),
    }


def executor_handler(
    servicer: ExecutorServicer, *, submit: bool = True, management: bool = True
) -> grpc.GenericRpcHandler:
    """ExecutorService: SubmitTask (upb messages) and, unless the management plane has a
    listener of its own, the first generation's management RPCs (betterproto2 messages)."""
    methods: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
    if submit:
        methods["SubmitTask"] = _unary(
            SERVICE_NAME,
            "SubmitTask",
            servicer.submit_task,
            SUBMIT_TASK_CODEC,
            logging.DEBUG,
            access_log=servicer.access_log,
        )
    if management:
        methods.update(_management_methods(servicer, second_generation=False))
    return grpc.method_handlers_generic_handler(SERVICE_NAME, methods)


def management_handler(servicer: ExecutorServicer) -> grpc.GenericRpcHandler:
    """ExecutorManagementService, the second generation's home of the management RPCs."""
    methods = _management_methods(servicer, second_generation=True)
    methods["GetChallengeToken"] = _unary(
        MANAGEMENT_SERVICE_NAME,
        "GetChallengeToken",
        servicer.get_challenge_token,
        _betterproto(pb.GetChallengeTokenRequest),
        access_log=servicer.access_log,
    )
    return grpc.method_handlers_generic_handler(MANAGEMENT_SERVICE_NAME, methods)
