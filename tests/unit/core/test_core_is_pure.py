"""The core imports only the standard library, attrs and itself: no I/O library reaches it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import executor_core

ALLOWED = {"attrs", "executor_core", "__future__"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_modules_import_only_stdlib_attrs_and_the_core() -> None:
    package = Path(executor_core.__file__).parent
    offenders = {
        f"{path.name}: {root}"
        for path in package.rglob("*.py")
        for root in imported_roots(path)
        if root not in ALLOWED and root not in sys.stdlib_module_names
    }
    assert offenders == set()
