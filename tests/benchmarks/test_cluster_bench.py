"""``benchmarks/cluster.py --quick`` runs end to end: single node, one and three
cluster nodes on the shared PostgreSQL and Redis, and the failover of a killed
node's users. No timing assertions: only that nothing was lost or duplicated,
every user got back, and the command to rerun it is printed."""

from __future__ import annotations

import subprocess
import sys

from .test_quick_runs import ROOT, quick_run


def test_quick_cluster_run_loses_nothing() -> None:
    quick_run("cluster.py", [])


def test_clients_must_spread_evenly_over_three_nodes() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "cluster.py"), "--clients", "10"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert "multiples of 3" in done.stderr and "Traceback" not in done.stderr
