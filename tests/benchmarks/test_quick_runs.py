"""Every benchmark script runs end to end in --quick mode against the real server.

No timing assertions: only that each script finishes, exits 0, says that
nothing was lost and prints the command that reproduces it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [
    "fanout.py", "durability.py", "connections.py", "files.py", "reconnect.py", "tails.py",
    "commits.py", "search.py", "tls_memory.py", "heap_per_connection.py",
]
#: Our server only: these smoke runs check the scripts and chat-server end to
#: end; the IRC reference, where installed, is measured by the real runs (its
#: TLS rows have delivered late enough to count as lost on a loaded machine).
OURS_ONLY = {
    "fanout.py": ["--servers", "chat"], "connections.py": ["--servers", "chat"],
    "tails.py": ["--no-ngircd", "--tls", "on"],
}
#: The browser client's WebSocket path (issue 17): its modes of the TCP
#: benchmarks, TLS on and off, and the stacks compared on TLS alone (the
#: plain rows are the same code without ``ServerTLS``, and a quick run must
#: stay short).
WEBSOCKET_RUNS = {
    "fanout-ws": ("fanout.py", ["--servers", "chat", "--transport", "ws"]),
    "connections-ws": ("connections.py", ["--servers", "chat", "--transport", "ws"]),
    "web_stack": ("web_stack.py", ["--tls", "on"]),
}


@pytest.mark.parametrize("script", SCRIPTS)
def test_quick_run_loses_nothing(script: str) -> None:
    quick_run(script, OURS_ONLY.get(script, []))


@pytest.mark.parametrize("run", sorted(WEBSOCKET_RUNS))
def test_quick_websocket_run_loses_nothing(run: str) -> None:
    script, options = WEBSOCKET_RUNS[run]
    quick_run(script, options)


def quick_run(script: str, options: list[str]) -> None:
    # Its own session: on a timeout the servers it started go too, not only
    # the script (an orphaned server would hold its port and a core).
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick", *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"{script} --quick did not finish in 120 s:\n{stdout}{stderr}")
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    nothing_lost = {"reconnect.py": "lost clients: 0", "search.py": "wrong hits: 0",
                    "tls_memory.py": "only TLS_CHACHA20_POLY1305_SHA256",
                    "heap_per_connection.py": "lost connections: 0"}.get(
        script, "lost messages: 0")
    assert nothing_lost in done.stdout, output
    assert f"command: python benchmarks/{script} --quick" in done.stdout, output
    assert "Traceback" not in output, output
