"""The worker threads that run curve arithmetic beside the event loop.

The native BN254 library and py-arkworks release the GIL while they compute, so a pool with a
thread per core lets signatures be checked and made on every core while the loop serves gRPC.
One pool for all of them, so that signing and verification together never want more threads
than there are cores.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import ParamSpec, TypeVar

__all__ = ["crypto_workers", "run_in_crypto_pool"]

P = ParamSpec("P")
T = TypeVar("T")


def crypto_workers() -> int:
    """Threads of the pool: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=crypto_workers(), thread_name_prefix="crypto")


async def run_in_crypto_pool(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `function` on a crypto thread and await its result without blocking the loop."""
    loop = asyncio.get_running_loop()
    if kwargs:
        return await loop.run_in_executor(_pool(), lambda: function(*args, **kwargs))
    return await loop.run_in_executor(_pool(), function, *args)
