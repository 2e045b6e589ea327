"""Errors the core raises; adapters translate foreign errors into these at their edge.

::

    ExecutorError
    ├── InvalidArgument          a request field is missing or malformed
    ├── AvsNotFound              no performer is configured for the AVS
    ├── PerformerNotFound        no performer has the given id
    ├── TooManyTasks             the AVS's task queue is full
    ├── TaskAlreadyRunning       a task with the same id is in flight for the AVS
    ├── UnknownAggregator        the task names an aggregator the AVS does not have
    ├── NotForThisOperator       the task is addressed to another executor operator
    ├── NotInOperatorSet         this operator is not in the task's operator set at its block
    ├── InvalidTaskSignature     the aggregator's signature is missing or does not verify
    ├── PerformerError
    │   ├── PerformerUnavailable the performer cannot be reached or is not running
    │   ├── PerformerTimeout     the performer did not answer within the deadline
    │   └── TaskRejected         the performer answered with an error
    ├── SigningError             the result could not be signed
    ├── OutputTooLarge           the performer's output is larger than aggregators accept
    ├── ChainUnavailable         the chain endpoint cannot be reached or did not answer in time
    ├── ChainDataError           a contract's answer is missing or is not what its ABI says
    ├── OperatorSetNotConfigured the operator set has no key curve, or no key for it is held
    ├── TaskAlreadyProcessed     the task id was processed with a different request
    ├── ManagementRefused        a management call the caller may not make (origin, registry)
    ├── Unauthenticated          a management call's authentication is missing or does not verify
    │   └── InvalidChallenge     its challenge token is malformed, unknown, used or expired
    ├── TooManyChallenges        too many challenge tokens are outstanding
    ├── TooManyAvs               DeployArtifact would add more unlisted AVSs than allowed
    ├── ExecutorVariableUnset    a deployment copies an executor variable that is not set
    ├── Unimplemented            the request asks for something this executor does not do
    ├── ShuttingDown             the executor no longer accepts work
    ├── DeploymentInProgress     the AVS already has a deployment running
    ├── DeploymentTimeout        the new performer was not healthy within the deployment timeout
    └── ContainerRuntimeError
        ├── RuntimeUnavailable   the container engine cannot be reached
        ├── RegistryUnavailable  the image's registry cannot be reached
        ├── ImageNotFound        the image does not exist locally or in its registry
        ├── ContainerNotFound    the container is gone
        └── ContainerStartFailed the container exited or never became reachable
"""

from __future__ import annotations


class ExecutorError(Exception):
    """Root of every error the executor reports on purpose."""


class InvalidArgument(ExecutorError):
    """A request field is missing or malformed; `field` names it as on the wire."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class AvsNotFound(ExecutorError):
    """No performer serves the AVS."""


class PerformerNotFound(ExecutorError):
    """No performer has this id."""


class TooManyTasks(ExecutorError):
    """The AVS already runs and queues as many tasks as it may."""


class TaskAlreadyRunning(ExecutorError):
    """A task with this id is already in flight for this AVS; running it twice would sign twice."""


class UnknownAggregator(ExecutorError):
    """The task's aggregator is not one of the AVS's aggregators."""


class NotForThisOperator(ExecutorError):
    """The task names another executor operator than the one this executor runs for."""


class NotInOperatorSet(ExecutorError):
    """This operator is not a member of the task's operator set at the task's block."""


class InvalidTaskSignature(ExecutorError):
    """The aggregator's signature over the task is missing or does not verify."""


class PerformerError(ExecutorError):
    """The performer did not produce a result."""


class PerformerUnavailable(PerformerError):
    """The performer cannot be reached, or is not running."""


class PerformerTimeout(PerformerError):
    """The performer did not answer within the task's deadline."""


class TaskRejected(PerformerError):
    """The performer answered the task with an error of its own."""


class SigningError(ExecutorError):
    """The result could not be signed."""


class OutputTooLarge(ExecutorError):
    """The output is at least as large as aggregators drop, so signing it would be wasted."""


class ChainUnavailable(ExecutorError):
    """The chain's JSON-RPC endpoint cannot be reached, or did not answer in time."""


class ChainDataError(ExecutorError):
    """A contract call answered with no data, a revert, or bytes its ABI does not describe."""


class OperatorSetNotConfigured(ExecutorError):
    """The operator set has no key curve in KeyRegistrar, or this executor has no key of it."""


class TaskAlreadyProcessed(ExecutorError):
    """The task id was already processed for this AVS, from a request that differs."""


class ManagementRefused(ExecutorError):
    """The caller may not use the management API from where it calls, or for this image."""


class Unauthenticated(ExecutorError):
    """A management call's authentication is missing, or its signature does not verify."""


class InvalidChallenge(Unauthenticated):
    """The challenge token is malformed, was never issued, was used already, or expired."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"invalid challenge token: {problem}")


class TooManyChallenges(ExecutorError):
    """So many challenge tokens are outstanding that issuing another could exhaust memory."""


class TooManyAvs(ExecutorError):
    """DeployArtifact would add one more AVS than the config allows to be added."""


class ExecutorVariableUnset(ExecutorError):
    """A deployment's `value_from_env` names an allowed variable the executor's environment
    does not set: the request is fine, the executor's environment is not ready for it."""


class Unimplemented(ExecutorError):
    """The request asks for something this executor does not do (yet)."""


class ShuttingDown(ExecutorError):
    """The executor is stopping and takes no new work."""


class DeploymentInProgress(ExecutorError):
    """One deployment per AVS at a time; this one was refused, nothing changed."""


class DeploymentTimeout(ExecutorError):
    """The new performer did not become healthy within the deployment timeout."""


class ContainerRuntimeError(ExecutorError):
    """The container engine failed an operation."""


class RuntimeUnavailable(ContainerRuntimeError):
    """The container engine cannot be reached."""


class RegistryUnavailable(ContainerRuntimeError):
    """The registry that holds the image cannot be reached."""


class ImageNotFound(ContainerRuntimeError):
    """The image exists neither locally nor in its registry."""


class ContainerNotFound(ContainerRuntimeError):
    """The container no longer exists."""


class ContainerStartFailed(ContainerRuntimeError):
    """The container did not reach a running state with a reachable endpoint."""
