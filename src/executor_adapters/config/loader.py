"""Read the executor's YAML (or JSON) config file into an `ExecutorConfig`.

The text is parsed with ruamel.yaml's safe loader, its keys are rewritten to their canonical
spelling (`_spelling`), and it is structured with a cattrs converter whose hooks check each
field; rules across fields follow (`_rules`). One pass reports every problem as
`<path>: <problem>` in a single `ConfigError`, and the keys accepted without effect end up in
`ExecutorConfig.ignored_keys`, sorted by path (a key inside an ignored one is not listed again).
The BLS keystore and its password are looked up here (files are relative to the config file's
directory, as are the peers file and `kubernetes.kubeConfigPath`) but not decrypted; the
signing adapter does that.

The environment overrides the file: `EXECUTOR_GRPC_PORT`, `EXECUTOR_MANAGEMENT_SERVER_GRPC_PORT`,
`EXECUTOR_DEBUG` and `EXECUTOR_PERFORMER_NETWORK_NAME`, each also spelt with a double underscore
(`EXECUTOR__GRPC_PORT`) as the Go executor's config library produced; the single underscore wins
when both are set. `EXECUTOR_BLS_KEYSTORE_PASSWORD` supplies the BLS password when the file
gives none. The performers' `envs[].valueFromEnv` variables are read from the same mapping.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import ScalarNode

from executor_adapters.config import _rules
from executor_adapters.config._keys import KeyFinder
from executor_adapters.config._spelling import canonical_keys
from executor_adapters.config._structure import describe, make_converter
from executor_adapters.config.errors import ConfigError
from executor_adapters.config.schema import ExecutorConfig

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _env_int(text: str) -> object:
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else text


def _env_bool(text: str) -> object:
    return text.lower() in _TRUE if text.lower() in _TRUE | _FALSE else text


_ENV_OVERRIDES: dict[str, tuple[str, Callable[[str], object]]] = {
    "GRPC_PORT": ("grpc_port", _env_int),
    "MANAGEMENT_SERVER_GRPC_PORT": ("management_server_grpc_port", _env_int),
    "DEBUG": ("debug", _env_bool),
    "PERFORMER_NETWORK_NAME": ("performer_network_name", str),
}
"""Variable suffix -> (attribute, parser); a value the parser cannot read stays text."""


class _HexKeepingConstructor(SafeConstructor):
    """Keeps `0x…` plain scalars as text, so unquoted addresses and keys are not read as ints."""

    def construct_yaml_int(self, node: ScalarNode) -> Any:
        text = self.construct_scalar(node)
        if isinstance(text, str) and text.lstrip("+-")[:2].lower() == "0x":
            return text
        return super().construct_yaml_int(node)


_HexKeepingConstructor.add_constructor(
    "tag:yaml.org,2002:int", _HexKeepingConstructor.construct_yaml_int
)


def _env_overrides(environ: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Read the top-level keys the environment may override, validated like the file's."""
    fields = attrs.fields_dict(ExecutorConfig)
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for suffix, (name, parse) in _ENV_OVERRIDES.items():
        var = next((v for v in (f"EXECUTOR_{suffix}", f"EXECUTOR__{suffix}") if v in environ), None)
        if var is None:
            continue
        value = parse(environ[var].strip())
        validator = fields[name].validator
        try:
            if validator is not None:
                validator(None, fields[name], value)
        except ValueError as exc:
            problems.append(f"{var}: {exc}")
        else:
            changes[name] = value
    return changes, problems


def _read_yaml(text: str, source: str) -> object:
    yaml = YAML(typ="safe")
    yaml.Constructor = _HexKeepingConstructor
    try:
        return yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{source}: {where}{problem}"]) from None


def parse_config(
    text: str,
    *,
    base_dir: str | Path,
    environ: Mapping[str, str] | None = None,
    source: str = "<config>",
) -> ExecutorConfig:
    """Parse config text; relative key and password files resolve against `base_dir`.

    `environ` defaults to the process environment; `source` names the text in messages.
    Raise `ConfigError` listing every problem found.
    """
    environ = os.environ if environ is None else environ
    data = _read_yaml(text, source)
    if data is None:
        raise ConfigError([f"{source}: is empty"])
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: must be a mapping of keys at the top level"])
    spelled = canonical_keys(data)
    keys = KeyFinder(Path(base_dir), environ)
    converter = make_converter(keys, keys.ecdsa, environ)
    problems = list(spelled.problems)
    config: ExecutorConfig | None = None
    try:
        config = converter.structure(spelled.document, ExecutorConfig)
    except Exception as exc:  # every structuring failure becomes a line of the report
        problems.extend(describe(exc, root=source))
    changes, env_problems = _env_overrides(environ)
    problems.extend(env_problems)
    if config is not None:
        config = _resolve_kubeconfig(_resolve_peers_file(config, Path(base_dir)), Path(base_dir))
        problems.extend(_rules.problems(attrs.evolve(config, **changes)))
    if problems or config is None:
        raise ConfigError(problems)
    found = (*spelled.ignored, *_rules.ignored_values(config, spelled.given))
    paths = {key.path for key in found}
    ignored = sorted(
        (key for key in found if not any(key.path.startswith(f"{p}.") for p in paths)),
        key=lambda k: k.path,
    )
    return attrs.evolve(config, ignored_keys=tuple(ignored), **changes)


def _resolve_kubeconfig(config: ExecutorConfig, base_dir: Path) -> ExecutorConfig:
    cluster = config.kubernetes
    if cluster is None or not cluster.kube_config_path:
        return config
    path = Path(cluster.kube_config_path).expanduser()
    resolved = os.path.normpath(path if path.is_absolute() else base_dir / path)
    return attrs.evolve(config, kubernetes=attrs.evolve(cluster, kube_config_path=resolved))


def _resolve_peers_file(config: ExecutorConfig, base_dir: Path) -> ExecutorConfig:
    peering = config.simulation.simulate_peering
    if not peering.aggregator_peers_file:
        return config
    path = Path(peering.aggregator_peers_file).expanduser()
    resolved = str(path if path.is_absolute() else base_dir / path)
    peering = attrs.evolve(peering, aggregator_peers_file=resolved)
    simulation = attrs.evolve(config.simulation, simulate_peering=peering)
    return attrs.evolve(config, simulation=simulation)


def load_config(path: str | Path, *, environ: Mapping[str, str] | None = None) -> ExecutorConfig:
    """Load the config file at `path`; raise `ConfigError` listing every problem found."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{file}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{file}: is not UTF-8 text"]) from None
    return parse_config(text, base_dir=file.absolute().parent, environ=environ, source=str(file))
