"""Wire requests into domain values. The domain types check themselves and raise ValueError;
here each problem becomes `InvalidArgument` naming the wire field it came from."""

from __future__ import annotations

import re
from collections.abc import Sequence

from executor_core.addresses import Address, AvsAddress
from executor_core.errors import InvalidArgument
from executor_core.performer_env import (
    MAX_ENTRIES,
    EnvProblem,
    RequestedEnv,
    check_requested,
    name_problem,
)
from executor_core.performers import (
    MAX_REPOSITORY_LENGTH,
    EnvReference,
    EnvSource,
    PerformerId,
    PerformerImage,
)
from executor_core.tasks import G2_VERSION, G2Envelope, Task, TaskId
from executor_core.text import quoted
from hourglass_proto.eigenlayer.hourglass import v1 as pb

__all__ = [
    "parse_artifact",
    "parse_avs_address",
    "parse_env",
    "parse_performer_id",
    "parse_task",
    "refuse_kubernetes",
]

_ON_DOCKER = "needs deploymentMode kubernetes; this executor runs performers on Docker"


def _required(field: str, value: str) -> str:
    if not value:
        raise InvalidArgument(field, "is required")
    return value


def parse_avs_address(value: str, field: str = "avs_address") -> AvsAddress:
    try:
        return AvsAddress.parse(_required(field, value))
    except ValueError as exc:
        raise InvalidArgument(field, str(exc)) from None


def _address(field: str, value: str) -> Address:
    try:
        return Address.parse(_required(field, value))
    except ValueError as exc:
        raise InvalidArgument(field, str(exc)) from None


_G2_TASK_ID = re.compile(r"0x[0-9a-fA-F]{64}")


def _g2_envelope(
    task_id: str,
    aggregator_address: str,
    signature: bytes,
    operator_set_id: int,
    reference_timestamp: int,
    executor_address: str,
    task_block_number: int,
) -> G2Envelope:
    """Upstream's format checks of a version 1 submission, each naming its field."""
    if not _G2_TASK_ID.fullmatch(task_id):
        raise InvalidArgument(
            "task_id",
            "must be 0x followed by 64 hex digits (a TaskMailbox task hash), "
            f"got {quoted(task_id)}",
        )
    _address("aggregator_address", aggregator_address)
    executor = _address("executor_address", executor_address)
    if not signature:
        raise InvalidArgument("signature", "is required")
    if reference_timestamp == 0:
        raise InvalidArgument(
            "reference_timestamp", "is required (the TaskCreated event's, never 0)"
        )
    return G2Envelope(
        operator_set_id=operator_set_id,
        reference_timestamp=reference_timestamp,
        executor_address=executor,
        task_block_number=task_block_number,
    )


def parse_task(
    task_id: str,
    avs_address: str,
    payload: bytes,
    *,
    aggregator_address: str = "",
    signature: bytes = b"",
    origin: str = "",
    version: int = 0,
    operator_set_id: int = 0,
    reference_timestamp: int = 0,
    executor_address: str = "",
    task_block_number: int = 0,
) -> Task:
    """A TaskSubmission's fields as a Task; every problem names its field.

    `version` 1 is a second-generation submission and gets its stricter format checks;
    version 0 is a first-generation one, whose fields 6-9 do not exist.
    """
    if version not in (0, G2_VERSION):
        raise InvalidArgument(
            "version", f"must be 0 (first generation) or 1 (second generation), got {version}"
        )
    envelope = None
    if version == G2_VERSION:
        envelope = _g2_envelope(
            task_id,
            aggregator_address,
            signature,
            operator_set_id,
            reference_timestamp,
            executor_address,
            task_block_number,
        )
    try:
        tid = TaskId(task_id)
    except ValueError as exc:
        raise InvalidArgument("task_id", str(exc)) from None
    avs = parse_avs_address(avs_address)
    aggregator = _address("aggregator_address", aggregator_address) if aggregator_address else None
    return Task(
        task_id=tid,
        avs_address=avs,
        payload=payload,
        aggregator_address=aggregator,
        aggregator_signature=signature,
        avs_address_as_sent=avs_address,
        origin=origin,
        envelope=envelope,
    )


def parse_artifact(registry_url: str, digest: str) -> PerformerImage:
    """The image a DeployArtifact names, `registry_url@digest`, checked by PerformerImage."""
    _required("registry_url", registry_url)
    _required("digest", digest)
    if len(registry_url) > MAX_REPOSITORY_LENGTH:
        raise InvalidArgument(
            "registry_url",
            f"is {len(registry_url)} characters long; at most {MAX_REPOSITORY_LENGTH} are allowed",
        )
    not_a_repository = InvalidArgument(
        "registry_url",
        f"must be an image repository such as host:port/name, got {quoted(registry_url)}",
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


def _reference(where: str, name: str, env: pb.KubernetesEnv) -> EnvReference:
    """A `kubernetes_env`: exactly one of a Secret's or a ConfigMap's key."""
    here = f"{where}.kubernetes_env.value_from"
    value_from = env.value_from
    if value_from is None:
        raise InvalidArgument(here, "is required: a secret_key_ref or a config_map_key_ref")
    given: list[tuple[str, EnvSource, pb.SecretKeyRef | pb.ConfigMapKeyRef]] = []
    for field, source, ref in (
        ("secret_key_ref", EnvSource.SECRET, value_from.secret_key_ref),
        ("config_map_key_ref", EnvSource.CONFIG_MAP, value_from.config_map_key_ref),
    ):
        if ref is not None:
            given.append((field, source, ref))
    if len(given) != 1:
        raise InvalidArgument(here, "give exactly one of secret_key_ref, config_map_key_ref")
    field, source, ref = given[0]
    for key in ("name", "key"):
        if not getattr(ref, key):
            raise InvalidArgument(f"{here}.{field}.{key}", "is required")
    try:
        return EnvReference(name, source, ref.name, ref.key)
    except ValueError as exc:
        attribute, _, problem = str(exc).partition(": ")  # core messages start with the field
        wire = {"name": f"{where}.name", "object_name": f"{here}.{field}.name"}.get(
            attribute, f"{here}.{field}.key"
        )
        raise InvalidArgument(wire, problem) from None


def parse_env(
    entries: Sequence[pb.PerformerEnv], *, kubernetes: bool = False
) -> tuple[RequestedEnv, ...]:
    """A DeployArtifact's `env` as the core's values; each problem names its entry's field.

    The limits and rules are `executor_core.performer_env`'s. Whether a `value_from_env` may
    be copied, and what it holds, the core decides: it needs the config and the environment.
    A `kubernetes_env` (a Secret's or ConfigMap's key) is read on an executor in Kubernetes
    mode (`kubernetes`), and refused on Docker.
    """
    if len(entries) > MAX_ENTRIES:
        raise InvalidArgument(
            "env", f"has {len(entries)} entries; at most {MAX_ENTRIES} are allowed"
        )
    parsed: list[RequestedEnv] = []
    for index, entry in enumerate(entries):
        where = f"env[{index}]"
        if entry.kubernetes_env is not None:
            if not kubernetes:
                raise InvalidArgument(f"{where}.kubernetes_env", _ON_DOCKER)
            if entry.value or entry.value_from_env:
                raise InvalidArgument(where, "give one of value, value_from_env, kubernetes_env")
            problem = name_problem(entry.name)
            if problem is not None:
                raise InvalidArgument(f"{where}.name", problem)
            reference = _reference(where, entry.name, entry.kubernetes_env)
            parsed.append(RequestedEnv(name=entry.name, reference=reference))
            continue
        try:
            parsed.append(
                RequestedEnv(
                    name=entry.name, value=entry.value, value_from_env=entry.value_from_env
                )
            )
        except EnvProblem as exc:
            raise InvalidArgument(
                f"{where}.{exc.field}" if exc.field else where, exc.problem
            ) from None
    check_requested(parsed)
    return tuple(parsed)


def refuse_kubernetes(
    kubernetes: pb.KubernetesConfig | None, *, service_account: str | None = None
) -> None:
    """Refuse DeployArtifact's `kubernetes` (the pods' service account) where it cannot take
    effect, rather than let the caller believe it did: on Docker (`service_account` None)
    always, and in Kubernetes mode unless it names `service_account`, the one the config gives
    the AVS already ("" for none): pods get theirs from the config, not from a deployment."""
    if kubernetes is None:
        return
    if service_account is None:
        raise InvalidArgument("kubernetes", _ON_DOCKER)
    wanted, configured = kubernetes.service_account_name, service_account
    if wanted and wanted != configured:
        has = f"has {quoted(configured)}" if configured else "has none"
        raise InvalidArgument(
            "kubernetes.service_account_name",
            f"a deployment cannot choose the pods' service account ({quoted(wanted)}); set "
            f"avsPerformers[].kubernetes.serviceAccountName in the config (this AVS {has})",
        )
