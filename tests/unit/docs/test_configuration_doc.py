"""docs/configuration.md's `executor config validate` sessions print what the document shows."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOC = REPO / "docs" / "configuration.md"


def test_the_validate_sessions_print_what_the_doc_shows(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    broken = re.search(r"^```yaml\n(.*?)^```", text, re.S | re.M)
    sessions = re.findall(r"^```console\n(.*?)^```", text, re.S | re.M)
    assert broken is not None
    assert len(sessions) == 2
    (tmp_path / "broken.yaml").write_text(broken.group(1), encoding="utf-8")

    commands = [c for session in sessions for c in re.split(r"^\$ ", session, flags=re.M)[1:]]
    assert len(commands) == 3
    for command in commands:
        line, *shown = command.splitlines()
        argv = shlex.split(line)
        assert argv[:3] == ["executor", "config", "validate"]
        where = REPO if "examples/" in line else tmp_path
        run = subprocess.run(
            [sys.executable, "-m", "executor_app", *argv[1:]],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

        assert (run.stdout + run.stderr).splitlines() == shown
        assert run.returncode == (2 if "broken" in line else 0)
