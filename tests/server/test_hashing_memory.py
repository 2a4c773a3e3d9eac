"""Password hashing must not leave its 16 MiB buffers resident (chatserver/memory.py).

Runs in a fresh interpreter: the allocator setting is process-wide, and the
retained memory is only visible in a process that has not hashed before.
Without ``tune_allocator`` this program retains 32 MiB (two hashing threads).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = """
import hashlib, os
from concurrent.futures import ThreadPoolExecutor
from chatserver.memory import tune_allocator

def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

assert tune_allocator()
before = rss_kib()
with ThreadPoolExecutor(2) as pool:  # as the server's hashing threads
    def scrypt(_):
        return hashlib.scrypt(b"pw", salt=os.urandom(16), n=2**14, r=8, p=1, maxmem=2**26)
    list(pool.map(scrypt, range(8)))
    print(rss_kib() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator only")
def test_hashing_threads_give_their_buffers_back() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=True
    )
    retained_kib = int(result.stdout)
    assert retained_kib < 8 * 1024, f"{retained_kib} KiB stayed resident after hashing"
