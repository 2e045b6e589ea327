"""Config documents for the config tests: a minimal valid one, and ways to write and load them."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from executor_adapters.config import ExecutorConfig, parse_config

REPO = Path(__file__).resolve().parents[3]
KEYSTORE_FILE = REPO / "examples" / "keys" / "executor-bn254.json"
KEYSTORE_TEXT = KEYSTORE_FILE.read_text(encoding="utf-8")
OPERATOR = "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
AVS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER_AVS = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
PEER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
PUBLIC_KEY = bytes(range(128))


def minimal() -> dict[str, Any]:
    """Return the smallest valid document: operator, inline keystore, one performer.

    Its performer turns the aggregator signature check off, as a document without peers must.
    """
    return {
        "operator": {"address": OPERATOR, "signingKeys": {"bls": {"keystore": KEYSTORE_TEXT}}},
        "avsPerformers": [performer()],
    }


def performer(avs: str = AVS) -> dict[str, Any]:
    """Return a minimal valid `avsPerformers` entry."""
    return {
        "avsAddress": avs,
        "image": {"repository": "hourglass-example-performer", "tag": "latest"},
        "signingCurve": "bn254",
        "verifyAggregatorSignature": False,
    }


def with_value(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy of `document` with the value at dotted `path` (`a.b.0.c`) replaced."""
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


def without(document: dict[str, Any], path: str) -> dict[str, Any]:
    """Return a copy of `document` without the key at dotted `path`."""
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    del node[last]
    return result


def dump(document: Any) -> str:
    """Write `document` as block-style YAML."""
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def load(
    document: Any, base_dir: Path | None = None, environ: dict[str, str] | None = None
) -> ExecutorConfig:
    """Parse `document` as YAML text with an empty environment unless one is given."""
    return parse_config(
        dump(document), base_dir=base_dir or REPO, environ={} if environ is None else environ
    )
