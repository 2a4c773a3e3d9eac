"""Keep password hashing's large buffers from staying resident (glibc).

Every scrypt hash (``hashlib.scrypt``, through OpenSSL) allocates 16 MiB on
a hashing thread. glibc serves an allocation that large with ``mmap`` and
unmaps it on ``free``, but each such free also raises glibc's mmap threshold
to the freed size, so the next hash's 16 MiB comes from the thread's heap and
stays resident after it is freed: the two hashing threads kept about 32 MiB,
and 10,000 idle users measured 1 KiB more each. Setting the threshold fixes it
(and turns the adjustment off). 1 MiB: asyncio's 256 KiB reads and a
connection's output of one loop turn stay on the heap, hashes go to ``mmap``.
"""

from __future__ import annotations

import ctypes
import sys

#: From glibc's malloc.h.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1024 * 1024


def tune_allocator() -> bool:
    """Fix glibc's mmap threshold; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library of this process
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
