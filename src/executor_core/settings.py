"""What the core needs to know about each AVS it serves; built by the app from the config."""

from __future__ import annotations

import attrs

from executor_core.addresses import AvsAddress
from executor_core.performers import PerformerImage


@attrs.frozen
class HealthPolicy:
    """How often and how patiently a performer's application health is probed."""

    check_interval: float = attrs.field(default=15.0, validator=attrs.validators.gt(0))
    timeout: float = attrs.field(default=1.0, validator=attrs.validators.gt(0))
    startup_timeout: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    """How long a new performer may take to answer its first health check."""


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
