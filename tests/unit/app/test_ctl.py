"""`executor ctl`: its arguments, what it prints (tables and JSON), and its exit statuses.

The management client is replaced by a scripted one here; tests/contract/test_management_client.py
drives the real client against real servers, and tests/e2e/test_ctl_e2e.py the whole command
against a running executor.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import grpc
import pytest

from executor_adapters.grpc.management_client import (
    FIRST_GENERATION_SERVICE,
    MANAGEMENT_SERVICE,
    HealthReport,
    ManagementAuth,
    ManagementCallError,
)
from executor_adapters.keystores.writer import ScryptParams, write_eip2335, write_v3
from executor_adapters.signing import Bn254ResultSigner, EcdsaResultSigner
from executor_app import ctl
from executor_app.cli import main
from hourglass_proto.eigenlayer.hourglass import v1 as pb

AVS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OPERATOR = "0x6B58f6762689DF33fe8fa3FC40Fb5a3089D3a8cc"
DIGEST = "sha256:" + "ab" * 32
PASSWORD = "ctl test password"
FAST = ScryptParams(n=1024, r=8, p=1)
ECDSA_SECRET = bytes(range(1, 33))
BN254_SECRET = (987654321).to_bytes(32, "big")
PERFORMER = pb.Performer(
    performer_id="performer-0x7099-1",
    avs_address=AVS.lower(),
    status="InService",
    artifact_registry="127.0.0.1:5000/example-performer",
    artifact_digest=DIGEST,
    resource_healthy=True,
    application_healthy=False,
    last_health_check="2025-06-20T16:50:07Z",
    container_id="0123456789abcdef" * 4,
)


class FakeClient:
    """Stands in for ManagementClient: answers from `script`, records what it was asked."""

    instances: list[FakeClient] = []
    script: dict[str, Any] = {}

    def __init__(self, target: str, *, auth: ManagementAuth | None = None) -> None:
        self.target = target
        self.auth = auth
        self.calls: list[tuple[str, tuple[Any, ...], float | None]] = []
        self.auth_off = bool(self.script.get("auth_off"))
        FakeClient.instances.append(self)

    def _answer(self, method: str, *args: Any, timeout: float | None) -> Any:
        self.calls.append((method, args, timeout))
        answer = self.script[method]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def list_performers(self, avs: str | None = None, *, timeout: float | None) -> Any:
        return self._answer("list", avs, timeout=timeout)

    async def deploy_artifact(self, *args: Any, timeout: float | None) -> Any:
        return self._answer("deploy", *args, timeout=timeout)

    async def remove_performer(self, performer_id: str, *, timeout: float | None) -> Any:
        return self._answer("remove", performer_id, timeout=timeout)

    async def get_challenge_token(self, operator: str, *, timeout: float | None) -> Any:
        return self._answer("token", operator, timeout=timeout)

    async def health(self, *, timeout: float | None) -> Any:
        return self._answer("health", timeout=timeout)

    async def __aenter__(self) -> FakeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


@pytest.fixture(autouse=True)
def fake_client(monkeypatch: pytest.MonkeyPatch) -> type[FakeClient]:
    FakeClient.instances = []
    FakeClient.script = {}
    monkeypatch.setattr(ctl, "ManagementClient", FakeClient)
    monkeypatch.delenv(ctl.TARGET_ENV, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return FakeClient


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["ctl", *argv])
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def client() -> FakeClient:
    [made] = FakeClient.instances
    return made


def refused(code: grpc.StatusCode, message: str, method: str = "RemovePerformer") -> Exception:
    return ManagementCallError(method, code, message)


@pytest.fixture
def ecdsa_keystore(tmp_path: Path) -> Path:
    path = tmp_path / "ecdsa.json"
    path.write_text(write_v3(ECDSA_SECRET, PASSWORD, scrypt=FAST))
    return path


@pytest.fixture
def bn254_keystore(tmp_path: Path) -> Path:
    path = tmp_path / "bn254.json"
    path.write_text(write_eip2335(BN254_SECRET, PASSWORD, curve="bn254", scrypt=FAST))
    return path


# --- arguments --------------------------------------------------------------------------------


def test_options_work_before_and_after_the_command_and_the_target_has_a_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    FakeClient.script = {"list": []}
    code, before, _ = run(capsys, "--json", "list")
    code_after, after, _ = run(capsys, "list", "--json", "--target", "10.0.0.5:9091")
    assert (code, code_after) == (0, 0)
    assert json.loads(before) == json.loads(after) == {"performers": []}
    assert [c.target for c in FakeClient.instances] == [ctl.DEFAULT_TARGET, "10.0.0.5:9091"]


def test_the_target_comes_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ctl.TARGET_ENV, "127.0.0.1:19091")
    FakeClient.script = {"list": []}
    assert run(capsys, "list")[0] == 0
    assert client().target == "127.0.0.1:19091"


def test_each_command_has_its_timeout_and_timeout_overrides_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    FakeClient.script = {"list": [], "remove": pb.RemovePerformerResponse(True, "removed")}
    run(capsys, "list")
    run(capsys, "remove", "performer-1", "--timeout", "2.5")
    timeouts = [made.calls[0][2] for made in FakeClient.instances]
    assert timeouts == [ctl.DEFAULT_TIMEOUTS["list"], 2.5]


def test_deploy_sends_env_and_env_from_in_the_order_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    FakeClient.script = {"deploy": pb.DeployArtifactResponse(True, "ok", "deployment-x-1")}
    code, out, _ = run(
        capsys,
        "deploy",
        "--avs",
        AVS,
        "--registry",
        "127.0.0.1:5000/example-performer",
        "--digest",
        DIGEST,
        "--env",
        "A=1=2",
        "--env-from",
        "B=HOST_B",
        "--env",
        "EMPTY=",
    )
    assert (code, out) == (0, "deployment-x-1\n")
    [(method, args, _)] = client().calls
    assert method == "deploy"
    assert args == (
        AVS,
        "127.0.0.1:5000/example-performer",
        DIGEST,
        [("A", "1=2"), pb.PerformerEnv(name="B", value_from_env="HOST_B"), ("EMPTY", "")],
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["remove"],
        ["deploy", "--avs", AVS, "--registry", "r"],
        ["deploy", "--avs", AVS, "--registry", "r", "--digest", DIGEST, "--env", "NOEQUALS"],
        ["deploy", "--avs", AVS, "--registry", "r", "--digest", DIGEST, "--env-from", "A="],
        ["list", "--avs", "0x1234"],
        ["--timeout", "0", "list"],
        ["token", "--operator", "not-an-address"],
        ["list", "--password-env", "A", "--password-file", "b"],
    ],
)
def test_usage_errors_exit_2_before_any_call(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert code == ctl.EXIT_USAGE, err
    assert "error:" in err
    assert FakeClient.instances == []


# --- rendering --------------------------------------------------------------------------------


def test_image_reference_prefers_the_digest_and_reads_a_first_generation_tag() -> None:
    assert ctl.image_reference("repo", DIGEST, "") == f"repo@{DIGEST}"
    assert ctl.image_reference("repo", "", "latest") == "repo:latest"
    assert ctl.image_reference("repo", "latest", "") == "repo:latest"  # G1: tag in digest
    assert ctl.image_reference("repo", "", "") == "repo"


def test_the_list_table_has_a_line_per_performer_under_its_headers() -> None:
    tagged = pb.Performer(
        performer_id="performer-2",
        avs_address="0xabc",
        status="Staged",
        artifact_registry="hourglass-example-performer",
        artifact_tag="latest",
    )
    header, first, second = ctl.render_performers([PERFORMER, tagged]).splitlines()
    assert header.split()[:4] == ["PERFORMER", "ID", "AVS", "STATUS"]
    assert first.split() == [
        "performer-0x7099-1",
        AVS.lower(),
        "InService",
        f"127.0.0.1:5000/example-performer@{DIGEST}",
        "yes/no",
        "2025-06-20T16:50:07Z",
        "0123456789ab",
    ]
    assert second.split() == [
        "performer-2",
        "0xabc",
        "Staged",
        "hourglass-example-performer:latest",
        "no/no",
        "-",
        "-",
    ]
    assert header.index("AVS") == first.index(AVS.lower())
    assert ctl.render_performers([]) == "no performers"


def test_list_json_is_one_document_with_every_wire_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    FakeClient.script = {"list": [PERFORMER]}
    code, out, _ = run(capsys, "list", "--avs", AVS, "--json")
    assert code == 0
    assert client().calls[0][1] == (AVS,)
    [document] = json.loads(out)["performers"]
    assert document == {
        "performer_id": "performer-0x7099-1",
        "avs_address": AVS.lower(),
        "status": "InService",
        "artifact_registry": "127.0.0.1:5000/example-performer",
        "artifact_digest": DIGEST,
        "artifact_tag": "",
        "image": f"127.0.0.1:5000/example-performer@{DIGEST}",
        "resource_healthy": True,
        "application_healthy": False,
        "last_health_check": "2025-06-20T16:50:07Z",
        "container_id": "0123456789abcdef" * 4,
    }


def test_health_prints_the_server_and_each_service(capsys: pytest.CaptureFixture[str]) -> None:
    services = {FIRST_GENERATION_SERVICE: "SERVING", MANAGEMENT_SERVICE: "SERVICE_UNKNOWN"}
    FakeClient.script = {"health": HealthReport("SERVING", services)}
    code, out, _ = run(capsys, "health")
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert lines == [
        [ctl.DEFAULT_TARGET],
        ["SERVICE", "STATUS"],
        ["(server)", "SERVING"],
        [FIRST_GENERATION_SERVICE, "SERVING"],
        [MANAGEMENT_SERVICE, "SERVICE_UNKNOWN"],
    ]
    code, out, _ = run(capsys, "health", "--json")
    assert json.loads(out) == {
        "target": ctl.DEFAULT_TARGET,
        "status": "SERVING",
        "services": services,
    }


def test_health_not_serving_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    FakeClient.script = {"health": HealthReport("NOT_SERVING", {})}
    code, out, err = run(capsys, "health")
    assert code == ctl.EXIT_FAILED
    assert "(server)  NOT_SERVING" in out
    assert err.startswith("error: NOT_SERVING: ")


def test_token_prints_the_token_and_its_expiry(capsys: pytest.CaptureFixture[str]) -> None:
    FakeClient.script = {"token": pb.GetChallengeTokenResponse("ab" * 32, 1_900_000_000)}
    code, out, _ = run(capsys, "token", "--operator", OPERATOR)
    assert code == 0
    assert out.splitlines() == [
        f"token     {'ab' * 32}",
        "expires   2030-03-17T17:46:40Z (1900000000)",
        f"operator  {OPERATOR}",
    ]
    assert client().calls[0][1] == (OPERATOR,)
    code, out, _ = run(capsys, "--json", "token", "--operator", OPERATOR)
    assert json.loads(out) == {
        "operator_address": OPERATOR,
        "challenge_token": "ab" * 32,
        "expires_at": 1_900_000_000,
        "expires_at_utc": "2030-03-17T17:46:40Z",
    }


def test_remove_prints_the_executors_message(capsys: pytest.CaptureFixture[str]) -> None:
    answer = pb.RemovePerformerResponse(True, "Performer performer-1 removed successfully")
    FakeClient.script = {"remove": answer}
    assert run(capsys, "remove", "performer-1") == (0, f"{answer.message}\n", "")


# --- exit statuses ----------------------------------------------------------------------------


def test_a_refused_call_exits_1_with_its_status_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = "performer with ID performer-x not found"
    FakeClient.script = {"remove": refused(grpc.StatusCode.NOT_FOUND, message)}
    code, out, err = run(capsys, "remove", "performer-x")
    assert (code, out, err) == (ctl.EXIT_FAILED, "", f"error: NOT_FOUND: {message}\n")


def test_with_json_a_refusal_is_also_a_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    FakeClient.script = {"list": refused(grpc.StatusCode.UNAVAILABLE, "connection refused", "X")}
    code, out, err = run(capsys, "--json", "list")
    assert code == ctl.EXIT_FAILED
    assert json.loads(out) == {
        "error": {"code": "UNAVAILABLE", "message": "connection refused", "method": "X"}
    }
    assert err == "error: UNAVAILABLE: connection refused\n"


def test_unauthenticated_without_a_keystore_says_to_give_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    FakeClient.script = {"list": refused(grpc.StatusCode.UNAUTHENTICATED, "missing authentication")}
    code, _, err = run(capsys, "list")
    assert code == ctl.EXIT_FAILED
    assert err.splitlines() == [
        "error: UNAUTHENTICATED: missing authentication",
        "note: this executor authenticates management calls: give --keystore",
    ]


def test_an_unreachable_executor_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from executor_adapters.grpc.management_client import ManagementClient
    from tests.docker_support import free_port

    monkeypatch.setattr(ctl, "ManagementClient", ManagementClient)
    code, _, err = run(capsys, "--target", f"127.0.0.1:{free_port()}", "list")
    assert code == ctl.EXIT_FAILED
    assert err.startswith("error: UNAVAILABLE: ")


# --- keystores --------------------------------------------------------------------------------


def test_an_ecdsa_keystore_signs_for_its_own_address_bound_unless_no_bind(
    capsys: pytest.CaptureFixture[str], ecdsa_keystore: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTL_PW", PASSWORD)
    FakeClient.script = {"list": []}
    key = ["--keystore", str(ecdsa_keystore), "--password-env", "CTL_PW"]
    assert run(capsys, *key, "list")[0] == 0
    assert run(capsys, "list", *key, "--no-bind", "--operator", OPERATOR)[0] == 0
    first, second = (made.auth for made in FakeClient.instances)
    assert first is not None
    assert second is not None
    assert isinstance(first.signer, EcdsaResultSigner)
    assert first.operator_address == EcdsaResultSigner(ECDSA_SECRET).address
    assert first.bind
    assert (second.operator_address, second.bind) == (OPERATOR, False)


def test_a_bn254_keystore_needs_operator(
    capsys: pytest.CaptureFixture[str], bn254_keystore: Path, tmp_path: Path
) -> None:
    password = tmp_path / "pw"
    password.write_text(PASSWORD + "\n")
    FakeClient.script = {"list": []}
    key = ["--keystore", str(bn254_keystore), "--password-file", str(password)]
    code, _, err = run(capsys, *key, "list")
    assert code == ctl.EXIT_USAGE
    assert "--operator is required with a bn254 keystore" in err
    assert run(capsys, *key, "--operator", OPERATOR, "list")[0] == 0
    auth = client().auth
    assert auth is not None
    assert isinstance(auth.signer, Bn254ResultSigner)
    assert auth.operator_address == OPERATOR


def test_a_wrong_password_or_a_missing_one_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], ecdsa_keystore: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTL_PW", "not the password")
    code, _, err = run(
        capsys, "--keystore", str(ecdsa_keystore), "--password-env", "CTL_PW", "list"
    )
    assert code == ctl.EXIT_USAGE
    assert str(ecdsa_keystore) in err
    code, _, err = run(capsys, "--keystore", str(ecdsa_keystore), "list")  # stdin: no terminal
    assert code == ctl.EXIT_USAGE
    assert "needs a password" in err
    code, _, err = run(
        capsys, "--keystore", str(ecdsa_keystore), "--password-env", "UNSET_X", "list"
    )
    assert code == ctl.EXIT_USAGE
    assert "UNSET_X is not set" in err
    assert FakeClient.instances == []


def test_a_bls381_or_unreadable_keystore_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTL_PW", PASSWORD)
    bls = tmp_path / "bls381.json"
    bls.write_text(write_eip2335(BN254_SECRET, PASSWORD, curve="bls381", scrypt=FAST))
    code, _, err = run(capsys, "--keystore", str(bls), "--password-env", "CTL_PW", "list")
    assert code == ctl.EXIT_USAGE
    assert "bn254 or an ecdsa key" in err
    missing = tmp_path / "missing.json"
    code, _, err = run(capsys, "--keystore", str(missing), "--password-env", "CTL_PW", "list")
    assert code == ctl.EXIT_USAGE
    assert "cannot read keystore" in err


def test_the_password_is_asked_for_on_a_terminal(
    capsys: pytest.CaptureFixture[str], ecdsa_keystore: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    asked: list[str] = []
    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr(ctl.getpass, "getpass", lambda prompt: asked.append(prompt) or PASSWORD)
    FakeClient.script = {"list": []}
    assert run(capsys, "--keystore", str(ecdsa_keystore), "list")[0] == 0
    assert asked == [f"Password of {ecdsa_keystore}: "]
    assert client().auth is not None


def test_token_takes_the_address_a_v3_keystore_stores_without_decrypting_it(
    capsys: pytest.CaptureFixture[str], ecdsa_keystore: Path
) -> None:
    FakeClient.script = {"token": pb.GetChallengeTokenResponse("ab" * 32, 1)}
    assert run(capsys, "token", "--keystore", str(ecdsa_keystore))[0] == 0
    assert client().calls[0][1] == (EcdsaResultSigner(ECDSA_SECRET).address,)
    code, _, err = run(capsys, "token")
    assert code == ctl.EXIT_USAGE
    assert "token needs --operator" in err


def test_a_note_says_when_the_executor_took_the_call_without_auth(
    capsys: pytest.CaptureFixture[str], ecdsa_keystore: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CTL_PW", PASSWORD)
    FakeClient.script = {"list": [], "auth_off": True}
    code, _, err = run(
        capsys, "--keystore", str(ecdsa_keystore), "--password-env", "CTL_PW", "list"
    )
    assert code == 0
    assert "does not authenticate management calls" in err
