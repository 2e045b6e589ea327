"""Rules that span several keys, checked on the structured config so that all are reported.

They are not attrs validators because a class validator stops at its first failure, and an
operator should fix a file in one pass.
"""

from __future__ import annotations

from executor_adapters.config.schema import ExecutorConfig, IgnoredKey, SigningCurve

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
    ]


def ignored_values(config: ExecutorConfig) -> list[IgnoredKey]:
    """Keys whose value, rather than presence, has no effect here."""
    ignored = []
    if config.performer_network_relay_image is not None and not config.performer_network_internal:
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
    """An internal performer network needs a name, and a relay image to reach its performers."""
    if not config.performer_network_internal:
        return []
    found = []
    if not config.performer_network_name:
        found.append(
            "performerNetworkInternal: needs performerNetworkName, the network to make internal"
        )
    if config.performer_network_relay_image is None:
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
