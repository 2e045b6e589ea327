"""First-generation tasks as the example AVS's aggregator signs them (the ponos test key)."""

from __future__ import annotations

from executor_adapters.signing import bn254
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.vectors import load_vector

AVS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
AGGREGATOR = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
AGGREGATOR_SECRET = next(
    int(k["sk_hex"], 16)
    for k in load_vector("bn254_keys.json")["keys"]
    if k["name"] == "ponos-aggregator"
)
SUBMIT = "/eigenlayer.hourglass.v1.ExecutorService/SubmitTask"


def signed_task(task_id: str, n: int, avs: str = AVS) -> pb.TaskSubmission:
    """Task `task_id` with the 32-byte payload `n`, signed by the AVS's aggregator."""
    payload = n.to_bytes(32, "big")
    return pb.TaskSubmission(
        task_id=task_id,
        avs_address=avs,
        payload=payload,
        aggregator_address=AGGREGATOR,
        signature=bn254.sign(AGGREGATOR_SECRET, payload),
    )
