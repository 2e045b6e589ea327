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
    ]


def ignored_values(config: ExecutorConfig) -> list[IgnoredKey]:
    """Keys whose value, rather than presence, has no effect here."""
    if config.storage.type == "badger":
        reason = "tasks are deduplicated in memory; durable storage is not implemented yet"
        return [IgnoredKey(path="storage.type", reason=reason)]
    return []


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
