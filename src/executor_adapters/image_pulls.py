"""Why an image pull failed, told from the message of whoever pulled: the Docker engine, or
containerd behind a kubelet (the message of a pod waiting in ErrImagePull). Both quote the
registry client's error, so one table serves both::

    message contains (case-insensitive)           core
    connection refused, dial tcp, no such host,   RegistryUnavailable
      i/o timeout, tls handshake timeout, no
      route to host, network is unreachable,
      connection reset by peer
    manifest unknown, not found, repository does  ImageNotFound
      not exist, pull access denied, name unknown
    anything else                                 ContainerRuntimeError

Unreachable is checked first: "dial tcp: lookup x: no such host" must not read as "not found".
"""

from __future__ import annotations

from executor_core.errors import ContainerRuntimeError, ImageNotFound, RegistryUnavailable

__all__ = ["pull_failure"]

_REGISTRY_UNREACHABLE = (
    "connection refused",
    "dial tcp",
    "no such host",
    "i/o timeout",
    "tls handshake timeout",
    "no route to host",
    "network is unreachable",
    "connection reset by peer",
)
_IMAGE_UNKNOWN = (
    "manifest unknown",
    "not found",
    "repository does not exist",
    "pull access denied",
    "name unknown",
)


def pull_failure(message: str) -> ContainerRuntimeError:
    """Tell from the puller's message why a pull failed (see the table above)."""
    lowered = message.lower()
    if any(marker in lowered for marker in _REGISTRY_UNREACHABLE):
        return RegistryUnavailable(message)
    if any(marker in lowered for marker in _IMAGE_UNKNOWN):
        return ImageNotFound(message)
    return ContainerRuntimeError(message)
