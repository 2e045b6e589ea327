"""The suite and the code read nothing outside the repository: a clone alone must pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("src", "tests", "bench", "scripts", "examples", ".ci", "Makefile", "pyproject.toml")
SKIPPED_SUFFIXES = {".pyc", ".binpb", ".png"}

# Built in pieces so that this file does not match itself.
OUTSIDE_PATHS = [
    re.compile(re.escape(".." + "/shared")),
    re.compile(r"""["']shared["']\s*/\s*["']vectors["']"""),
    re.compile(r"""["']shared["']\s*,\s*["'](vectors|reference)["']"""),
]


def scanned_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        root = REPO / name
        candidates = [root] if root.is_file() else root.rglob("*")
        files.extend(
            path
            for path in candidates
            if path.is_file()
            and path.suffix not in SKIPPED_SUFFIXES
            and "__pycache__" not in path.parts
        )
    return sorted(files)


def test_the_scan_covers_the_suite_and_the_code() -> None:
    names = {path.relative_to(REPO).as_posix() for path in scanned_files()}

    assert "tests/vectors/__init__.py" in names
    assert "src/executor_core/executor.py" in names


@pytest.mark.parametrize("pattern", OUTSIDE_PATHS, ids=lambda p: p.pattern)
def test_no_file_names_a_folder_beside_the_repository(pattern: re.Pattern[str]) -> None:
    offenders = [
        path.relative_to(REPO).as_posix()
        for path in scanned_files()
        if pattern.search(path.read_text(encoding="utf-8", errors="replace"))
    ]

    assert offenders == []


def test_the_pattern_catches_the_old_vectors_path() -> None:
    old = 'Path(__file__).parent.parent.parent / "shar' + 'ed" / "vectors"'

    assert any(pattern.search(old) for pattern in OUTSIDE_PATHS)
    assert any(pattern.search("see " + ".." + "/shared/vectors") for pattern in OUTSIDE_PATHS)
