"""A real Ethereum dev node (anvil) with our own Solidity mocks of the EigenLayer contracts.

The executor's chain reads are only worth testing against a real EVM: ABI shapes, selectors,
reads pinned to an older block and precompile arithmetic are where a fake in Python would agree
with our own mistakes. `scripts/install-chain-tools.sh` installs anvil and solcjs (pinned) into
.cache/chain-tools; the contracts in tests/chain/contracts are compiled once per version of
their sources and cached, so a run after the first costs no compilation.

- `compile_contracts()`: name → `CompiledContract` (ABI, runtime bytecode, selectors).
- `AnvilNode`: one anvil process on a free loopback port, with a synchronous JSON-RPC client.
- `DevChain`: the mocks placed with `anvil_setCode` at the Sepolia addresses that chain id
  31337 maps to, with one-transaction setters and eth_call views.

ABI values are encoded by hand (the shapes are few and simple; eth_abi is not a dependency).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from executor_adapters.signing.keccak import keccak256

__all__ = [
    "ALLOCATION_MANAGER",
    "ANVIL_CHAIN_ID",
    "BN254_CERTIFICATE_VERIFIER",
    "CHAIN_TOOLS",
    "ECDSA_CERTIFICATE_VERIFIER",
    "KEY_REGISTRAR",
    "RESULT_SIGNATURE_CHECKER",
    "TASK_MAILBOX",
    "AnvilNode",
    "ChainToolsMissing",
    "CompiledContract",
    "DevChain",
    "RpcError",
    "anvil_binary",
    "compile_contracts",
    "registrar_address",
    "require_chain_tools",
    "selector",
]

REPO = Path(__file__).resolve().parents[1]
CHAIN_TOOLS = REPO / ".cache" / "chain-tools"
CONTRACTS_DIR = REPO / "tests" / "chain" / "contracts"
CONTRACT_CACHE = REPO / ".cache" / "chain-contracts"
_SOLC_PACKAGE = CHAIN_TOOLS / "node_modules" / "solc"
_ANVIL = CHAIN_TOOLS / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
_INSTALL_HINT = "run `bash scripts/install-chain-tools.sh` (make setup does it)"

ANVIL_CHAIN_ID = 31337
# Reference §5.5: the Sepolia deployments, which the executor also uses for chain id 31337.
ALLOCATION_MANAGER = "0x42583067658071247ec8ce0a516a58f682002d07"
KEY_REGISTRAR = "0xa4db30d08d8bbca00d40600bee9f029984db162a"
TASK_MAILBOX = "0xb99cc53e8db7018f557606c2a5b066527bf96b26"
BN254_CERTIFICATE_VERIFIER = "0xff58a373c18268f483c1f5ca03cf885c0c43373a"
ECDSA_CERTIFICATE_VERIFIER = "0xb3cd1a457dea9a9a6f6406c6419b1c326670a96f"
RESULT_SIGNATURE_CHECKER = "0x00000000000000000000000000000000000c4ec4"
"""Not an EigenLayer contract: ours, at an address no real deployment uses."""

_WORD = 32
_SOLC_SETTINGS: dict[str, Any] = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "outputSelection": {
        "*": {"*": ["abi", "evm.deployedBytecode.object", "evm.methodIdentifiers"]}
    },
}
# Reads the standard JSON input on stdin, writes solc's JSON output on stdout.
_COMPILE_JS = """
const solc = require(process.env.SOLC_PACKAGE);
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => { process.stdout.write(solc.compile(input)); });
"""


class ChainToolsMissing(RuntimeError):
    """anvil or solcjs is not installed where install-chain-tools.sh puts them."""


class RpcError(RuntimeError):
    """The node answered a JSON-RPC call with an error (a revert, an unknown method)."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message')} ({error.get('code')})")
        self.method = method
        self.error = error


# --- compiling -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledContract:
    """What placing and calling a contract needs; `runtime` is `0x` + the deployed bytecode."""

    name: str
    abi: list[dict[str, Any]]
    runtime: str
    selectors: dict[str, str]
    """Canonical signature (`getMembers((address,uint32))`) → 8 hex digits, as solc computed."""


def _solc_version() -> str:
    package = _SOLC_PACKAGE / "package.json"
    if not package.is_file():
        raise ChainToolsMissing(f"solcjs is not installed in {CHAIN_TOOLS}: {_INSTALL_HINT}")
    version: str = json.loads(package.read_text())["version"]
    return version


def _sources() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(CONTRACTS_DIR.glob("*.sol"))}


def _cache_key(sources: dict[str, str], solc_version: str) -> str:
    digest = hashlib.sha256(solc_version.encode())
    digest.update(json.dumps(_SOLC_SETTINGS, sort_keys=True).encode())
    for name, text in sources.items():
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    return digest.hexdigest()


def _run_solc(sources: dict[str, str]) -> dict[str, Any]:
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": _SOLC_SETTINGS,
    }
    completed = subprocess.run(
        ["node", "-e", _COMPILE_JS],
        input=json.dumps(standard_input),
        capture_output=True,
        text=True,
        env={**os.environ, "SOLC_PACKAGE": str(_SOLC_PACKAGE)},
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"solcjs failed: {completed.stderr.strip()[-2000:]}")
    output: dict[str, Any] = json.loads(completed.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError("solc: " + "\n".join(e["formattedMessage"] for e in errors))
    return output


def _contracts_of(output: dict[str, Any]) -> dict[str, CompiledContract]:
    compiled: dict[str, CompiledContract] = {}
    for per_file in output["contracts"].values():
        for name, contract in per_file.items():
            compiled[name] = CompiledContract(
                name=name,
                abi=contract["abi"],
                runtime="0x" + contract["evm"]["deployedBytecode"]["object"],
                selectors=contract["evm"]["methodIdentifiers"],
            )
    return compiled


_compiled: dict[str, dict[str, CompiledContract]] = {}


def compile_contracts() -> dict[str, CompiledContract]:
    """Compile tests/chain/contracts with the pinned solcjs, once per version of the sources.

    The result is cached on disk under .cache/chain-contracts/<sha256>.json (sources, solc
    version and settings) and in memory for the session; only the first run pays solcjs's
    start-up (a few seconds for the WebAssembly compiler).
    """
    sources = _sources()
    key = _cache_key(sources, _solc_version())
    if key in _compiled:
        return _compiled[key]
    cached = CONTRACT_CACHE / f"{key}.json"
    if cached.is_file():
        output = json.loads(cached.read_text())
    else:
        output = _run_solc(sources)
        CONTRACT_CACHE.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(output))
        partial.replace(cached)
    _compiled[key] = _contracts_of(output)
    return _compiled[key]


# --- ABI words -------------------------------------------------------------------------------


def selector(signature: str) -> bytes:
    """The 4-byte function selector of a canonical signature, e.g. `getAvsConfig()`."""
    return keccak256(signature.encode())[:4]


def _uint(value: int) -> bytes:
    return value.to_bytes(_WORD, "big")


def _address(address: object) -> bytes:
    text = str(address)
    raw = bytes.fromhex(text[2:] if text.startswith("0x") else text)
    if len(raw) != 20:
        raise ValueError(f"not a 20-byte address: {text!r}")
    return raw.rjust(_WORD, b"\0")


def _bytes32(data: bytes) -> bytes:
    if len(data) != _WORD:
        raise ValueError(f"expected 32 bytes, got {len(data)}")
    return bytes(data)


def _words(data: bytes, count: int) -> bytes:
    if len(data) != count * _WORD:
        raise ValueError(f"expected {count * _WORD} bytes, got {len(data)}")
    return bytes(data)


@dataclass(frozen=True)
class _Tail:
    """A dynamic value: its head is an offset, its encoding goes after all heads."""

    encoded: bytes


def _bytes_tail(data: bytes) -> _Tail:
    return _Tail(_uint(len(data)) + data + b"\0" * (-len(data) % _WORD))


def _uint_array_tail(values: Sequence[int]) -> _Tail:
    return _Tail(_uint(len(values)) + b"".join(_uint(v) for v in values))


def _encode(*parts: bytes | _Tail) -> bytes:
    offset = sum(_WORD if isinstance(part, _Tail) else len(part) for part in parts)
    heads: list[bytes] = []
    tails: list[bytes] = []
    for part in parts:
        if isinstance(part, _Tail):
            heads.append(_uint(offset))
            tails.append(part.encoded)
            offset += len(part.encoded)
        else:
            heads.append(part)
    return b"".join(heads + tails)


def _calldata(signature: str, *parts: bytes | _Tail) -> bytes:
    return selector(signature) + _encode(*parts)


def _word_at(data: bytes, offset: int) -> int:
    if offset + _WORD > len(data):
        raise ValueError(f"return data of {len(data)} bytes has no word at {offset}")
    return int.from_bytes(data[offset : offset + _WORD], "big")


def _address_at(data: bytes, offset: int) -> str:
    return "0x" + data[offset + 12 : offset + _WORD].hex()


def _dynamic_bytes_at(data: bytes, head: int, base: int = 0) -> bytes:
    start = base + _word_at(data, head)
    length = _word_at(data, start)
    return data[start + _WORD : start + _WORD + length]


def _uint_array_at(data: bytes, head: int, base: int = 0) -> list[int]:
    start = base + _word_at(data, head)
    return [_word_at(data, start + _WORD * (i + 1)) for i in range(_word_at(data, start))]


# --- the node --------------------------------------------------------------------------------


def anvil_binary() -> Path:
    """The pinned anvil (ANVIL_BINARY overrides); raises ChainToolsMissing with the fix."""
    path = Path(os.environ.get("ANVIL_BINARY", _ANVIL))
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ChainToolsMissing(f"anvil is not installed at {path}: {_INSTALL_HINT}")
    return path


def require_chain_tools() -> None:
    """Raise ChainToolsMissing, saying how to install them, unless anvil and solcjs are there."""
    anvil_binary()
    _solc_version()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


BlockRef = int | str
"""A block number, or a tag such as "latest"."""


def _block_param(block: BlockRef) -> str:
    return hex(block) if isinstance(block, int) else block


class AnvilNode:
    """One anvil process on 127.0.0.1 (chain id 31337, automining), and a JSON-RPC client.

    It stops only the process it started, by its pid. `paused()` makes the endpoint hang
    (SIGSTOP) and `refusing()` closes it (stop, then restart on the same port: a fresh chain),
    for tests of an unreachable RPC endpoint.
    """

    def __init__(self, *, port: int | None = None, start_timeout: float = 30.0) -> None:
        self._binary = anvil_binary()
        self.port = port if port is not None else _free_port()
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._request_id = 0
        self._account: str | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the node
        self._start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        # A file, not a pipe: nobody reads anvil's stderr unless it fails to start.
        self._stderr.seek(0)
        self._stderr.truncate()
        self._process = subprocess.Popen(
            [
                str(self._binary),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--chain-id",
                str(ANVIL_CHAIN_ID),
                "--silent",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )
        deadline = time.monotonic() + self._start_timeout
        while True:
            if self._process.poll() is not None:
                self._process = None
                self._stderr.seek(0)
                stderr = self._stderr.read().decode(errors="replace")
                raise RuntimeError(f"anvil exited at start: {stderr.strip()[-2000:]}")
            try:
                if int(self.rpc("eth_chainId", timeout=1.0), 16) == ANVIL_CHAIN_ID:
                    self._account = None
                    return
            except (OSError, RpcError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"anvil did not answer on {self.url} in time")
            time.sleep(0.05)

    def stop(self) -> None:
        """Terminate the process this node started (then kill it), and reap it."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> AnvilNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the node for good."""
        self.stop()
        self._stderr.close()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The endpoint accepts connections but answers nothing (the process is stopped)."""
        if self._process is None:
            raise RuntimeError("the node is not running")
        os.kill(self._process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            if self._process is not None:
                os.kill(self._process.pid, signal.SIGCONT)

    @contextlib.contextmanager
    def refusing(self) -> Iterator[None]:
        """Connections to the endpoint are refused; afterwards a fresh node serves the same
        port. The chain's state is lost: take this node for the test alone, not the session's.
        """
        self.stop()
        try:
            yield
        finally:
            self._start()

    # JSON-RPC

    def rpc(self, method: str, params: Sequence[Any] = (), *, timeout: float = 30.0) -> Any:
        """One JSON-RPC call; raises RpcError on an error answer, OSError when unreachable."""
        self._request_id += 1
        body = json.dumps(
            {"jsonrpc": "2.0", "id": self._request_id, "method": method, "params": list(params)}
        ).encode()
        request = urllib.request.Request(
            self.url, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer: dict[str, Any] = json.loads(response.read())
        if "error" in answer:
            raise RpcError(method, answer["error"])
        return answer.get("result")

    def account(self) -> str:
        """Anvil's first unlocked account, which sends every transaction."""
        if self._account is None:
            self._account = str(self.rpc("eth_accounts")[0])
        return self._account

    def set_code(self, address: str, runtime_hex: str) -> None:
        self.rpc("anvil_setCode", [address, runtime_hex])

    def call(self, to: str, data: bytes, block: BlockRef = "latest") -> bytes:
        """eth_call at `block`; a revert raises RpcError."""
        result = self.rpc("eth_call", [{"to": to, "data": "0x" + data.hex()}, _block_param(block)])
        return bytes.fromhex(str(result)[2:])

    def transact(self, to: str, data: bytes) -> dict[str, Any]:
        """Send a transaction from `account()` and return its receipt (anvil mines at once).

        Raises RuntimeError when the transaction reverted.
        """
        tx_hash = self.rpc(
            "eth_sendTransaction", [{"from": self.account(), "to": to, "data": "0x" + data.hex()}]
        )
        deadline = time.monotonic() + 30
        while (receipt := self.rpc("eth_getTransactionReceipt", [tx_hash])) is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no receipt for {tx_hash}")
            time.sleep(0.02)
        if int(receipt["status"], 16) != 1:
            raise RuntimeError(f"transaction {tx_hash} to {to} reverted")
        result: dict[str, Any] = receipt
        return result

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def mine(self, blocks: int = 1) -> int:
        """Mine `blocks` empty blocks; return the new block number."""
        self.rpc("anvil_mine", [hex(blocks)])
        return self.block_number()

    def snapshot(self) -> str:
        return str(self.rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        """Go back to a snapshot (it is used up: anvil forgets it and every later one)."""
        if self.rpc("evm_revert", [snapshot_id]) is not True:
            raise RuntimeError(f"anvil could not revert to snapshot {snapshot_id}")


# --- the EigenLayer mocks --------------------------------------------------------------------

_PLACED = {
    ALLOCATION_MANAGER: "MockAllocationManager",
    KEY_REGISTRAR: "MockKeyRegistrar",
    TASK_MAILBOX: "MockTaskMailbox",
    BN254_CERTIFICATE_VERIFIER: "MockBN254CertificateVerifier",
    ECDSA_CERTIFICATE_VERIFIER: "MockECDSACertificateVerifier",
    RESULT_SIGNATURE_CHECKER: "ResultSignatureChecker",
}
_OPERATOR_SET = "(address,uint32)"


def _operator_set(avs: object, set_id: int) -> bytes:
    return _address(avs) + _uint(set_id)


def registrar_address(avs: object) -> str:
    """Where DevChain places the TaskAVSRegistrar of `avs` (derived from it, so stable)."""
    return "0x" + keccak256(b"TaskAVSRegistrar" + _address(avs))[12:].hex()


class DevChain:
    """The EigenLayer contracts the executor reads, as our mocks on an AnvilNode.

    Setters send one transaction each and return the block it landed in, so a test can pin a
    read to the block before or after. Addresses are `0x` + hex strings (or anything whose
    `str()` is, like `executor_core.addresses.Address`); views return lower-case strings.
    """

    def __init__(self, node: AnvilNode) -> None:
        self.node = node
        self.contracts = compile_contracts()
        for address, name in _PLACED.items():
            node.set_code(address, self.contracts[name].runtime)

    def _send(self, to: str, signature: str, *parts: bytes | _Tail) -> int:
        receipt = self.node.transact(to, _calldata(signature, *parts))
        return int(receipt["blockNumber"], 16)

    def _view(self, to: str, block: BlockRef, signature: str, *parts: bytes | _Tail) -> bytes:
        return self.node.call(to, _calldata(signature, *parts), block)

    # AllocationManager and TaskAVSRegistrar

    def register_avs(
        self, avs: object, aggregator_set_id: int, executor_set_ids: Sequence[int]
    ) -> str:
        """Place a TaskAVSRegistrar for `avs`, set its config, point AllocationManager at it;
        return the registrar's address."""
        registrar = registrar_address(avs)
        self.node.set_code(registrar, self.contracts["MockTaskAVSRegistrar"].runtime)
        self.set_avs_config(registrar, aggregator_set_id, executor_set_ids)
        self._send(
            ALLOCATION_MANAGER,
            "setAVSRegistrar(address,address)",
            _address(avs),
            _address(registrar),
        )
        return registrar

    def set_avs_config(
        self, registrar: object, aggregator_set_id: int, executor_set_ids: Sequence[int]
    ) -> int:
        return self._send(
            str(registrar),
            "setAvsConfig(uint32,uint32[])",
            _uint(aggregator_set_id),
            _uint_array_tail(executor_set_ids),
        )

    def set_avs_registrar(self, avs: object, registrar: object) -> int:
        return self._send(
            ALLOCATION_MANAGER,
            "setAVSRegistrar(address,address)",
            _address(avs),
            _address(registrar),
        )

    def set_operator_socket(self, registrar: object, operator: object, socket_address: str) -> int:
        return self._send(
            str(registrar),
            "setOperatorSocket(address,string)",
            _address(operator),
            _bytes_tail(socket_address.encode()),
        )

    def add_member(self, avs: object, set_id: int, operator: object) -> int:
        return self._send(
            ALLOCATION_MANAGER,
            "addMember(address,uint32,address)",
            _operator_set(avs, set_id),
            _address(operator),
        )

    def remove_member(self, avs: object, set_id: int, operator: object) -> int:
        return self._send(
            ALLOCATION_MANAGER,
            "removeMember(address,uint32,address)",
            _operator_set(avs, set_id),
            _address(operator),
        )

    def avs_registrar(self, avs: object, block: BlockRef = "latest") -> str:
        data = self._view(ALLOCATION_MANAGER, block, "getAVSRegistrar(address)", _address(avs))
        return _address_at(data, 0)

    def members(self, avs: object, set_id: int, block: BlockRef = "latest") -> list[str]:
        data = self._view(
            ALLOCATION_MANAGER, block, f"getMembers({_OPERATOR_SET})", _operator_set(avs, set_id)
        )
        start = _word_at(data, 0)
        count = _word_at(data, start)
        return [_address_at(data, start + _WORD * (i + 1)) for i in range(count)]

    def is_member(
        self, avs: object, set_id: int, operator: object, block: BlockRef = "latest"
    ) -> bool:
        data = self._view(
            ALLOCATION_MANAGER,
            block,
            f"isMemberOfOperatorSet(address,{_OPERATOR_SET})",
            _address(operator),
            _operator_set(avs, set_id),
        )
        return _word_at(data, 0) == 1

    def avs_config(self, registrar: object, block: BlockRef = "latest") -> tuple[int, list[int]]:
        """`getAvsConfig()`: (aggregatorOperatorSetId, executorOperatorSetIds)."""
        data = self._view(str(registrar), block, "getAvsConfig()")
        config = _word_at(data, 0)
        return _word_at(data, config), _uint_array_at(data, config + _WORD, base=config)

    def operator_socket(
        self, registrar: object, operator: object, block: BlockRef = "latest"
    ) -> str:
        data = self._view(str(registrar), block, "getOperatorSocket(address)", _address(operator))
        return _dynamic_bytes_at(data, 0).decode()

    # KeyRegistrar

    def configure_operator_set(self, avs: object, set_id: int, curve: int) -> int:
        """Curve types: 0 none, 1 ECDSA, 2 BN254."""
        return self._send(
            KEY_REGISTRAR,
            "configureOperatorSet(address,uint32,uint8)",
            _operator_set(avs, set_id),
            _uint(curve),
        )

    def set_bn254_key(
        self, avs: object, set_id: int, operator: object, g1: bytes, g2: bytes
    ) -> int:
        """`g1` is 64 bytes X ‖ Y, `g2` 128 bytes X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0 (as the executor
        holds them; the contract's uint256[4] takes the same order)."""
        return self._send(
            KEY_REGISTRAR,
            "setBN254Key(address,uint32,address,uint256[2],uint256[4])",
            _operator_set(avs, set_id),
            _address(operator),
            _words(g1, 2),
            _words(g2, 4),
        )

    def set_ecdsa_address(self, avs: object, set_id: int, operator: object, signer: object) -> int:
        return self._send(
            KEY_REGISTRAR,
            "setECDSAAddress(address,uint32,address,address)",
            _operator_set(avs, set_id),
            _address(operator),
            _address(signer),
        )

    def curve_type(self, avs: object, set_id: int, block: BlockRef = "latest") -> int:
        data = self._view(
            KEY_REGISTRAR,
            block,
            f"getOperatorSetCurveType({_OPERATOR_SET})",
            _operator_set(avs, set_id),
        )
        return _word_at(data, 0)

    def bn254_key(
        self, avs: object, set_id: int, operator: object, block: BlockRef = "latest"
    ) -> tuple[bytes, bytes]:
        """`getBN254Key`: (G1 64 bytes, G2 128 bytes), all zeros when none is registered."""
        data = self._view(
            KEY_REGISTRAR,
            block,
            f"getBN254Key({_OPERATOR_SET},address)",
            _operator_set(avs, set_id),
            _address(operator),
        )
        return data[: 2 * _WORD], data[2 * _WORD : 6 * _WORD]

    def ecdsa_address(
        self, avs: object, set_id: int, operator: object, block: BlockRef = "latest"
    ) -> str:
        data = self._view(
            KEY_REGISTRAR,
            block,
            f"getECDSAAddress({_OPERATOR_SET},address)",
            _operator_set(avs, set_id),
            _address(operator),
        )
        return _address_at(data, 0)

    # TaskMailbox and the certificate verifiers (pure or view: no transaction)

    def message_hash(self, task_hash: bytes, output: bytes) -> bytes:
        return self._view(
            TASK_MAILBOX,
            "latest",
            "getMessageHash(bytes32,bytes)",
            _bytes32(task_hash),
            _bytes_tail(output),
        )

    def certificate_digest(self, reference_timestamp: int, message_hash: bytes) -> bytes:
        """BN254CertificateVerifier `calculateCertificateDigest`."""
        return self._view(
            BN254_CERTIFICATE_VERIFIER,
            "latest",
            "calculateCertificateDigest(uint32,bytes32)",
            _uint(reference_timestamp),
            _bytes32(message_hash),
        )

    def certificate_digest_bytes(self, reference_timestamp: int, message_hash: bytes) -> bytes:
        """ECDSACertificateVerifier `calculateCertificateDigestBytes` (66 bytes)."""
        data = self._view(
            ECDSA_CERTIFICATE_VERIFIER,
            "latest",
            "calculateCertificateDigestBytes(uint32,bytes32)",
            _uint(reference_timestamp),
            _bytes32(message_hash),
        )
        return _dynamic_bytes_at(data, 0)

    def domain_separator(self) -> bytes:
        return self._view(ECDSA_CERTIFICATE_VERIFIER, "latest", "domainSeparator()")

    # on-chain signature checks

    def verify_bn254(self, digest: bytes, g1_pk: bytes, g2_pk: bytes, sig64: bytes) -> bool:
        """EigenLayer's BN254 check of `sig64` over `digest` under the (G1, G2) key pair."""
        data = self._view(
            RESULT_SIGNATURE_CHECKER,
            "latest",
            "verifyBN254(bytes32,uint256[2],uint256[4],uint256[2])",
            _bytes32(digest),
            _words(g1_pk, 2),
            _words(g2_pk, 4),
            _words(sig64, 2),
        )
        return _word_at(data, 0) == 1

    def hash_to_g1_standard(self, msg: bytes, dst: bytes) -> tuple[int, int]:
        """The checker's RFC 9380 hash-to-G1 (gnark `HashToG1`, SVDW map): affine (x, y)."""
        data = self._view(
            RESULT_SIGNATURE_CHECKER,
            "latest",
            "hashToG1Standard(bytes,bytes)",
            _bytes_tail(msg),
            _bytes_tail(dst),
        )
        return _word_at(data, 0), _word_at(data, _WORD)

    def map_to_curve_svdw(self, u: int) -> tuple[int, int]:
        """The checker's RFC 9380 SVDW map of one field element (reduced mod p first)."""
        data = self._view(RESULT_SIGNATURE_CHECKER, "latest", "mapToCurveSvdw(uint256)", _uint(u))
        return _word_at(data, 0), _word_at(data, _WORD)

    def verify_bn254_standard(
        self,
        message: bytes,
        g2_pk: bytes,
        signature: bytes,
        dst: bytes = b"BLS_SIG_BN254G1_XMD:SHA-256_SSWU_RO_NUL_",
    ) -> bool:
        """crypto-libs `Verify` on the EVM: does the 64-byte `signature` (sk·HashToG1) sign the
        raw `message` under the 128-byte G2 key? The default DST is crypto-libs'."""
        data = self.node.call(
            RESULT_SIGNATURE_CHECKER,
            self._verify_bn254_standard_calldata(message, g2_pk, signature, dst),
        )
        return _word_at(data, 0) == 1

    def verify_bn254_standard_gas(
        self,
        message: bytes,
        g2_pk: bytes,
        signature: bytes,
        dst: bytes = b"BLS_SIG_BN254G1_XMD:SHA-256_SSWU_RO_NUL_",
    ) -> int:
        """The least transaction gas (intrinsic included) with which `verify_bn254_standard`
        answers true. Not eth_estimateGas: a precompile that runs out of gas makes the check
        return false instead of reverting, so the estimate would be the cost of a rejection."""
        data = "0x" + self._verify_bn254_standard_calldata(message, g2_pk, signature, dst).hex()

        def verifies(gas: int) -> bool:
            try:
                result = self.node.rpc(
                    "eth_call",
                    [{"to": RESULT_SIGNATURE_CHECKER, "data": data, "gas": hex(gas)}, "latest"],
                )
            except RpcError:  # out of gas outside a precompile
                return False
            return int(str(result), 16) == 1

        low, high = 21_000, 2_000_000
        if not verifies(high):
            raise ValueError("the signature does not verify, so it has no verification cost")
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (low, middle) if verifies(middle) else (middle, high)
        return high

    @staticmethod
    def _verify_bn254_standard_calldata(
        message: bytes, g2_pk: bytes, signature: bytes, dst: bytes
    ) -> bytes:
        return _calldata(
            "verifyBN254Standard(bytes,bytes,uint256[4],uint256[2])",
            _bytes_tail(message),
            _bytes_tail(dst),
            _words(g2_pk, 4),
            _words(signature, 2),
        )

    def verify_ecdsa(self, digest32: bytes, sig65: bytes, address: object) -> bool:
        """ecrecover of a 65-byte r ‖ s ‖ v signature (v 27/28, low S) equals `address`."""
        data = self._view(
            RESULT_SIGNATURE_CHECKER,
            "latest",
            "verifyECDSA(bytes32,bytes,address)",
            _bytes32(digest32),
            _bytes_tail(sig65),
            _address(address),
        )
        return _word_at(data, 0) == 1
