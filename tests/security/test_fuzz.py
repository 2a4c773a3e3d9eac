"""The fuzz harness of fuzz/, run briefly: atheris for real, hypothesis as a second driver.

The atheris run is coverage guided and finds the deep cases; the hypothesis run
drives the same target from valid seed frames spliced with random bytes, so the
harness itself is exercised on every test run in well under a second.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ_DIR = Path(__file__).resolve().parents[2] / "fuzz"
sys.path.insert(0, str(FUZZ_DIR))

import bounded_run  # noqa: E402
import harness  # noqa: E402
import seeds  # noqa: E402

SEEDS = seeds.seeds()
FUZZ_SECONDS = 20
RSS_LIMIT_MB = 1024


def test_every_seed_runs_clean() -> None:
    for seed in SEEDS:
        harness.run_one(seed)


def test_seeds_cover_both_roles_every_scenario_and_every_type() -> None:
    modes = {seed[0] for seed in SEEDS}
    assert modes >= set(range(harness.CODEC_MODE + 1))
    codec_types = {seed[1] for seed in SEEDS if seed[0] == harness.CODEC_MODE}
    assert len(codec_types) == len(harness.LAYOUTS)


def test_a_broken_invariant_is_reported_not_swallowed() -> None:
    # The harness must not mask bugs: a decoder that accepts garbage is caught.
    layout = harness.LAYOUTS[0]
    original = harness.DECODERS[layout]
    harness.DECODERS[layout] = lambda payload: original(b"\x00\x02\x00\x10\x00\x00\x00")
    try:
        try:
            harness.check_codec(0, b"garbage")
        except harness.HarnessBug:
            pass
        else:
            raise AssertionError("a fast/reference disagreement went unnoticed")
    finally:
        harness.DECODERS[layout] = original


def _mutated(data: st.DataObject) -> bytes:
    seed = data.draw(st.sampled_from(SEEDS))
    body = bytearray(seed)
    for _ in range(data.draw(st.integers(0, 4))):
        action = data.draw(st.sampled_from(["flip", "insert", "cut", "splice"]))
        pos = data.draw(st.integers(2, max(2, len(body))))
        if action == "flip" and pos < len(body):
            body[pos] = data.draw(st.integers(0, 255))
        elif action == "insert":
            body[pos:pos] = data.draw(st.binary(max_size=16))
        elif action == "cut":
            del body[pos : pos + data.draw(st.integers(1, 32))]
        else:
            body[pos:pos] = data.draw(st.sampled_from(SEEDS))[2:]
    body[1] = data.draw(st.integers(0, 255))
    return bytes(body)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hypothesis_drives_the_harness_from_mutated_seeds(data: st.DataObject) -> None:
    harness.run_one(_mutated(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_hypothesis_drives_the_harness_with_raw_bytes(raw: bytes) -> None:
    harness.run_one(raw)


def _bounded_run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    """``fuzz/bounded_run.py`` in its own session, killed as a whole on timeout: the
    fuzzer it starts holds the output pipes too, so killing the launcher alone
    would leave ``communicate`` waiting."""
    with subprocess.Popen(
        [sys.executable, str(FUZZ_DIR / "bounded_run.py"), *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            raise AssertionError(
                f"bounded_run {args} still running after {timeout} s; killed.\n"
                f"{stdout}\n{stderr[-3000:]}"
            ) from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _peak_rss_mb(stderr: str) -> int | None:
    found = re.search(r"stat::peak_rss_mb:\s*(\d+)", stderr)
    return int(found.group(1)) if found else None


def _require_atheris() -> None:
    if importlib.util.find_spec("atheris") is None:
        raise AssertionError("atheris is missing: pip install -e '.[fuzz]' (or the test extra)")


def test_atheris_short_bounded_run(tmp_path: Path) -> None:
    """About 20 s of coverage-guided fuzzing, seeded, memory bounded, replayable.

    The seed is random unless ``FUZZ_SEED`` is set; it is printed (captured
    stdout) and is in every failure message, with the command that replays it."""
    _require_atheris()
    seed = bounded_run.pick_seed(None)
    replay = (
        f"FUZZ_SEED={seed} {sys.executable} -m pytest "
        f"'{__file__}::test_atheris_short_bounded_run'"
    )
    print(f"atheris seed {seed}; replay: {replay}", flush=True)
    result = _bounded_run(
        [f"--seed={seed}", f"--seconds={FUZZ_SECONDS}", f"--rss-limit-mb={RSS_LIMIT_MB}",
         f"--out={tmp_path}"],
        timeout=FUZZ_SECONDS + bounded_run.GRACE_SECONDS + 60,
    )
    found = [p.name for p in bounded_run.artifacts(tmp_path)]
    report = (
        f"atheris seed {seed}, exit status {result.returncode}, artifacts {found}, "
        f"peak RSS {_peak_rss_mb(result.stderr)} MB (limit {RSS_LIMIT_MB}); "
        f"replay: {replay}\n{result.stdout}\n{result.stderr[-3000:]}"
    )
    assert result.returncode == 0 and not found, report
    assert "Done" in result.stderr, report


def test_the_fuzzers_memory_limit_counts_its_own_memory_not_its_parents(
    tmp_path: Path,
) -> None:
    """A process started with vfork/posix_spawn and execve inherits its parent's
    peak RSS in ``ru_maxrss``, which libFuzzer's ``-rss_limit_mb`` compares: the
    fuzzer started straight from a pytest that once peaked at 1.2 GB died of
    "out-of-memory" at once. ``bounded_run.py`` starts it from a small process:
    after a parent peak of 300 MB, a 2 s run within 200 MB must pass."""
    _require_atheris()
    parent = (
        "import resource, subprocess, sys\n"
        "big = bytearray(300 << 20)\n"
        "big[::4096] = bytes(len(range(0, len(big), 4096)))\n"
        "del big\n"
        "print('parent peak MB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10)\n"
        "sys.exit(subprocess.run([sys.executable, *sys.argv[1:]]).returncode)\n"
    )
    seed = bounded_run.pick_seed(None)
    args = [str(FUZZ_DIR / "bounded_run.py"), f"--seed={seed}", "--seconds=2",
            "--rss-limit-mb=200", f"--out={tmp_path}"]
    result = subprocess.run(
        [sys.executable, "-c", parent, *args], stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=120,
    )
    peak = _peak_rss_mb(result.stderr)
    report = f"seed {seed}, fuzzer peak RSS {peak} MB\n{result.stdout}\n{result.stderr[-3000:]}"
    parent_peak = re.search(r"parent peak MB (\d+)", result.stdout)
    assert parent_peak and int(parent_peak.group(1)) >= 300, report
    assert result.returncode == 0, report
    assert peak is not None and peak < 200, report
