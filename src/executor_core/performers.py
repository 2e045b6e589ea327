"""Performer containers: what runs them and how the executor sees them."""

from __future__ import annotations

import enum
import re
from datetime import datetime

import attrs

from executor_core.addresses import AvsAddress
from executor_core.text import quoted

PERFORMER_PORT = 8080
MAX_REPOSITORY_LENGTH = 255
"""Docker's limit on an image name (distribution/reference's NameTotalLengthMax); checked
before the pattern, whose matching time grows with the square of the length."""
REPOSITORY = re.compile(
    r"[a-z0-9]+(?:[._\-/:][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._\-][a-z0-9]+)*)*"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _check_repository(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or len(value) > MAX_REPOSITORY_LENGTH or not REPOSITORY.fullmatch(value):
        raise ValueError(f"{attribute.name}: not a valid image repository: {quoted(value)}")


def _check_tag(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value and not _TAG.fullmatch(value):
        raise ValueError(f"{attribute.name}: not a valid image tag: {quoted(value)}")


def _check_digest(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value and not DIGEST.fullmatch(value):
        raise ValueError(f"{attribute.name}: must be sha256: followed by 64 lower-case hex digits")


@attrs.frozen
class PerformerImage:
    """A performer image, by tag (from config) or by digest (from a deployment)."""

    repository: str = attrs.field(validator=_check_repository)
    tag: str = attrs.field(default="", validator=_check_tag)
    digest: str = attrs.field(default="", validator=_check_digest)

    def __attrs_post_init__(self) -> None:
        if not self.tag and not self.digest:
            raise ValueError("an image needs a tag or a digest")

    @property
    def reference(self) -> str:
        """The reference to pull and run: the digest wins, as it cannot move."""
        if self.digest:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"


@attrs.frozen
class PerformerId:
    """Stable identity of one performer; survives container recreation."""

    value: str = attrs.field(validator=attrs.validators.min_len(1))

    @classmethod
    def for_avs(cls, avs: AvsAddress, unique: str) -> PerformerId:
        return cls(f"performer-{avs.value}-{unique}")

    def __str__(self) -> str:
        return self.value


class PerformerStatus(enum.Enum):
    """Slot a performer holds, spelt as on the wire."""

    IN_SERVICE = "InService"
    STAGED = "Staged"


@attrs.frozen
class Endpoint:
    """Where the executor reaches a performer's gRPC server."""

    host: str
    port: int = attrs.field(validator=[attrs.validators.gt(0), attrs.validators.lt(65536)])

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


Env = tuple[tuple[str, str], ...]
"""Environment variables of a performer container, `(name, value)` in order; values may be
secrets, so every attribute holding one is left out of reprs."""


class EnvSource(enum.Enum):
    """Where Kubernetes reads a referenced variable's value from, spelt as upstream's config."""

    SECRET = "secretKeyRef"
    CONFIG_MAP = "configMapKeyRef"


_OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_OBJECT_KEY = re.compile(r"[-._A-Za-z0-9]{1,253}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")


def _check_env_name(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(f"{attribute.name}: must be an environment variable name")


def _check_object_name(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _OBJECT_NAME.fullmatch(value):
        raise ValueError(
            f"{attribute.name}: must be a Kubernetes object name (lower-case letters, digits, "
            f"'-' and '.', at most 253): {quoted(value)}"
        )


def _check_object_key(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _OBJECT_KEY.fullmatch(value):
        raise ValueError(f"{attribute.name}: must be a Secret or ConfigMap key: {quoted(value)}")


@attrs.frozen
class EnvReference:
    """A performer variable whose value Kubernetes reads from a key of a Secret or ConfigMap
    when it starts the pod, so the value never passes through the executor."""

    name: str = attrs.field(validator=_check_env_name)
    source: EnvSource
    object_name: str = attrs.field(validator=_check_object_name)
    key: str = attrs.field(validator=_check_object_key)


@attrs.frozen
class Release:
    """What one deployment deploys: the image, and the environment its containers get.

    A performer keeps its release for life, so a container recreated under the same performer
    id, or a rollback to the previous performer's release, runs with the same variables.
    """

    image: PerformerImage
    env: Env = attrs.field(default=(), repr=False)
    env_references: tuple[EnvReference, ...] = ()
    """Variables Kubernetes fills in from Secrets and ConfigMaps (Kubernetes mode only)."""


LINUX_CAPABILITIES = frozenset(
    {
        "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF",
        "CHECKPOINT_RESTORE", "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID",
        "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE", "LINUX_IMMUTABLE", "MAC_ADMIN",
        "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_RAW",
        "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_ADMIN", "SYS_BOOT",
        "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "SYSLOG", "WAKE_ALARM",
    }
)  # fmt: skip
"""The Linux capabilities (capabilities(7)), without their `CAP_` prefix."""
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?")
MIB = 1024 * 1024


def capability(name: str) -> str:
    """Return a capability's canonical name (`net_bind_service`, `CAP_NET_BIND_SERVICE` ->
    `NET_BIND_SERVICE`); raise ValueError for anything else, `ALL` included."""
    canonical = name.strip().upper().removeprefix("CAP_") if isinstance(name, str) else ""
    if canonical not in LINUX_CAPABILITIES:
        raise ValueError(f"{str(name)[:40]!r} is not a Linux capability (such as NET_BIND_SERVICE)")
    return canonical


def _capabilities(value: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ValueError("capabilities must be a list of names")
    return tuple(dict.fromkeys(capability(name) for name in value))


def _check_user(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value and not _USER.fullmatch(value):
        raise ValueError(f"{attribute.name}: must be user[:group], by name or number")


def _check_cpus(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if value != 0 and not 0.01 <= value <= 1024:
        raise ValueError(f"{attribute.name}: must be 0 (no limit) or between 0.01 and 1024")


def _check_memory(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value != 0 and value < 6 * MIB:
        raise ValueError(f"{attribute.name}: must be 0 (no limit) or at least 6 MiB")


@attrs.frozen
class ContainerHardening:
    """How a performer container is confined; the defaults are hardened, each can be relaxed.

    Every capability is dropped; `cap_add` gives some back. A limit of 0 is no limit. With a
    read-only root filesystem, `/tmp` is a tmpfs of `tmpfs_size_bytes`. An empty `user` keeps
    the image's own.
    """

    no_new_privileges: bool = True
    """Keep setuid binaries and file capabilities from raising a process's privileges."""
    cap_add: tuple[str, ...] = attrs.field(default=(), converter=_capabilities)
    pids_limit: int = attrs.field(default=512, validator=attrs.validators.ge(0))
    memory_bytes: int = attrs.field(default=1024 * MIB, validator=_check_memory)
    """The memory limit, swap included (none beyond it)."""
    cpus: float = attrs.field(default=2.0, validator=_check_cpus)
    """CPUs' worth of time; a runtime may lower it to what its host has."""
    read_only_root_filesystem: bool = False
    tmpfs_size_bytes: int = attrs.field(default=64 * MIB, validator=attrs.validators.ge(MIB))
    user: str = attrs.field(default="", validator=_check_user)
    log_max_size_bytes: int = attrs.field(default=10 * MIB, validator=attrs.validators.ge(1024))
    """The size at which the container's log file is rotated."""
    log_max_files: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    """Log files kept, the current one included."""


@attrs.frozen
class ContainerSpec:
    """Everything the runtime needs to start one performer container."""

    image: PerformerImage
    name: str
    labels: dict[str, str] = attrs.field(factory=dict)
    network: str | None = None
    env: Env = attrs.field(default=(), repr=False)
    """Environment variables of the performer, in order (values may be secrets)."""
    hardening: ContainerHardening = attrs.field(factory=ContainerHardening)
    """Privileges, limits and log rotation of the container."""
    env_references: tuple[EnvReference, ...] = ()
    """Variables the orchestrator fills in from its Secrets and ConfigMaps; a runtime without
    such objects refuses a spec that has any."""


@attrs.frozen
class RunningContainer:
    """A started container and the loopback endpoint of its performer port."""

    container_id: str
    name: str
    endpoint: Endpoint
    image_digest: str = ""
    """The repository digest (`sha256:…`) of the image the container runs, as the image's
    registry knows it; empty when the engine knows none (an image built locally, never pushed
    or pulled)."""


@attrs.frozen
class PerformerView:
    """A performer as ListPerformers reports it."""

    performer_id: PerformerId
    avs_address: AvsAddress
    status: PerformerStatus
    image: PerformerImage
    container_id: str
    resource_healthy: bool
    application_healthy: bool
    last_health_check: datetime | None
    digest: str = ""
    """The repository digest of the image the performer runs: the image's own when it was
    deployed by digest, else the one the engine reported for its container; empty when none
    is known (an image built locally)."""
