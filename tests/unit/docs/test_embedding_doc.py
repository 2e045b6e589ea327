"""docs/embedding.md's example runs as written and prints what the document says it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "embedding.md"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_the_embedding_example_runs_and_prints_what_the_doc_shows(tmp_path: Path) -> None:
    [program] = re.findall(r"^```python\n(.*?)^```", doc_text(), re.S | re.M)
    shown_output = re.search(r"^It prints.*?^```\n(.*?)^```", doc_text(), re.S | re.M)
    assert shown_output is not None
    expected = shown_output.group(1).splitlines()
    script = tmp_path / "embed.py"
    script.write_text(program, encoding="utf-8")

    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    printed = run.stdout.splitlines()
    assert len(printed) == len(expected), run.stdout
    for line, shown in zip(printed, expected, strict=True):
        pattern = ".*".join(re.escape(part) for part in shown.split("…"))
        assert re.fullmatch(pattern, line), f"{line!r} does not read as {shown!r}"
