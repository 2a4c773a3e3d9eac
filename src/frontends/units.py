"""Presentation helpers shared by both frontends."""

from __future__ import annotations


def human_size(size: int) -> str:
    """``512 bytes``, ``2.0 KiB``, ``3.4 MiB``, ``1.0 GiB``: binary units, named as such."""
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if size < 1024 else f"{value:.1f} {unit}"
    raise AssertionError("unreachable")
