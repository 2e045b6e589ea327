"""The committed betterproto2 messages and descriptor set match proto/ (run `make proto`)."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_committed_generated_code_matches_the_proto_files(tmp_path: Path) -> None:
    out = tmp_path / "hourglass_proto"
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    subprocess.run(
        ["bash", str(REPO / "scripts/gen-proto.sh"), str(out)], check=True, env=env, cwd=REPO
    )
    committed = REPO / "src/hourglass_proto"

    def files(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }

    assert files(out) == files(committed)
    stale = [
        name
        for name in sorted(files(out))
        if not filecmp.cmp(out / name, committed / name, shallow=False)
    ]
    assert stale == [], f"stale generated files (run `make proto`): {stale}"
