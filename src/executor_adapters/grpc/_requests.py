"""Wire requests into domain values. The domain types check themselves and raise ValueError;
here each problem becomes `InvalidArgument` naming the wire field it came from."""

from __future__ import annotations

from executor_core.addresses import Address, AvsAddress
from executor_core.errors import InvalidArgument
from executor_core.performers import PerformerId, PerformerImage
from executor_core.tasks import Task, TaskId

__all__ = ["parse_artifact", "parse_avs_address", "parse_performer_id", "parse_task"]


def _required(field: str, value: str) -> str:
    if not value:
        raise InvalidArgument(field, "is required")
    return value


def parse_avs_address(value: str, field: str = "avs_address") -> AvsAddress:
    try:
        return AvsAddress.parse(_required(field, value))
    except ValueError as exc:
        raise InvalidArgument(field, str(exc)) from None


def parse_task(
    task_id: str,
    avs_address: str,
    payload: bytes,
    *,
    aggregator_address: str = "",
    signature: bytes = b"",
    origin: str = "",
) -> Task:
    """A TaskSubmission's fields as a Task; every problem names its field."""
    try:
        tid = TaskId(task_id)
    except ValueError as exc:
        raise InvalidArgument("task_id", str(exc)) from None
    avs = parse_avs_address(avs_address)
    aggregator = None
    if aggregator_address:
        try:
            aggregator = Address.parse(aggregator_address)
        except ValueError as exc:
            raise InvalidArgument("aggregator_address", str(exc)) from None
    return Task(
        task_id=tid,
        avs_address=avs,
        payload=payload,
        aggregator_address=aggregator,
        aggregator_signature=signature,
        avs_address_as_sent=avs_address,
        origin=origin,
    )


def parse_artifact(registry_url: str, digest: str) -> PerformerImage:
    """The image a DeployArtifact names, `registry_url@digest`, checked by PerformerImage."""
    _required("registry_url", registry_url)
    _required("digest", digest)
    not_a_repository = InvalidArgument(
        "registry_url", f"must be an image repository such as host:port/name, got {registry_url!r}"
    )
    if "@" in registry_url:
        raise not_a_repository
    try:
        return PerformerImage(repository=registry_url, digest=digest)
    except ValueError as exc:
        attribute, _, problem = str(exc).partition(": ")
        if attribute == "repository":
            raise not_a_repository from None
        raise InvalidArgument("digest", problem) from None


def parse_performer_id(value: str) -> PerformerId:
    return PerformerId(_required("performer_id", value))
