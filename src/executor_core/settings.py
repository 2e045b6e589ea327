"""What the core needs to know about each AVS it serves; built by the app from the config."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from executor_core.addresses import AvsAddress
from executor_core.performers import ContainerHardening, Env, EnvReference, PerformerImage


@attrs.frozen
class HealthPolicy:
    """How often and how patiently a performer's application health is probed."""

    check_interval: float = attrs.field(default=15.0, validator=attrs.validators.gt(0))
    timeout: float = attrs.field(default=1.0, validator=attrs.validators.gt(0))
    startup_timeout: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    """How long a recreated performer may take to answer its first health check."""
    failure_threshold: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    """Consecutive failed checks after which the performer is treated as down."""


@attrs.frozen
class DeploymentPolicy:
    """Timeouts and retry limits of deployments, drains and container recreation."""

    deployment_timeout: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    """From container start to a healthy performer; the image pull has its own bound."""
    pull_timeout: float = attrs.field(default=600.0, validator=attrs.validators.gt(0))
    probation_period: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    """After a promotion, a performer that turns unhealthy this soon is rolled back."""
    drain_timeout: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
    """How long tasks may run on a replaced performer before it is removed anyway."""
    max_recreations: int = attrs.field(default=5, validator=attrs.validators.ge(0))
    recreate_initial_delay: float = attrs.field(default=2.0, validator=attrs.validators.ge(0))
    recreate_max_delay: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    engine_retry_max_delay: float = attrs.field(default=3.0, validator=attrs.validators.gt(0))
    """While the container engine cannot be reached, recreation is retried for as long as it
    takes, at most this many seconds apart, so an AVS serves again soon after the engine does."""

    def recreate_delay(self, attempt: int) -> float:
        """Back-off before recreation `attempt` (1-based): doubling, capped."""
        return float(min(self.recreate_initial_delay * 2 ** (attempt - 1), self.recreate_max_delay))

    def engine_retry_delay(self, waits: int) -> float:
        """Back-off before retry `waits` (1-based) of a recreation the engine was down for."""
        initial = self.recreate_initial_delay or 0.5
        return float(min(initial * 2 ** (waits - 1), self.engine_retry_max_delay))


def _repository_prefixes(value: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("allowed repositories must be non-empty strings")
    return tuple(v.rstrip("/") for v in value)


def _names(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("allowed variables must be a collection of non-empty names")
    return frozenset(value)


@attrs.frozen
class ManagementPolicy:
    """What DeployArtifact may do: whoever calls it chooses an image to run on this host."""

    max_unlisted_avs: int = attrs.field(default=4, validator=attrs.validators.ge(0))
    """AVSs that DeployArtifact may add although the config does not name them."""
    allowed_repositories: tuple[str, ...] = attrs.field(default=(), converter=_repository_prefixes)
    """Registries (`ghcr.io`, `127.0.0.1:5000`) or repository prefixes (`ghcr.io/acme`) images
    may come from; empty allows any."""
    allowed_value_from_env: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    """Executor variables a deployment's `value_from_env` may copy into its container; empty
    allows none (the variables the config's own `envs` copy are the operator's, and need none)."""

    def allows(self, repository: str) -> bool:
        """Whether an image of `repository` may be deployed."""
        return not self.allowed_repositories or any(
            repository == prefix or repository.startswith(prefix + "/")
            for prefix in self.allowed_repositories
        )


@attrs.frozen
class AvsSettings:
    """One AVS served by this executor: its performer image and its admission limits."""

    avs_address: AvsAddress
    image: PerformerImage
    worker_count: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    queue_size: int = attrs.field(default=64, validator=attrs.validators.ge(0))
    health: HealthPolicy = attrs.field(factory=HealthPolicy)
    verify_aggregator_signature: bool = True
    """Refuse tasks that the AVS's aggregator did not sign; off only when asked explicitly."""
    env: Env = attrs.field(default=(), repr=False)
    """The configured environment variables of the AVS's performers; a deployment's own
    variables replace those of the same name (`performer_env.merged`)."""
    env_references: tuple[EnvReference, ...] = ()
    """Configured variables Kubernetes fills in from Secrets and ConfigMaps."""
    accepts_g1: bool = True
    """Serve first-generation (version 0) tasks, whose aggregator signature is replayable."""
    container: ContainerHardening = attrs.field(factory=ContainerHardening)
    """How the AVS's performer containers are confined (hardened unless the config relaxes it)."""
    signing_curve: str = "bn254"
    """The curve of its first-generation result signatures (reported, not acted on here)."""
