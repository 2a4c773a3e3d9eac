"""Every benchmark script runs end to end in --quick mode against the real server.

No timing assertions: only that each script finishes, exits 0, says that
nothing was lost and prints the command that reproduces it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ["fanout.py", "durability.py", "connections.py", "files.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_run_loses_nothing(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "lost messages: 0" in done.stdout, output
    assert f"command: python benchmarks/{script} --quick" in done.stdout, output
    assert "Traceback" not in output, output
