"""The SQLite state database: what it keeps survives closing and reopening it, within bounds."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from executor_adapters.memory import FakeClock
from executor_adapters.storage import (
    SqliteDeploymentStore,
    SqliteProcessedTasks,
    StateDatabase,
    StateDatabaseError,
)
from executor_core.addresses import AvsAddress
from executor_core.performers import EnvReference, EnvSource, PerformerId, PerformerImage, Release
from executor_core.ports import ProcessedTask, StoredDeployment
from executor_core.tasks import TaskId, TaskResult

AVS = AvsAddress("0x" + "ab" * 20)
OTHER = AvsAddress("0x" + "cd" * 20)
V2 = PerformerImage("127.0.0.1:5000/avs", digest="sha256:" + "12" * 32)
V1 = PerformerImage("avs", tag="v1")


def result(n: int) -> ProcessedTask:
    return ProcessedTask(
        fingerprint=bytes([n]) * 8,
        result=TaskResult(
            task_id=TaskId(f"0x{n:064x}"),
            avs_address=AVS.value,
            operator_address="0x" + "11" * 20,
            output=b"out" * n,
            signature=b"\x01" * 64,
            operator_set_id=n,
            auth_signature=b"\x02" * 65,
            version=1,
        ),
    )


async def test_deployments_survive_reopening_and_forget_removes_one(tmp_path: Path) -> None:
    db = await StateDatabase.open(tmp_path / "state")
    store = SqliteDeploymentStore(db)
    kept = StoredDeployment(AVS, Release(V2, (("A", "1"), ("B", "x=y"))), PerformerId("p-1"), V1)
    await store.save(kept)
    await store.save(StoredDeployment(OTHER, Release(V1), PerformerId("p-2"), None))
    await store.forget(OTHER)
    await db.aclose()
    reopened = await StateDatabase.open(tmp_path / "state")
    assert await SqliteDeploymentStore(reopened).load() == [kept]
    await reopened.aclose()


async def test_a_deployments_secret_and_config_map_references_survive_reopening(
    tmp_path: Path,
) -> None:
    references = (
        EnvReference("API_KEY", EnvSource.SECRET, "avs-secrets", "api-key"),
        EnvReference("REGION", EnvSource.CONFIG_MAP, "avs-config", "region"),
    )
    kept = StoredDeployment(AVS, Release(V2, (("A", "1"),), references), PerformerId("p-1"), V1)
    db = await StateDatabase.open(tmp_path / "state")
    await SqliteDeploymentStore(db).save(kept)
    await db.aclose()
    reopened = await StateDatabase.open(tmp_path / "state")
    assert await SqliteDeploymentStore(reopened).load() == [kept]
    await reopened.aclose()


async def test_the_database_is_private_to_the_executors_user(tmp_path: Path) -> None:
    db = await StateDatabase.open(tmp_path / "state")
    await db.aclose()
    assert os.stat(db.path).st_mode & 0o777 == 0o600
    assert os.stat(db.path.parent).st_mode & 0o777 == 0o700


async def test_processed_tasks_give_the_same_result_after_reopening(tmp_path: Path) -> None:
    clock = FakeClock()
    db = await StateDatabase.open(tmp_path)
    tasks = SqliteProcessedTasks(db, clock, retention=3600, max_entries=10, max_bytes=10**6)
    await tasks.put(AVS, "0x01", result(1))
    await db.aclose()
    db = await StateDatabase.open(tmp_path)
    tasks = SqliteProcessedTasks(db, clock, retention=3600, max_entries=10, max_bytes=10**6)
    assert await tasks.get(AVS, "0x01") == result(1)
    assert await tasks.get(OTHER, "0x01") is None
    await db.aclose()


async def test_processed_tasks_expire_after_the_retention(tmp_path: Path) -> None:
    clock = FakeClock()
    db = await StateDatabase.open(tmp_path)
    tasks = SqliteProcessedTasks(db, clock, retention=60, max_entries=10, max_bytes=10**6)
    await tasks.put(AVS, "0x01", result(1))
    clock.advance(61)
    assert await tasks.get(AVS, "0x01") is None
    await db.aclose()


async def test_the_oldest_processed_tasks_go_first_beyond_max_entries(tmp_path: Path) -> None:
    clock = FakeClock()
    db = await StateDatabase.open(tmp_path)
    tasks = SqliteProcessedTasks(db, clock, retention=3600, max_entries=3, max_bytes=10**6)
    for n in range(1, 6):
        await tasks.put(AVS, f"0x{n:02x}", result(n))
        clock.advance(1)
    kept = [n for n in range(1, 6) if await tasks.get(AVS, f"0x{n:02x}") is not None]
    assert kept == [3, 4, 5]
    await db.aclose()


async def test_a_database_of_a_newer_executor_is_refused(tmp_path: Path) -> None:
    db = await StateDatabase.open(tmp_path)
    await db.aclose()
    with sqlite3.connect(db.path) as raw:
        raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StateDatabaseError, match="newer executor"):
        await StateDatabase.open(tmp_path)
