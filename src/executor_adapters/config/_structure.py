"""The cattrs converter that turns parsed YAML into schema values, and its error report.

Scalars pass through their type's hook untouched and are then checked by the attribute's own
attrs validator, so the file and code built by hand get the same rule and the same wording.
Every block is structured with camelCase keys (`_spelling` has rewritten other spellings) and
unknown keys refused; keys accepted without effect are structured too, so that a bad value is
still reported, and then dropped. cattrs' detailed validation collects all failures, and
`describe` flattens them into `<path>: <problem>` lines.
"""

from __future__ import annotations

import ipaddress
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from cattrs import BaseConverter, Converter
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, override

from executor_adapters.config._validators import choices_problem
from executor_adapters.config._written import (
    BLOCKS,
    OMITTED,
    RENAMED,
    UNUSED,
    EnvBlock,
    ImageBlock,
    KeyRefBlock,
    KubernetesEnvBlock,
    camel,
    file_key,
)
from executor_adapters.config.schema import (
    ENDPOINT_PROBLEM,
    PUBLIC_KEY_PROBLEM,
    BlsKeyConfig,
    ContainerConfig,
    EcdsaKeyConfig,
    EnvVarConfig,
    L1ChainConfig,
    LogFormat,
    LogLevel,
    PerformerEndpoint,
    PerformerKubernetesConfig,
    ResourcesConfig,
    SigningCurve,
)
from executor_core.addresses import Address, AvsAddress
from executor_core.performers import Endpoint, EnvReference, EnvSource, PerformerImage

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PROBLEM = "must be a duration: seconds as a number, or text such as 15s, 500ms, 1m"
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_HEX_G2 = re.compile(r"(?:0[xX])?[0-9a-fA-F]{256}")
_DECIMAL = re.compile(r"[0-9]+")
_SIZE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([kmgt]?)(?:i?b)?", re.IGNORECASE)
_SIZE_UNIT = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_SIZE_PROBLEM = "must be a size: bytes as an integer, or text such as 512m or 1g (1024-based)"
_ENDPOINT = re.compile(r"(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})")
_HOST_LABEL = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?")
_REFERENCE_KEYS = {"object_name": "name", "key": "key"}
"""The key of `secretKeyRef`/`configMapKeyRef` each EnvReference attribute comes from."""

Hook = Callable[[Any, Any], Any]


class Problem(ValueError):
    """A problem at `key` below the value being structured (at the value itself when None)."""

    def __init__(self, key: str | None, problem: str) -> None:
        super().__init__(problem)
        self.key = key


def text_value(value: object) -> str:
    """Return `value` if it is text; YAML reads unquoted numbers and booleans as other types."""
    if not isinstance(value, str):
        raise ValueError("must be a string (quote numbers and booleans)")
    return value


def seconds(value: object, _: object = None) -> float:
    """Parse a duration: a number of seconds, or Go-style text such as `1m30s` or `500ms`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(_DURATION_PROBLEM)
    if isinstance(value, str):
        text = value.strip()
        sign = -1.0 if text.startswith("-") else 1.0
        text = text.removeprefix("-") if sign < 0 else text.removeprefix("+")
        parts = _DURATION_PART.findall(text)
        if _NUMBER.fullmatch(text):
            total = sign * float(text)
        elif parts and "".join(number + unit for number, unit in parts) == text:
            total = sign * sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
        else:
            raise ValueError(_DURATION_PROBLEM)
    else:
        total = float(value)
    if not math.isfinite(total):
        raise ValueError(_DURATION_PROBLEM)
    return total


def _public_key(value: object, _: object) -> bytes:
    text = text_value(value)
    if not _HEX_G2.fullmatch(text):
        raise ValueError(PUBLIC_KEY_PROBLEM)
    return bytes.fromhex(text[-256:])


def _enum_hook(kind: type[Any]) -> Hook:
    problem = choices_problem(tuple(member.value for member in kind))

    def hook(value: object, _: object) -> Any:
        try:
            return kind(value)
        except ValueError:
            raise ValueError(problem) from None

    return hook


def _image(converter: Converter) -> Hook:
    def hook(value: object, _: object) -> PerformerImage:
        block = converter.structure(value, ImageBlock)
        for key in ("repository", "tag"):
            if not getattr(block, key):
                raise Problem(key, "must not be empty")
        try:
            return PerformerImage(repository=block.repository, tag=block.tag)
        except ValueError as exc:
            key, _, problem = str(exc).partition(": ")  # core messages start with the field
            if key in ("repository", "tag"):
                raise Problem(key, problem) from None
            raise

    return hook


def _chain_id(value: object, _: object) -> object:
    """A chain ID as a number, or as the quoted decimal text devkit writes (`"31337"`)."""
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        return int(value.strip())
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError("must be a chain ID: an integer, or decimal digits in quotes")


def _env_reference(name: str, block: KubernetesEnvBlock) -> EnvReference:
    """An entry's `kubernetesEnv`: exactly one of a Secret's or a ConfigMap's key."""
    here = "kubernetesEnv.valueFrom"
    if block.value_from is None:
        raise Problem(here, "required: a secretKeyRef or a configMapKeyRef")
    given: list[tuple[str, EnvSource, KeyRefBlock]] = []
    for key, source, ref in (
        ("secretKeyRef", EnvSource.SECRET, block.value_from.secret_key_ref),
        ("configMapKeyRef", EnvSource.CONFIG_MAP, block.value_from.config_map_key_ref),
    ):
        if ref is not None:
            given.append((key, source, ref))
    if len(given) != 1:
        raise Problem(here, "give exactly one of secretKeyRef, configMapKeyRef")
    key, source, ref = given[0]
    missing = [field for field in ("name", "key") if not getattr(ref, field)]
    if missing:
        problems = [Problem(f"{here}.{key}.{field}", "required") for field in missing]
        raise ExceptionGroup("kubernetesEnv problems", problems)
    try:
        return EnvReference(name=name, source=source, object_name=ref.name or "", key=ref.key or "")
    except ValueError as exc:
        attribute, _, problem = str(exc).partition(": ")  # core messages start with the field
        if attribute == "name":
            raise Problem("name", problem) from None
        field = _REFERENCE_KEYS.get(attribute)
        raise Problem(f"{here}.{key}.{field}" if field else here, problem or str(exc)) from None


def _env_var(converter: Converter, environ: Mapping[str, str]) -> Hook:
    """Structure an `envs` entry, reading `valueFromEnv` from the executor's environment."""

    def hook(value: object, _: object) -> EnvVarConfig:
        block = converter.structure(value, EnvBlock)
        if block.kubernetes_env is not None:
            if block.value is not None or block.value_from_env is not None:
                raise Problem("kubernetesEnv", "give one of value, valueFromEnv, kubernetesEnv")
            reference = _env_reference(block.name, block.kubernetes_env)
            return EnvVarConfig(name=block.name, kubernetes_env=reference)
        if block.value is not None and block.value_from_env is not None:
            raise Problem(None, "give at most one of value, valueFromEnv")
        source = block.value_from_env
        if source is None:
            return EnvVarConfig(name=block.name, value=block.value or "")
        if source not in environ:
            raise Problem("valueFromEnv", f"environment variable {source} is not set")
        return EnvVarConfig(name=block.name, value=environ[source], value_from_env=source)

    return hook


def _text_or_block(kind: Any, converter: BaseConverter) -> Hook:
    """Structure `str | Block` (a G1 string or its G2 object form)."""
    block = next(arg for arg in typing.get_args(kind) if arg in BLOCKS)

    def hook(value: object, _: object) -> object:
        if isinstance(value, str) or value is None:
            return value
        if isinstance(value, dict):
            return converter.structure(value, block)
        raise ValueError("must be a string or a mapping")

    return hook


def _is_text_or_block(kind: Any) -> bool:
    args = set(typing.get_args(kind)) - {type(None)}
    return typing.get_origin(kind) is types.UnionType and str in args and bool(args & BLOCKS)


def byte_size(value: object, _: object = None) -> object:
    """Parse a size as Docker's `--memory` does: bytes, or a number with a 1024-based unit
    (`512m`, `1.5g`, `64MiB`; `b` alone is bytes). Anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(_SIZE_PROBLEM)
    if isinstance(value, int):
        return value
    match = _SIZE.fullmatch(value.strip())
    if match is None:
        raise ValueError(_SIZE_PROBLEM)
    return int(float(match[1]) * _SIZE_UNIT[match[2].lower()])


def cpu_count(value: object, _: object = None) -> object:
    """Read a number of CPUs: a number, or one in quotes (`"1.5"`); not a duration."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value.strip())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number of CPUs, such as 2 or 0.5")
    return float(value)


def endpoint(value: object, _: object = None) -> Endpoint | None:
    """Parse `host:port` (`[v6]:port` for an IPv6 address): a DNS name or IP, port 1-65535;
    empty is none, as upstream's default."""
    if value is None or value == "":
        return None
    match = _ENDPOINT.fullmatch(text_value(value))
    if match is None:
        raise ValueError(ENDPOINT_PROBLEM)
    v6, name, port = match.groups()
    if v6 is not None:
        try:
            ipaddress.IPv6Address(v6)
        except ValueError:
            raise ValueError(f"must be host:port: [{v6[:80]}] is not an IPv6 address") from None
        host = v6
    else:
        host = name
        if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
            raise ValueError(f"must be host:port: {host[:80]!r} is not a host name")
    if not 1 <= int(port) <= 65535:
        raise ValueError("must be host:port with a port between 1 and 65535")
    return Endpoint(host, int(port))


def _text_pairs(what: str, numbers: bool) -> Hook:
    """A mapping of text to text, as `(key, value)` pairs in order; with `numbers`, a numeric
    value (`cpu: 2`) is read as its text."""

    def hook(value: object, _: object) -> tuple[tuple[str, str], ...]:
        if not isinstance(value, dict):
            raise ValueError(f"must be a mapping of {what}")
        pairs = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{key!r}: keys must be text")
            if numbers and isinstance(item, int | float) and not isinstance(item, bool):
                item = str(item)
            if not isinstance(item, str):
                quote = "quote booleans" if numbers else "quote numbers and booleans"
                raise ValueError(f"{key}: must be a string ({quote})")
            pairs.append((key, item))
        return tuple(pairs)

    return hook


_FIELD_HOOKS: dict[tuple[type, str], Hook] = {
    (L1ChainConfig, "chain_id"): _chain_id,
    (ContainerConfig, "memory"): byte_size,
    (ContainerConfig, "tmpfs_size"): byte_size,
    (ContainerConfig, "log_max_size"): byte_size,
    (ContainerConfig, "cpus"): cpu_count,
    (PerformerKubernetesConfig, "endpoint_override"): endpoint,
    (PerformerKubernetesConfig, "node_selector"): _text_pairs("label keys to values", False),
    (ResourcesConfig, "requests"): _text_pairs("resource names to quantities", True),
    (ResourcesConfig, "limits"): _text_pairs("resource names to quantities", True),
}
"""Attributes read by a hook of their own rather than by their type's."""


def _attribute_hook(
    attribute: attrs.Attribute[Any], converter: BaseConverter, structure: Hook | None = None
) -> Hook:
    """Structure one attribute by its type (or `structure`), then run its attrs validator."""
    if structure is None:
        structure = converter.get_structure_hook(attribute.type)
    validator = attribute.validator
    if validator is None:
        return structure

    def hook(value: object, kind: object) -> Any:
        result = structure(value, kind)
        validator(None, attribute, result)
        return result

    return hook


def _overrides(cls: type[Any], converter: BaseConverter) -> dict[str, Any]:
    renamed, omitted = RENAMED.get(cls, {}), OMITTED.get(cls, frozenset())
    overrides: dict[str, Any] = {}
    for a in attrs.fields(cls):
        if a.name in omitted:
            overrides[a.name] = override(omit=True)
        elif a.name in renamed:
            written = renamed[a.name]

            def from_block(value: object, _: object, written: Any = written) -> Any:
                return written.pick(converter.structure(value, written.block))

            overrides[a.name] = override(
                rename=written.key, struct_hook=_attribute_hook(a, converter, from_block)
            )
        else:
            own = _FIELD_HOOKS.get((cls, a.name))
            overrides[a.name] = override(
                rename=camel(a.name), struct_hook=_attribute_hook(a, converter, own)
            )
    return overrides


def _block_hook(cls: type[Any], converter: BaseConverter) -> Hook:
    """Structure a mapping into `cls`: camelCase keys, unknown keys refused, errors collected."""
    attrs.resolve_types(cls)
    overrides = _overrides(cls, converter)
    structure = make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True, **overrides)
    unused = UNUSED.get(cls, {})

    def hook(value: object, _: object) -> Any:
        if not isinstance(value, dict):
            raise ValueError("must be a mapping")
        problems: list[Exception] = []  # reported after the block's own fields
        if unused.keys() & value.keys():
            for key, written in unused.items():
                if value.get(key) is None:
                    continue
                try:
                    converter.structure(value[key], written.kind)
                except Exception as exc:
                    exc.add_note(AttributeValidationNote(f"unused key {key}", key, written.kind))
                    problems.append(ClassValidationError(f"in {key}", [exc], cls))
            value = {key: item for key, item in value.items() if key not in unused}
        try:
            result = structure(value, cls)
        except ClassValidationError as exc:
            problems.insert(0, exc)
        if problems:
            raise ExceptionGroup(f"problems in {cls.__name__}", problems)
        return result

    return hook


def _tuple_hook(kind: Any, converter: BaseConverter) -> Hook:
    """Structure a YAML list into a tuple, reporting every bad item by its index."""
    item_kind = typing.get_args(kind)[0]
    structure = converter.get_structure_hook(item_kind)

    def hook(value: object, _: object) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise ValueError("must be a list")
        items: list[Any] = []
        errors: list[Exception] = []
        for index, item in enumerate(value):
            try:
                items.append(structure(item, item_kind))
            except Exception as exc:
                exc.add_note(IterableValidationNote(f"@ index {index}", index, item_kind))
                errors.append(exc)
        if errors:
            raise IterableValidationError("problems in list", errors, kind)
        return tuple(items)

    return hook


def _passthrough(value: object, _: object) -> object:
    return value


def make_converter(
    bls: Callable[[object, BaseConverter], BlsKeyConfig],
    ecdsa: Callable[[object, BaseConverter], EcdsaKeyConfig],
    environ: Mapping[str, str],
) -> Converter:
    """Build the converter; scalars pass through so that field validators word the problem.

    `environ` supplies the performers' `valueFromEnv` variables.
    """
    converter = Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(int, _passthrough)
    converter.register_structure_hook(bool, _passthrough)
    converter.register_structure_hook(str, lambda value, _: text_value(value))
    converter.register_structure_hook(float, seconds)  # every float in the schema is a duration
    converter.register_structure_hook(bytes, _public_key)
    converter.register_structure_hook(Address, lambda value, _: Address(text_value(value)))
    converter.register_structure_hook(AvsAddress, lambda value, _: AvsAddress(text_value(value)))
    converter.register_structure_hook(PerformerImage, _image(converter))
    converter.register_structure_hook(BlsKeyConfig, lambda value, _: bls(value, converter))
    converter.register_structure_hook(EcdsaKeyConfig, lambda value, _: ecdsa(value, converter))
    converter.register_structure_hook(EnvVarConfig, _env_var(converter, environ))
    for choice in (SigningCurve, LogLevel, LogFormat, PerformerEndpoint):  # before `str`
        converter.register_structure_hook(choice, _enum_hook(choice))
    converter.register_structure_hook_factory(
        lambda kind: getattr(kind, "__origin__", None) is tuple, _tuple_hook
    )
    converter.register_structure_hook_factory(lambda kind: kind in BLOCKS, _block_hook)
    converter.register_structure_hook_factory(_is_text_or_block, _text_or_block)
    return converter


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _note(exc: BaseException, kind: type[Any]) -> Any:
    return next((n for n in getattr(exc, "__notes__", ()) if isinstance(n, kind)), None)


def describe(exc: BaseException, path: str = "", *, root: str = "<config>") -> list[str]:
    """Return one `<path>: <problem>` line per leaf of a (grouped) structuring error.

    `root` stands for the path of problems with the document as a whole.
    """
    if isinstance(exc, ClassValidationError):
        lines: list[str] = []
        for sub in exc.exceptions:
            note = _note(sub, AttributeValidationNote)
            key = file_key(note.name) if note else ""
            if note and isinstance(sub, KeyError) and sub.args == (key,):
                lines.append(f"{_join(path, key)}: required")
            else:
                lines += describe(sub, _join(path, key) if note else path, root=root)
        return lines
    if isinstance(exc, IterableValidationError):
        lines = []
        for item in exc.exceptions:
            index = _note(item, IterableValidationNote)
            lines += describe(item, f"{path}[{index.index}]" if index else path, root=root)
        return lines
    if isinstance(exc, ForbiddenExtraKeysError):
        return [f"{_join(path, str(k))}: unknown key" for k in sorted(exc.extra_fields, key=str)]
    if isinstance(exc, BaseExceptionGroup):
        return [line for member in exc.exceptions for line in describe(member, path, root=root)]
    if isinstance(exc, Problem) and exc.key:
        return [f"{_join(path, exc.key)}: {exc}"]
    return [f"{path or root}: {exc}"]
