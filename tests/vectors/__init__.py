"""Signing vectors and keystores the tests check against; README.md says where each came from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).resolve().parent


def load_vector(name: str) -> Any:
    """Parse one JSON file of this folder."""
    return json.loads((VECTORS_DIR / name).read_text(encoding="utf-8"))
