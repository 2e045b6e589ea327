"""The one place where kubernetes_asyncio and aiohttp failures become the core's errors.

::

    API answer or failure                        core
    404                                          `not_found` (ContainerNotFound unless told)
    409 (name taken)                             `conflict` (ContainerRuntimeError unless told)
    403                                          ContainerRuntimeError naming the missing right
    401                                          ContainerRuntimeError (credentials refused)
    429, 5xx                                     RuntimeUnavailable
    any other status                             ContainerRuntimeError
    no connection, TLS failure, timeout          RuntimeUnavailable
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException

from executor_core.errors import ContainerNotFound, ContainerRuntimeError, RuntimeUnavailable

__all__ = ["ErrorFactory", "api_message", "translate_errors"]

ErrorFactory = Callable[[str], ContainerRuntimeError]


def api_message(exc: ApiException) -> str:
    """The API server's own message (a Status object's `message`), else its HTTP reason."""
    raw: object = exc.body
    body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if isinstance(body, str) and body:
        try:
            status = json.loads(body)
        except ValueError:
            return body[:500]
        if isinstance(status, dict) and status.get("message"):
            return str(status["message"])[:500]
    return f"{exc.status} {exc.reason}"


@contextmanager
def translate_errors(
    action: str,
    *,
    not_found: ErrorFactory = ContainerNotFound,
    conflict: ErrorFactory = ContainerRuntimeError,
) -> Iterator[None]:
    """Re-raise API failures inside the block as core errors whose message starts with `action`."""
    try:
        yield
    except ApiException as exc:
        message = f"{action}: {api_message(exc)}"
        status = exc.status or 0
        if status == 404:
            raise not_found(message) from exc
        if status == 409:
            raise conflict(message) from exc
        if status == 403:
            raise ContainerRuntimeError(
                f"{message} (the executor's account lacks a right it needs: see the RBAC in "
                "docs/operations.md)"
            ) from exc
        if status == 401:
            raise ContainerRuntimeError(
                f"{message} (the API server refused the credentials)"
            ) from exc
        if status == 429 or status >= 500 or status == 0:
            raise RuntimeUnavailable(message) from exc
        raise ContainerRuntimeError(message) from exc
    except (aiohttp.ClientConnectionError, OSError, TimeoutError) as exc:
        raise RuntimeUnavailable(
            f"{action}: cannot reach the Kubernetes API server: {exc!r}"
        ) from exc
    except aiohttp.ClientError as exc:
        raise ContainerRuntimeError(f"{action}: {exc!r}") from exc
