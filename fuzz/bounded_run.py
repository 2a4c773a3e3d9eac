"""A bounded, replayable atheris run of ``fuzz_receive.py``: what the test suite runs.

    python fuzz/bounded_run.py [--seconds 20] [--seed N] [--rss-limit-mb 1024] [--out DIR]

It seeds the corpus (``DIR/corpus``, kept between runs), picks the libFuzzer
seed (``--seed``, else ``$FUZZ_SEED``, else random) and prints it with the
command that replays the run *before* the fuzzer starts, bounds time (the
fuzzer's ``-max_total_time``, then a watchdog that kills it) and memory, and
ends with one summary line: the seed, the exit status, the artifacts and how
to rerun each. The exit status is the fuzzer's, or 1 when it left an artifact.

Why a launcher: libFuzzer's ``-rss_limit_mb`` compares the *peak* RSS that
``getrusage`` reports, and on Linux a process started the way ``subprocess``
starts one (vfork or posix_spawn, then execve) begins with its parent's peak
RSS as its own, because execve folds the high-water mark of the address space
it leaves into ``ru_maxrss``. Started straight from a pytest process that had
once peaked at 1.2 GB, the fuzzer "used" 1.2 GB before its first input and
died of out-of-memory within a second. Started from this small process, it
starts from this process's own few tens of MB.

``-malloc_limit_mb`` is not used: without a sanitizer's malloc hooks (a plain
CPython) libFuzzer cannot see single allocations. An address-space limit
(``RLIMIT_AS``) stands in for it: an input that makes the core allocate
without bound fails with a ``MemoryError`` (saved as ``crash-*``) before the
machine runs out of memory, even between two of the fuzzer's RSS checks.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import resource
import shlex
import subprocess
import sys
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(FUZZ_DIR))

import seeds  # noqa: E402

SEED_ENV = "FUZZ_SEED"
#: How long after ``-max_total_time`` the watchdog waits before killing the fuzzer.
GRACE_SECONDS = 60
ARTIFACT_PREFIXES = ("crash-", "oom-", "timeout-", "leak-", "slow-unit-")


def pick_seed(explicit: int | None) -> int:
    if explicit is not None:
        return explicit
    from_env = os.environ.get(SEED_ENV, "").strip()
    if from_env:
        return int(from_env)
    return random.SystemRandom().randrange(1, 2**31)


def fuzzer_command(seed: int, seconds: int, rss_limit_mb: int, out: Path) -> list[str]:
    return [
        sys.executable,
        str(FUZZ_DIR / "fuzz_receive.py"),
        f"-seed={seed}",
        f"-max_total_time={seconds}",
        f"-rss_limit_mb={rss_limit_mb}",
        "-timeout=10",
        "-max_len=8192",
        "-print_final_stats=1",
        f"-artifact_prefix={out}/",
        str(out / "corpus"),
    ]


def artifacts(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.name.startswith(ARTIFACT_PREFIXES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None, help=f"default: ${SEED_ENV}, or random")
    parser.add_argument("--rss-limit-mb", type=int, default=1024)
    parser.add_argument(
        "--as-limit-mb", type=int, default=None,
        help="address-space limit of the fuzzer (default: twice the RSS limit; 0: none)",
    )
    parser.add_argument("--out", type=Path, default=Path("build/fuzz"))
    args = parser.parse_args(argv)

    seed = pick_seed(args.seed)
    out: Path = args.out.resolve()
    written = seeds.write_corpus(out / "corpus")
    earlier = set(artifacts(out))
    command = fuzzer_command(seed, args.seconds, args.rss_limit_mb, out)
    replay = [sys.executable, str(Path(__file__).resolve()), f"--seed={seed}",
              f"--seconds={args.seconds}", f"--rss-limit-mb={args.rss_limit_mb}", f"--out={out}"]
    print(f"fuzz seed {seed} ({written} new seeds in {out / 'corpus'})", flush=True)
    print(f"fuzz replay: {shlex.join(replay)}", flush=True)
    print(f"fuzz command: {shlex.join(command)}", flush=True)

    as_limit_mb = 2 * args.rss_limit_mb if args.as_limit_mb is None else args.as_limit_mb
    if as_limit_mb:
        # Inherited by the fuzzer; this process allocates nothing large after it.
        limit = as_limit_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Same string hashes in a replay: one source of run-to-run variation fewer.
    env = dict(os.environ, PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"))
    with subprocess.Popen(command, stdin=subprocess.DEVNULL, env=env) as fuzzer:
        try:
            status = fuzzer.wait(timeout=args.seconds + GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            fuzzer.kill()
            fuzzer.wait()
            print(f"fuzz seed {seed}: the fuzzer was still running "
                  f"{GRACE_SECONDS} s after -max_total_time; killed", flush=True)
            return 124
    found = [path for path in artifacts(out) if path not in earlier]
    print(f"fuzz seed {seed}: exit status {status}, artifacts: "
          f"{[p.name for p in found] or 'none'}", flush=True)
    for path in found:
        rerun = shlex.join([sys.executable, command[1], str(path)])
        print(f"fuzz rerun input: {rerun}", flush=True)
        print(f"fuzz input {path.name} base64: {base64.b64encode(path.read_bytes()).decode()}",
              flush=True)
    if status == 0 and found:
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
