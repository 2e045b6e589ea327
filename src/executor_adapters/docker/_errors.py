"""The one place where aiodocker and aiohttp failures become the core's ContainerRuntimeError tree.

::

    aiodocker / aiohttp                          core
    DockerContextError (bad ~/.docker context)   RuntimeUnavailable
    DockerError status 900 (aiodocker's code     RuntimeUnavailable
      for "could not connect to the engine")
    DockerError status 404                       `not_found` (ImageNotFound, ContainerNotFound, …)
    any other DockerError, DockerStreamError     `failed` (ContainerRuntimeError unless told)
    aiohttp.ClientConnectionError, OSError on    RuntimeUnavailable
      the socket, TimeoutError
    any other aiohttp.ClientError                ContainerRuntimeError

A pull passes `pull_failure` (executor_adapters.image_pulls) as both `not_found` and `failed`,
because Docker 20.10 answers a pull with 404 or 500 (or an error inside the progress stream) and
only the message tells why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import aiohttp
from aiodocker.exceptions import DockerContextError, DockerError

from executor_adapters.image_pulls import pull_failure
from executor_core.errors import ContainerRuntimeError, RuntimeUnavailable

__all__ = ["ErrorFactory", "NetworkNotFound", "pull_failure", "translate_errors"]

# aiodocker turns a failed HTTP connection to the engine into DockerError(900, ...).
_ENGINE_UNREACHABLE = 900

ErrorFactory = Callable[[str], ContainerRuntimeError]
"""Makes the core error for a message: an error class, or a function such as `pull_failure`."""


class NetworkNotFound(ContainerRuntimeError):
    """A network is gone; private to this adapter, where only `remove_network` expects it."""


@contextmanager
def translate_errors(
    action: str,
    *,
    not_found: ErrorFactory = ContainerRuntimeError,
    failed: ErrorFactory = ContainerRuntimeError,
) -> Iterator[None]:
    """Re-raise engine failures inside the block as core errors whose message starts with `action`.

    Args:
        action: What was being done, e.g. ``"pull image foo:1"``; it leads the message.
        not_found: Makes the error for an HTTP 404 from the engine, which depends on what was
            addressed.
        failed: Makes the error for any other failure the engine reports.
    """
    try:
        yield
    except DockerContextError as exc:
        raise RuntimeUnavailable(f"{action}: the Docker context is unusable: {exc}") from exc
    except DockerError as exc:
        if exc.status == _ENGINE_UNREACHABLE:
            raise RuntimeUnavailable(f"{action}: {exc.message}") from exc
        if exc.status == 404:
            raise not_found(f"{action}: {exc.message}") from exc
        raise failed(f"{action}: {exc.message}") from exc
    except (aiohttp.ClientConnectionError, OSError, TimeoutError) as exc:
        # OSError covers FileNotFoundError/ConnectionRefusedError on a missing or dead socket.
        raise RuntimeUnavailable(f"{action}: cannot reach the Docker engine: {exc!r}") from exc
    except aiohttp.ClientError as exc:
        raise ContainerRuntimeError(f"{action}: {exc!r}") from exc
