"""Summarise py-spy's collapsed stacks: the functions that take the time.

    python benchmarks/loadgen/hotspots.py profile.txt [--top 25]
"""

from __future__ import annotations

import argparse
from collections import Counter


def _function(frame: str) -> str:
    """``f (file.py:12)`` -> ``f (file.py)``: sum a function's lines together."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def summarise(path: str, top: int, by_line: bool = False) -> str:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    with open(path) as stacks:
        for line in stacks:
            stack, _, count_text = line.rstrip().rpartition(" ")
            if not stack:
                continue
            count = int(count_text)
            frames = stack.split(";")
            if not by_line:
                frames = [_function(frame) for frame in frames]
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    lines = [f"{total} samples", "", "self time:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "inclusive time:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--by-line", action="store_true", help="do not sum lines per function")
    args = parser.parse_args()
    print(summarise(args.profile, args.top, args.by_line))


if __name__ == "__main__":
    main()
