"""Signing vectors and keystores from `shared/vectors`, beside the repository (as CI lays it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "vectors"


def load_vector(name: str) -> Any:
    """Parse one JSON file of the vectors folder."""
    return json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))
