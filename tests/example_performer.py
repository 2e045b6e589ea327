"""The example AVS's app.py as a module, for tests that run its handler in-process."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

APP_PATH = Path(__file__).resolve().parent.parent / "examples" / "performer" / "app.py"


@functools.cache
def example_app() -> ModuleType:
    """Import examples/performer/app.py once; it is a script, not a package module."""
    spec = importlib.util.spec_from_file_location("example_performer_app", APP_PATH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def word(value: int) -> bytes:
    """A uint256 as the 32 big-endian bytes the example performer takes and returns."""
    return value.to_bytes(32, "big")
