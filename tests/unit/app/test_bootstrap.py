"""The composition root: each AVS signs on its own curve, and any port can be replaced."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from executor_adapters.config import SigningCurve, parse_config
from executor_adapters.grpc._requests import parse_task
from executor_adapters.keystores import KeystoreError
from executor_adapters.keystores.writer import ScryptParams, write_eip2335, write_v3
from executor_adapters.memory import (
    FakeResultSigner,
    InMemoryContainerRuntime,
    ScriptedPerformerConnector,
    SequentialIds,
)
from executor_adapters.signing import (
    Bls381ResultSigner,
    Bn254ResultSigner,
    EcdsaResultSigner,
    bls381,
    bn254,
    ecdsa,
    keccak256,
)
from executor_app.bootstrap import build_core, build_executor, load_signers, new_avs_policy
from executor_app.signers import StartupError
from executor_core.addresses import AvsAddress
from executor_core.errors import AvsNotFound
from executor_core.performers import PerformerImage

CHEAP = ScryptParams(n=1024, r=1, p=1)
BN254_SECRET = (0x1234_5678).to_bytes(32, "big")
BLS381_SECRET = (0x8765_4321).to_bytes(32, "big")
ECDSA_SECRET = (0x4242).to_bytes(32, "big")
AVS_BN254 = "0x" + "a1" * 20
AVS_BLS381 = "0x" + "b2" * 20
AVS_ECDSA = "0x" + "c3" * 20


def write_keys(tmp_path: Path, *, bls_curve: str = "bn254") -> None:
    bls_secret = BN254_SECRET if bls_curve == "bn254" else BLS381_SECRET
    (tmp_path / "bls.json").write_text(
        write_eip2335(bls_secret, "pw", curve=bls_curve, scrypt=CHEAP)  # type: ignore[arg-type]
    )
    (tmp_path / "bls381.json").write_text(
        write_eip2335(BLS381_SECRET, "pw", curve="bls381", scrypt=CHEAP)
    )
    (tmp_path / "ecdsa.json").write_text(write_v3(ECDSA_SECRET, "pw", scrypt=CHEAP))


def config_text(performers: str, keys: str) -> str:
    return f"""
operator:
  address: "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
  signingKeys:
{keys}
avsPerformers:
{performers}
"""


def performer(avs: str, curve: str) -> str:
    return f"""  - avsAddress: "{avs}"
    image: {{repository: example, tag: v1}}
    signingCurve: {curve}
    verifyAggregatorSignature: false
"""


ALL_KEYS = """    bls: {keystoreFile: bls.json, password: pw}
    bls381: {keystoreFile: bls381.json, password: pw}
    ecdsa: {keystoreFile: ecdsa.json, password: pw}"""


async def test_each_avs_signs_results_on_its_own_curve(tmp_path: Path) -> None:
    write_keys(tmp_path)
    performers = (
        performer(AVS_BN254, "bn254")
        + performer(AVS_BLS381, "bls381")
        + performer(AVS_ECDSA, "ecdsa")
    )
    config = parse_config(config_text(performers, ALL_KEYS), base_dir=tmp_path, environ={})
    signers = await load_signers(config)
    output = b"result bytes"
    digest = keccak256(output)

    bn = signers[SigningCurve.BN254]
    assert isinstance(bn, Bn254ResultSigner)
    public = bn254.public_key_g2(int.from_bytes(BN254_SECRET, "big"))
    assert bn254.verify_solidity(public, digest, await bn.sign_result(output))

    bls = signers[SigningCurve.BLS381]
    assert isinstance(bls, Bls381ResultSigner)
    assert bls381.verify(bls381.public_key_g2(BLS381_SECRET), digest, await bls.sign_result(output))

    ec = signers[SigningCurve.ECDSA]
    assert isinstance(ec, EcdsaResultSigner)
    signature = await ec.sign_result(output)
    assert len(signature) == 65
    assert signature[64] in (27, 28)
    assert ecdsa.recover_address(digest, signature) == ecdsa.address_of(ECDSA_SECRET)


async def test_a_keystore_of_the_wrong_curve_is_refused_naming_the_keystore(
    tmp_path: Path,
) -> None:
    write_keys(tmp_path, bls_curve="bls381")
    keys = "    bls: {keystoreFile: bls.json, password: pw}"
    config = parse_config(
        config_text(performer(AVS_BN254, "bn254"), keys), base_dir=tmp_path, environ={}
    )
    with pytest.raises(KeystoreError, match=r"bls\.json"):
        await load_signers(config)


async def test_a_plain_ecdsa_private_key_works_for_development(tmp_path: Path) -> None:
    keys = f"    ecdsa: {{privateKey: '0x{ECDSA_SECRET.hex()}'}}"
    config = parse_config(
        config_text(performer(AVS_ECDSA, "ecdsa"), keys), base_dir=tmp_path, environ={}
    )
    signer = (await load_signers(config))[SigningCurve.ECDSA]
    assert isinstance(signer, EcdsaResultSigner)
    assert signer.address == ecdsa.address_of(ECDSA_SECRET)


async def test_the_executor_runs_on_fakes_when_every_port_is_replaced(tmp_path: Path) -> None:
    write_keys(tmp_path)
    config = parse_config(
        config_text(performer(AVS_BN254, "bn254"), ALL_KEYS), base_dir=tmp_path, environ={}
    )
    runtime = InMemoryContainerRuntime()
    signer = FakeResultSigner()
    app = await build_executor(
        config,
        runtime=runtime,
        connector=ScriptedPerformerConnector(lambda task_id, payload: payload[::-1]),
        signers={SigningCurve.BN254: signer},
        ids=SequentialIds(),
        host="127.0.0.1",
        port=0,
    )
    await app.start()
    try:
        task = parse_task("0x01", AVS_BN254, b"abc")
        result = await app.executor.submit_task(task, timeout=5)
        assert result.output == b"cba"
        assert result.signature == signer.expected_signature(b"cba")
        new_avs = AvsAddress.parse("0x" + "d4" * 20)
        await app.executor.deploy_artifact(new_avs, PerformerImage("example", tag="v2"))
        assert {v.avs_address for v in app.executor.list_performers()} == {
            AvsAddress.parse(AVS_BN254),
            new_avs,
        }
    finally:
        await asyncio.wait_for(app.stop(grace=1), 10)
    assert runtime.containers == {}
    assert runtime.closed


async def test_an_avs_that_deploy_artifact_adds_signs_on_bn254_not_on_the_first_avs_curve(
    tmp_path: Path,
) -> None:
    write_keys(tmp_path)
    config = parse_config(
        config_text(performer(AVS_ECDSA, "ecdsa"), ALL_KEYS), base_dir=tmp_path, environ={}
    )
    signers = await load_signers(config)
    assert set(signers) == {SigningCurve.ECDSA, SigningCurve.BN254}

    policy = new_avs_policy(config, signers)
    settings, signer = policy(AvsAddress.parse("0x" + "d4" * 20), PerformerImage("e", tag="v"))
    assert isinstance(signer, Bn254ResultSigner)
    assert settings.worker_count == 1


async def test_without_a_bn254_key_an_avs_the_config_does_not_name_is_refused_naming_the_key(
    tmp_path: Path,
) -> None:
    keys = f"    ecdsa: {{privateKey: '0x{ECDSA_SECRET.hex()}'}}"
    config = parse_config(
        config_text(performer(AVS_ECDSA, "ecdsa"), keys), base_dir=tmp_path, environ={}
    )
    policy = new_avs_policy(config, await load_signers(config))

    with pytest.raises(AvsNotFound, match=r"signs on bn254: it needs operator\.signingKeys\.bls"):
        policy(AvsAddress.parse("0x" + "d4" * 20), PerformerImage("e", tag="v"))


def test_an_avs_whose_curve_has_no_signer_stops_the_start_naming_the_key(tmp_path: Path) -> None:
    keys = f"    ecdsa: {{privateKey: '0x{ECDSA_SECRET.hex()}'}}"
    config = parse_config(
        config_text(performer(AVS_ECDSA, "ecdsa"), keys), base_dir=tmp_path, environ={}
    )

    with pytest.raises(
        StartupError, match=r"signs on ecdsa: it needs operator\.signingKeys\.ecdsa"
    ):
        build_core(config, signers={}, runtime=InMemoryContainerRuntime())
