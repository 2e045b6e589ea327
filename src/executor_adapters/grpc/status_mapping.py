"""The one place where core errors become gRPC status codes."""

from __future__ import annotations

import grpc

from executor_core import errors

_CODES: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.AvsNotFound, grpc.StatusCode.NOT_FOUND),
    (errors.PerformerNotFound, grpc.StatusCode.NOT_FOUND),
    (errors.TooManyTasks, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.TaskAlreadyRunning, grpc.StatusCode.ALREADY_EXISTS),
    (errors.UnknownAggregator, grpc.StatusCode.PERMISSION_DENIED),
    (errors.NotForThisOperator, grpc.StatusCode.PERMISSION_DENIED),
    (errors.NotInOperatorSet, grpc.StatusCode.PERMISSION_DENIED),
    (errors.InvalidTaskSignature, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PerformerUnavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.PerformerTimeout, grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.TaskRejected, grpc.StatusCode.INTERNAL),
    (errors.SigningError, grpc.StatusCode.INTERNAL),
    (errors.OutputTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.ChainUnavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.ChainDataError, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.OperatorSetNotConfigured, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.TaskAlreadyProcessed, grpc.StatusCode.ALREADY_EXISTS),
    (errors.ManagementRefused, grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.TooManyChallenges, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.TooManyAvs, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.ExecutorVariableUnset, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Unimplemented, grpc.StatusCode.UNIMPLEMENTED),
    (errors.ShuttingDown, grpc.StatusCode.UNAVAILABLE),
    (errors.DeploymentInProgress, grpc.StatusCode.ALREADY_EXISTS),
    (errors.DeploymentTimeout, grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.RuntimeUnavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.RegistryUnavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.ImageNotFound, grpc.StatusCode.NOT_FOUND),
    (errors.ContainerStartFailed, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.ExecutorError, grpc.StatusCode.INTERNAL),
)

GENERIC_INTERNAL_MESSAGE = "internal error; see the executor's log"


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """Return the status code and client-facing message for an error raised by a handler.

    Errors the core raises on purpose keep their message; anything else is a bug whose details
    belong in the log, not in the answer.
    """
    for error_type, code in _CODES:
        if isinstance(exc, error_type):
            return code, str(exc)
    return grpc.StatusCode.INTERNAL, GENERIC_INTERNAL_MESSAGE


def code_for_error_type(name: str) -> grpc.StatusCode:
    """The status code of a core error, by its class name (as `TaskFailed.error_type` gives it)."""
    kind = getattr(errors, name, None)
    if isinstance(kind, type):
        for error_type, code in _CODES:
            if issubclass(kind, error_type):
                return code
    return grpc.StatusCode.INTERNAL
