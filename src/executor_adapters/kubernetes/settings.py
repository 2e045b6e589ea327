"""How the Kubernetes runtime reaches its cluster, and how each AVS's pods are made.

Upstream's keys (`kubernetes {namespace, kubeConfigPath, inCluster, connectionTimeout}` and
`avsPerformers[].kubernetes {serviceAccountName, endpointOverride}`) map onto these, plus ours:
how performers are reached, and each AVS's resources and node selector.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

import attrs

from executor_core.performers import Endpoint

__all__ = ["ClusterSettings", "PerformerReach", "PodSettings", "parse_endpoint"]

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?")
_RESOURCE_NAME = re.compile(
    r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
)
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


class PerformerReach(enum.Enum):
    """How the executor opens connections to a performer pod's port 8080."""

    SERVICE = "service"
    """By the pod's Service DNS name (`performer-<pod>.<namespace>.svc`): the executor runs in
    the cluster."""
    PORT_FORWARD = "portForward"
    """Through the API server's port-forward of the pod, from a loopback listener: the executor
    runs outside the cluster and needs no route to pod or Service addresses."""


def _dns_label(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError(
            f"{attribute.name}: must be a DNS label (lower-case letters, digits and '-', "
            "at most 63)"
        )


def _optional_subdomain(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value and not _SUBDOMAIN.fullmatch(value):
        raise ValueError(f"{attribute.name}: must be a Kubernetes object name")


def _quantities(
    _: object, attribute: attrs.Attribute[Mapping[str, str]], value: Mapping[str, str]
) -> None:
    for name, quantity in value.items():
        if not _RESOURCE_NAME.fullmatch(name):
            raise ValueError(f"{attribute.name}: {name!r} is not a resource name")
        if not isinstance(quantity, str) or not _QUANTITY.fullmatch(quantity):
            raise ValueError(
                f"{attribute.name}.{name}: {quantity!r} is not a quantity (such as 500m, 2, 1Gi)"
            )


def parse_endpoint(value: str) -> Endpoint:
    """`host:port` as an endpoint; ValueError naming what is wrong."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"must be host:port, such as performer.example:8080, not {value!r}")
    return Endpoint(host.strip("[]"), int(port))


@attrs.frozen(kw_only=True)
class PodSettings:
    """How the pods of one AVS are made."""

    service_account_name: str = attrs.field(default="", validator=_optional_subdomain)
    """The pod's service account; its token is mounted only when one is named."""
    endpoint_override: Endpoint | None = None
    """Reach every pod of the AVS at this address instead (an ingress or a NodePort)."""
    requests: Mapping[str, str] = attrs.field(factory=dict, validator=_quantities)
    limits: Mapping[str, str] = attrs.field(factory=dict, validator=_quantities)
    """Limits beyond the container block's cpus and memory (`nvidia.com/gpu: "1"`), or
    replacing them."""
    node_selector: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ClusterSettings:
    """Where the cluster is and how performers in it are reached."""

    namespace: str = attrs.field(default="default", validator=_dns_label)
    kubeconfig_path: str = ""
    """Empty: the kubeconfig the client finds by itself (KUBECONFIG, ~/.kube/config)."""
    in_cluster: bool = False
    """Use the service account of the pod the executor runs in."""
    connection_timeout: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))
    """Bound of one API call (watches excepted)."""
    reach: PerformerReach | None = None
    """None: by Service when in the cluster, else by port-forward."""
    pods: Mapping[str, PodSettings] = attrs.field(factory=dict)
    """Per lower-case AVS address; an AVS not listed gets the defaults."""

    @property
    def performer_reach(self) -> PerformerReach:
        if self.reach is not None:
            return self.reach
        return PerformerReach.SERVICE if self.in_cluster else PerformerReach.PORT_FORWARD

    def pod_settings(self, avs: str) -> PodSettings:
        return self.pods.get(avs.lower(), _DEFAULT_POD)


_DEFAULT_POD = PodSettings()
