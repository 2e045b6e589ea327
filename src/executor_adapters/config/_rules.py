"""Rules that span several keys, checked on the structured config so that all are reported.

They are not attrs validators because a class validator stops at its first failure, and an
operator should fix a file in one pass.
"""

from __future__ import annotations

from collections.abc import Set

from executor_adapters.config.schema import (
    DOCKER,
    KUBERNETES,
    OBJECT_NAME,
    ExecutorConfig,
    IgnoredKey,
    SigningCurve,
)

_LOGS_PER_NODE = (
    "Kubernetes rotates container logs per node (the kubelet's containerLogMaxSize and "
    "containerLogMaxFiles), not per pod"
)
_NEEDED_KEY = {
    SigningCurve.BN254: "operator.signingKeys.bls",
    SigningCurve.BLS381: "operator.signingKeys.bls381 (or .bls)",
    SigningCurve.ECDSA: "operator.signingKeys.ecdsa",
}


def problems(config: ExecutorConfig) -> list[str]:
    """Return one `<path>: <problem>` line per broken rule."""
    return [
        *_performer_problems(config),
        *_peering_problems(config),
        *_key_problems(config),
        *_management_problems(config),
        *_network_problems(config),
        *_storage_problems(config),
        *_mode_problems(config),
    ]


_PER_NODE = {
    "pidsLimit": "Kubernetes limits processes per node (the kubelet's podPidsLimit), not per pod",
    "logMaxSize": _LOGS_PER_NODE,
    "logMaxFile": _LOGS_PER_NODE,
}
"""`container` keys Kubernetes mode cannot apply to one pod, and why."""


def ignored_values(config: ExecutorConfig, written: Set[str] = frozenset()) -> list[IgnoredKey]:
    """Keys whose value, or whose effect in this file's deployment mode, is none here.

    `written` holds the paths of the keys the file gave (`Spelled.given`), for keys that have
    no effect in this mode whatever their value.
    """
    ignored = _mode_ignored(config, written)
    if config.deployment_mode == KUBERNETES:
        if config.performer_network_relay_image is not None:
            reason = "in Kubernetes mode the performer network is a NetworkPolicy, with no relays"
            ignored.append(IgnoredKey(path="performerNetworkRelayImage", reason=reason))
    elif config.performer_network_relay_image is not None and not config.performer_network_internal:
        reason = "only an internal performer network (performerNetworkInternal: true) has relays"
        ignored.append(IgnoredKey(path="performerNetworkRelayImage", reason=reason))
    management = config.management
    if config.authentication_enabled:
        if management.allow_remote_without_auth:
            reason = "authentication is on, so every caller must sign its management calls"
            ignored.append(IgnoredKey(path="management.allowRemoteWithoutAuth", reason=reason))
    else:
        reason = "authentication.enabled is false, so no management call is signed"
        for key, given in (
            ("authorizedKeys", bool(management.authorized_keys)),
            ("requireRequestBinding", management.require_request_binding),
        ):
            if given:
                ignored.append(IgnoredKey(path=f"management.{key}", reason=reason))
    return ignored


def _mode_ignored(config: ExecutorConfig, written: Set[str]) -> list[IgnoredKey]:
    """Docker mode ignores the Kubernetes blocks; Kubernetes mode what it sets per node."""
    ignored = []
    if config.deployment_mode == DOCKER:
        if config.kubernetes is not None:
            reason = (
                "no avsPerformers entry has deploymentMode kubernetes: performers run on Docker"
            )
            ignored.append(IgnoredKey(path="kubernetes", reason=reason))
        ignored += [
            IgnoredKey(
                path=f"avsPerformers[{index}].kubernetes",
                reason="this AVS runs on Docker (deploymentMode docker)",
            )
            for index, entry in enumerate(config.avs_performers)
            if entry.kubernetes is not None
        ]
        return ignored
    for index in range(len(config.avs_performers)):
        for key, reason in _PER_NODE.items():
            path = f"avsPerformers[{index}].container.{key}"
            if path in written:
                ignored.append(IgnoredKey(path=path, reason=reason))
    if "deployment.pullTimeout" in written:
        reason = "in Kubernetes mode the node pulls the image as the pod starts, within timeout"
        ignored.append(IgnoredKey(path="deployment.pullTimeout", reason=reason))
    cluster = config.kubernetes
    if cluster is not None and cluster.in_cluster and cluster.kube_config_path:
        reason = "kubernetes.inCluster is true: the executor uses its own pod's service account"
        ignored.append(IgnoredKey(path="kubernetes.kubeConfigPath", reason=reason))
    return ignored


def _mode_problems(config: ExecutorConfig) -> list[str]:
    """One mode per executor; what each mode cannot do is refused where it is written."""
    entries = config.avs_performers
    found = [
        f"avsPerformers[{index}].deploymentMode: {entry.deployment_mode} while "
        f"avsPerformers[0] is {entries[0].deployment_mode}: one executor runs all its "
        "performers in one mode; run a second executor for the other"
        for index, entry in enumerate(entries)
        if entry.deployment_mode != entries[0].deployment_mode
    ]
    for index, entry in enumerate(entries):
        where = f"avsPerformers[{index}]"
        if entry.deployment_mode == DOCKER:
            found += [
                f"{where}.envs[{number}].kubernetesEnv: needs deploymentMode kubernetes; this "
                "AVS runs on Docker, which has no Secrets or ConfigMaps (give value or "
                "valueFromEnv)"
                for number, env in enumerate(entry.envs)
                if env.kubernetes_env is not None
            ]
            continue
        user, _, group = entry.container.user.partition(":")
        if user and not (user.isascii() and user.isdigit() and (not group or group.isdigit())):
            found.append(
                f"{where}.container.user: must be a numeric uid[:gid] in Kubernetes mode, which "
                f"takes no user names (runAsUser, runAsGroup), not {entry.container.user!r}"
            )
    name = config.performer_network_name
    if config.deployment_mode == KUBERNETES and name and not OBJECT_NAME.fullmatch(name):
        found.append(
            "performerNetworkName: in Kubernetes mode it names a NetworkPolicy, so it must be "
            "lower-case letters, digits, '-' and '.' (at most 253)"
        )
    return found


def _performer_problems(config: ExecutorConfig) -> list[str]:
    """Something must be served: a listed AVS, or (with l1Chain) AVSs deployed at run time."""
    if config.l1_chain is not None:
        return []
    if not config.avs_performers:
        return ["avsPerformers: must list at least one performer unless l1Chain is set"]
    return [
        f"avsPerformers[{index}].acceptG1Tasks: this AVS would accept no tasks, since G2 tasks "
        "need l1Chain; set l1Chain or remove this key"
        for index, entry in enumerate(config.avs_performers)
        if not config.accepts_g1(entry)
    ]


def _peering_problems(config: ExecutorConfig) -> list[str]:
    """An AVS that checks aggregator signatures needs peers to check them against."""
    if config.simulation.simulate_peering.enabled or config.l1_chain is not None:
        return []
    return [
        f"avsPerformers[{index}].verifyAggregatorSignature: aggregator peers are needed to check "
        "signatures: enable simulation.simulatePeering or set l1Chain, or set this to false to "
        "run unchecked"
        for index, entry in enumerate(config.avs_performers)
        if entry.verify_aggregator_signature
    ]


def _key_problems(config: ExecutorConfig) -> list[str]:
    """Every AVS needs a key of its signing curve, and the operator needs at least one key."""
    keys = config.operator.signing_keys
    if keys.bls is None and keys.bls381 is None and keys.ecdsa is None:
        return ["operator.signingKeys: give at least one of bls, bls381, ecdsa"]
    available = {
        SigningCurve.BN254: keys.bls is not None,
        SigningCurve.BLS381: keys.bls381 is not None or keys.bls is not None,
        SigningCurve.ECDSA: keys.ecdsa is not None,
    }
    return [
        f"avsPerformers[{index}].signingCurve: {entry.signing_curve} "
        f"needs {_NEEDED_KEY[entry.signing_curve]}"
        for index, entry in enumerate(config.avs_performers)
        if not available[entry.signing_curve]
    ]


def _network_problems(config: ExecutorConfig) -> list[str]:
    """An internal performer network needs a name, and on Docker a relay image to reach its
    performers (Kubernetes reaches them by Service or port-forward)."""
    if not config.performer_network_internal:
        return []
    found = []
    if not config.performer_network_name:
        found.append(
            "performerNetworkInternal: needs performerNetworkName, the network to make internal"
        )
    if config.performer_network_relay_image is None and config.deployment_mode == DOCKER:
        found.append(
            "performerNetworkRelayImage: required with performerNetworkInternal: true; Docker "
            "publishes no port of a container on an internal network, so a relay in this image "
            "(any image with python3) publishes each performer's port on 127.0.0.1"
        )
    return found


def _management_problems(config: ExecutorConfig) -> list[str]:
    """Each authorised key is one key; with authentication on, some key must be able to sign."""
    found = [
        f"management.authorizedKeys[{index}]: give exactly one of ecdsaAddress and bn254PublicKey"
        for index, key in enumerate(config.management.authorized_keys)
        if (key.ecdsa_address is None) == (key.bn254_public_key is None)
    ]
    keys = config.operator.signing_keys
    if (
        config.authentication_enabled
        and keys.ecdsa is None
        and keys.bls is None
        and not config.management.authorized_keys
    ):
        found.append(
            "authentication.enabled: no key could sign management calls; give "
            "operator.signingKeys.ecdsa or .bls, or list management.authorizedKeys"
        )
    return found


def _storage_problems(config: ExecutorConfig) -> list[str]:
    """A persistent store needs its directory."""
    storage = config.storage
    if storage.type == "memory" or storage.database_dir is not None:
        return []
    if storage.type == "badger":
        return ["storage.badger.dir: required with storage.type badger (or give storage.dir)"]
    return ["storage.dir: required with storage.type sqlite"]
