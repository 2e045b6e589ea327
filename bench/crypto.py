"""Crypto micro-benchmark: median and p90 per operation, with the py-ecc baseline of the same run.

Run from the repository root (the project must be installed in the venv, as `make setup` does):

    .venv/bin/python bench/crypto.py            # about 30-40 s
    .venv/bin/python bench/crypto.py --budget 0.5

Each row is a `Case`; append to `CASES` (or build rows in a function like `_other_curves`) to
add one. A case's function receives the iteration number, so it can cycle through inputs that
were prepared outside the timed region. Every case is warmed up first (fixed-base tables,
per-key caches) and then timed call by call for about `--budget` seconds (at least
`MIN_ITERATIONS` calls, at most `MAX_ITERATIONS`); the baseline gets the same budget but at most
`MAX_BASELINE_ITERATIONS` calls, because a py-ecc pairing takes about 0.3 s.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for `tests.oracles`, the py-ecc baseline

from executor_adapters.signing import bls381, bn254, ecdsa  # noqa: E402
from executor_adapters.signing.bn254 import fast as fast_bn254  # noqa: E402
from executor_adapters.signing.keccak import keccak256  # noqa: E402
from tests.oracles import bn254_reference as reference  # noqa: E402

MIN_ITERATIONS = 5
MAX_ITERATIONS = 2000
MAX_BASELINE_ITERATIONS = 50
WARMUP_CALLS = 2
INPUTS = 64

Operation = Callable[[int], object]


@dataclass(frozen=True)
class Case:
    """One row: `fn(i)` is timed; `baseline_fn(i)` (py-ecc) too, if given."""

    name: str
    fn: Operation | None  # None: the implementation is not available ("n/a" row)
    baseline_fn: Operation | None
    target_ms: float | None


@dataclass(frozen=True)
class Timing:
    median_ms: float
    p90_ms: float
    iterations: int


def measure(fn: Operation, budget_s: float, max_iterations: int) -> Timing:
    for i in range(WARMUP_CALLS):
        fn(i)
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < max_iterations and (
        len(samples) < MIN_ITERATIONS or time.perf_counter() < deadline
    ):
        start = time.perf_counter_ns()
        fn(len(samples))
        samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    p90 = samples[min(len(samples) - 1, round(0.9 * (len(samples) - 1)))]
    return Timing(statistics.median(samples), p90, len(samples))


# --- BN254 --------------------------------------------------------------------------------------

SK = int.from_bytes(keccak256(b"bench secret"), "big") % bn254.CURVE_ORDER
PK_G2 = bn254.public_key_g2(SK)
OUTPUTS = [f"task output {i}".encode() * 4 for i in range(INPUTS)]
DIGESTS = [keccak256(output) for output in OUTPUTS]
MESSAGES = [b"task payload " + i.to_bytes(4, "big") for i in range(INPUTS)]
SOL_SIGNATURES = [bn254.sign_solidity(SK, digest) for digest in DIGESTS]
RFC_SIGNATURES = [bn254.sign(SK, msg) for msg in MESSAGES]
SCALARS = [int.from_bytes(d, "big") % bn254.CURVE_ORDER for d in DIGESTS]


def _at(inputs: list[bytes], i: int) -> bytes:
    return inputs[i % len(inputs)]


def _uncached(
    check: Callable[[bytes, bytes, bytes], bool],
) -> Callable[[bytes, bytes, bytes], bool]:
    """The check after dropping the key's cached subgroup check and Miller-loop lines."""

    def run(pk: bytes, data: bytes, signature: bytes) -> bool:
        fast_bn254.clear_public_key_cache()
        return check(pk, data, signature)

    return run


def _bn254_cases() -> list[Case]:
    def verify_rfc(check: Callable[[bytes, bytes, bytes], bool]) -> Operation:
        def run(i: int) -> object:
            k = i % INPUTS
            assert check(PK_G2, MESSAGES[k], RFC_SIGNATURES[k])
            return None

        return run

    def verify_sol(check: Callable[[bytes, bytes, bytes], bool]) -> Operation:
        def run(i: int) -> object:
            k = i % INPUTS
            assert check(PK_G2, DIGESTS[k], SOL_SIGNATURES[k])
            return None

        return run

    native = "native" if bn254.backend_is_native() else "pure-Python"

    def verify_batch(size: int) -> Operation:
        def run(i: int) -> object:
            start = (i * size) % (INPUTS - size)
            messages = MESSAGES[start : start + size]
            assert all(bn254.verify_batch(PK_G2, messages, RFC_SIGNATURES[start : start + size]))
            return None

        return run

    return [
        Case(
            f"BN254 sign (Solidity, keccak256(output)), {native}",
            lambda i: bn254.sign_solidity(SK, keccak256(_at(OUTPUTS, i))),
            lambda i: reference.reference_sign_solidity(SK, keccak256(_at(OUTPUTS, i))),
            1.5,
        ),
        Case(
            "BN254 sign (Solidity), pure-Python",
            lambda i: fast_bn254.sign_solidity(SK, keccak256(_at(OUTPUTS, i))),
            None,
            1.5,
        ),
        Case(
            f"BN254 verify (RFC 9380, fixed key), {native}",
            verify_rfc(bn254.verify),
            verify_rfc(reference.reference_verify),
            40.0,
        ),
        Case(
            "BN254 verify (RFC 9380, fixed key), pure-Python",
            verify_rfc(fast_bn254.verify),
            None,
            40.0,
        ),
        Case(
            f"BN254 verify batch of 16 (RFC 9380), {native}, whole batch",
            verify_batch(16),
            None,
            None,
        ),
        Case(
            f"BN254 verify (Solidity, fixed key), {native}",
            verify_sol(bn254.verify_solidity),
            verify_sol(reference.reference_verify_solidity),
            40.0,
        ),
        Case(
            "BN254 verify (Solidity, key not cached), pure-Python",
            verify_sol(_uncached(fast_bn254.verify_solidity)),
            None,
            40.0,
        ),
        Case(
            "BN254 hash-to-G1 (Solidity), pure-Python",
            lambda i: fast_bn254.solidity_hash_to_g1(_at(DIGESTS, i)),
            lambda i: reference.g1_to_bytes(reference.solidity_hash_to_g1(_at(DIGESTS, i))),
            None,
        ),
        Case(
            "BN254 hash-to-G1 (RFC 9380), pure-Python",
            lambda i: fast_bn254.rfc9380_hash_to_g1(_at(MESSAGES, i)),
            lambda i: reference.g1_to_bytes(reference.rfc9380_hash_to_g1(_at(MESSAGES, i))),
            None,
        ),
        Case(
            "BN254 G2 public key",
            lambda i: bn254.public_key_g2(SCALARS[i % INPUTS]),
            lambda i: reference.reference_public_key_g2(SCALARS[i % INPUTS]),
            None,
        ),
    ]


# --- other curves ---------------------------------------------------------------------------


def _py_ecc_bls381_sign(secret: int, message: bytes) -> bytes:
    """The py-ecc route to a crypto-libs BLS12-381 signature: RFC 9380 hash, multiply, encode."""
    from py_ecc.bls.hash_to_curve import hash_to_G1
    from py_ecc.optimized_bls12_381 import multiply, normalize

    point = normalize(multiply(hash_to_G1(message, bls381.DST, hashlib.sha256), secret))
    return int(point[0]).to_bytes(48, "big") + int(point[1]).to_bytes(48, "big")


def _other_curves() -> list[Case]:
    bls_secret = int.from_bytes(keccak256(b"bench bls381"), "big") % 2**250 + 1
    ecdsa_secret = keccak256(b"bench ecdsa")
    return [
        Case(
            "BLS12-381 sign",
            lambda i: bls381.sign(bls_secret, _at(MESSAGES, i)),
            lambda i: _py_ecc_bls381_sign(bls_secret, _at(MESSAGES, i)),
            1.0,
        ),
        Case(
            "ECDSA secp256k1 sign (hash)",
            lambda i: ecdsa.sign_hash(ecdsa_secret, _at(DIGESTS, i)),
            None,
            0.1,
        ),
    ]


CASES: list[Case] = _bn254_cases() + _other_curves()


# --- report -------------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def run(cases: list[Case], budget_s: float) -> list[list[str]]:
    rows = []
    header = ["operation", "median ms", "p90 ms", "iters", "py-ecc median ms", "target ms"]
    rows.append([*header, "result"])
    for case in cases:
        if case.fn is None:
            rows.append([case.name, "n/a", "n/a", "0", "-", _fmt(case.target_ms), "n/a"])
            continue
        timing = measure(case.fn, budget_s, MAX_ITERATIONS)
        baseline = None
        if case.baseline_fn is not None:
            baseline = measure(case.baseline_fn, budget_s, MAX_BASELINE_ITERATIONS).median_ms
        verdict = "-"
        if case.target_ms is not None:
            verdict = "PASS" if timing.median_ms <= case.target_ms else "MISS"
        rows.append(
            [
                case.name,
                _fmt(timing.median_ms),
                _fmt(timing.p90_ms),
                str(timing.iterations),
                _fmt(baseline),
                _fmt(case.target_ms),
                verdict,
            ]
        )
        print(f"  measured {case.name}", file=sys.stderr, flush=True)
    return rows


def as_markdown(rows: list[list[str]]) -> str:
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]

    def line(row: list[str]) -> str:
        cells = [
            cell.ljust(w) if c == 0 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "| " + " | ".join(cells) + " |"

    separator = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(rows[0]), separator, *(line(row) for row in rows[1:])])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--budget", type=float, default=2.0, help="seconds of timing per implementation and row"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"machine: {machine()}", flush=True)
    table = as_markdown(run(CASES, args.budget))
    print(table)
    print(f"total {time.perf_counter() - started:.1f} s")
    return 1 if any(line.endswith("| MISS |") for line in table.splitlines()) else 0


if __name__ == "__main__":
    sys.exit(main())
