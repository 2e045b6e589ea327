"""Chain reads: our eth-abi + aiohttp reader against web3.py's AsyncWeb3, on a local anvil.

    .venv/bin/python bench/chain_client.py [--calls 500] [--web3-python /tmp/w3venv/bin/python]

Each client runs in a fresh interpreter of its own, so one's imports do not count for the
other: resident memory (VmRSS) before import, after import and after one call; then `--calls`
sequential `getBN254Key` eth_calls at "latest" (never cached, so every call goes to the node),
each decoded into the 128-byte G2 key, timed in wall time and in the process's CPU time.

The contract is twelve bytes of EVM code that returns the same six words to any call, placed
with `anvil_setCode`, so the node's own work is the same for both clients. web3 runs with the
interpreter given by --web3-python (install it there with `pip install web3`); it is skipped,
with a notice, when no interpreter can import it. anvil is looked for at ANVIL_BINARY, then where
scripts/install-chain-tools.sh installs it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ANVIL = REPO / ".cache/chain-tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
CONTRACT = "0x00000000000000000000000000000000000be7c4"
AVS = "0x" + "a1" * 20
OPERATOR = "0x" + "0b" * 20
WORDS = [(n + 1) * 0x1111 for n in range(6)]
# PUSH1 0xc0 PUSH1 0x0c PUSH1 0 CODECOPY PUSH1 0xc0 PUSH1 0 RETURN, then the 192 bytes it copies.
RUNTIME = "0x60c0600c600039" + "60c06000f3" + "".join(f"{w:064x}" for w in WORDS)
EXPECTED_KEY = b"".join(w.to_bytes(32, "big") for w in WORDS[2:])

BN254_KEY_ABI = [
    {
        "type": "function",
        "name": "getBN254Key",
        "stateMutability": "view",
        "inputs": [
            {
                "name": "operatorSet",
                "type": "tuple",
                "components": [
                    {"name": "avs", "type": "address"},
                    {"name": "id", "type": "uint32"},
                ],
            },
            {"name": "operator", "type": "address"},
        ],
        "outputs": [
            {
                "name": "",
                "type": "tuple",
                "components": [
                    {"name": "X", "type": "uint256"},
                    {"name": "Y", "type": "uint256"},
                ],
            },
            {
                "name": "",
                "type": "tuple",
                "components": [
                    {"name": "X", "type": "uint256[2]"},
                    {"name": "Y", "type": "uint256[2]"},
                ],
            },
        ],
    }
]


# --- the child: one client in a fresh interpreter ---------------------------------------------


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


async def _ours(url: str, calls: int) -> dict[str, Any]:
    rss_before = _rss_kib()
    sys.path.insert(0, str(REPO / "src"))
    from executor_adapters.chain import JsonRpcChainReader
    from executor_core.addresses import Address, AvsAddress
    from executor_core.ports import LATEST_BLOCK, OperatorSet

    rss_imported = _rss_kib()
    reader = await JsonRpcChainReader.open(
        url, overrides={"key_registrar": Address(CONTRACT)}, cache_entries=1
    )
    operator_set = OperatorSet(AvsAddress(AVS), 7)
    operator = Address(OPERATOR)

    async def one() -> bytes:
        return await reader.bn254_key(operator_set, operator, block=LATEST_BLOCK)

    try:
        figures = await _measure(one, calls, rss_before, rss_imported)
        # A read at a mined block is cached: what a task pays for each read on a warm block.
        await reader.bn254_key(operator_set, operator, block=1)
        sent = reader.eth_calls
        started = time.process_time()
        for _ in range(10_000):
            await reader.bn254_key(operator_set, operator, block=1)
        figures["cached_read_us"] = (time.process_time() - started) / 10_000 * 1e6
        assert reader.eth_calls == sent
        return figures
    finally:
        await reader.aclose()


async def _web3(url: str, calls: int, *, bare: bool = False) -> dict[str, Any]:
    rss_before = _rss_kib()
    from web3 import AsyncHTTPProvider, AsyncWeb3

    rss_imported = _rss_kib()
    # By default web3 validates every call with two eth_chainId requests; `bare` drops its
    # middleware, so the node sees one request per call, as from ours.
    w3 = (
        AsyncWeb3(AsyncHTTPProvider(url), middleware=[])
        if bare
        else AsyncWeb3(AsyncHTTPProvider(url))
    )
    contract = w3.eth.contract(address=w3.to_checksum_address(CONTRACT), abi=BN254_KEY_ABI)
    operator_set = (w3.to_checksum_address(AVS), 7)
    operator = w3.to_checksum_address(OPERATOR)

    async def one() -> bytes:
        _g1, (x, y) = await contract.functions.getBN254Key(operator_set, operator).call(
            block_identifier="latest"
        )
        return b"".join(w.to_bytes(32, "big") for w in (x[0], x[1], y[0], y[1]))

    try:
        return await _measure(one, calls, rss_before, rss_imported)
    finally:
        await w3.provider.disconnect()


async def _measure(one: Any, calls: int, rss_before: int, rss_imported: int) -> dict[str, Any]:
    if await one() != EXPECTED_KEY:
        raise RuntimeError("the client decoded another key than the contract returns")
    rss_called = _rss_kib()
    for _ in range(50):
        await one()
    walls = []
    cpu_started = time.process_time()
    wall_started = time.perf_counter()
    for _ in range(calls):
        started = time.perf_counter()
        await one()
        walls.append(time.perf_counter() - started)
    wall_total = time.perf_counter() - wall_started
    cpu_total = time.process_time() - cpu_started
    return {
        "rss_before_mib": rss_before / 1024,
        "rss_imported_mib": rss_imported / 1024,
        "rss_called_mib": rss_called / 1024,
        "cpu_us": cpu_total / calls * 1e6,
        "wall_median_us": statistics.median(walls) * 1e6,
        "wall_p90_us": statistics.quantiles(walls, n=10)[-1] * 1e6,
        "wall_mean_us": wall_total / calls * 1e6,
    }


def child(client: str, url: str, calls: int) -> None:
    import asyncio

    if client == "ours":
        figures = asyncio.run(_ours(url, calls))
    else:
        figures = asyncio.run(_web3(url, calls, bare=client == "web3-bare"))
    print(json.dumps(figures))


# --- the parent: anvil, then each client ------------------------------------------------------


def _rpc(url: str, method: str, params: list[Any]) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read()).get("result")


def _start_anvil() -> tuple[subprocess.Popen[bytes], str]:
    binary = Path(os.environ.get("ANVIL_BINARY", ANVIL))
    if not binary.is_file():
        sys.exit(f"anvil not found at {binary}: run scripts/install-chain-tools.sh")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(binary), "--host", "127.0.0.1", "--port", str(port), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            _rpc(url, "eth_chainId", [])
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                sys.exit("anvil did not start")
            time.sleep(0.05)
    _rpc(url, "anvil_setCode", [CONTRACT, RUNTIME])
    _rpc(url, "anvil_mine", ["0x1"])  # block 1, for the cached reads
    return process, url


def _can_import_web3(python: str) -> bool:
    found = subprocess.run([python, "-c", "import web3"], capture_output=True, check=False)
    return found.returncode == 0


def _web3_python(given: str | None) -> str | None:
    for candidate in (given, sys.executable, "/tmp/w3venv/bin/python"):
        if candidate and Path(candidate).exists() and _can_import_web3(candidate):
            return candidate
    return None


def _version(python: str, module: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({module!r}))"
    found = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    return found.stdout.strip() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--web3-python", help="an interpreter that can import web3")
    parser.add_argument("--child", choices=["ours", "web3", "web3-bare"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.calls)
        return

    clients: list[tuple[str, str, str]] = [
        (
            f"eth-abi {_version(sys.executable, 'eth-abi')} + aiohttp "
            f"{_version(sys.executable, 'aiohttp')} (ours)",
            "ours",
            sys.executable,
        )
    ]
    web3_python = _web3_python(args.web3_python)
    if web3_python is None:
        print("web3 is not importable here nor by --web3-python: its row is skipped")
    else:
        version = _version(web3_python, "web3")
        clients.append((f"web3 {version} AsyncWeb3, default middleware", "web3", web3_python))
        clients.append((f"web3 {version} AsyncWeb3, no middleware", "web3-bare", web3_python))

    process, url = _start_anvil()
    try:
        rows = []
        for label, name, python in clients:
            completed = subprocess.run(
                [python, __file__, "--child", name, "--url", url, "--calls", str(args.calls)],
                capture_output=True,
                text=True,
                check=False,
            )
            if completed.returncode != 0:
                sys.exit(f"{label} failed:\n{completed.stderr[-3000:]}")
            rows.append((label, json.loads(completed.stdout.strip().splitlines()[-1])))
    finally:
        process.terminate()
        process.wait(timeout=10)

    print(f"{args.calls} sequential getBN254Key eth_calls at latest, decoded, anvil on loopback")
    header = (
        "| client | RSS before import MiB | after import | after one call | "
        "CPU µs/call | wall median µs | wall p90 µs |"
    )
    print(header)
    print("|---|---|---|---|---|---|---|")
    for label, r in rows:
        print(
            f"| {label} | {r['rss_before_mib']:.1f} | {r['rss_imported_mib']:.1f} | "
            f"{r['rss_called_mib']:.1f} | {r['cpu_us']:.0f} | {r['wall_median_us']:.0f} | "
            f"{r['wall_p90_us']:.0f} |"
        )
    for label, r in rows:
        if "cached_read_us" in r:
            cost = r["cached_read_us"]
            print(f"{label}: a read served from the cache (fixed block): {cost:.1f} µs of CPU")


if __name__ == "__main__":
    main()
