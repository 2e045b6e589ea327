"""Performer containers: what runs them and how the executor sees them."""

from __future__ import annotations

import enum
import re
from datetime import datetime

import attrs

from executor_core.addresses import AvsAddress

PERFORMER_PORT = 8080
REPOSITORY = re.compile(
    r"[a-z0-9]+(?:[._\-/:][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._\-][a-z0-9]+)*)*"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _check_repository(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or not REPOSITORY.fullmatch(value):
        raise ValueError(f"{attribute.name}: not a valid image repository: {value!r}")


def _check_tag(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value and not _TAG.fullmatch(value):
        raise ValueError(f"{attribute.name}: not a valid image tag: {value!r}")


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


@attrs.frozen
class Release:
    """What one deployment deploys: the image, and the environment its containers get.

    A performer keeps its release for life, so a container recreated under the same performer
    id, or a rollback to the previous performer's release, runs with the same variables.
    """

    image: PerformerImage
    env: Env = attrs.field(default=(), repr=False)


@attrs.frozen
class ContainerSpec:
    """Everything the runtime needs to start one performer container."""

    image: PerformerImage
    name: str
    labels: dict[str, str] = attrs.field(factory=dict)
    network: str | None = None
    env: Env = attrs.field(default=(), repr=False)
    """Environment variables of the performer, in order (values may be secrets)."""


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
